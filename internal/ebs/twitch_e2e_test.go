package ebs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebs"
	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// Issue 14's "done when", against the real stand-ins on loopback: a fresh
// EBS that knows only its Twitch application signs in with the device flow
// (the test plays the broadcaster at Twitch), then receives chat over the
// EventSub WebSocket or a webhook subscription it keeps in place itself.

const (
	e2eBroadcaster  = "141981764"
	e2eLogin        = "mimironstv"
	e2eClientID     = "e2e-twitch-client-id"
	e2eClientSecret = "e2e-twitch-client-secret"
	e2eHookSecret   = "e2e-webhook-secret-0123456789"
)

// twitchStandIn is id.twitch.tv, Helix and EventSub (subscriptions API and
// WebSocket) in one stand-in, with short keepalives so that a silent
// connection is noticed within seconds.
type twitchStandIn struct {
	URL   string
	helix *twitchsim.Helix
	auth  *twitchsim.Auth
}

func newTwitchStandIn(t *testing.T) *twitchStandIn {
	t.Helper()
	log := testkit.Logger(t)
	a := twitchsim.NewAuth(twitchsim.AuthOptions{
		ClientID: e2eClientID, ClientSecret: e2eClientSecret, PollInterval: time.Second, Logger: log,
	})
	h := twitchsim.NewHelix(twitchsim.HelixOptions{
		StrictAuth: true, RequireIssuedTokens: true, Logger: log,
		Hub: twitchsim.NewHub(twitchsim.HubOptions{Auth: a, Keepalive: 2 * time.Second, Logger: log}),
	})
	srv := httptest.NewServer(h)
	// Registered before the EBS starts, so it runs after the EBS has stopped.
	t.Cleanup(func() {
		_ = h.Close() // ends the WebSocket sessions; never fails
		srv.Close()
	})
	return &twitchStandIn{URL: srv.URL, helix: h, auth: a}
}

// twitchEnv is everything a fresh EBS is told: the application, the
// broadcaster, where Twitch is; no token.
func twitchEnv(t *testing.T, store ebstest.Store, tw *twitchStandIn) map[string]string {
	env := map[string]string{
		"Mgm__Environment": "Development", "Mgm__DataDir": t.TempDir(), "Mgm__ApiKey": testAPIKey,
		"Mgm__SpinIntervalSeconds": "10",
		"Twitch__HelixClientId":    e2eClientID, "Twitch__ClientSecret": e2eClientSecret,
		"Twitch__BroadcasterUserId": e2eBroadcaster,
		"Twitch__AuthBaseUrl":       tw.URL, "Twitch__HelixApiBaseUrl": tw.URL,
	}
	if store == ebstest.Postgres {
		env["ConnectionStrings__PostgreSQL"] = pgtest.NewDatabase(t)
	}
	return env
}

var userCodeLine = regexp.MustCompile(`enter the code\n\n {4}([A-Z]+)\n`)

