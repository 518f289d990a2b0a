package twitchsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
)

const testSecret = "e2e-ci-eventsub-secret"

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

func fixedNow() time.Time { return testNow }

func newEventSubServer(t *testing.T, secret string, ebs *fakeEBS, broadcaster string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewEventSub(EventSubOptions{
		Secret: secret, BackendBaseURL: ebs.srv.URL + "/", BroadcasterUserID: broadcaster, Now: fixedNow,
	}))
	t.Cleanup(srv.Close)
	return srv
}

func textReply(status int, body string) func(http.ResponseWriter, []byte) {
	return func(w http.ResponseWriter, _ []byte) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// echoChallenge answers like the EBS: the challenge for verifications, 200
// empty otherwise.
func echoChallenge(w http.ResponseWriter, body []byte) {
	var m struct {
		Challenge *string `json:"challenge"`
	}
	_ = json.Unmarshal(body, &m)
	if m.Challenge != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, *m.Challenge)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func TestForwardRelaysAndForwardsHeaders(t *testing.T) {
	ebs := newFakeEBS(t, textReply(http.StatusAccepted, "relayed body"))
	srv := newEventSubServer(t, testSecret, ebs, "")

	body := `{"subscription":{"type":"channel.chat.message"},"event":{"message_id":"m1","chatter_user_id":"u1","chatter_user_login":"l1","message":{"text":"!twgold Etoehero"},"badges":[{"set_id":"subscriber"}]}}`
	ts := testNow.Add(-time.Minute).Format(time.RFC3339Nano)
	hdr := map[string]string{
		eventsub.HeaderMessageID:        "msg-1",
		eventsub.HeaderTimestamp:        ts,
		eventsub.HeaderSignature:        eventsub.Sign(testSecret, "msg-1", ts, []byte(body)),
		eventsub.HeaderMessageType:      "notification",
		eventsub.HeaderSubscriptionType: "channel.chat.message",
		HeaderSubscriptionVersion:       "1",
		HeaderMessageRetry:              "2",
		"X-Not-Twitch":                  "dropped",
		"Content-Type":                  "application/json",
	}
	r := do(t, http.MethodPost, srv.URL+EventSubPath, body, hdr)
	if r.status != http.StatusAccepted || string(r.body) != "relayed body" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("relay = %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	got := ebs.only(t)
	if string(got.body) != body {
		t.Fatalf("forwarded body = %q", got.body)
	}
	for k, v := range hdr {
		want := v
		switch k {
		case "X-Not-Twitch":
			want = ""
		case "Content-Type":
			want = "application/json; charset=utf-8"
		}
		if g := got.header.Get(k); g != want {
			t.Errorf("forwarded %s = %q, want %q", k, g, want)
		}
	}
}

func TestForwardSignatureChecks(t *testing.T) {
	body := []byte(`{"subscription":{"type":"channel.chat.message"}}`)
	sign := func(secret, id, ts string) map[string]string {
		return map[string]string{
			eventsub.HeaderMessageID: id, eventsub.HeaderTimestamp: ts,
			eventsub.HeaderSignature: eventsub.Sign(secret, id, ts, body),
		}
	}
	fresh := testNow.Format(time.RFC3339Nano)
	unix := strconv.FormatInt(testNow.Unix(), 10)

	t.Run("rejected", func(t *testing.T) {
		ebs := newFakeEBS(t, textReply(http.StatusOK, ""))
		srv := newEventSubServer(t, testSecret, ebs, "")
		tampered := sign(testSecret, "id", fresh)
		tampered[eventsub.HeaderSignature] = strings.ToUpper(tampered[eventsub.HeaderSignature])
		missing := sign(testSecret, "id", fresh)
		delete(missing, eventsub.HeaderTimestamp)
		for name, hdr := range map[string]map[string]string{
			"wrong secret": sign("other", "id", fresh),
			"uppercase":    tampered,
			"missing":      missing,
			"none":         nil,
			"unused":       {eventsub.HeaderMessageID: "id", eventsub.HeaderTimestamp: unix, eventsub.HeaderSignature: "sha256=unused"},
		} {
			r := do(t, http.MethodPost, srv.URL+EventSubPath, string(body), hdr)
			if r.status != http.StatusUnauthorized || len(r.body) != 0 {
				t.Errorf("%s: %d %q, want 401 with an empty body", name, r.status, r.body)
			}
		}
		if n := len(ebs.requests()); n != 0 {
			t.Fatalf("EBS called %d times", n)
		}
	})

	t.Run("accepted", func(t *testing.T) {
		ebs := newFakeEBS(t, textReply(http.StatusOK, ""))
		srv := newEventSubServer(t, testSecret, ebs, "")
		// Unix seconds (the predecessor's CI script) and an old timestamp
		// (freshness is the EBS's decision) are both forwarded.
		old := testNow.Add(-time.Hour).Format(time.RFC3339)
		for _, ts := range []string{fresh, unix, old} {
			if r := do(t, http.MethodPost, srv.URL+EventSubPath, string(body), sign(testSecret, "id-"+ts, ts)); r.status != http.StatusOK {
				t.Errorf("ts %q: %d %q", ts, r.status, r.body)
			}
		}
		if n := len(ebs.requests()); n != 3 {
			t.Fatalf("EBS called %d times, want 3", n)
		}
	})

	t.Run("no secret", func(t *testing.T) {
		ebs := newFakeEBS(t, textReply(http.StatusOK, ""))
		srv := newEventSubServer(t, "", ebs, "")
		hdr := map[string]string{eventsub.HeaderMessageID: "id", eventsub.HeaderTimestamp: unix, eventsub.HeaderSignature: "sha256=unused"}
		if r := do(t, http.MethodPost, srv.URL+EventSubPath, string(body), hdr); r.status != http.StatusOK {
			t.Fatalf("%d %q", r.status, r.body)
		}
		if got := ebs.only(t); got.header.Get(eventsub.HeaderSignature) != "sha256=unused" {
			t.Fatalf("signature = %q", got.header.Get(eventsub.HeaderSignature))
		}
	})

	t.Run("backend down", func(t *testing.T) {
		ebs := newFakeEBS(t, textReply(http.StatusOK, ""))
		srv := newEventSubServer(t, "", ebs, "")
		ebs.srv.Close()
		r := do(t, http.MethodPost, srv.URL+EventSubPath, string(body), nil)
		if r.status != http.StatusBadGateway || r.json(t)["error"] == "" {
			t.Fatalf("%d %q", r.status, r.body)
		}
	})
}

// parseDelivered checks a generated delivery like the EBS would and returns
// its envelope.
func parseDelivered(t *testing.T, got received, wantType string) eventsub.Envelope {
	t.Helper()
	h := got.header
	wantTS := "2026-03-01T12:00:00.123456789Z"
	if h.Get(eventsub.HeaderTimestamp) != wantTS {
		t.Fatalf("timestamp = %q, want %q", h.Get(eventsub.HeaderTimestamp), wantTS)
	}
	if err := eventsub.Verify(testSecret, h, got.body, testNow.Add(time.Second), 0); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if h.Get(eventsub.HeaderMessageType) != wantType || h.Get(eventsub.HeaderSubscriptionType) != "channel.chat.message" ||
		h.Get(HeaderSubscriptionVersion) != "1" || h.Get(HeaderMessageRetry) != "0" ||
		!strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("headers = %v", h)
	}
	env, err := eventsub.ParseEnvelope(h.Get(eventsub.HeaderMessageType), got.body)
	if err != nil {
		t.Fatal(err)
	}
	// Without the type header the body's shape must say the same.
	if env2, _ := eventsub.ParseEnvelope("", got.body); env2.MessageType != wantType {
		t.Fatalf("inferred type = %q, want %q", env2.MessageType, wantType)
	}
	if env.MessageType != wantType || env.Subscription == nil || env.Subscription.Type != "channel.chat.message" ||
		env.Subscription.Version != "1" || env.Subscription.ID == "" {
		t.Fatalf("envelope = %+v", env)
	}
	return env
}

func TestSendChat(t *testing.T) {
	cases := []struct {
		name, req   string
		broadcaster string // configured
		want        eventsub.ChatMessage
		wantSub     bool
	}{
		{
			name: "subscriber",
			req:  `{"userId":"e2e-viewer-1","login":"e2eviewer1","displayName":"E2EViewer1","text":"!twgold Etoehero","subscriber":true}`,
			want: eventsub.ChatMessage{
				BroadcasterUserID: "bcast", ChatterUserID: "e2e-viewer-1", ChatterUserLogin: "e2eviewer1",
				ChatterUserName: "E2EViewer1", Text: "!twgold Etoehero", BadgeSetIDs: []string{"subscriber"},
			},
			broadcaster: "bcast", wantSub: true,
		},
		{
			name: "not subscriber, explicit ids and badges",
			req:  `{"userId":"42","login":"thrall","text":"hello chat","subscriber":false,"broadcasterUserId":"999","badges":["moderator","premium"],"messageId":"chat-1"}`,
			want: eventsub.ChatMessage{
				MessageID: "chat-1", BroadcasterUserID: "999", ChatterUserID: "42", ChatterUserLogin: "thrall",
				ChatterUserName: "thrall", Text: "hello chat", BadgeSetIDs: []string{"moderator", "premium"},
			},
			broadcaster: "bcast",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ebs := newFakeEBS(t, textReply(http.StatusOK, ""))
			srv := newEventSubServer(t, testSecret, ebs, c.broadcaster)
			r := post(t, srv.URL+"/send-chat", c.req)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			out := r.json(t)
			got := ebs.only(t)
			env := parseDelivered(t, got, eventsub.TypeNotification)
			msg, err := eventsub.ParseChatMessage(env.Event)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if want.MessageID == "" {
				want.MessageID = msg.MessageID
				if len(msg.MessageID) != 36 {
					t.Fatalf("generated message_id %q is not a UUID", msg.MessageID)
				}
			}
			if !reflect.DeepEqual(msg, want) {
				t.Fatalf("chat message =\n%+v\nwant\n%+v", msg, want)
			}
			if msg.IsSubscriber() != c.wantSub {
				t.Fatalf("IsSubscriber = %v", msg.IsSubscriber())
			}
			if out["messageId"] != msg.MessageID || out["eventMessageId"] != got.header.Get(eventsub.HeaderMessageID) ||
				out["backendStatus"] != float64(200) || out["backendBody"] != "" {
				t.Fatalf("answer = %v", out)
			}
			if len(out) != 4 {
				t.Fatalf("answer keys = %v", out)
			}
		})
	}
}

