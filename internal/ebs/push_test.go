package ebs_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/extpubsub"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

const (
	pushClientID = "pushext1"
	pushOwnerID  = "777"
)

// pushStandIn is Twitch's Helix with Extension PubSub for extension
// pushClientID, verifying with the development key the EBS signs with in
// Development.
func pushStandIn(t *testing.T, modes twitchsim.PubSubModes) string {
	t.Helper()
	h := twitchsim.NewHelix(twitchsim.HelixOptions{PubSub: twitchsim.PubSubOptions{ClientID: pushClientID, OwnerID: pushOwnerID, Modes: modes}})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = h.Close() })
	return srv.URL
}

func pushEnv(t *testing.T, helix string) map[string]string {
	env := baseEnv(t)
	env["Mgm__SpinIntervalSeconds"] = "20"
	env["Mgm__ApiKey"] = testAPIKey
	env["Twitch__HelixApiBaseUrl"] = helix
	env["Twitch__ExtensionClientId"] = pushClientID
	env["Twitch__ExtensionOwnerId"] = pushOwnerID
	return env
}

// pushed lists what the stand-in accepted for channel b1, decoded.
func pushed(t *testing.T, helix string) []extpubsub.Message {
	t.Helper()
	var got []twitchsim.PubSubMessage
	if code := testkit.Call(t, http.MethodGet, helix+"/_sim/extension-pubsub/b1", nil, nil, &got); code != http.StatusOK {
		t.Fatalf("stand-in list: %d", code)
	}
	out := make([]extpubsub.Message, 0, len(got))
	for _, m := range got {
		var msg extpubsub.Message
		if err := json.Unmarshal([]byte(m.Message), &msg); err != nil {
			t.Fatalf("pushed message %q: %v", m.Message, err)
		}
		out = append(out, msg)
	}
	return out
}

// pushStatus is /readyz's extension_pubsub.
func pushStatus(t *testing.T, base string) extpubsub.Status {
	t.Helper()
	var body struct {
		Push extpubsub.Status `json:"extension_pubsub"`
	}
	if code := testkit.Call(t, http.MethodGet, base+"/readyz", nil, nil, &body); code != http.StatusOK {
		t.Fatalf("/readyz: %d", code)
	}
	return body.Push
}

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %v waiting for %s", within, what)
}

// TestPanelPushFollowsACycle: a real EBS and the Twitch stand-in on
// loopback. A 20-second cycle's phases arrive as pushes in order with
// consecutive seqs, each the route's state; a viewer's X-Mgm-Push-Seq shows
// up in /readyz as delivery to viewers.
func TestPanelPushFollowsACycle(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a 20-second cycle")
	}
	t.Parallel()
	helix := pushStandIn(t, twitchsim.PubSubModes{})
	r := start(t, pushEnv(t, helix))
	if !strings.Contains(r.out.String(), "Panel push: Extension PubSub to channel b1") {
		t.Fatalf("banner:\n%s", r.out)
	}
	if resp := postSigned(t, r.base, "push-d1", chatNotification("push-m1", "v-42", "norinnfan", "!twgold Norinn", "subscriber")); resp.StatusCode != http.StatusOK {
		t.Fatalf("eventsub answered %d", resp.StatusCode)
	}
	// The candidate is drawn at 16 s of the cycle, verification begins at
	// 18 s; the Desktop reports the candidate online once a push said so.
	var cycleID string
	waitFor(t, "a push of the verification with the candidate", 45*time.Second, func() bool {
		for _, m := range pushed(t, helix) {
			if m.State.SpinPhase == mgm.PhaseVerification && m.State.CandidateCharacterName != nil && *m.State.CandidateCharacterName == "Norinn" {
				cycleID = *m.State.CurrentSpinCycleID
				return true
			}
		}
		return false
	})
	who := fmt.Sprintf(`{"schemaVersion":1,"spinCycleId":%q,"characterName":"Norinn","online":true,"capturedAt":"2026-04-04T12:04:35Z"}`, cycleID)
	resp := testkit.Do(t, nil, http.MethodPost, r.base+"/api/roulette/verify-candidate",
		testkit.Header(map[string]string{"X-MGM-ApiKey": testAPIKey, "Content-Type": "application/json"}), who)
	if resp.Status != http.StatusOK {
		t.Fatalf("verify: %d %s", resp.Status, resp.Text())
	}
	waitFor(t, "the next cycle's first push", 30*time.Second, func() bool {
		msgs := pushed(t, helix)
		last := msgs[len(msgs)-1].State
		return last.CurrentSpinCycleID != nil && *last.CurrentSpinCycleID != cycleID && last.SpinPhase == mgm.PhaseCollecting
	})

	msgs := pushed(t, helix)
	var phases []mgm.Phase
	for i, m := range msgs {
		if m.V != 1 || m.Kind != extpubsub.KindState || (i > 0 && m.Seq != msgs[i-1].Seq+1) {
			t.Fatalf("message %d: v %d kind %q seq %d after %d", i, m.V, m.Kind, m.Seq, msgs[max(i-1, 0)].Seq)
		}
		if m.State.CurrentSpinCycleID != nil && *m.State.CurrentSpinCycleID == cycleID &&
			(len(phases) == 0 || phases[len(phases)-1] != m.State.SpinPhase) {
			phases = append(phases, m.State.SpinPhase)
		}
	}
	// Collecting may have begun before the EBS did; the rest follow in order.
	want := []mgm.Phase{mgm.PhaseSpinning, mgm.PhaseVerification, mgm.PhaseCompleted}
	if i := slices.Index(phases, mgm.PhaseSpinning); i < 0 || !slices.Equal(phases[i:], want) {
		t.Fatalf("the cycle's phases as pushed: %v, want … %v", phases, want)
	}
	last := msgs[len(msgs)-1].State
	if last.LastCycle == nil || last.LastCycle.Outcome != mgm.OutcomeWinner || len(last.RecentWinners) != 1 ||
		last.RecentWinners[0].CharacterName != "Norinn" {
		t.Fatalf("the next cycle's push lacks the outcome: %+v", last)
	}
	if len(msgs) > 12 {
		t.Errorf("%d pushes for about two cycles: more than a few per cycle", len(msgs))
	}

	st := pushStatus(t, r.base)
	if st.State != extpubsub.StatePushing || !st.Holder || st.LastSeq < msgs[len(msgs)-1].Seq || st.LastError != nil ||
		!strings.HasPrefix(st.Delivery, "no viewer has confirmed a push since ") {
		t.Fatalf("status before any receipt: %+v", st)
	}
	// A viewer's panel reports the last seq it received.
	seq := msgs[len(msgs)-1].Seq
	h := testkit.Header(map[string]string{"Authorization": "Bearer " + viewerToken("v-42"), "X-Mgm-Push-Seq": fmt.Sprint(seq)})
	if resp := testkit.Do(t, nil, http.MethodGet, r.base+"/api/roulette/state", h, nil); resp.Status != http.StatusOK {
		t.Fatalf("state: %d", resp.Status)
	}
	st = pushStatus(t, r.base)
	if st.ViewerConfirmedSeq != seq || !strings.HasPrefix(st.Delivery, fmt.Sprintf("push delivered to viewers: last seq %d at ", seq)) {
		t.Fatalf("status after a receipt: %+v", st)
	}
}