// signIn runs "mgm-ebs twitch login" in-process as the CLI does and plays
// the broadcaster: reads the code it prints and approves it at Twitch.
func signIn(t *testing.T, env map[string]string, tw *twitchStandIn) {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatalf("configuration: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := &testkit.Buffer{}
	done := make(chan error, 1)
	go func() { done <- ebs.Twitch(ctx, cfg, "login", ebs.TwitchOptions{Out: out, Logger: testkit.Logger(t)}) }()
	var code string
	poll(t, 20*time.Second, "the login to print the user code", func() bool {
		if m := userCodeLine.FindStringSubmatch(out.String()); m != nil {
			code = m[1]
		}
		return code != ""
	})
	var approved map[string]any
	if s := testkit.Call(t, http.MethodPost, tw.URL+"/sim/device/approve", nil,
		twitchsim.DeviceApproval{UserCode: code, UserID: e2eBroadcaster, Login: e2eLogin}, &approved); s != http.StatusOK {
		t.Fatalf("approving %s at Twitch: %d %v", code, s, approved)
	}
	if err := <-done; err != nil {
		t.Fatalf("twitch login: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("Connected as %s (user id %s)", e2eLogin, e2eBroadcaster); !strings.Contains(out.String(), want) {
		t.Fatalf("login output lacks %q:\n%s", want, out)
	}
}

// poll calls cond until it holds, failing the test after within.
func poll(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
	}
}

type e2eViewer struct{ id, login, character string }

func e2eViewers(prefix string, n int) []e2eViewer {
	names := []string{"Norinn", "Thrallka", "Jainna", "Valeera", "Magnii", "Branna", "Tyrandee", "Malfy"}
	out := make([]e2eViewer, n)
	for i := range out {
		out[i] = e2eViewer{id: fmt.Sprintf("%s-%d", prefix, 9000+i), login: fmt.Sprintf("%sfan%d", prefix, i), character: names[i%len(names)]}
	}
	return out
}

// sendChat has Twitch deliver "!twgold <character>" from a subscriber to
// every subscription for the channel; it returns where it went.
func sendChat(t *testing.T, tw *twitchStandIn, v e2eViewer) []twitchsim.Delivery {
	t.Helper()
	var res twitchsim.ChatResult
	if s := testkit.Call(t, http.MethodPost, tw.URL+"/sim/eventsub/send-chat", nil, twitchsim.SendChatRequest{
		UserID: v.id, Login: v.login, Text: "!twgold " + v.character, Subscriber: true, BroadcasterUserID: e2eBroadcaster,
	}, &res); s != http.StatusOK {
		t.Fatalf("send-chat: %d", s)
	}
	return res.Deliveries
}

func poolMe(t *testing.T, base, userID string) string {
	t.Helper()
	tok := auth.SignViewerToken(auth.DevExtensionSecret(), auth.TokenClaims{UserID: userID, ChannelID: e2eBroadcaster, Expires: time.Now().Add(time.Hour)})
	_, body := get(t, base+"/api/pool/me", tok)
	return body
}

func waitViewersEnrolled(t *testing.T, base string, vs ...e2eViewer) {
	t.Helper()
	for _, v := range vs {
		want := fmt.Sprintf(`{"isEnrolled":true,"characterName":%q,"lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}`, v.character)
		poll(t, 15*time.Second, v.id+" to be enrolled", func() bool { return poolMe(t, base, v.id) == want })
	}
}

// assertEnrolledOnce checks that each viewer's message was processed exactly
// once: everyone is in the pool, and the EBS counted exactly one enrolling
// notification per viewer and no repeated or failed one.
func assertEnrolledOnce(t *testing.T, base string, vs []e2eViewer) {
	t.Helper()
	waitViewersEnrolled(t, base, vs...)
	tok := auth.SignViewerToken(auth.DevExtensionSecret(), auth.TokenClaims{UserID: "someone", ChannelID: e2eBroadcaster, Expires: time.Now().Add(time.Hour)})
	// The state is a snapshot the clock refreshes on its next tick.
	poll(t, 10*time.Second, fmt.Sprintf("the roulette state to count %d in the pool", len(vs)), func() bool {
		_, body := get(t, base+"/api/roulette/state", tok)
		return strings.Contains(body, fmt.Sprintf(`"poolParticipantCount":%d,`, len(vs)))
	})
	// Counted just after the enrollment commits.
	enrolled := `mgm_eventsub_messages_total{outcome="enrolled",type="notification"}`
	var m map[string]float64
	poll(t, 10*time.Second, "the enrollments to be counted", func() bool {
		m = scrape(t, base)
		return m[enrolled] >= float64(len(vs))
	})
	for labels, want := range map[string]float64{
		`mgm_eventsub_messages_total{outcome="enrolled",type="notification"}`:  float64(len(vs)),
		`mgm_eventsub_messages_total{outcome="duplicate",type="notification"}`: 0,
		`mgm_eventsub_messages_total{outcome="error",type="notification"}`:     0,
		`mgm_enrollments_total{outcome="enrolled",source="chat"}`:              float64(len(vs)),
	} {
		if got := m[labels]; got != want {
			t.Errorf("%s = %v, want %v", labels, got, want)
		}
	}
}

// scrape reads /metrics (open in Development) into series → value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	_, body := get(t, base+"/metrics", "")
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// readyDetail is /readyz's body.
func readyDetail(t *testing.T, base string) map[string]any {
	t.Helper()
	var d map[string]any
	if s := testkit.Call(t, http.MethodGet, base+"/readyz", nil, nil, &d); s != http.StatusOK {
		t.Fatalf("/readyz answered %d", s)
	}
	return d
}

// dig walks nested JSON objects by key.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func chatSubs(tw *twitchStandIn) []twitchsim.WireSubscription {
	return slices.DeleteFunc(tw.helix.Hub().Subscriptions(), func(s twitchsim.WireSubscription) bool {
		return s.Type != "channel.chat.message" || s.Condition["broadcaster_user_id"] != e2eBroadcaster
	})
}

