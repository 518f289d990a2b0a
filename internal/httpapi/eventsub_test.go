package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const (
	notEnrolled = `{"isEnrolled":false,"characterName":null,"lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}`
)

func enrolledAs(name string) string {
	return `{"isEnrolled":true,"characterName":"` + name + `","lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}`
}

func TestEventSubChatEnrolls(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	body := chatEvent{chatterID: "1001", display: "Норинн", text: "!twgold Norinn"}.body()
	r := ts.deliver(t, "e1b7c2a0-0000-4000-8000-000000000001", eventsub.TypeNotification, body)
	wantStatus(t, "chat notification", r, http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Norinn") {
		t.Fatalf("pool/me after !twgold: %s", got)
	}
	evs := ts.events(t, app.PoolStream("1001"))
	if len(evs) != 1 || evs[0].Type != app.EventPoolEntered {
		t.Fatalf("pool events %+v, want one PoolEntered", evs)
	}
	var data map[string]any
	if err := json.Unmarshal(evs[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if data["source"] != "chat" || data["characterName"] != "Norinn" || data["twitchDisplayName"] != "Норинн" {
		t.Fatalf("PoolEntered data %s", evs[0].Data)
	}

	// The command is case-insensitive and a rename goes through chat as well.
	body = chatEvent{chatterID: "1001", messageID: "m2", text: "  !TWGOLD   Тралл "}.body()
	wantStatus(t, "rename", ts.deliver(t, "delivery-2", eventsub.TypeNotification, body), http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Тралл") {
		t.Fatalf("pool/me after rename: %s", got)
	}

	// Rejections are silent: 200 and nothing changes.
	for i, text := range []string{"!twgold N0rinn", "!twgold", "hello !twgold Jaina", "!twgold Jaina Proudmoore", "!twgift Jaina", ""} {
		body = chatEvent{chatterID: "1002", messageID: fmt.Sprint("rej-", i), text: text}.body()
		wantStatus(t, fmt.Sprintf("chat %q", text), ts.deliver(t, fmt.Sprint("rej-delivery-", i), eventsub.TypeNotification, body), http.StatusOK)
	}
	// Name held by another viewer (case-insensitively).
	body = chatEvent{chatterID: "1002", messageID: "taken", text: "!twgold тралл"}.body()
	wantStatus(t, "taken name", ts.deliver(t, "taken-delivery", eventsub.TypeNotification, body), http.StatusOK)
	if got := ts.poolMe(t, "1002"); got != notEnrolled {
		t.Fatalf("rejected chatter enrolled: %s", got)
	}
	if n := ts.poolCount(t); n != 1 {
		t.Fatalf("pool size %d, want 1", n)
	}
}

func TestEventSubBadges(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	cases := []struct {
		name   string
		badges any
		enroll bool
	}{
		{"subscriber", []map[string]string{{"set_id": "subscriber", "id": "12", "info": "16"}}, true},
		{"founder", []map[string]string{{"set_id": "founder", "id": "0", "info": "3"}}, true},
		{"premium only (Prime Gaming)", []map[string]string{{"set_id": "premium", "id": "1", "info": ""}}, false},
		{"premium and subscriber", []map[string]string{{"set_id": "premium", "id": "1", "info": ""}, {"set_id": "subscriber", "id": "3", "info": "3"}}, true},
		{"moderator and vip", []map[string]string{{"set_id": "moderator", "id": "1", "info": ""}, {"set_id": "vip", "id": "1", "info": ""}}, false},
		{"sub-gifter is not a sub", []map[string]string{{"set_id": "sub-gifter", "id": "5", "info": ""}}, false},
		{"no badges", []map[string]string{}, false},
		{"badges null", json.RawMessage(`null`), false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user := fmt.Sprint(3000 + i)
			name := letters(i + 1)
			body := chatEvent{chatterID: user, text: "!twgold " + name, badges: tc.badges}.body()
			wantStatus(t, "notification", ts.deliver(t, "badge-"+user, eventsub.TypeNotification, body), http.StatusOK)
			want := notEnrolled
			if tc.enroll {
				want = enrolledAs(name)
			}
			if got := ts.poolMe(t, user); got != want {
				t.Fatalf("pool/me: %s, want %s", got, want)
			}
		})
	}
}

func TestEventSubSignature(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	body := chatEvent{chatterID: "1001", text: "!twgold Norinn"}.body()
	now := twitchTimestamp(ts.clock.Now())
	good := signedHeaders(testEventSubSecret, "msg-1", now, eventsub.TypeNotification, body)

	without := func(name string) http.Header {
		h := good.Clone()
		h.Del(name)
		return h
	}
	with := func(name, value string) http.Header {
		h := good.Clone()
		h.Set(name, value)
		return h
	}
	sig := good.Get(eventsub.HeaderSignature)
	cases := []struct {
		name string
		h    http.Header
		body []byte
	}{
		{"signed with another secret", signedHeaders("not-the-secret", "msg-1", now, eventsub.TypeNotification, body), body},
		{"signed with an empty secret", signedHeaders("", "msg-1", now, eventsub.TypeNotification, body), body},
		{"body changed after signing", good, bytes.Replace(body, []byte("Norinn"), []byte("Jaina"), 1)},
		{"message id changed after signing", with(eventsub.HeaderMessageID, "msg-2"), body},
		{"timestamp changed after signing", with(eventsub.HeaderTimestamp, twitchTimestamp(ts.clock.Now().Add(time.Second))), body},
		{"upper-case hex", with(eventsub.HeaderSignature, "sha256="+strings.ToUpper(strings.TrimPrefix(sig, "sha256="))), body},
		{"no sha256= prefix", with(eventsub.HeaderSignature, strings.TrimPrefix(sig, "sha256=")), body},
		{"sha1 prefix", with(eventsub.HeaderSignature, "sha1="+strings.TrimPrefix(sig, "sha256=")), body},
		{"truncated signature", with(eventsub.HeaderSignature, sig[:len(sig)-2]), body},
		{"garbage signature", with(eventsub.HeaderSignature, "sha256=zz"), body},
		{"missing signature", without(eventsub.HeaderSignature), body},
		{"missing message id", without(eventsub.HeaderMessageID), body},
		{"missing timestamp", without(eventsub.HeaderTimestamp), body},
		{"no Twitch headers at all", hdr("Content-Type", "application/json"), body},
	}
	for _, tc := range cases {
		r := ts.postEventSub(t, tc.body, tc.h)
		wantError(t, tc.name, r, http.StatusUnauthorized, mgm.CodeInvalidSignature)
	}
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("an unauthenticated delivery enrolled someone (pool size %d)", n)
	}
	// Refused deliveries do not use up the message id.
	wantStatus(t, "the genuine delivery", ts.postEventSub(t, body, good), http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Norinn") {
		t.Fatalf("pool/me: %s", got)
	}
}

