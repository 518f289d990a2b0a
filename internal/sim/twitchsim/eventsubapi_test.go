package twitchsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
)

const hookSecret = "a-webhook-secret-of-some-length"

// callback is a fake EBS webhook that verifies Twitch's signature with
// hookSecret, answers challenges with answer(challenge) and records what it
// was sent.
type callback struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(challenge string) string
}

func newCallback(t *testing.T, now func() time.Time, answer func(string) string) *callback {
	t.Helper()
	c := &callback{answer: answer}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := eventsub.Verify(hookSecret, r.Header, b, now(), 0); err != nil {
			t.Errorf("callback got a badly signed message: %v", err)
		}
		c.mu.Lock()
		c.got = append(c.got, received{header: r.Header.Clone(), body: b, path: r.URL.Path})
		c.mu.Unlock()
		if r.Header.Get(eventsub.HeaderMessageType) == eventsub.TypeVerification {
			var m struct{ Challenge string }
			_ = json.Unmarshal(b, &m)
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, c.answer(m.Challenge))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *callback) ofType(typ string) []received {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []received
	for _, r := range c.got {
		if r.header.Get(eventsub.HeaderMessageType) == typ {
			out = append(out, r)
		}
	}
	return out
}

func (e *twitchEnv) helix(t *testing.T, method, path, token, body string) response {
	t.Helper()
	h := map[string]string{"Client-Id": testClient, "Content-Type": "application/json"}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return do(t, method, e.url+path, body, h)
}

func chatCondition(broadcaster string) string {
	return fmt.Sprintf(`{"broadcaster_user_id":%q,"user_id":%q}`, broadcaster, broadcaster)
}

func webhookBody(cb, secret string) string {
	return fmt.Sprintf(`{"type":"channel.chat.message","version":"1","condition":%s,"transport":{"method":"webhook","callback":%q,"secret":%q}}`,
		chatCondition(testBroadcaster), cb, secret)
}

func wsBody(session string) string {
	return fmt.Sprintf(`{"type":"channel.chat.message","version":"1","condition":%s,"transport":{"method":"websocket","session_id":%q}}`,
		chatCondition(testBroadcaster), session)
}