func sessions(t *testing.T, tw *twitchStandIn) []twitchsim.SessionInfo {
	t.Helper()
	var ss []twitchsim.SessionInfo
	testkit.Call(t, http.MethodGet, tw.URL+"/sim/eventsub/ws/sessions", nil, nil, &ss)
	return ss
}

// oneSubscribedSession waits until exactly one WebSocket session is open,
// other than not, carrying the subscriptions, and returns its id.
func oneSubscribedSession(t *testing.T, tw *twitchStandIn, not string, what string) string {
	t.Helper()
	id := ""
	poll(t, 20*time.Second, what, func() bool {
		ss := sessions(t, tw)
		if len(ss) == 1 && ss[0].ID != not && ss[0].Status == "connected" && ss[0].Subscriptions == wsSubscriptions {
			id = ss[0].ID
		}
		return id != ""
	})
	return id
}

func control(t *testing.T, tw *twitchStandIn, path string, body any) {
	t.Helper()
	if s := testkit.Call(t, http.MethodPost, tw.URL+path, nil, body, nil); s != http.StatusOK {
		t.Fatalf("POST %s: %d", path, s)
	}
}

func TestTwitchEndToEndWebSocket(t *testing.T) {
	for _, store := range ebstest.Stores {
		t.Run(string(store), func(t *testing.T) {
			t.Parallel()
			testTwitchWebSocket(t, store)
		})
	}
}

