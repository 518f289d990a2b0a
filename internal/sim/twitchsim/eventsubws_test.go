package twitchsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient is a real EventSub WebSocket client of the tests.
type wsClient struct {
	conn *websocket.Conn
}

func (e *twitchEnv) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(e.url, "http") + "/ws" + query
}

func dialWS(t *testing.T, u string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &wsClient{conn: conn}
}

// next reads one message (generous deadline).
func (c *wsClient) next(t *testing.T) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("message %s: %v", b, err)
	}
	return m
}

// closed reads until the server closes and returns its code and reason.
func (c *wsClient) closed(t *testing.T) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err == nil {
			t.Logf("message before close: %s", b)
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		return int(ce.Code), ce.Reason
	}
}

func msgType(m map[string]any) string {
	md, _ := m["metadata"].(map[string]any)
	s, _ := md["message_type"].(string)
	return s
}

func session(m map[string]any) map[string]any {
	return m["payload"].(map[string]any)["session"].(map[string]any)
}

// welcome reads the welcome and checks its documented shape.
func (c *wsClient) welcome(t *testing.T) map[string]any {
	t.Helper()
	m := c.next(t)
	if msgType(m) != "session_welcome" {
		t.Fatalf("first message %v", m)
	}
	wantKeys(t, "welcome", m, "metadata", "payload")
	wantKeys(t, "welcome metadata", m["metadata"].(map[string]any), "message_id", "message_type", "message_timestamp")
	s := session(m)
	wantKeys(t, "welcome session", s, "id", "status", "connected_at", "keepalive_timeout_seconds", "reconnect_url", "recovery_url")
	if s["status"] != "connected" || s["reconnect_url"] != nil {
		t.Fatalf("welcome session %v", s)
	}
	if _, err := time.Parse(time.RFC3339Nano, s["connected_at"].(string)); err != nil {
		t.Fatalf("connected_at: %v", err)
	}
	return s
}

