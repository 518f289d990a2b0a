package extpubsub_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/extpubsub"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// fakeSource is a roulette whose state the test sets.
type fakeSource struct {
	mu      sync.Mutex
	st      ebsapi.RouletteState
	changed chan struct{}
}

func newSource(st ebsapi.RouletteState) *fakeSource {
	return &fakeSource{st: st, changed: make(chan struct{})}
}

func (f *fakeSource) PushState(now time.Time) ebsapi.RouletteState {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.st
	st.ServerNow = ebsapi.At(now)
	return st
}

func (f *fakeSource) SnapshotChanged() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeSource) set(change func(*ebsapi.RouletteState)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.st)
	close(f.changed)
	f.changed = make(chan struct{})
}

var extKey = []byte("0123456789abcdef0123456789abcdef")

// standIn is the Helix stand-in with Extension PubSub for extension
// "ext1" owned by user 111, on loopback.
func standIn(t *testing.T, modes twitchsim.PubSubModes) string {
	t.Helper()
	h := twitchsim.NewHelix(twitchsim.HelixOptions{PubSub: twitchsim.PubSubOptions{Key: extKey, ClientID: "ext1", OwnerID: "111", Modes: modes}})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = h.Close() })
	return srv.URL
}

type run struct {
	p      *extpubsub.Pusher
	src    *fakeSource
	base   string
	cancel func()
}