func testTwitchWebSocket(t *testing.T, store ebstest.Store) {
	tw := newTwitchStandIn(t)
	env := twitchEnv(t, store, tw)
	env["Twitch__EventSubTransport"] = "websocket"
	env["Twitch__EventSubWebSocketUrl"] = "ws" + strings.TrimPrefix(tw.URL, "http") + "/ws"
	signIn(t, env, tw)
	e := ebstest.Start(t, store, env)

	// The client subscribed on its session with the stored sign-in.
	first := oneSubscribedSession(t, tw, "", "the EBS to subscribe over the WebSocket")
	subs := chatSubs(tw)
	if len(subs) != 1 || subs[0].Status != "enabled" || subs[0].Transport["method"] != "websocket" ||
		subs[0].Transport["session_id"] != first || subs[0].Condition["user_id"] != e2eBroadcaster {
		t.Fatalf("subscriptions %+v, want one enabled websocket subscription on %s", subs, first)
	}
	if d := readyDetail(t, e.URL); dig(d, "twitch_eventsub", "websocket", "status") != "subscribed" ||
		dig(d, "twitch_signin", "state") != "valid" {
		t.Errorf("/readyz %v", d)
	}

	vs := e2eViewers("ws", 6)
	if ds := sendChat(t, tw, vs[0]); len(ds) != 1 || !ds[0].Queued {
		t.Fatalf("deliveries %+v, want one to the WebSocket", ds)
	}
	waitViewersEnrolled(t, e.URL, vs[0])

	// session_reconnect: the EBS moves to the new URL and keeps its
	// subscription. (Messages sent while the move is under way are
	// TestTwitchWebSocketReconnectWindow's, skipped for a known gap.)
	control(t, tw, "/sim/eventsub/ws/reconnect", twitchsim.SessionControl{})
	second := oneSubscribedSession(t, tw, first, "the EBS to move to the reconnect URL")
	sendChat(t, tw, vs[1])
	sendChat(t, tw, vs[2])
	waitViewersEnrolled(t, e.URL, vs[1:3]...)
	if subs := chatSubs(tw); len(subs) != 1 || subs[0].Transport["session_id"] != second {
		t.Fatalf("after the move: %+v, want the one subscription on %s", subs, second)
	}

	// Keepalives stop: the EBS notices the silence and connects afresh;
	// what the silent connection still delivered counts.
	control(t, tw, "/sim/eventsub/ws/keepalive", twitchsim.SessionControl{Enabled: new(false)})
	sendChat(t, tw, vs[3])
	third := oneSubscribedSession(t, tw, second, "the EBS to replace the silent connection")
	if third == first {
		t.Fatalf("session %s came back", first)
	}
	sendChat(t, tw, vs[4])
	sendChat(t, tw, vs[5])
	assertEnrolledOnce(t, e.URL, vs)

	// The user token dies early; the reward line still goes out, with a
	// refreshed token, and is recorded as a success.
	var expired struct{ ExpiredTokens int }
	testkit.Call(t, http.MethodPost, tw.URL+"/sim/tokens/expire", nil, twitchsim.UserSelector{UserID: e2eBroadcaster}, &expired)
	if expired.ExpiredTokens < 1 {
		t.Fatalf("no broadcaster token expired: %+v", expired)
	}
	payoutToSent(t, e.URL)

	var reqs []twitchsim.RecordedRequest
	testkit.Call(t, http.MethodGet, tw.URL+"/requests", nil, nil, &reqs)
	if len(reqs) == 0 || reqs[len(reqs)-1].Status != http.StatusOK {
		t.Fatalf("chat message requests %+v, want the last one answered 200", reqs)
	}
	sent := strings.TrimPrefix(reqs[len(reqs)-1].Headers["Authorization"], "Bearer ")
	if _, known, valid := tw.auth.Lookup(sent); !known || !valid {
		t.Errorf("the reward line went out with a token Twitch did not issue or no longer accepts")
	}
	for _, r := range reqs[:len(reqs)-1] {
		tok := strings.TrimPrefix(r.Headers["Authorization"], "Bearer ")
		if _, _, valid := tw.auth.Lookup(tok); r.Status != http.StatusUnauthorized || valid || tok == sent {
			t.Errorf("an earlier chat message request answered %d (token still valid: %v); want only the expired token's 401", r.Status, valid)
		}
	}
	if m := scrape(t, e.URL); m[`mgm_twitch_token_refreshes_total{outcome="success"}`] < 1 {
		t.Errorf("no successful token refresh counted")
	}
}