// subscribeWS creates the chat subscription on session as the broadcaster.
func (e *twitchEnv) subscribeWS(t *testing.T, token, sessionID string) map[string]any {
	t.Helper()
	return createdSub(t, e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", token, wsBody(sessionID)))
}

func (e *twitchEnv) chat(t *testing.T, text string) {
	t.Helper()
	r := post(t, e.url+"/sim/eventsub/send-chat", `{"userId":"2002","login":"viewer","text":`+fmt.Sprintf("%q", text)+`,"broadcasterUserId":"1001"}`)
	if r.status != 200 {
		t.Fatalf("send-chat: %d %s", r.status, r.body)
	}
}

func wantChat(t *testing.T, m map[string]any, text string) {
	t.Helper()
	if msgType(m) != "notification" {
		t.Fatalf("want a notification, got %v", m)
	}
	if ev := m["payload"].(map[string]any)["event"].(map[string]any); ev["message"].(map[string]any)["text"] != text {
		t.Fatalf("notification text %v, want %q", ev["message"], text)
	}
}

func TestWebSocketWelcomeNotificationShapes(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	tok := e.login(t, testBroadcaster, chatScopes...).AccessToken
	c := dialWS(t, e.wsURL(""))
	s := c.welcome(t)
	if s["keepalive_timeout_seconds"] != 10.0 {
		t.Fatalf("keepalive_timeout_seconds = %v", s["keepalive_timeout_seconds"])
	}
	sub := e.subscribeWS(t, tok, s["id"].(string))
	tr := sub["transport"].(map[string]any)
	wantKeys(t, "websocket transport", tr, "method", "session_id", "connected_at")
	if sub["status"] != statusEnabled || tr["session_id"] != s["id"] {
		t.Fatalf("subscription %v", sub)
	}
	wantBody(t, e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", tok, wsBody(s["id"].(string))), 409,
		`{"error":"Conflict","status":409,"message":"subscription already exists"}`)

	req := SendChatRequest{UserID: "2002", Login: "viewer", Text: "!twgold", BroadcasterUserID: testBroadcaster, MessageID: "chat-1"}
	b, _ := json.Marshal(req)
	post(t, e.url+"/sim/eventsub/send-chat", string(b))
	m := c.next(t)
	wantChat(t, m, "!twgold")
	md := m["metadata"].(map[string]any)
	wantKeys(t, "notification metadata", md, "message_id", "message_type", "message_timestamp", "subscription_type", "subscription_version")
	if md["subscription_type"] != chatMessageType || md["subscription_version"] != "1" {
		t.Fatalf("metadata %v", md)
	}
	p := m["payload"].(map[string]any)
	wantKeys(t, "notification payload", p, "subscription", "event")
	if p["subscription"].(map[string]any)["id"] != sub["id"] {
		t.Fatalf("payload subscription %v", p["subscription"])
	}
	// The event is byte-for-byte the one the webhook stand-in sends.
	var want map[string]any
	wb, _ := json.Marshal(chatEvent(req, testBroadcaster, "chat-1"))
	_ = json.Unmarshal(wb, &want)
	if !reflect.DeepEqual(p["event"], want) {
		t.Fatalf("event %v\nwant  %v", p["event"], want)
	}
}

func TestWebSocketKeepaliveParameter(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	for q, want := range map[string]float64{"?keepalive_timeout_seconds=30": 30, "?keepalive_timeout_seconds=3": 10, "?keepalive_timeout_seconds=900": 600} {
		if got := dialWS(t, e.wsURL(q)).welcome(t)["keepalive_timeout_seconds"]; got != want {
			t.Errorf("%s: keepalive_timeout_seconds = %v, want %v", q, got, want)
		}
	}
}

func TestWebSocketKeepalivesAndTheirLoss(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{Keepalive: time.Second})
	tok := e.login(t, testBroadcaster, chatScopes...).AccessToken
	c := dialWS(t, e.wsURL(""))
	s := c.welcome(t)
	if s["keepalive_timeout_seconds"] != 1.0 {
		t.Fatalf("keepalive_timeout_seconds = %v", s["keepalive_timeout_seconds"])
	}
	e.subscribeWS(t, tok, s["id"].(string))
	k := c.next(t)
	if msgType(k) != "session_keepalive" {
		t.Fatalf("want a keepalive, got %v", k)
	}
	wantKeys(t, "keepalive", k, "metadata", "payload")
	if p := k["payload"].(map[string]any); len(p) != 0 {
		t.Fatalf("keepalive payload %v", p)
	}

	if r := post(t, e.url+"/sim/eventsub/ws/keepalive", `{"enabled":false}`); r.status != 200 {
		t.Fatalf("keepalive off: %d %s", r.status, r.body)
	}
	if ss := e.hub.Sessions(); len(ss) != 1 || ss[0].Keepalives {
		t.Fatalf("sessions %+v", ss)
	}
	// At most one keepalive was already on its way; after three silent
	// periods the next message is the chat message, not a keepalive.
	time.Sleep(3 * time.Second)
	e.chat(t, "after silence")
	m := c.next(t)
	if msgType(m) == "session_keepalive" {
		m = c.next(t)
	}
	wantChat(t, m, "after silence")
}

func TestWebSocketClosesUnusedConnection(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{WelcomeTimeout: 200 * time.Millisecond})
	c := dialWS(t, e.wsURL(""))
	c.welcome(t)
	if code, reason := c.closed(t); code != CloseConnectionUnused || reason != "connection unused" {
		t.Fatalf("close %d %q", code, reason)
	}
}

func TestWebSocketClosesOnInboundTraffic(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	c := dialWS(t, e.wsURL(""))
	c.welcome(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(`{"hello":1}`)); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.closed(t); code != CloseSentInboundTraffic {
		t.Fatalf("close %d", code)
	}
}

func TestWebSocketForcedCloseCodes(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	tok := e.login(t, testBroadcaster, chatScopes...).AccessToken
	for code := 4000; code <= 4007; code++ {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			c := dialWS(t, e.wsURL(""))
			id := c.welcome(t)["id"].(string)
			sub := e.subscribeWS(t, tok, id)
			r := post(t, e.url+"/sim/eventsub/ws/close", fmt.Sprintf(`{"sessionId":%q,"code":%d}`, id, code))
			if r.status != 200 {
				t.Fatalf("close: %d %s", r.status, r.body)
			}
			got, reason := c.closed(t)
			if got != code || reason != closeReasons[code] {
				t.Fatalf("close %d %q, want %d %q", got, reason, code, closeReasons[code])
			}
			want := closeStatuses[code]
			if want == "" {
				want = statusWSDisconnected
			}
			s := e.waitStatus(t, tok, sub["id"].(string), want)
			if _, ok := s["transport"].(map[string]any)["disconnected_at"]; !ok {
				t.Fatalf("no disconnected_at: %v", s)
			}
		})
	}
	wantBody(t, post(t, e.url+"/sim/eventsub/ws/close", `{"code":1000}`), 400, `{"error":"code must be one of Twitch's close codes, 4000–4007."}`)
}