func TestEventSubFreshness(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	now := ts.clock.Now()
	cases := []struct {
		name   string
		ts     string
		status int
		code   mgm.Code
	}{
		{"11 minutes old", twitchTimestamp(now.Add(-11 * time.Minute)), http.StatusUnauthorized, mgm.CodeStaleMessage},
		{"11 minutes in the future", twitchTimestamp(now.Add(11 * time.Minute)), http.StatusUnauthorized, mgm.CodeStaleMessage},
		{"a day old", twitchTimestamp(now.Add(-24 * time.Hour)), http.StatusUnauthorized, mgm.CodeStaleMessage},
		{"Unix seconds 11 minutes old", strconv.FormatInt(now.Add(-11*time.Minute).Unix(), 10), http.StatusUnauthorized, mgm.CodeStaleMessage},
		{"unparseable", "yesterday", http.StatusUnauthorized, mgm.CodeStaleMessage},
		{"9 minutes old", twitchTimestamp(now.Add(-9 * time.Minute)), http.StatusOK, ""},
		{"9 minutes in the future", twitchTimestamp(now.Add(9 * time.Minute)), http.StatusOK, ""},
		{"Unix seconds", strconv.FormatInt(now.Unix(), 10), http.StatusOK, ""},
		{"Unix seconds with a fraction", fmt.Sprintf("%d.%03d", now.Unix(), now.Nanosecond()/1e6), http.StatusOK, ""},
		{"RFC 3339 without fraction, with an offset", now.In(time.FixedZone("CEST", 2*3600)).Format(time.RFC3339), http.StatusOK, ""},
	}
	for i, tc := range cases {
		user := fmt.Sprint(4000 + i)
		name := letters(i + 1)
		body := chatEvent{chatterID: user, text: "!twgold " + name}.body()
		h := signedHeaders(testEventSubSecret, "fresh-"+user, tc.ts, eventsub.TypeNotification, body)
		r := ts.postEventSub(t, body, h)
		if tc.status != http.StatusOK {
			wantError(t, tc.name, r, tc.status, tc.code)
			if got := ts.poolMe(t, user); got != notEnrolled {
				t.Errorf("%s: stale delivery enrolled: %s", tc.name, got)
			}
			continue
		}
		wantStatus(t, tc.name, r, http.StatusOK)
		if got := ts.poolMe(t, user); got != enrolledAs(name) {
			t.Errorf("%s: pool/me %s, want enrolled as %s", tc.name, got, name)
		}
	}
}