func startPusher(t *testing.T, base string, key []byte, coalesce time.Duration) *run {
	t.Helper()
	src := newSource(ebsapi.RouletteState{SpinPhase: mgm.PhaseCollecting, CurrentSpinCycleID: str("c1"),
		PoolParticipantCount: 1, PoolCharacterNames: []string{"Norinn"}, RecentWinners: []ebsapi.RecentWinner{}})
	p := extpubsub.New(extpubsub.Config{
		Sender: &extpubsub.Client{BaseURL: base, ClientID: "ext1", OwnerID: "111", BroadcasterID: "222", Key: key},
		Source: src, BroadcasterID: "222", Coalesce: coalesce, MinInterval: 20 * time.Millisecond,
		Logger: testkit.Logger(t),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return &run{p: p, src: src, base: base, cancel: stop}
}

func (r *run) messages(t *testing.T) []extpubsub.Message {
	t.Helper()
	var got []twitchsim.PubSubMessage
	if code := testkit.Call(t, http.MethodGet, r.base+"/_sim/extension-pubsub/222", nil, nil, &got); code != http.StatusOK {
		t.Fatalf("list: %d", code)
	}
	out := make([]extpubsub.Message, 0, len(got))
	for _, m := range got {
		var msg extpubsub.Message
		if err := json.Unmarshal([]byte(m.Message), &msg); err != nil {
			t.Fatalf("message %q: %v", m.Message, err)
		}
		out = append(out, msg)
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting: %s", what)
}

func TestPusherSendsChangesInOrder(t *testing.T) {
	base := standIn(t, twitchsim.PubSubModes{})
	r := startPusher(t, base, extKey, 400*time.Millisecond)
	eventually(t, "the first state", func() bool { return len(r.messages(t)) == 1 })
	r.src.set(func(st *ebsapi.RouletteState) {
		st.SpinPhase, st.CandidateCharacterName = mgm.PhaseSpinning, str("Norinn")
	})
	eventually(t, "the spin", func() bool { return len(r.messages(t)) == 2 })
	r.src.set(func(st *ebsapi.RouletteState) { st.SpinPhase = mgm.PhaseVerification })
	eventually(t, "verification", func() bool { return len(r.messages(t)) == 3 })
	// A burst of enrollments is one message, at most one per coalescing interval.
	for i := range 5 {
		r.src.set(func(st *ebsapi.RouletteState) {
			st.PoolParticipantCount = 2 + i
			st.PoolCharacterNames = append(st.PoolCharacterNames, "Extra"+string(rune('a'+i)))
		})
	}
	eventually(t, "the pool's new count", func() bool { return len(r.messages(t)) == 4 })
	time.Sleep(600 * time.Millisecond)
	msgs := r.messages(t)
	if len(msgs) != 4 {
		t.Fatalf("%d messages after the burst, want 4", len(msgs))
	}
	phases := []mgm.Phase{mgm.PhaseCollecting, mgm.PhaseSpinning, mgm.PhaseVerification, mgm.PhaseVerification}
	for i, m := range msgs {
		if m.V != 1 || m.Kind != "state" || m.State.SpinPhase != phases[i] || (i > 0 && m.Seq != msgs[i-1].Seq+1) {
			t.Fatalf("message %d: %+v (previous seq %d)", i, m, msgs[max(i-1, 0)].Seq)
		}
	}
	if msgs[3].State.PoolParticipantCount != 6 || len(msgs[3].State.PoolCharacterNames) != 6 {
		t.Fatalf("the coalesced message is not the latest state: %+v", msgs[3].State)
	}
	if msgs[0].Seq < time.Now().Add(-time.Minute).UnixMilli() {
		t.Fatalf("seq %d does not start above the clock's milliseconds", msgs[0].Seq)
	}

	st := r.p.Status()
	if st.State != extpubsub.StatePushing || st.LastSeq != msgs[3].Seq || st.Accepted != 4 || st.LastError != nil {
		t.Fatalf("status %+v", st)
	}
	if !strings.HasPrefix(st.Delivery, "no viewer has confirmed a push since ") {
		t.Fatalf("delivery before any receipt: %q", st.Delivery)
	}
	r.p.ViewerConfirmed(st.LastSeq + 1) // never sent: not believed
	r.p.ViewerConfirmed(-3)
	if st := r.p.Status(); st.ViewerConfirmedSeq != 0 {
		t.Fatalf("a seq never sent was recorded: %+v", st)
	}
	r.p.ViewerConfirmed(msgs[2].Seq)
	r.p.ViewerConfirmed(msgs[1].Seq) // older: the highest stays
	st = r.p.Status()
	if st.ViewerConfirmedSeq != msgs[2].Seq || st.ViewerConfirmedAt.IsZero() ||
		!strings.HasPrefix(st.Delivery, "push delivered to viewers: last seq ") {
		t.Fatalf("after receipts: %+v", st)
	}
}

func TestPusherRateLimitedShowsInStatus(t *testing.T) {
	base := standIn(t, twitchsim.PubSubModes{Always429: true})
	r := startPusher(t, base, extKey, time.Second)
	eventually(t, "a 429", func() bool { return r.p.Status().State == extpubsub.StateRateLimited })
	st := r.p.Status()
	if st.LastError == nil || st.LastError.Reason != extpubsub.ReasonRateLimited || st.LastError.HTTPStatus != 429 ||
		!strings.Contains(st.LastError.WhatToDo, "rate-limited") || st.RateLimitedUntil.Before(time.Now()) || st.Accepted != 0 {
		t.Fatalf("status %+v", st)
	}
	// The reset is honoured: no second attempt before it.
	time.Sleep(300 * time.Millisecond)
	if n := r.p.Status().Failures; n != 1 {
		t.Fatalf("%d attempts before the reset", n)
	}
}

func TestPusherWrongSecretSaysWhatToCheck(t *testing.T) {
	base := standIn(t, twitchsim.PubSubModes{})
	r := startPusher(t, base, []byte("not the extension's secret, 32 b"), time.Second)
	eventually(t, "a 401", func() bool { return r.p.Status().State == extpubsub.StateFailing })
	st := r.p.Status()
	if st.LastError == nil || st.LastError.Reason != extpubsub.ReasonUnauthorized ||
		!strings.Contains(st.Detail, "Twitch__ExtensionSecret") || !strings.Contains(st.Detail, "Twitch__ExtensionOwnerId") {
		t.Fatalf("status %+v", st)
	}
	if len(r.messages(t)) != 0 {
		t.Fatal("the stand-in accepted a message signed with the wrong key")
	}
}

func TestPusherUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there now
	r := startPusher(t, base, extKey, time.Second)
	eventually(t, "a network failure", func() bool {
		st := r.p.Status()
		return st.LastError != nil && st.LastError.Reason == extpubsub.ReasonUnreachable
	})
	if st := r.p.Status(); !strings.Contains(st.Detail, "unreachable") {
		t.Fatalf("status %+v", st)
	}
}
