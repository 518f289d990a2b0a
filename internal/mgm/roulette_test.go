package mgm

import (
	"testing"
	"time"
)

var (
	t0   = time.Date(2026, 4, 5, 10, 0, 0, 0, time.UTC)
	prod = Schedule{Interval: SpinInterval}
)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestScheduleMoments(t *testing.T) {
	if got := prod.DrawAt(t0); !got.Equal(at(240 * time.Second)) {
		t.Errorf("DrawAt %v", got)
	}
	if got := prod.VerifyAt(t0); !got.Equal(at(270 * time.Second)) {
		t.Errorf("VerifyAt %v", got)
	}
	if got := prod.End(t0); !got.Equal(at(300 * time.Second)) {
		t.Errorf("End %v", got)
	}
	if got := prod.ReportDeadline(t0); !got.Equal(at(330 * time.Second)) {
		t.Errorf("ReportDeadline %v", got)
	}
	short := Schedule{Interval: 10 * time.Second}
	if !short.DrawAt(t0).Equal(at(8*time.Second)) || !short.VerifyAt(t0).Equal(at(9*time.Second)) || !short.ReportDeadline(t0).Equal(at(11*time.Second)) {
		t.Error("a 10 s schedule does not scale 8/9/11 s")
	}
}

func TestPhase(t *testing.T) {
	drawn := at(240 * time.Second)
	withCandidate := &SpinCycle{ID: "c", Start: t0, Candidate: &Candidate{CharacterName: "Norinn"}, DrawnAt: &drawn}
	decided := &SpinCycle{ID: "c", Start: t0, Candidate: &Candidate{CharacterName: "Norinn"}, DrawnAt: &drawn, Outcome: OutcomeWinner}
	noCandidate := &SpinCycle{ID: "c", Start: t0}
	noParticipants := &SpinCycle{ID: "c", Start: t0, Outcome: OutcomeNoParticipants}
	ms := time.Millisecond
	cases := []struct {
		name  string
		now   time.Time
		cycle *SpinCycle
		pool  int
		want  Phase
	}{
		{"no cycle, empty pool", at(0), nil, 0, PhaseIdle},
		{"no cycle yet, pool", at(0), nil, 3, PhaseCollecting},
		{"stale cycle from another window", at(301 * time.Second), withCandidate, 0, PhaseIdle},
		{"collecting at 0", at(0), noCandidate, 1, PhaseCollecting},
		{"collecting at 239.999", at(240*time.Second - ms), noCandidate, 1, PhaseCollecting},
		{"empty pool before the draw", at(100 * time.Second), noCandidate, 0, PhaseIdle},
		{"draw due, tick pending", at(240 * time.Second), noCandidate, 1, PhaseCollecting},
		{"spinning at 240", at(240 * time.Second), withCandidate, 1, PhaseSpinning},
		{"spinning at 269.999", at(270*time.Second - ms), withCandidate, 1, PhaseSpinning},
		{"verification at 270", at(270 * time.Second), withCandidate, 1, PhaseVerification},
		{"verification at 299.999", at(300*time.Second - ms), withCandidate, 1, PhaseVerification},
		{"candidate left the pool, still verifying", at(280 * time.Second), withCandidate, 0, PhaseVerification},
		{"decided", at(280 * time.Second), decided, 1, PhaseCompleted},
		{"no participants, pool not empty", at(250 * time.Second), noParticipants, 2, PhaseCompleted},
		{"no participants, empty pool", at(250 * time.Second), noParticipants, 0, PhaseIdle},
	}
	for _, c := range cases {
		if got := prod.Phase(c.now, c.cycle, c.pool); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestEligible(t *testing.T) {
	cases := []struct {
		active    bool
		committed int64
		want      bool
	}{{false, 0, true}, {true, 0, false}, {false, 9000, true}, {false, 9001, false}, {false, 10000, false}}
	for _, c := range cases {
		if got := Eligible(c.active, c.committed); got != c.want {
			t.Errorf("Eligible(%v, %d) = %v", c.active, c.committed, got)
		}
	}
}

func TestDecideVerify(t *testing.T) {
	open := &SpinCycle{ID: "c1", Start: t0, Candidate: &Candidate{CharacterName: "Norinn"}}
	decided := &SpinCycle{ID: "c1", Start: t0, Candidate: &Candidate{CharacterName: "Norinn"}, Outcome: OutcomeNoWinner}
	noCand := &SpinCycle{ID: "c1", Start: t0}
	rep := func(v int, name string, online bool) WhoReport {
		return WhoReport{SchemaVersion: v, SpinCycleID: "c1", CharacterName: name, Online: online}
	}
	cases := []struct {
		name   string
		now    time.Time
		r      WhoReport
		c      *SpinCycle
		want   VerifyAction
		wantEr Code
	}{
		{"schema first", at(280 * time.Second), rep(2, "1", true), nil, 0, CodeInvalidPayload},
		{"bad name before cycle", at(280 * time.Second), rep(1, "1", true), nil, 0, CodeInvalidCharacterName},
		{"unknown cycle", at(280 * time.Second), rep(1, "Norinn", true), nil, 0, CodeOutOfSequence},
		{"no candidate", at(280 * time.Second), rep(1, "Norinn", false), noCand, 0, CodeOutOfSequence},
		{"wrong name offline changes nothing", at(280 * time.Second), rep(1, "Thrall", false), open, 0, CodeOutOfSequence},
		{"online", at(280 * time.Second), rep(1, "Norinn", true), open, VerifyWinner, ""},
		{"case-insensitive", at(280 * time.Second), rep(1, "nORINN", true), open, VerifyWinner, ""},
		{"during spinning", at(245 * time.Second), rep(1, "Norinn", true), open, VerifyWinner, ""},
		{"offline", at(280 * time.Second), rep(1, "Norinn", false), open, VerifyNoWinner, ""},
		{"in grace at 300", at(300 * time.Second), rep(1, "Norinn", true), open, VerifyWinner, ""},
		{"in grace at 329.999", at(330*time.Second - time.Millisecond), rep(1, "Norinn", true), open, VerifyWinner, ""},
		{"closed at 330", at(330 * time.Second), rep(1, "Norinn", true), open, 0, CodeOutOfSequence},
		{"repeat", at(290 * time.Second), rep(1, "Norinn", true), decided, VerifyRepeat, ""},
		{"repeat wrong name is still out of sequence", at(290 * time.Second), rep(1, "Thrall", true), decided, 0, CodeOutOfSequence},
		{"clock before the cycle", at(-time.Second), rep(1, "Norinn", true), open, 0, CodeOutOfSequence},
	}
	for _, c := range cases {
		got, err := prod.DecideVerify(c.now, c.r, c.c)
		if c.wantEr != "" {
			if ErrorCode(err) != c.wantEr {
				t.Errorf("%s: %v, want %s", c.name, err, c.wantEr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
		}
	}
}

func TestCheckTransition(t *testing.T) {
	all := []PayoutStatus{PayoutPending, PayoutInProgress, PayoutSent, PayoutFailed, PayoutCancelled, PayoutExpired}
	allowed := map[[2]PayoutStatus]bool{
		{PayoutPending, PayoutInProgress}: true, {PayoutPending, PayoutCancelled}: true, {PayoutPending, PayoutFailed}: true,
		{PayoutInProgress, PayoutSent}: true, {PayoutInProgress, PayoutCancelled}: true, {PayoutInProgress, PayoutFailed}: true,
		{PayoutInProgress, PayoutPending}: true,
	}
	for _, from := range all {
		for _, to := range all {
			noop, err := CheckTransition(from, to)
			switch {
			case from == to:
				if !noop || err != nil {
					t.Errorf("%s→%s: want no-op, got %v %v", from, to, noop, err)
				}
			case allowed[[2]PayoutStatus{from, to}]:
				if noop || err != nil {
					t.Errorf("%s→%s: want allowed, got %v %v", from, to, noop, err)
				}
			default:
				if ErrorCode(err) != CodeTerminalStatusChange {
					t.Errorf("%s→%s: want refused, got %v", from, to, err)
				}
			}
		}
	}
}

func TestSpinEnrollmentIDAndRewardLine(t *testing.T) {
	if got := SpinEnrollmentID("550E8400-e29b-41d4-a716-446655440000"); got != "spin:550e8400e29b41d4a716446655440000" {
		t.Errorf("SpinEnrollmentID = %q", got)
	}
	if got := RewardLine("Norinn"); got != "Награда отправлена персонажу Norinn на почту, проверяй ящик!" {
		t.Errorf("RewardLine = %q", got)
	}
}