func TestEventSubRedelivery(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	first := chatEvent{chatterID: "1001", messageID: "chat-1", text: "!twgold Norinn"}.body()
	wantStatus(t, "first delivery", ts.deliver(t, "delivery-1", eventsub.TypeNotification, first), http.StatusOK)

	// Twitch redelivers the same message id; even with another text nothing happens.
	again := chatEvent{chatterID: "1001", messageID: "chat-1", text: "!twgold Jaina"}.body()
	ts.clock.Advance(5 * time.Minute)
	wantStatus(t, "redelivery with another text", ts.deliver(t, "delivery-1", eventsub.TypeNotification, again), http.StatusOK)
	wantStatus(t, "identical redelivery", ts.deliver(t, "delivery-1", eventsub.TypeNotification, first), http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Norinn") {
		t.Fatalf("pool/me after redelivery: %s", got)
	}
	if evs := ts.events(t, app.PoolStream("1001")); len(evs) != 1 {
		t.Fatalf("%d pool events after redelivery, want 1", len(evs))
	}
	// Another viewer redelivered under a used id is ignored too.
	other := chatEvent{chatterID: "1002", messageID: "chat-2", text: "!twgold Jaina"}.body()
	wantStatus(t, "used id, other chatter", ts.deliver(t, "delivery-1", eventsub.TypeNotification, other), http.StatusOK)
	if got := ts.poolMe(t, "1002"); got != notEnrolled {
		t.Fatalf("a delivery under a used id enrolled: %s", got)
	}

	// An id first seen as a verification is spent too (any type).
	ch := verificationBody("c-1")
	wantStatus(t, "verification", ts.deliver(t, "shared-id", eventsub.TypeVerification, ch), http.StatusOK)
	wantStatus(t, "notification under the verification's id", ts.deliver(t, "shared-id", eventsub.TypeNotification, other), http.StatusOK)
	if got := ts.poolMe(t, "1002"); got != notEnrolled {
		t.Fatalf("a notification under a verification's id enrolled: %s", got)
	}
}

func verificationBody(challenge string) []byte {
	b, _ := json.Marshal(map[string]any{
		"challenge": challenge,
		"subscription": map[string]any{
			"id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4", "status": "webhook_callback_verification_pending",
			"type": "channel.chat.message", "version": "1", "cost": 0,
			"condition":  map[string]string{"broadcaster_user_id": testBroadcaster, "user_id": testBroadcaster},
			"transport":  map[string]string{"method": "webhook", "callback": "https://example.com/api/twitch/eventsub"},
			"created_at": "2026-04-01T10:00:00.123456789Z",
		},
	})
	return b
}

func TestEventSubVerification(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	const challenge = "pogchamp-kappa-360noscope-vohiyo"
	body := verificationBody(challenge)
	check := func(what string, r response) {
		t.Helper()
		wantStatus(t, what, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q, want text/plain", what, ct)
		}
		if string(r.body) != challenge {
			t.Errorf("%s: body %q, want exactly the challenge %q", what, r.body, challenge)
		}
	}
	check("verification", ts.deliver(t, "verify-1", eventsub.TypeVerification, body))
	check("redelivered verification", ts.deliver(t, "verify-1", eventsub.TypeVerification, body))
	// Without the type header the body's shape decides.
	h := signedHeaders(testEventSubSecret, "verify-2", twitchTimestamp(ts.clock.Now()), "", body)
	h.Del(eventsub.HeaderMessageType)
	check("verification without type header", ts.postEventSub(t, body, h))
	// A challenge is echoed byte for byte, whatever it holds.
	odd := `a<b>&"c" Ωmega`
	r := ts.deliver(t, "verify-3", eventsub.TypeVerification, verificationBody(odd))
	wantStatus(t, "odd challenge", r, http.StatusOK)
	if string(r.body) != odd {
		t.Errorf("odd challenge: body %q, want %q", r.body, odd)
	}
}