func TestSendChatPayloadShape(t *testing.T) {
	ebs := newFakeEBS(t, textReply(http.StatusOK, ""))
	srv := newEventSubServer(t, testSecret, ebs, "1971641")
	r := post(t, srv.URL+"/send-chat", `{"userId":"4145994","login":"viewer32","text":"Hi chat","subscriber":true}`)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(ebs.only(t).body, &root); err != nil {
		t.Fatal(err)
	}
	var sub, ev map[string]any
	_ = json.Unmarshal(root["subscription"], &sub)
	_ = json.Unmarshal(root["event"], &ev)
	if len(root) != 2 || sub == nil || ev == nil {
		t.Fatalf("root keys: %s", ebs.only(t).body)
	}
	wantSub := map[string]any{
		"id": sub["id"], "status": "enabled", "type": "channel.chat.message", "version": "1", "cost": float64(0),
		"condition":  map[string]any{"broadcaster_user_id": "1971641", "user_id": "1971641"},
		"transport":  map[string]any{"method": "webhook", "callback": ebs.srv.URL + EventSubPath},
		"created_at": "2026-03-01T12:00:00.123456789Z",
	}
	if !reflect.DeepEqual(sub, wantSub) {
		t.Fatalf("subscription =\n%v\nwant\n%v", sub, wantSub)
	}
	wantEv := map[string]any{
		"broadcaster_user_id": "1971641", "broadcaster_user_login": ev["broadcaster_user_login"], "broadcaster_user_name": ev["broadcaster_user_name"],
		"chatter_user_id": "4145994", "chatter_user_login": "viewer32", "chatter_user_name": "viewer32",
		"message_id": ev["message_id"],
		"message": map[string]any{"text": "Hi chat", "fragments": []any{
			map[string]any{"type": "text", "text": "Hi chat", "cheermote": nil, "emote": nil, "mention": nil},
		}},
		"color":        ev["color"],
		"badges":       []any{map[string]any{"set_id": "subscriber", "id": "0", "info": "1"}},
		"message_type": "text", "cheer": nil, "reply": nil,
		"channel_points_custom_reward_id": nil, "channel_points_animation_id": nil,
		"source_broadcaster_user_id": nil, "source_broadcaster_user_login": nil, "source_broadcaster_user_name": nil,
		"source_message_id": nil, "source_badges": nil,
	}
	if !reflect.DeepEqual(ev, wantEv) {
		t.Fatalf("event =\n%v\nwant\n%v", ev, wantEv)
	}
	for _, k := range []string{"broadcaster_user_login", "broadcaster_user_name", "color"} {
		if s, _ := ev[k].(string); s == "" {
			t.Errorf("%s is empty", k)
		}
	}

	// A second message: same subscription, fresh ids.
	post(t, srv.URL+"/send-chat", `{"userId":"4145994","login":"viewer32","text":"again","subscriber":false}`)
	all := ebs.requests()
	var sub2 map[string]json.RawMessage
	_ = json.Unmarshal(all[1].body, &sub2)
	var s2 map[string]any
	_ = json.Unmarshal(sub2["subscription"], &s2)
	if s2["id"] != sub["id"] || all[0].header.Get(eventsub.HeaderMessageID) == all[1].header.Get(eventsub.HeaderMessageID) {
		t.Fatalf("subscription id %v vs %v; message ids %q %q", sub["id"], s2["id"],
			all[0].header.Get(eventsub.HeaderMessageID), all[1].header.Get(eventsub.HeaderMessageID))
	}
}