// payoutToSent plays the Desktop through one payout: the candidate is
// online, accepts, the gold is sent; the reward line is announced.
func payoutToSent(t *testing.T, base string) {
	t.Helper()
	c := waitCandidate(t, base, 30*time.Second)
	var verdict struct {
		Outcome  string  `json:"outcome"`
		PayoutID *string `json:"payoutId"`
	}
	if s := desktopCall(t, http.MethodPost, base+"/api/roulette/verify-candidate", map[string]any{
		"schemaVersion": 1, "spinCycleId": c.SpinCycleID, "characterName": c.CharacterName, "online": true,
		"capturedAt": time.Now().UTC().Format("2006-01-02T15:04:05Z"),
	}, &verdict); s != http.StatusOK || verdict.Outcome != "winner" || verdict.PayoutID == nil {
		t.Fatalf("verify: %d %+v", s, verdict)
	}
	id := *verdict.PayoutID
	var p struct {
		Status                      string `json:"status"`
		IsRewardSentAnnouncedToChat bool   `json:"isRewardSentAnnouncedToChat"`
	}
	if s := desktopCall(t, http.MethodPost, base+"/api/payouts/"+id+"/confirm-acceptance", map[string]string{"characterName": c.CharacterName}, &p); s != http.StatusOK {
		t.Fatalf("accept: %d", s)
	}
	for _, st := range []string{"inProgress", "sent"} {
		if s := desktopCall(t, http.MethodPatch, base+"/api/payouts/"+id+"/status", map[string]string{"status": st}, &p); s != http.StatusOK {
			t.Fatalf("%s: %d %+v", st, s, p)
		}
	}
	poll(t, 30*time.Second, "the reward line", func() bool {
		desktopCall(t, http.MethodGet, base+"/api/payouts/"+id, nil, &p)
		return p.IsRewardSentAnnouncedToChat
	})
	var hist []struct{ Type string }
	desktopCall(t, http.MethodGet, base+"/api/payouts/"+id+"/history", nil, &hist)
	var types []string
	for _, h := range hist {
		types = append(types, h.Type)
	}
	if !slices.Contains(types, "HelixRewardSentAnnouncementSucceeded") || slices.ContainsFunc(types, func(s string) bool {
		return strings.HasPrefix(s, "HelixRewardSentAnnouncement") && s != "HelixRewardSentAnnouncementSucceeded"
	}) {
		t.Fatalf("history %v, want the announcement succeeded and nothing else about it", types)
	}
}

// hookProxy is the public address Twitch calls back: it forwards to the
// EBS once the EBS listens (the port is known only then), holding earlier
// requests until it does.
type hookProxy struct {
	*httptest.Server
	target chan *url.URL
}