func TestEventSubRevocationAndOtherTypes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	rev, _ := json.Marshal(map[string]any{
		"subscription": map[string]any{
			"id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4", "status": "authorization_revoked",
			"type": "channel.chat.message", "version": "1", "cost": 0,
			"condition":  map[string]string{"broadcaster_user_id": testBroadcaster, "user_id": testBroadcaster},
			"transport":  map[string]string{"method": "webhook", "callback": "https://example.com/api/twitch/eventsub"},
			"created_at": "2026-04-01T10:00:00.123456789Z",
		},
	})
	r := ts.deliver(t, "rev-1", eventsub.TypeRevocation, rev)
	wantStatus(t, "revocation", r, http.StatusOK)
	wantStatus(t, "redelivered revocation", ts.deliver(t, "rev-1", eventsub.TypeRevocation, rev), http.StatusOK)
	h := signedHeaders(testEventSubSecret, "rev-2", twitchTimestamp(ts.clock.Now()), "", rev)
	h.Del(eventsub.HeaderMessageType)
	wantStatus(t, "revocation without type header", ts.postEventSub(t, rev, h), http.StatusOK)

	follow, _ := json.Marshal(map[string]any{
		"subscription": map[string]any{
			"id": "0d8a3e2c-1111-4000-8000-000000000000", "status": "enabled", "type": "channel.follow", "version": "2",
			"condition":  map[string]string{"broadcaster_user_id": testBroadcaster, "moderator_user_id": testBroadcaster},
			"transport":  map[string]string{"method": "webhook", "callback": "https://example.com/api/twitch/eventsub"},
			"created_at": "2026-04-01T10:00:00Z",
		},
		"event": map[string]string{
			"user_id": "1001", "user_login": "viewer1001", "user_name": "Viewer1001",
			"broadcaster_user_id": testBroadcaster, "broadcaster_user_login": "streamer", "broadcaster_user_name": "Streamer",
			"followed_at": "2026-04-04T12:00:00Z",
		},
	})
	wantStatus(t, "channel.follow", ts.deliver(t, "follow-1", eventsub.TypeNotification, follow), http.StatusOK)
	// Unknown message type header: answered 200, nothing done.
	wantStatus(t, "unknown message type", ts.deliver(t, "weird-1", "something_new", []byte(`{"subscription":{"type":"x"}}`)), http.StatusOK)

	// A chat message of another channel is ignored.
	other := chatEvent{broadcaster: "other", chatterID: "1001", text: "!twgold Norinn"}.body()
	wantStatus(t, "other channel", ts.deliver(t, "other-1", eventsub.TypeNotification, other), http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != notEnrolled {
		t.Fatalf("a message for another channel enrolled: %s", got)
	}
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("pool size %d, want 0", n)
	}

	m := ts.get(t, "/metrics", nil)
	wantStatus(t, "metrics", m, http.StatusOK)
	if !strings.Contains(string(m.body), `mgm_eventsub_messages_total{outcome="revoked",type="revocation"}`) {
		t.Errorf("revocation not visible in metrics:\n%s", grepLines(string(m.body), "mgm_eventsub"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestEventSubMalformed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	chat := func(event string) string {
		return `{"subscription":{"id":"s","type":"channel.chat.message","version":"1","status":"enabled"},"event":` + event + `}`
	}
	bad := []struct{ name, body string }{
		{"malformed JSON", `{"subscription":`},
		{"empty body", ``},
		{"JSON array", `[]`},
		{"JSON null", `null`},
		{"JSON string", `"hello"`},
		{"subscription not an object", `{"subscription":"channel.chat.message","event":{}}`},
		{"subscription type a number", `{"subscription":{"type":5},"event":{}}`},
		{"badges not an array", chat(`{"broadcaster_user_id":"b1","chatter_user_id":"1001","message_id":"m","message":{"text":"!twgold Norinn"},"badges":"subscriber"}`)},
		{"badges an object", chat(`{"broadcaster_user_id":"b1","chatter_user_id":"1001","message_id":"m","message":{"text":"!twgold Norinn"},"badges":{"set_id":"subscriber"}}`)},
		{"message not an object", chat(`{"broadcaster_user_id":"b1","chatter_user_id":"1001","message_id":"m","message":"!twgold Norinn","badges":[]}`)},
		{"text a number", chat(`{"broadcaster_user_id":"b1","chatter_user_id":"1001","message_id":"m","message":{"text":5},"badges":[]}`)},
		{"chatter id an object", chat(`{"broadcaster_user_id":"b1","chatter_user_id":{},"message_id":"m","message":{"text":"!twgold Norinn"},"badges":[]}`)},
		{"event a string", chat(`"x"`)},
		{"event an array", chat(`[]`)},
	}
	for i, tc := range bad {
		r := ts.deliver(t, fmt.Sprint("bad-", i), eventsub.TypeNotification, []byte(tc.body))
		wantError(t, tc.name+" (signed)", r, http.StatusBadRequest, mgm.CodeInvalidPayload)
	}

	// Well-formed but not actionable: 200.
	fine := []struct{ name, body string }{
		{"empty object", `{}`},
		{"empty event", chat(`{}`)},
		{"no chatter id", chat(`{"broadcaster_user_id":"b1","message_id":"m1","message":{"text":"!twgold Norinn"},"badges":[{"set_id":"subscriber"}]}`)},
		{"no message", chat(`{"broadcaster_user_id":"b1","chatter_user_id":"1001","message_id":"m2","badges":[{"set_id":"subscriber"}]}`)},
		{"unknown fields", chat(`{"broadcaster_user_id":"b1","chatter_user_id":"1001","message_id":"m3","message":{"text":"hi","extra":[1]},"badges":[],"new_field":{"a":1}}`)},
	}
	for i, tc := range fine {
		r := ts.deliver(t, fmt.Sprint("fine-", i), eventsub.TypeNotification, []byte(tc.body))
		wantStatus(t, tc.name, r, http.StatusOK)
	}
	// A chat notification without any event: the spec asks for 400 on
	// unparseable bodies and 200 on well-formed but unactionable ones; a body
	// without its event is between the two, so either is accepted — never 5xx,
	// never an enrollment.
	for i, body := range []string{
		`{"subscription":{"id":"s","type":"channel.chat.message","version":"1","status":"enabled"}}`,
		chat(`null`),
	} {
		r := ts.deliver(t, fmt.Sprint("no-event-", i), eventsub.TypeNotification, []byte(body))
		switch r.status {
		case http.StatusOK:
		case http.StatusBadRequest:
			checkErrorShape(t, "chat notification without event", r, mgm.CodeInvalidPayload)
		default:
			t.Errorf("chat notification without event %d: status %d, want 200 or 400: %s", i, r.status, r.text())
		}
	}
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("pool size %d, want 0", n)
	}
	// A malformed delivery does not use up its id: the corrected one is processed.
	good := chatEvent{chatterID: "1001", text: "!twgold Norinn"}.body()
	wantStatus(t, "corrected delivery under a malformed one's id", ts.deliver(t, "bad-7", eventsub.TypeNotification, good), http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Norinn") {
		t.Fatalf("pool/me: %s", got)
	}
}

func TestEventSubBodyLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	base := chatEvent{chatterID: "1001", text: "!twgold Norinn"}.body()
	// A valid JSON object just over 1 MiB, signed correctly.
	big := append([]byte(`{"padding":"`+strings.Repeat("x", 1<<20)+`",`), base[1:]...)
	r := ts.deliver(t, "big-1", eventsub.TypeNotification, big)
	wantError(t, "EventSub body over 1 MiB", r, http.StatusRequestEntityTooLarge, ebsapi.CodePayloadTooLarge)
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("an oversized delivery enrolled someone")
	}
	// Just under the limit is fine.
	pad := (1 << 20) - len(base) - len(`{"padding":"",`) + 1
	ok := append([]byte(`{"padding":"`+strings.Repeat("x", pad)+`",`), base[1:]...)
	if len(ok) > 1<<20 {
		t.Fatalf("test bug: %d bytes", len(ok))
	}
	wantStatus(t, "EventSub body of exactly 1 MiB", ts.deliver(t, "big-2", eventsub.TypeNotification, ok), http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Norinn") {
		t.Fatalf("pool/me: %s", got)
	}
}