func TestWebSocketReconnectKeepsSubscriptionsAndMessages(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{WelcomeTimeout: 300 * time.Millisecond, ReconnectGrace: 2 * time.Second})
	tok := e.login(t, testBroadcaster, chatScopes...).AccessToken
	old := dialWS(t, e.wsURL(""))
	oldID := old.welcome(t)["id"].(string)
	sub := e.subscribeWS(t, tok, oldID)

	r := post(t, e.url+"/sim/eventsub/ws/reconnect", `{"sessionId":"`+oldID+`"}`)
	if r.status != 200 {
		t.Fatalf("reconnect: %d %s", r.status, r.body)
	}
	m := old.next(t)
	if msgType(m) != "session_reconnect" {
		t.Fatalf("want session_reconnect, got %v", m)
	}
	rs := session(m)
	wantKeys(t, "reconnect session", rs, "id", "status", "connected_at", "keepalive_timeout_seconds", "reconnect_url", "recovery_url")
	if rs["status"] != "reconnecting" || rs["keepalive_timeout_seconds"] != nil || rs["id"] != oldID {
		t.Fatalf("reconnect session %v", rs)
	}
	// A message during the switch still reaches the old connection.
	e.chat(t, "during the switch")
	wantChat(t, old.next(t), "during the switch")

	fresh := dialWS(t, rs["reconnect_url"].(string))
	newID := fresh.welcome(t)["id"].(string)
	e.chat(t, "after the switch")
	wantChat(t, fresh.next(t), "after the switch")
	got := e.waitStatus(t, tok, sub["id"].(string), statusEnabled)
	if got["transport"].(map[string]any)["session_id"] != newID {
		t.Fatalf("subscription still on %v", got["transport"])
	}
	// The client never closed the old one: the server does after the grace.
	if code, _ := old.closed(t); code != CloseReconnectGraceExpiry {
		t.Fatalf("old closed with %d", code)
	}
	// The new connection needs no new subscription (no 4003) and the
	// subscription survived the old one's end.
	time.Sleep(500 * time.Millisecond)
	e.chat(t, "still here")
	wantChat(t, fresh.next(t), "still here")
	e.waitStatus(t, tok, sub["id"].(string), statusEnabled)
	// A reconnect URL is good once.
	if code, reason := dialWS(t, rs["reconnect_url"].(string)).closed(t); code != CloseInvalidReconnect || reason != "invalid reconnect attempt" {
		t.Fatalf("reused reconnect URL: %d %q", code, reason)
	}
}

func TestWebSocketReconnectNotFollowed(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{ReconnectGrace: 300 * time.Millisecond})
	tok := e.login(t, testBroadcaster, chatScopes...).AccessToken
	c := dialWS(t, e.wsURL(""))
	id := c.welcome(t)["id"].(string)
	sub := e.subscribeWS(t, tok, id)
	post(t, e.url+"/sim/eventsub/ws/reconnect", `{}`)
	if code, reason := c.closed(t); code != CloseReconnectGraceExpiry || reason != "client reconnect grace time expired" {
		t.Fatalf("close %d %q", code, reason)
	}
	e.waitStatus(t, tok, sub["id"].(string), "websocket_failed_to_reconnect")
}

