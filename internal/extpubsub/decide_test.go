package extpubsub

import (
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

func TestViewOf(t *testing.T) {
	s := func(v string) *string { return &v }
	t0 := time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)
	base := ebsapi.RouletteState{NextSpinAt: ebsapi.At(t0), ServerNow: ebsapi.At(t0), SpinPhase: mgm.PhaseCollecting,
		CurrentSpinCycleID: s("c1"), PoolParticipantCount: 2, PoolCharacterNames: []string{"A", "B"}}
	b := viewOf(base)
	for _, tc := range []struct {
		name            string
		change          func(*ebsapi.RouletteState)
		urgent, gradual bool
	}{
		{"the clock only", func(st *ebsapi.RouletteState) {
			st.ServerNow, st.NextSpinAt = ebsapi.At(t0.Add(time.Second)), ebsapi.At(t0.Add(time.Minute))
		}, false, false},
		{"phase", func(st *ebsapi.RouletteState) { st.SpinPhase = mgm.PhaseSpinning }, true, false},
		{"cycle", func(st *ebsapi.RouletteState) { st.CurrentSpinCycleID = s("c2") }, true, false},
		{"candidate", func(st *ebsapi.RouletteState) { st.CandidateCharacterName = s("A") }, true, false},
		{"outcome", func(st *ebsapi.RouletteState) {
			st.LastCycle = &ebsapi.LastCycle{SpinCycleID: "c0", Outcome: mgm.OutcomeWinner}
		}, true, false},
		{"a new winner", func(st *ebsapi.RouletteState) {
			st.RecentWinners = []ebsapi.RecentWinner{{CharacterName: "A", At: ebsapi.At(t0)}}
		}, true, false},
		{"paused", func(st *ebsapi.RouletteState) {
			st.SpinPhase, st.PausedReason = mgm.PhasePaused, reason(mgm.PauseStreamer)
		}, true, false},
		{"pool count", func(st *ebsapi.RouletteState) { st.PoolParticipantCount = 3 }, false, true},
		{"a rename", func(st *ebsapi.RouletteState) { st.PoolCharacterNames = []string{"A", "C"} }, false, true},
		{"names split differently", func(st *ebsapi.RouletteState) { st.PoolCharacterNames = []string{"AB"} }, false, true},
	} {
		st := base
		tc.change(&st)
		v := viewOf(st)
		if (v.urgent != b.urgent) != tc.urgent || (v.gradual != b.gradual) != tc.gradual {
			t.Errorf("%s: urgent changed %v (want %v), gradual changed %v (want %v)", tc.name,
				v.urgent != b.urgent, tc.urgent, v.gradual != b.gradual, tc.gradual)
		}
	}
}

func reason(r mgm.PauseReason) *mgm.PauseReason { return &r }

// TestViewOfPausedReason: while paused, the reason changing is urgent on
// its own (the phase stays "paused"), and so are the moves into and out of
// the pause; decide then sends at once.
func TestViewOfPausedReason(t *testing.T) {
	s := func(v string) *string { return &v }
	paused := func(r mgm.PauseReason) ebsapi.RouletteState {
		return ebsapi.RouletteState{SpinPhase: mgm.PhasePaused, PausedReason: reason(r), CurrentSpinCycleID: s("c1"), PoolParticipantCount: 2}
	}
	collecting := ebsapi.RouletteState{SpinPhase: mgm.PhaseCollecting, CurrentSpinCycleID: s("c1"), PoolParticipantCount: 2}
	now := time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		from, to ebsapi.RouletteState
	}{
		{"streamer → offline", paused(mgm.PauseStreamer), paused(mgm.PauseOffline)},
		{"offline → budget", paused(mgm.PauseOffline), paused(mgm.PauseBudget)},
		{"budget → streamer", paused(mgm.PauseBudget), paused(mgm.PauseStreamer)},
		{"into the pause", collecting, paused(mgm.PauseOffline)},
		{"out of the pause", paused(mgm.PauseOffline), collecting},
	} {
		sent := viewOf(tc.from)
		if d := decide(&sent, viewOf(tc.to), now.Add(-time.Second), now, time.Time{}, time.Hour); !d.send || !d.at.Equal(now) {
			t.Errorf("%s: decision %+v, want sent at once", tc.name, d)
		}
	}
	same := viewOf(paused(mgm.PauseOffline))
	if d := decide(&same, viewOf(paused(mgm.PauseOffline)), now.Add(-time.Second), now, time.Time{}, time.Hour); d.send {
		t.Errorf("the same pause again: decision %+v, want nothing", d)
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)
	sent := view{urgent: "u", gradual: "g"}
	const coalesce = 10 * time.Second
	for _, tc := range []struct {
		name      string
		sent      *view
		cur       view
		sentAt    time.Time
		notBefore time.Time
		want      decision
	}{
		{"nothing sent yet: now", nil, sent, time.Time{}, time.Time{}, decision{true, now}},
		{"nothing changed", &sent, sent, now.Add(-time.Hour), time.Time{}, decision{}},
		{"urgent: now", &sent, view{"u2", "g"}, now.Add(-time.Second), time.Time{}, decision{true, now}},
		{"urgent, paced", &sent, view{"u2", "g"}, now, now.Add(time.Second), decision{true, now.Add(time.Second)}},
		{"gradual: coalesced", &sent, view{"u", "g2"}, now.Add(-3 * time.Second), time.Time{}, decision{true, now.Add(7 * time.Second)}},
		{"gradual, long after: now", &sent, view{"u", "g2"}, now.Add(-time.Minute), time.Time{}, decision{true, now}},
		{"gradual and urgent: now", &sent, view{"u2", "g2"}, now.Add(-3 * time.Second), time.Time{}, decision{true, now}},
		{"after a 429: its reset", &sent, view{"u2", "g"}, now.Add(-time.Minute), now.Add(30 * time.Second), decision{true, now.Add(30 * time.Second)}},
		{"first send after a failure: the backoff", nil, sent, time.Time{}, now.Add(4 * time.Second), decision{true, now.Add(4 * time.Second)}},
	} {
		if got := decide(tc.sent, tc.cur, tc.sentAt, now, tc.notBefore, coalesce); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestRetryAt(t *testing.T) {
	now := time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		err      SendError
		failures int
		want     time.Duration
	}{
		{"429 with its reset", SendError{Reason: ReasonRateLimited, RetryAt: now.Add(7 * time.Second)}, 1, 7 * time.Second},
		{"429 with a reset in the past", SendError{Reason: ReasonRateLimited, RetryAt: now.Add(-time.Minute)}, 1, time.Second},
		{"429 with a reset far away", SendError{Reason: ReasonRateLimited, RetryAt: now.Add(time.Hour)}, 1, 2 * time.Minute},
		{"429 without a reset", SendError{Reason: ReasonRateLimited}, 1, 10 * time.Second},
		{"401", SendError{Reason: ReasonUnauthorized}, 1, time.Minute},
		{"400", SendError{Reason: ReasonRejected}, 1, 30 * time.Second},
		{"unreachable, first", SendError{Reason: ReasonUnreachable}, 1, time.Second},
		{"unreachable, third", SendError{Reason: ReasonUnreachable}, 3, 4 * time.Second},
		{"5xx, many", SendError{Reason: ReasonTwitchError}, 40, 30 * time.Second},
	} {
		if got := retryAt(&tc.err, tc.failures, now).Sub(now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