func TestEventSubUnsignedInDevelopment(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config.Config) { c.EventSubSecret = "" })
	body := chatEvent{chatterID: "1001", messageID: "dev-msg-1", text: "!twgold Norinn"}.body()
	r := ts.postEventSub(t, body, hdr(eventsub.HeaderMessageType, eventsub.TypeNotification, "Content-Type", "application/json"))
	wantStatus(t, "unsigned notification", r, http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Norinn") {
		t.Fatalf("pool/me: %s", got)
	}
	// Without a delivery id the chat message id deduplicates.
	again := chatEvent{chatterID: "1001", messageID: "dev-msg-1", text: "!twgold Jaina"}.body()
	wantStatus(t, "unsigned repeat", ts.postEventSub(t, again, hdr("Content-Type", "application/json")), http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Norinn") {
		t.Fatalf("pool/me after a repeated chat message id: %s", got)
	}
	// Bare minimum: no headers at all, type inferred from the body.
	third := chatEvent{chatterID: "1002", messageID: "dev-msg-2", text: "!twgold Jaina"}.body()
	wantStatus(t, "no headers", ts.postEventSub(t, third, nil), http.StatusOK)
	if got := ts.poolMe(t, "1002"); got != enrolledAs("Jaina") {
		t.Fatalf("pool/me: %s", got)
	}
	// A stray signature is not checked without a secret.
	fourth := chatEvent{chatterID: "1003", messageID: "dev-msg-3", text: "!twgold Thrall"}.body()
	wantStatus(t, "garbage signature, no secret", ts.postEventSub(t, fourth, hdr(eventsub.HeaderSignature, "sha256=00")), http.StatusOK)
	// Malformed JSON is still refused.
	wantError(t, "malformed, unsigned", ts.postEventSub(t, []byte(`{`), nil), http.StatusBadRequest, mgm.CodeInvalidPayload)
}