func TestSendChatFailures(t *testing.T) {
	ebs := newFakeEBS(t, func(w http.ResponseWriter, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_signature"}`)
	})
	srv := newEventSubServer(t, testSecret, ebs, "")

	for _, bad := range []string{
		``, `not json`, `{"login":"x","text":"t"}`, `{"userId":"1","text":"t"}`, `{"userId":"1","login":"x","text":"  "}`,
		`{"userId":"1","login":"x","text":"t","subscriber":"yes"}`,
	} {
		r := post(t, srv.URL+"/send-chat", bad)
		if r.status != http.StatusBadRequest {
			t.Errorf("%q: %d %s", bad, r.status, r.body)
			continue
		}
		if e, _ := r.json(t)["error"].(string); e == "" {
			t.Errorf("%q: no error message: %s", bad, r.body)
		}
	}
	if n := len(ebs.requests()); n != 0 {
		t.Fatalf("bad input reached the EBS %d times", n)
	}

	r := post(t, srv.URL+"/send-chat", `{"userId":"1","login":"x","text":"t"}`)
	out := r.json(t)
	if r.status != http.StatusBadGateway || out["backendStatus"] != float64(401) || out["backendBody"] != `{"error":"invalid_signature"}` {
		t.Fatalf("EBS 401: %d %v", r.status, out)
	}

	ebs.srv.Close()
	r = post(t, srv.URL+"/send-chat", `{"userId":"1","login":"x","text":"t"}`)
	out = r.json(t)
	if r.status != http.StatusBadGateway || out["backendStatus"] != float64(0) || out["error"] == nil || out["eventMessageId"] == "" {
		t.Fatalf("EBS down: %d %v", r.status, out)
	}
}