func TestWebSocketRevocations(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	tok := e.login(t, testBroadcaster, chatScopes...).AccessToken
	c := dialWS(t, e.wsURL(""))
	id := c.welcome(t)["id"].(string)
	sub := e.subscribeWS(t, tok, id)

	// The broadcaster disconnects the integration: Twitch revokes.
	post(t, e.url+"/sim/grants/revoke", `{"user_id":"1001"}`)
	m := c.next(t)
	if msgType(m) != "revocation" {
		t.Fatalf("want a revocation, got %v", m)
	}
	wantKeys(t, "revocation metadata", m["metadata"].(map[string]any), "message_id", "message_type", "message_timestamp", "subscription_type", "subscription_version")
	p := m["payload"].(map[string]any)
	wantKeys(t, "revocation payload", p, "subscription")
	if s := p["subscription"].(map[string]any); s["status"] != "authorization_revoked" || s["id"] != sub["id"] {
		t.Fatalf("revoked subscription %v", s)
	}
	// No more chat for a revoked subscription.
	if r := post(t, e.url+"/sim/eventsub/send-chat", `{"userId":"2","login":"v","text":"x","broadcasterUserId":"1001"}`); len(r.json(t)["deliveries"].([]any)) != 0 {
		t.Fatalf("revoked subscription still gets chat: %s", r.body)
	}

	// A revocation with a chosen reason through the test endpoint.
	tok2 := e.login(t, testBroadcaster, chatScopes...).AccessToken
	sub2 := e.subscribeWS(t, tok2, id)
	post(t, e.url+"/sim/eventsub/revoke", `{"subscriptionId":"`+sub2["id"].(string)+`","status":"version_removed"}`)
	if s := c.next(t)["payload"].(map[string]any)["subscription"].(map[string]any); s["status"] != "version_removed" {
		t.Fatalf("revocation %v", s)
	}
	wantBody(t, post(t, e.url+"/sim/eventsub/revoke", `{"status":"because"}`), 400,
		`{"error":"status must be one of authorization_revoked, user_removed, notification_failures_exceeded, version_removed, moderator_removed."}`)
}

func TestEventSubSendChatReachesWebSocket(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	tok := e.login(t, testBroadcaster, chatScopes...).AccessToken
	es := httptest.NewServer(NewEventSub(EventSubOptions{
		BackendBaseURL: "http://127.0.0.1:1", BroadcasterUserID: testBroadcaster,
		Hub: func() *Hub { return e.hub },
	}))
	defer es.Close()
	c := dialWS(t, e.wsURL(""))
	e.subscribeWS(t, tok, c.welcome(t)["id"].(string))
	r := post(t, es.URL+"/send-chat", `{"userId":"2002","login":"viewer","text":"!twgold"}`)
	if r.status != 200 {
		t.Fatalf("send-chat: %d %s", r.status, r.body)
	}
	if ds := r.json(t)["deliveries"].([]any); len(ds) != 1 || ds[0].(map[string]any)["method"] != "websocket" {
		t.Fatalf("deliveries %s", r.body)
	}
	wantChat(t, c.next(t), "!twgold")
}

func TestLinkedMainsShareTheHub(t *testing.T) {
	esMain, helixMain := LinkedMains()
	env := map[string]string{"MockTwitch__ClientId": testClient, "MockTwitch__ClientSecret": testClientSecret, "Twitch__BroadcasterUserId": testBroadcaster}
	helixURL, stopHelix, helixDone := startMain(t, helixMain, env, HelixService)
	esURL, stopES, esDone := startMain(t, esMain, env, EventSubService)
	e := &twitchEnv{url: helixURL}
	tok := e.login(t, testBroadcaster, chatScopes...).AccessToken
	c := dialWS(t, e.wsURL(""))
	e.subscribeWS(t, tok, c.welcome(t)["id"].(string))
	if r := post(t, esURL+"/send-chat", `{"userId":"2002","login":"viewer","text":"!twgold"}`); r.status != 200 {
		t.Fatalf("send-chat: %d %s", r.status, r.body)
	}
	wantChat(t, c.next(t), "!twgold")
	stopES()
	stopHelix()
	waitExit(t, esDone)
	waitExit(t, helixDone)
}

func TestHubSettingsRejectNonsense(t *testing.T) {
	for _, args := range [][]string{
		{"--MockTwitch:KeepaliveSeconds=soon"},
		{"--MockTwitch:UserTokenTtlSeconds=-1"},
		{"--MockTwitch:RefreshRotation=sometimes"},
	} {
		s, err := parseSettings(args, func(string) string { return "" }, helixKeys, DefaultHelixListen)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hubFromSettings(s, nil); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