func TestEventSubConcurrentRedelivery(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	body := chatEvent{chatterID: "1001", text: "!twgold Norinn"}.body()
	h := signedHeaders(testEventSubSecret, "concurrent-1", twitchTimestamp(ts.clock.Now()), eventsub.TypeNotification, body)

	const n = 20
	statuses := make([]int, n)
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func(i int) {
			defer done.Done()
			start.Wait()
			req, err := http.NewRequest(http.MethodPost, ts.url+"/api/twitch/eventsub", bytes.NewReader(body))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header = h.Clone()
			resp, err := ts.client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}(i)
	}
	start.Done()
	done.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if statuses[i] < 200 || statuses[i] > 299 {
			t.Errorf("request %d: status %d, want 2xx", i, statuses[i])
		}
	}
	evs := ts.events(t, app.PoolStream("1001"))
	entered := 0
	for _, e := range evs {
		if e.Type == app.EventPoolEntered {
			entered++
		}
	}
	if entered != 1 || len(evs) != 1 {
		t.Fatalf("%d events (%d PoolEntered) after %d concurrent deliveries, want exactly one PoolEntered", len(evs), entered, n)
	}
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Norinn") {
		t.Fatalf("pool/me: %s", got)
	}
}

// TestEventSubConcurrentSameName races different chatters for one name: one
// wins, the others are rejected silently, and nobody sees a 5xx.
func TestEventSubConcurrentSameName(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	const n = 10
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			user := fmt.Sprint(7000 + i)
			body := chatEvent{chatterID: user, text: "!twgold Norinn"}.body()
			h := signedHeaders(testEventSubSecret, "race-"+user, twitchTimestamp(ts.clock.Now()), eventsub.TypeNotification, body)
			req, _ := http.NewRequest(http.MethodPost, ts.url+"/api/twitch/eventsub", bytes.NewReader(body))
			req.Header = h
			resp, err := ts.client.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}(i)
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("chatter %d: status %d, want 200", i, s)
		}
	}
	if c := ts.poolCount(t); c != 1 {
		t.Fatalf("pool size %d, want exactly one winner", c)
	}
}

// A chat event whose ids or names PostgreSQL cannot store (a NUL) is a
// malformed message: 400, never a 5xx that Twitch would redeliver forever.
func TestEventSubUnstorableTextIs400(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	body := chatEvent{chatterID: "u1", display: "Vie\x00wer", text: "!twgold Norinn"}.body()
	r := ts.deliver(t, "msg-nul", eventsub.TypeNotification, body)
	wantError(t, "chat event with a NUL display name", r, http.StatusBadRequest, mgm.CodeInvalidPayload)
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("pool has %d members after a refused message", n)
	}
}
