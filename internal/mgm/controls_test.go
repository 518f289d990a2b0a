package mgm

import (
	"testing"
	"time"
)

func TestDrawBlock(t *testing.T) {
	ms := time.Millisecond
	s := time.Second
	none := Policy{}
	cases := []struct {
		name  string
		p     Policy
		c     Controls
		start time.Time
		gold  int64
		want  PauseReason
	}{
		{"nothing set", none, Controls{}, t0, 0, PauseNone},
		{"paused", none, Controls{Paused: true, PausedAt: at(-s)}, t0, 0, PauseStreamer},
		{"resumed 1 ms after the window started", none, Controls{ResumedAt: at(ms)}, t0, 0, PauseStreamer},
		{"resumed exactly at the window's start", none, Controls{ResumedAt: t0}, t0, 0, PauseNone},
		{"resumed in the previous window", none, Controls{ResumedAt: at(-ms)}, t0, 0, PauseNone},
		{"live only, unknown", Policy{DrawOnlyWhileLive: true}, Controls{}, t0, 0, PauseOffline},
		{"live only, offline", Policy{DrawOnlyWhileLive: true}, Controls{Live: LiveOffline}, t0, 0, PauseOffline},
		{"live only, online", Policy{DrawOnlyWhileLive: true}, Controls{Live: LiveOnline}, t0, 0, PauseNone},
		{"offline without the setting", none, Controls{Live: LiveOffline}, t0, 0, PauseNone},
		{"budget has room for exactly one", Policy{DailyBudgetGold: 3000}, Controls{}, t0, 2000, PauseNone},
		{"budget one gold short", Policy{DailyBudgetGold: 2999}, Controls{}, t0, 2000, PauseBudget},
		{"budget spent", Policy{DailyBudgetGold: 3000}, Controls{}, t0, 3000, PauseBudget},
		{"no budget", none, Controls{}, t0, 1_000_000, PauseNone},
		{"streamer wins over offline and budget", Policy{DrawOnlyWhileLive: true, DailyBudgetGold: 1}, Controls{Paused: true}, t0, 0, PauseStreamer},
		{"offline wins over budget", Policy{DrawOnlyWhileLive: true, DailyBudgetGold: 1}, Controls{}, t0, 0, PauseOffline},
	}
	for _, c := range cases {
		if got := prod.DrawBlock(c.p, c.c, c.start, c.gold); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCooldown(t *testing.T) {
	s := time.Second
	ms := time.Millisecond
	// Won in the window starting at t0, reported at 280 s.
	w := Win{WindowStart: t0, At: at(280 * s)}
	cases := []struct {
		name   string
		c      Cooldown
		drawAt time.Time
		want   bool // cooling down
	}{
		{"no cooldown, next window", Cooldown{}, at(540 * s), false},
		{"1 cycle: the next window is skipped", Cooldown{Cycles: 1}, at(540 * s), true},
		{"1 cycle: the one after draws", Cooldown{Cycles: 1}, at(840 * s), false},
		{"3 cycles: third after is skipped", Cooldown{Cycles: 3}, at(1140 * s), true},
		{"3 cycles: fourth after draws", Cooldown{Cycles: 3}, at(1440 * s), false},
		{"1 hour: 1 ms early", Cooldown{Duration: time.Hour}, at(280*s + time.Hour - ms), true},
		{"1 hour: exactly", Cooldown{Duration: time.Hour}, at(280*s + time.Hour), false},
		{"both: the later wins (hours)", Cooldown{Cycles: 1, Duration: time.Hour}, at(840 * s), true},
		{"both: the later wins (cycles)", Cooldown{Cycles: 20, Duration: time.Minute}, at(840 * s), true},
	}
	for _, c := range cases {
		if got := prod.CoolingDown(c.c, w, c.drawAt); got != c.want {
			t.Errorf("%s: cooling %v, want %v (eligible again at %v)", c.name, got, c.want, prod.EligibleAgainAt(c.c, w).Sub(t0))
		}
		if got := prod.DrawEligible(false, 0, &w, c.c, c.drawAt); got == c.want {
			t.Errorf("%s: DrawEligible %v", c.name, got)
		}
		// The horizon never cuts off a win that still cools down.
		if c.want && !w.WindowStart.After(prod.CooldownHorizon(c.c, c.drawAt).Add(-time.Nanosecond)) {
			t.Errorf("%s: horizon %v excludes a cooling win", c.name, prod.CooldownHorizon(c.c, c.drawAt))
		}
	}
	if got := prod.EligibleAgainAt(Cooldown{}, w); !got.IsZero() {
		t.Errorf("no cooldown: eligible again at %v", got)
	}
	if !prod.DrawEligible(false, 0, nil, Cooldown{Cycles: 5}, at(540*s)) || prod.DrawEligible(true, 0, nil, Cooldown{}, at(540*s)) {
		t.Error("DrawEligible without a win must be Eligible")
	}
}

func TestPhaseWithControls(t *testing.T) {
	s := time.Second
	drawn := at(240 * s)
	withCandidate := &SpinCycle{ID: "c", Start: t0, Candidate: &Candidate{CharacterName: "Norinn"}, DrawnAt: &drawn}
	noCandidate := &SpinCycle{ID: "c", Start: t0}
	blocked := &SpinCycle{ID: "c", Start: t0, Outcome: OutcomeNoParticipants}
	cases := []struct {
		name       string
		now        time.Time
		cycle      *SpinCycle
		pool       int
		block      PauseReason
		want       Phase
		wantReason PauseReason
	}{
		{"not blocked", at(10 * s), noCandidate, 1, PauseNone, PhaseCollecting, PauseNone},
		{"paused while collecting", at(10 * s), noCandidate, 1, PauseStreamer, PhasePaused, PauseStreamer},
		{"paused with an empty pool", at(10 * s), nil, 0, PauseBudget, PhasePaused, PauseBudget},
		{"blocked draw decided", at(250 * s), blocked, 1, PauseOffline, PhasePaused, PauseOffline},
		{"drawn before the pause", at(250 * s), withCandidate, 1, PauseStreamer, PhaseSpinning, PauseNone},
		{"a stale cycle does not count", at(310 * s), withCandidate, 1, PauseStreamer, PhasePaused, PauseStreamer},
	}
	for _, c := range cases {
		ph, r := prod.PhaseWithControls(c.now, c.cycle, c.pool, c.block)
		if ph != c.want || r != c.wantReason {
			t.Errorf("%s: %s/%q, want %s/%q", c.name, ph, r, c.want, c.wantReason)
		}
	}
}

func TestEntryRule(t *testing.T) {
	for _, c := range []struct {
		in   string
		want EntryRule
		ok   bool
	}{{"subscribers", EntrySubscribers, true}, {" Everyone ", EntryEveryone, true}, {"all", "", false}, {"", "", false}} {
		if got, ok := ParseEntryRule(c.in); got != c.want || ok != c.ok {
			t.Errorf("ParseEntryRule(%q) = %q %v", c.in, got, ok)
		}
	}
	if EntryRule("").Admits(false) || EntrySubscribers.Admits(false) || !EntrySubscribers.Admits(true) || !EntryEveryone.Admits(false) {
		t.Error("Admits")
	}
	f := EnrollmentFacts{Entry: EntryEveryone}
	if _, _, err := DecideEnrollment("u1", "Norinn", f); err != nil {
		t.Errorf("everyone: %v", err)
	}
	f = EnrollmentFacts{IsSubscriber: true, Banned: true}
	if _, _, err := DecideEnrollment("u1", "Norinn", f); ErrorCode(err) != CodeBanned {
		t.Errorf("banned: %v", err)
	}
	// The ban comes after the checks that need no stored facts.
	f = EnrollmentFacts{Banned: true}
	if _, _, err := DecideEnrollment("u1", "Norinn", f); ErrorCode(err) != CodeNotSubscriber {
		t.Errorf("banned non-subscriber: %v", err)
	}
	f = EnrollmentFacts{IsSubscriber: true, Banned: true, HasActivePayout: true}
	if _, _, err := DecideEnrollment("u1", "1x", f); ErrorCode(err) != CodeInvalidCharacterName {
		t.Errorf("banned, bad name: %v", err)
	}
	if _, _, err := DecideEnrollment("u1", "Norinn", f); ErrorCode(err) != CodeBanned {
		t.Errorf("banned beats active payout: %v", err)
	}
}

func TestParseModCommand(t *testing.T) {
	cases := []struct {
		in   string
		want ModCommand
		ok   bool
	}{
		{"!mgm pause", ModCommand{Action: ModPause}, true},
		{"  !MGM   Resume ", ModCommand{Action: ModResume}, true},
		{"!mgm remove Norinn", ModCommand{Action: ModRemove, Arg: "Norinn"}, true},
		{"!mgm ban\u00a0Тралл", ModCommand{Action: ModBan, Arg: "Тралл"}, true},
		{"!mgm unban Norinn", ModCommand{Action: ModUnban, Arg: "Norinn"}, true},
		{"!mgm", ModCommand{}, false},
		{"!mgm pause now", ModCommand{}, false},
		{"!mgm remove", ModCommand{}, false},
		{"!mgm remove A B", ModCommand{}, false},
		{"!mgm explode", ModCommand{}, false},
		{"say !mgm pause", ModCommand{}, false},
		{"!mgmpause", ModCommand{}, false},
	}
	for _, c := range cases {
		got, ok := ParseModCommand(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseModCommand(%q) = %+v %v", c.in, got, ok)
		}
	}
}

func TestBudgetDay(t *testing.T) {
	d := time.Date(2026, 4, 6, 23, 59, 59, 999e6, time.UTC)
	if got := BudgetDay(d); !got.Equal(time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("BudgetDay = %v", got)
	}
	if got := BudgetDay(d.Add(time.Millisecond)); !got.Equal(time.Date(2026, 4, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("BudgetDay at midnight = %v", got)
	}
}
