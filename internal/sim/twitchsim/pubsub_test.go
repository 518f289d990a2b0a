package twitchsim

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var pubSubKey = []byte("0123456789abcdef0123456789abcdef")

// pubSubClock is a settable clock for the bucket's refill.
type pubSubClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *pubSubClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *pubSubClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newPubSubServer(t *testing.T, modes PubSubModes) (*httptest.Server, *pubSubClock) {
	t.Helper()
	clock := &pubSubClock{t: time.Now()}
	h := NewHelix(HelixOptions{Now: clock.now, PubSub: PubSubOptions{Key: pubSubKey, ClientID: "ext1", OwnerID: "111", Modes: modes}})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = h.Close() })
	return srv, clock
}

// ebsToken is the token an EBS signs; change alters its claims.
func ebsToken(t *testing.T, key []byte, now time.Time, change func(jwt.MapClaims)) string {
	t.Helper()
	c := jwt.MapClaims{"exp": now.Add(time.Minute).Unix(), "user_id": "111", "role": "external", "channel_id": "222",
		"pubsub_perms": map[string]any{"send": []string{"broadcast"}}}
	if change != nil {
		change(c)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sendPubSub(t *testing.T, base, token, clientID, body string) response {
	t.Helper()
	hdr := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		hdr["Authorization"] = "Bearer " + token
	}
	if clientID != "" {
		hdr["Client-Id"] = clientID
	}
	return do(t, http.MethodPost, base+"/helix/extensions/pubsub", body, hdr)
}

func pubSubBody(msg string) string {
	b, _ := json.Marshal(map[string]any{"message": msg, "broadcaster_id": "222", "target": []string{"broadcast"}})
	return string(b)
}

func TestPubSubVerifiesLikeTwitch(t *testing.T) {
	srv, clock := newPubSubServer(t, PubSubModes{})
	now := clock.now()
	good := ebsToken(t, pubSubKey, now, nil)
	for _, tc := range []struct {
		name     string
		token    string
		clientID string
		body     string
		want     int
	}{
		{"accepted", good, "ext1", pubSubBody("hi"), http.StatusNoContent},
		{"no token", "", "ext1", pubSubBody("hi"), http.StatusUnauthorized},
		{"no Client-Id", good, "", pubSubBody("hi"), http.StatusUnauthorized},
		{"another extension's Client-Id", good, "ext2", pubSubBody("hi"), http.StatusUnauthorized},
		{"another key", ebsToken(t, []byte("another key, also 32 bytes long."), now, nil), "ext1", pubSubBody("hi"), http.StatusUnauthorized},
		{"expired", ebsToken(t, pubSubKey, now, func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Second).Unix() }), "ext1", pubSubBody("hi"), http.StatusUnauthorized},
		{"no exp", ebsToken(t, pubSubKey, now, func(c jwt.MapClaims) { delete(c, "exp") }), "ext1", pubSubBody("hi"), http.StatusUnauthorized},
		{"role broadcaster", ebsToken(t, pubSubKey, now, func(c jwt.MapClaims) { c["role"] = "broadcaster" }), "ext1", pubSubBody("hi"), http.StatusUnauthorized},
		{"not the owner", ebsToken(t, pubSubKey, now, func(c jwt.MapClaims) { c["user_id"] = "999" }), "ext1", pubSubBody("hi"), http.StatusUnauthorized},
		{"another channel", ebsToken(t, pubSubKey, now, func(c jwt.MapClaims) { c["channel_id"] = "333" }), "ext1", pubSubBody("hi"), http.StatusUnauthorized},
		{"no send permission", ebsToken(t, pubSubKey, now, func(c jwt.MapClaims) { c["pubsub_perms"] = map[string]any{"listen": []string{"broadcast"}} }), "ext1", pubSubBody("hi"), http.StatusUnauthorized},
		{"alg none", "eyJhbGciOiJub25lIn0.eyJyb2xlIjoiZXh0ZXJuYWwifQ.", "ext1", pubSubBody("hi"), http.StatusUnauthorized},
		{"5 KB exactly", good, "ext1", pubSubBody(strings.Repeat("x", PubSubMaxMessageBytes)), http.StatusNoContent},
		{"over 5 KB", good, "ext1", pubSubBody(strings.Repeat("x", PubSubMaxMessageBytes+1)), http.StatusBadRequest},
		{"no message", good, "ext1", `{"broadcaster_id":"222","target":["broadcast"]}`, http.StatusBadRequest},
		{"another target", good, "ext1", `{"message":"hi","broadcaster_id":"222","target":["global"]}`, http.StatusBadRequest},
		{"not JSON", good, "ext1", `{`, http.StatusBadRequest},
	} {
		if r := sendPubSub(t, srv.URL, tc.token, tc.clientID, tc.body); r.status != tc.want {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.status, tc.want, r.body)
		}
	}
	var msgs []PubSubMessage
	if err := json.Unmarshal(get(t, srv.URL+"/_sim/extension-pubsub/222").body, &msgs); err != nil || len(msgs) != 2 || msgs[0].Message != "hi" {
		t.Fatalf("accepted messages: %v %+v", err, msgs)
	}
}