// TestPanelPushRateLimitedInReadyz: Twitch answering 429 shows in /readyz
// with what it means.
func TestPanelPushRateLimitedInReadyz(t *testing.T) {
	t.Parallel()
	helix := pushStandIn(t, twitchsim.PubSubModes{Always429: true})
	r := start(t, pushEnv(t, helix))
	waitFor(t, "rate_limited in /readyz", 10*time.Second, func() bool {
		return pushStatus(t, r.base).State == extpubsub.StateRateLimited
	})
	st := pushStatus(t, r.base)
	if st.LastError == nil || st.LastError.HTTPStatus != http.StatusTooManyRequests || !strings.Contains(st.LastError.WhatToDo, "rate-limited") ||
		st.RateLimitedUntil.IsZero() || st.Accepted != 0 {
		t.Fatalf("status %+v", st)
	}
}

// TestPanelPushOffNamesWhatIsMissing: without the owner id the push is
// off, and /readyz and the banner say which setting to set.
func TestPanelPushOffNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	env := pushEnv(t, "http://127.0.0.1:1")
	delete(env, "Twitch__ExtensionOwnerId")
	r := start(t, env)
	st := pushStatus(t, r.base)
	if st.State != extpubsub.StateOff || !slices.Equal(st.Missing, []string{"Twitch__ExtensionOwnerId"}) ||
		!strings.Contains(st.Detail, "Twitch__ExtensionOwnerId") {
		t.Fatalf("status %+v", st)
	}
	if !strings.Contains(r.out.String(), "Panel push: off (set Twitch__ExtensionOwnerId)") {
		t.Fatalf("banner:\n%s", r.out)
	}
}

// TestPanelPushOneReplicaOnPostgres: two replicas on one database; one
// holds the lease and pushes, the other stands by, and Twitch hears one
// series of messages.
func TestPanelPushOneReplicaOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	helix := pushStandIn(t, twitchsim.PubSubModes{})
	var replicas []*running
	for range 2 {
		env := pushEnv(t, helix)
		env["ConnectionStrings__PostgreSQL"] = dsn
		env["Mgm__SpinIntervalSeconds"] = "300"
		replicas = append(replicas, start(t, env))
	}
	waitFor(t, "a push", 10*time.Second, func() bool { return len(pushed(t, helix)) > 0 })
	postSigned(t, replicas[1].base, "rep-d1", chatNotification("rep-m1", "v-1", "one", "!twgold Norinn", "subscriber"))
	postSigned(t, replicas[0].base, "rep-d2", chatNotification("rep-m2", "v-2", "two", "!twgold Jaina", "subscriber"))
	waitFor(t, "the pool's count pushed", 30*time.Second, func() bool {
		msgs := pushed(t, helix)
		return msgs[len(msgs)-1].State.PoolParticipantCount == 2
	})
	holders := 0
	for _, r := range replicas {
		st := pushStatus(t, r.base)
		switch {
		case st.Holder && st.State == extpubsub.StatePushing:
			holders++
		case !st.Holder && st.State == extpubsub.StateStandby:
		default:
			t.Fatalf("replica status %+v", st)
		}
	}
	if holders != 1 {
		t.Fatalf("%d replicas push", holders)
	}
	msgs := pushed(t, helix)
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Seq != msgs[i-1].Seq+1 {
			t.Fatalf("two series of pushes: seqs %d then %d", msgs[i-1].Seq, msgs[i].Seq)
		}
	}
}
