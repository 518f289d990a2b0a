package twitchsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
)

func streamBody(typ, broadcaster, transport string) string {
	return fmt.Sprintf(`{"type":%q,"version":"1","condition":{"broadcaster_user_id":%q},"transport":%s}`, typ, broadcaster, transport)
}

// wantStreamEvent checks a stream.online (online) or stream.offline event
// against Twitch's documented fields, exactly.
func wantStreamEvent(t *testing.T, ev map[string]any, online bool) {
	t.Helper()
	if !online {
		wantKeys(t, "stream.offline event", ev, "broadcaster_user_id", "broadcaster_user_login", "broadcaster_user_name")
	} else {
		wantKeys(t, "stream.online event", ev, "id", "broadcaster_user_id", "broadcaster_user_login", "broadcaster_user_name", "type", "started_at")
		if ev["type"] != "live" || ev["id"] == "" || ev["started_at"] == "" {
			t.Fatalf("stream.online event %v", ev)
		}
	}
	if ev["broadcaster_user_id"] != testBroadcaster || ev["broadcaster_user_login"] != defaultBroadcasterLogin {
		t.Fatalf("event %v", ev)
	}
}

// TestStreamLiveOverWebhook: the app token subscribes to a channel's live
// status without anyone's authorization ("No authorization required"), the
// challenge is answered, and the send-stream routes deliver signed
// notifications of the documented shape.
func TestStreamLiveOverWebhook(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	app := e.appToken(t) // nobody signed in: none is needed
	cb := newCallback(t, e.clock.Now, func(c string) string { return c })
	tr := fmt.Sprintf(`{"method":"webhook","callback":%q,"secret":%q}`, cb.srv.URL, hookSecret)
	ids := map[string]string{}
	for _, typ := range []string{streamOnlineType, streamOfflineType} {
		sub := createdSub(t, e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", app, streamBody(typ, testBroadcaster, tr)))
		ids[typ] = sub["id"].(string)
		e.waitStatus(t, app, ids[typ], statusEnabled)
		if c := sub["condition"].(map[string]any); len(c) != 1 || c["broadcaster_user_id"] != testBroadcaster {
			t.Fatalf("condition %v", c)
		}
	}
	for i, online := range []bool{true, false} {
		path, typ := "/sim/eventsub/send-stream-offline", streamOfflineType
		if online {
			path, typ = "/sim/eventsub/send-stream-online", streamOnlineType
		}
		r := post(t, e.url+path, `{"broadcasterUserId":"1001"}`)
		var res StreamResult
		_ = json.Unmarshal([]byte(r.body), &res)
		if r.status != 200 || len(res.Deliveries) != 1 || res.Deliveries[0].SubscriptionID != ids[typ] || res.Deliveries[0].Status != http.StatusNoContent {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		notes := cb.ofType(eventsub.TypeNotification)
		if len(notes) != i+1 {
			t.Fatalf("%d notifications", len(notes))
		}
		n := notes[i]
		if n.header.Get(eventsub.HeaderSubscriptionType) != typ || n.header.Get(HeaderSubscriptionVersion) != "1" {
			t.Fatalf("headers %v", n.header)
		}
		var m map[string]any
		_ = json.Unmarshal(n.body, &m)
		wantKeys(t, "notification", m, "subscription", "event")
		sub := m["subscription"].(map[string]any)
		wantKeys(t, "subscription", sub, "id", "status", "type", "version", "condition", "created_at", "transport", "cost")
		if sub["type"] != typ || sub["status"] != statusEnabled || sub["version"] != "1" {
			t.Fatalf("subscription %v", sub)
		}
		wantStreamEvent(t, m["event"].(map[string]any), online)
		// What the EBS reads of it.
		env, err := eventsub.ParseEnvelope(eventsub.TypeNotification, n.body)
		if err != nil {
			t.Fatal(err)
		}
		if ev, err := eventsub.ParseStreamEvent(env.Event); err != nil || ev.BroadcasterUserID != testBroadcaster {
			t.Fatalf("parsed %+v, %v", ev, err)
		}
	}
	// Another channel's live status goes nowhere; the broadcaster is required.
	if r := post(t, e.url+"/sim/eventsub/send-stream-online", `{"broadcasterUserId":"4004"}`); len(r.json(t)["deliveries"].([]any)) != 0 {
		t.Fatalf("another channel's stream.online was delivered: %s", r.body)
	}
	wantBody(t, post(t, e.url+"/sim/eventsub/send-stream-offline", `{}`), 400, `{"error":"broadcasterUserId is required."}`)
}

// TestStreamLiveOverWebSocket: any user token may subscribe a session to
// the broadcaster's live status (no scope, no user_id); notifications go to
// the session; disconnecting the integration revokes chat but not them.
func TestStreamLiveOverWebSocket(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	tok := e.login(t, testBroadcaster, chatScopes...).AccessToken
	bare := e.login(t, "3003").AccessToken // no scopes at all
	c := dialWS(t, e.wsURL(""))
	id := c.welcome(t)["id"].(string)
	chat := e.subscribeWS(t, tok, id)
	tr := fmt.Sprintf(`{"method":"websocket","session_id":%q}`, id)
	on := createdSub(t, e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", tok, streamBody(streamOnlineType, testBroadcaster, tr)))
	createdSub(t, e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", bare, streamBody(streamOfflineType, testBroadcaster, tr)))
	wantBody(t, e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", tok, streamBody(streamOnlineType, testBroadcaster, tr)), 409,
		`{"error":"Conflict","status":409,"message":"subscription already exists"}`)

	for _, online := range []bool{true, false} {
		path, typ := "/sim/eventsub/send-stream-offline", streamOfflineType
		if online {
			path, typ = "/sim/eventsub/send-stream-online", streamOnlineType
		}
		r := post(t, e.url+path, `{"broadcasterUserId":"1001"}`)
		if ds := r.json(t)["deliveries"].([]any); r.status != 200 || len(ds) != 1 || ds[0].(map[string]any)["queued"] != true {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		m := c.next(t)
		md := m["metadata"].(map[string]any)
		if msgType(m) != "notification" || md["subscription_type"] != typ || md["subscription_version"] != "1" {
			t.Fatalf("message %v", m)
		}
		p := m["payload"].(map[string]any)
		if online && p["subscription"].(map[string]any)["id"] != on["id"] {
			t.Fatalf("payload subscription %v", p["subscription"])
		}
		wantStreamEvent(t, p["event"].(map[string]any), online)
	}

	post(t, e.url+"/sim/grants/revoke", `{"user_id":"1001"}`)
	m := c.next(t)
	if s := m["payload"].(map[string]any)["subscription"].(map[string]any); msgType(m) != "revocation" || s["id"] != chat["id"] {
		t.Fatalf("want chat's revocation, got %v", m)
	}
	if r := post(t, e.url+"/sim/eventsub/send-stream-online", `{"broadcasterUserId":"1001"}`); len(r.json(t)["deliveries"].([]any)) != 1 {
		t.Fatalf("stream.online after the chat authorization was revoked: %s", r.body)
	}
	if m := c.next(t); msgType(m) != "notification" {
		t.Fatalf("want stream.online, got %v", m)
	}
}