// waitStatus polls Get EventSub Subscriptions until the subscription has
// status (generous deadline; the handshake is asynchronous, as on Twitch).
func (e *twitchEnv) waitStatus(t *testing.T, token, id, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.helix(t, http.MethodGet, "/helix/eventsub/subscriptions?subscription_id="+id, token, "")
		data, _ := r.json(t)["data"].([]any)
		if len(data) == 1 && data[0].(map[string]any)["status"] == status {
			return data[0].(map[string]any)
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscription %s never reached %s: %s", id, status, r.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func createdSub(t *testing.T, r response) map[string]any {
	t.Helper()
	if r.status != http.StatusAccepted {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := r.json(t)
	wantKeys(t, "create answer", m, "data", "total", "total_cost", "max_total_cost")
	sub := m["data"].([]any)[0].(map[string]any)
	wantKeys(t, "subscription", sub, "id", "status", "type", "version", "condition", "created_at", "transport", "cost")
	return sub
}

func TestWebhookSubscriptionLifecycle(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	e.login(t, testBroadcaster, chatScopes...) // the broadcaster authorised the client
	app := e.appToken(t)
	cb := newCallback(t, e.clock.Now, func(c string) string { return c })

	sub := createdSub(t, e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", app, webhookBody(cb.srv.URL, hookSecret)))
	if sub["status"] != statusVerificationPending {
		t.Fatalf("status = %v", sub["status"])
	}
	wantKeys(t, "webhook transport", sub["transport"].(map[string]any), "method", "callback")
	id := sub["id"].(string)
	e.waitStatus(t, app, id, statusEnabled)

	ver := cb.ofType(eventsub.TypeVerification)
	if len(ver) != 1 {
		t.Fatalf("%d challenges", len(ver))
	}
	var vm map[string]any
	_ = json.Unmarshal(ver[0].body, &vm)
	wantKeys(t, "challenge body", vm, "challenge", "subscription")
	if ver[0].header.Get(eventsub.HeaderSubscriptionType) != chatMessageType || ver[0].header.Get(HeaderSubscriptionVersion) != "1" {
		t.Fatalf("challenge headers %v", ver[0].header)
	}

	wantBody(t, e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", app, webhookBody(cb.srv.URL, hookSecret)), 409,
		`{"error":"Conflict","status":409,"message":"subscription already exists"}`)

	// A chat message reaches it, signed with its own secret.
	r := post(t, e.url+"/sim/eventsub/send-chat", `{"userId":"2002","login":"viewer","text":"!twgold","broadcasterUserId":"1001"}`)
	if r.status != 200 {
		t.Fatalf("send-chat: %d %s", r.status, r.body)
	}
	notes := cb.ofType(eventsub.TypeNotification)
	if len(notes) != 1 {
		t.Fatalf("%d notifications", len(notes))
	}
	msg, err := eventsub.ParseEnvelope(eventsub.TypeNotification, notes[0].body)
	if err != nil {
		t.Fatal(err)
	}
	chat, err := eventsub.ParseChatMessage(msg.Event)
	if err != nil || chat.Text != "!twgold" || chat.ChatterUserID != "2002" {
		t.Fatalf("chat %+v, %v", chat, err)
	}

	// Revocation goes to the callback and leaves the status behind.
	r = post(t, e.url+"/sim/eventsub/revoke", `{"subscriptionId":"`+id+`","status":"user_removed"}`)
	if r.status != 200 || len(cb.ofType(eventsub.TypeRevocation)) != 1 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	e.waitStatus(t, app, id, "user_removed")

	r = e.helix(t, http.MethodDelete, "/helix/eventsub/subscriptions?id="+id, app, "")
	if r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantBody(t, e.helix(t, http.MethodDelete, "/helix/eventsub/subscriptions?id="+id, app, ""), 404,
		`{"error":"Not Found","status":404,"message":"subscription not found"}`)
	list := e.helix(t, http.MethodGet, "/helix/eventsub/subscriptions", app, "").json(t)
	wantKeys(t, "list answer", list, "data", "total", "total_cost", "max_total_cost", "pagination")
	if list["total"] != 0.0 {
		t.Fatalf("list after delete: %v", list)
	}
}

func TestWebhookVerificationFails(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	e.login(t, testBroadcaster, chatScopes...)
	app := e.appToken(t)
	cb := newCallback(t, e.clock.Now, func(c string) string { return `{"challenge":"` + c + `"}` })
	sub := createdSub(t, e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", app, webhookBody(cb.srv.URL, hookSecret)))
	e.waitStatus(t, app, sub["id"].(string), statusVerificationFailed)
	if r := post(t, e.url+"/sim/eventsub/send-chat", `{"userId":"2","login":"v","text":"x","broadcasterUserId":"1001"}`); len(r.json(t)["deliveries"].([]any)) != 0 {
		t.Fatalf("a failed subscription got a message: %s", r.body)
	}
}

func TestCreateSubscriptionErrors(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	user := e.login(t, testBroadcaster, chatScopes...).AccessToken
	weak := e.login(t, "3003", "user:write:chat").AccessToken
	app := e.appToken(t)
	cb := "http://127.0.0.1:1/cb"
	cases := []struct {
		name, token, body string
		status            int
		message           string
	}{
		{"no token", "", webhookBody(cb, hookSecret), 401, "OAuth token is missing"},
		{"unknown token", "nope", webhookBody(cb, hookSecret), 401, "Invalid OAuth token"},
		{"webhook with a user token", user, webhookBody(cb, hookSecret), 401, "The webhook transport requires an app access token"},
		{"websocket with an app token", app, wsBody("whatever"), 401, "The websocket transport requires a user access token"},
		{"short secret", app, webhookBody(cb, "short"), 400, "The secret field must be between 10 and 100 characters"},
		{"unknown session", user, wsBody("nosuchsession"), 400, "The value specified in the session_id field is not valid"},
		{"unknown type", app, `{"type":"channel.nope","version":"1","condition":{},"transport":{"method":"webhook"}}`, 400,
			"The combination of values in the type and version fields is not valid"},
		{"missing condition", app, `{"type":"channel.chat.message","version":"1","condition":{"user_id":"1"},"transport":{"method":"webhook"}}`, 400,
			"The condition field broadcaster_user_id is required"},
		{"bad method", app, `{"type":"channel.chat.message","version":"1","condition":` + chatCondition("1001") + `,"transport":{"method":"carrier-pigeon"}}`, 400,
			"The value specified in the method field is not valid"},
		{"websocket for another user", weak, wsBody("x"), 403, "subscription missing proper authorization"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", c.token, c.body)
			want := fmt.Sprintf(`{"error":%q,"status":%d,"message":%q}`, http.StatusText(c.status), c.status, c.message)
			wantBody(t, r, c.status, want)
		})
	}
	// A webhook for a broadcaster who never authorised the client.
	r := e.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", app,
		fmt.Sprintf(`{"type":"channel.chat.message","version":"1","condition":%s,"transport":{"method":"webhook","callback":%q,"secret":%q}}`, chatCondition("4004"), cb, hookSecret))
	wantBody(t, r, 403, `{"error":"Forbidden","status":403,"message":"subscription missing proper authorization"}`)
	// HTTPS on 443 when asked to be strict.
	strict := newTwitchEnv(t, AuthOptions{}, HubOptions{RequireHTTPSCallback: true})
	strict.login(t, testBroadcaster, chatScopes...)
	wantBody(t, strict.helix(t, http.MethodPost, "/helix/eventsub/subscriptions", strict.appToken(t), webhookBody(cb, hookSecret)), 400,
		`{"error":"Bad Request","status":400,"message":"The callback must use HTTPS on port 443"}`)
}
