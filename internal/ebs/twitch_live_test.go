package ebs_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// wsSubscriptions is what one EventSub WebSocket session carries: chat,
// stream.online and stream.offline.
const wsSubscriptions = 3

// TestTwitchEndToEndLiveOnly: with Mgm__DrawOnlyWhileLive the EBS draws
// only while Twitch last said the stream is online, on either transport:
// the EBS subscribes to stream.online/offline by itself, and the stand-in
// delivers them as Twitch would.
func TestTwitchEndToEndLiveOnly(t *testing.T) {
	for _, transport := range []string{"websocket", "webhook"} {
		for _, store := range ebstest.Stores {
			t.Run(transport+"/"+string(store), func(t *testing.T) {
				t.Parallel()
				testTwitchLiveOnly(t, store, transport)
			})
		}
	}
}

func testTwitchLiveOnly(t *testing.T, store ebstest.Store, transport string) {
	tw := newTwitchStandIn(t)
	env := twitchEnv(t, store, tw)
	env["Mgm__DrawOnlyWhileLive"] = "true"
	env["Twitch__EventSubTransport"] = transport
	var public *hookProxy
	if transport == "websocket" {
		env["Twitch__EventSubWebSocketUrl"] = "ws" + strings.TrimPrefix(tw.URL, "http") + "/ws"
	} else {
		public = newHookProxy(t)
		env["Mgm__PublicUrl"] = public.URL
		env["Twitch__EventSubSecret"] = e2eHookSecret
	}
	signIn(t, env, tw)
	e := ebstest.Start(t, store, env)
	if public != nil {
		u, _ := url.Parse(e.URL)
		public.target <- u
	}

	// Both live status subscriptions are in place, condition the broadcaster alone.
	poll(t, 20*time.Second, "enabled stream.online and stream.offline subscriptions", func() bool {
		var types []string
		for _, s := range tw.helix.Hub().Subscriptions() {
			if s.Status == "enabled" && s.Transport["method"] == transport && len(s.Condition) == 1 &&
				s.Condition["broadcaster_user_id"] == e2eBroadcaster && s.Version == "1" {
				types = append(types, s.Type)
			}
		}
		slices.Sort(types)
		return slices.Equal(types, []string{"stream.offline", "stream.online"})
	})
	if transport == "websocket" {
		oneSubscribedSession(t, tw, "", "chat and the live status on one session")
	}

	v := e2eViewers("live-"+transport, 1)[0]
	sendChat(t, tw, v)
	waitViewersEnrolled(t, e.URL, v)

	// Nothing heard yet counts as offline.
	waitPaused(t, e.URL, "offline")
	sendStream(t, tw, false)
	poll(t, 10*time.Second, "/readyz to say offline", func() bool {
		s, _ := readyDetail(t, e.URL)["stream_live"].(string)
		return strings.HasPrefix(s, "offline")
	})
	// A whole 10-second window and more passes without a draw.
	for until := time.Now().Add(12 * time.Second); time.Now().Before(until); time.Sleep(250 * time.Millisecond) {
		if st := rouletteState(t, e.URL); st.SpinPhase != "paused" || st.PausedReason == nil || *st.PausedReason != "offline" || st.CandidateCharacterName != nil {
			t.Fatalf("while offline: %+v", st)
		}
	}

	sendStream(t, tw, true)
	poll(t, 10*time.Second, "/readyz to say online", func() bool { return readyDetail(t, e.URL)["stream_live"] == "online" })
	if c := waitCandidate(t, e.URL, 25*time.Second); c.CharacterName != v.character {
		t.Fatalf("candidate %+v, want %s", c, v.character)
	}

	sendStream(t, tw, false)
	waitPaused(t, e.URL, "offline")
}

// sendStream has Twitch send stream.online (online) or stream.offline;
// exactly one subscription receives it, and the EBS accepts it.
func sendStream(t *testing.T, tw *twitchStandIn, online bool) {
	t.Helper()
	path := "/sim/eventsub/send-stream-offline"
	if online {
		path = "/sim/eventsub/send-stream-online"
	}
	var res twitchsim.StreamResult
	if s := testkit.Call(t, http.MethodPost, tw.URL+path, nil, twitchsim.SendStreamRequest{BroadcasterUserID: e2eBroadcaster}, &res); s != http.StatusOK {
		t.Fatalf("%s: %d", path, s)
	}
	if len(res.Deliveries) != 1 || res.Deliveries[0].Error != "" || (res.Deliveries[0].Method == "webhook" && res.Deliveries[0].Status != http.StatusOK) {
		t.Fatalf("%s deliveries %+v, want one accepted", path, res.Deliveries)
	}
}

type liveState struct {
	SpinPhase              string  `json:"spinPhase"`
	PausedReason           *string `json:"pausedReason"`
	CandidateCharacterName *string `json:"candidateCharacterName"`
}

func rouletteState(t *testing.T, base string) liveState {
	t.Helper()
	tok := auth.SignViewerToken(auth.DevExtensionSecret(), auth.TokenClaims{UserID: "someone", ChannelID: e2eBroadcaster, Expires: time.Now().Add(time.Hour)})
	var st liveState
	if s := testkit.Call(t, http.MethodGet, base+"/api/roulette/state", http.Header{"Authorization": {"Bearer " + tok}}, nil, &st); s != http.StatusOK {
		t.Fatalf("roulette state: %d", s)
	}
	return st
}

func waitPaused(t *testing.T, base, reason string) {
	t.Helper()
	poll(t, 25*time.Second, "the roulette to be paused: "+reason, func() bool {
		st := rouletteState(t, base)
		return st.SpinPhase == "paused" && st.PausedReason != nil && *st.PausedReason == reason
	})
}