func TestPubSubBucket(t *testing.T) {
	srv, clock := newPubSubServer(t, PubSubModes{})
	tok := ebsToken(t, pubSubKey, clock.now(), nil)
	for i := range pubSubBucket {
		if r := sendPubSub(t, srv.URL, tok, "ext1", pubSubBody("m")); r.status != http.StatusNoContent {
			t.Fatalf("send %d: %d", i+1, r.status)
		}
	}
	r := sendPubSub(t, srv.URL, tok, "ext1", pubSubBody("m"))
	reset, err := strconv.ParseInt(r.header.Get("Ratelimit-Reset"), 10, 64)
	if r.status != http.StatusTooManyRequests || err != nil || reset < clock.now().Unix() || reset > clock.now().Add(2*time.Second).Unix() {
		t.Fatalf("the 101st: %d, Ratelimit-Reset %q", r.status, r.header.Get("Ratelimit-Reset"))
	}
	clock.add(time.Second) // one token back
	if r := sendPubSub(t, srv.URL, tok, "ext1", pubSubBody("m")); r.status != http.StatusNoContent {
		t.Fatalf("after a second: %d", r.status)
	}
	if r := sendPubSub(t, srv.URL, tok, "ext1", pubSubBody("m")); r.status != http.StatusTooManyRequests {
		t.Fatalf("the bucket refills one a second, not more: %d", r.status)
	}
}

// sse reads a stream's broadcast events.
func sse(t *testing.T, url string) (<-chan string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
	}
	out := make(chan string, 16)
	sc := bufio.NewScanner(resp.Body)
	// The subscription is live once its first comment arrived.
	for sc.Scan() && sc.Text() != "" {
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		var event string
		var data []string
		for sc.Scan() {
			switch line := sc.Text(); {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			case line == "":
				if event == "broadcast" {
					out <- strings.Join(data, "\n")
				}
				event, data = "", nil
			}
		}
	}()
	return out, func() { cancel(); resp.Body.Close(); <-done }
}

func TestPubSubStreamDropAndDelay(t *testing.T) {
	srv, clock := newPubSubServer(t, PubSubModes{})
	tok := ebsToken(t, pubSubKey, clock.now(), nil)
	events, stop := sse(t, srv.URL+"/_sim/extension-pubsub/222/stream")
	defer stop()
	next := func() string {
		select {
		case m := <-events:
			return m
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
			return ""
		}
	}
	sendPubSub(t, srv.URL, tok, "ext1", pubSubBody("one\ntwo lines"))
	if m := next(); m != "one\ntwo lines" {
		t.Fatalf("event %q", m)
	}
	if r := do(t, http.MethodPut, srv.URL+"/_sim/extension-pubsub/modes", `{"dropEvery":2,"delayMs":300}`, nil); r.status != 200 {
		t.Fatalf("modes: %d %s", r.status, r.body)
	}
	for _, m := range []string{"a", "b", "c"} { // the 2nd accepted (b) is dropped
		if r := sendPubSub(t, srv.URL, tok, "ext1", pubSubBody(m)); r.status != http.StatusNoContent {
			t.Fatalf("send %s: %d", m, r.status)
		}
	}
	start := time.Now()
	if m := next(); m != "a" || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("first after the mode change: %q after %v", m, time.Since(start))
	}
	if m := next(); m != "c" {
		t.Fatalf("the dropped one was delivered: %q", m)
	}
	do(t, http.MethodPut, srv.URL+"/_sim/extension-pubsub/modes", `{"always429":true}`, nil)
	if r := sendPubSub(t, srv.URL, tok, "ext1", pubSubBody("d")); r.status != http.StatusTooManyRequests || r.header.Get("Ratelimit-Reset") == "" {
		t.Fatalf("always 429: %d %v", r.status, r.header)
	}
}