func newHookProxy(t *testing.T) *hookProxy {
	p := &hookProxy{target: make(chan *url.URL, 1)}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u *url.URL
		select {
		case u = <-p.target:
			p.target <- u
		case <-time.After(20 * time.Second):
			http.Error(w, "the EBS did not start", http.StatusBadGateway)
			return
		}
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

func TestTwitchEndToEndWebhook(t *testing.T) {
	for _, store := range ebstest.Stores {
		t.Run(string(store), func(t *testing.T) {
			t.Parallel()
			testTwitchWebhook(t, store)
		})
	}
}

func testTwitchWebhook(t *testing.T, store ebstest.Store) {
	tw := newTwitchStandIn(t)
	public := newHookProxy(t)
	env := twitchEnv(t, store, tw)
	env["Twitch__EventSubTransport"] = "webhook"
	env["Mgm__PublicUrl"] = public.URL
	env["Twitch__EventSubSecret"] = e2eHookSecret
	signIn(t, env, tw)
	e := ebstest.Start(t, store, env)
	u, _ := url.Parse(e.URL)
	public.target <- u
	callback := public.URL + "/api/twitch/eventsub"

	// Created with the public callback, the challenge answered.
	enabled := func(not string) twitchsim.WireSubscription {
		var got twitchsim.WireSubscription
		poll(t, 20*time.Second, "one enabled webhook subscription", func() bool {
			subs := chatSubs(tw)
			if len(subs) == 1 && subs[0].Status == "enabled" && subs[0].ID != not {
				got = subs[0]
			}
			return got.ID != ""
		})
		if got.Transport["method"] != "webhook" || got.Transport["callback"] != callback || got.Condition["user_id"] != e2eBroadcaster {
			t.Fatalf("subscription %+v, want a webhook to %s", got, callback)
		}
		return got
	}
	sub := enabled("")
	poll(t, 10*time.Second, "/readyz to name the subscription", func() bool {
		d := readyDetail(t, e.URL)
		return dig(d, "twitch_eventsub", "webhook", "status") == "ok" && dig(d, "twitch_eventsub", "webhook", "subscription_id") == sub.ID
	})

	vs := e2eViewers("hook", 2)
	if ds := sendChat(t, tw, vs[0]); len(ds) != 1 || ds[0].Status != http.StatusOK || ds[0].Callback != callback {
		t.Fatalf("deliveries %+v, want one answered 200 at %s", ds, callback)
	}
	waitViewersEnrolled(t, e.URL, vs[0])

	// Twitch gives up on the callback: the EBS creates it again.
	control(t, tw, "/sim/eventsub/revoke", twitchsim.HubRevocation{SubscriptionID: sub.ID, Status: "notification_failures_exceeded"})
	again := enabled(sub.ID)
	if ds := sendChat(t, tw, vs[1]); len(ds) != 1 || ds[0].SubscriptionID != again.ID || ds[0].Status != http.StatusOK {
		t.Fatalf("deliveries %+v, want one to %s answered 200", ds, again.ID)
	}
	assertEnrolledOnce(t, e.URL, vs)

	// The broadcaster withdrew the authorization: only a new sign-in helps,
	// and /readyz says so; nothing is re-created meanwhile.
	control(t, tw, "/sim/eventsub/revoke", twitchsim.HubRevocation{SubscriptionID: again.ID, Status: "authorization_revoked"})
	poll(t, 10*time.Second, "/readyz to ask for a new sign-in", func() bool {
		d := readyDetail(t, e.URL)
		detail, _ := dig(d, "twitch_eventsub", "webhook", "detail").(string)
		return dig(d, "twitch_eventsub", "webhook", "status") == "needs_sign_in" && strings.Contains(detail, "a new sign-in is needed")
	})
	if subs := chatSubs(tw); len(subs) != 1 || subs[0].Status != "authorization_revoked" {
		t.Errorf("after authorization_revoked: %+v", subs)
	}
}

// TestTwitchWebSocketReconnectWindow sends chat while the EBS follows
// session_reconnect, many times over: every message must be enrolled once,
// including those still in flight on the old connection when the new one
// is welcomed (it is read a moment longer before it is closed).
func TestTwitchWebSocketReconnectWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("8 reconnect rounds")
	}
	t.Parallel()
	store := ebstest.SQLite
	tw := newTwitchStandIn(t)
	env := twitchEnv(t, store, tw)
	env["Twitch__EventSubTransport"] = "websocket"
	env["Twitch__EventSubWebSocketUrl"] = "ws" + strings.TrimPrefix(tw.URL, "http") + "/ws"
	signIn(t, env, tw)
	e := ebstest.Start(t, store, env)
	cur := oneSubscribedSession(t, tw, "", "the EBS to subscribe over the WebSocket")
	var all []e2eViewer
	for round := range 8 {
		suffix := string(rune('a'+round/26)) + string(rune('a'+round%26))
		vs := []e2eViewer{
			{fmt.Sprintf("rw-a%d", round), fmt.Sprintf("rwa%d", round), "Norinn" + suffix},
			{fmt.Sprintf("rw-b%d", round), fmt.Sprintf("rwb%d", round), "Thrall" + suffix},
			{fmt.Sprintf("rw-c%d", round), fmt.Sprintf("rwc%d", round), "Jaina" + suffix},
		}
		control(t, tw, "/sim/eventsub/ws/reconnect", twitchsim.SessionControl{})
		sendChat(t, tw, vs[0])
		sendChat(t, tw, vs[1])
		cur = oneSubscribedSession(t, tw, cur, "the EBS to move to the reconnect URL")
		sendChat(t, tw, vs[2])
		all = append(all, vs...)
	}
	assertEnrolledOnce(t, e.URL, all)
}