func TestVerifySubscription(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		ebs := newFakeEBS(t, echoChallenge)
		srv := newEventSubServer(t, testSecret, ebs, "1971641")
		r := post(t, srv.URL+"/verify-subscription", "")
		out := r.json(t)
		got := ebs.only(t)
		env := parseDelivered(t, got, eventsub.TypeVerification)
		if env.Challenge == nil || *env.Challenge == "" || len(env.Event) != 0 {
			t.Fatalf("envelope = %+v", env)
		}
		if env.Subscription.Status != "webhook_callback_verification_pending" || env.Subscription.Condition["broadcaster_user_id"] != "1971641" {
			t.Fatalf("subscription = %+v", env.Subscription)
		}
		if r.status != http.StatusOK || out["ok"] != true || out["challenge"] != *env.Challenge ||
			out["backendStatus"] != float64(200) || out["backendBody"] != *env.Challenge {
			t.Fatalf("answer = %d %v", r.status, out)
		}
	})
	t.Run("given challenge", func(t *testing.T) {
		ebs := newFakeEBS(t, echoChallenge)
		srv := newEventSubServer(t, testSecret, ebs, "")
		r := post(t, srv.URL+"/verify-subscription", `{"challenge":"pogchamp-kappa-360noscope-vohiyo"}`)
		if out := r.json(t); r.status != http.StatusOK || out["ok"] != true || out["challenge"] != "pogchamp-kappa-360noscope-vohiyo" {
			t.Fatalf("answer = %d %v", r.status, out)
		}
	})
	t.Run("not ok", func(t *testing.T) {
		for name, reply := range map[string]func(http.ResponseWriter, []byte){
			"empty 200":      textReply(http.StatusOK, ""),
			"wrong body":     textReply(http.StatusOK, "something else"),
			"challenge, 202": func(w http.ResponseWriter, b []byte) { w.WriteHeader(http.StatusAccepted); echoChallenge(w, b) },
		} {
			ebs := newFakeEBS(t, reply)
			srv := newEventSubServer(t, testSecret, ebs, "")
			r := post(t, srv.URL+"/verify-subscription", "{}")
			if out := r.json(t); r.status != http.StatusBadGateway || out["ok"] != false || out["challenge"] == "" {
				t.Errorf("%s: %d %v", name, r.status, out)
			}
		}
	})
}

func TestSendRevocation(t *testing.T) {
	ebs := newFakeEBS(t, textReply(http.StatusOK, ""))
	srv := newEventSubServer(t, testSecret, ebs, "b1")
	r := post(t, srv.URL+"/send-revocation", `{"status":"user_removed"}`)
	out := r.json(t)
	got := ebs.only(t)
	env := parseDelivered(t, got, eventsub.TypeRevocation)
	if env.Subscription.Status != "user_removed" || env.Event != nil || env.Challenge != nil {
		t.Fatalf("envelope = %+v", env)
	}
	if r.status != http.StatusOK || out["eventMessageId"] != got.header.Get(eventsub.HeaderMessageID) || out["backendStatus"] != float64(200) {
		t.Fatalf("answer = %d %v", r.status, out)
	}
	// Default reason.
	post(t, srv.URL+"/send-revocation", "")
	var root struct {
		Subscription eventsub.Subscription `json:"subscription"`
	}
	_ = json.Unmarshal(ebs.requests()[1].body, &root)
	if root.Subscription.Status != "authorization_revoked" {
		t.Fatalf("default status = %q", root.Subscription.Status)
	}
}
