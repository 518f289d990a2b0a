package httpapi_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// TestLogsHoldNoSecrets drives authenticated and refused requests of every
// kind through a server logging at debug level, then checks that no API key,
// viewer token, extension key, EventSub secret or metrics token reached the
// log, not even in part.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	const metricsToken = "metrics-token-cccccccccccccccccccc"
	const wrongKey = "wrong-desktop-key-zzzzzzzzzzzzzzzz"
	var logs testkit.Buffer
	subs := &fakeSubscribers{err: errors.New("helix unavailable")}
	ts := newTestServerWith(t, func(c *config.Config) {
		c.MetricsToken = metricsToken
		c.RateLimits.ViewerWrites = 2
	}, func(d *httpapi.Deps) {
		d.Logger = debugLogger(&logs)
		d.Subscribers = subs
	})

	good := ts.token("1001")
	expired := ts.tokenWith(auth.TokenClaims{UserID: "1002", ChannelID: testBroadcaster,
		IssuedAt: ts.clock.Now().Add(-2 * time.Hour), Expires: ts.clock.Now().Add(-time.Hour)})
	foreign := auth.SignViewerToken([]byte("another-key-another-key-another!"), auth.TokenClaims{
		UserID: "1003", ChannelID: testBroadcaster, IssuedAt: ts.clock.Now(), Expires: ts.clock.Now().Add(time.Hour)})
	wrongChannel := ts.tokenWith(auth.TokenClaims{UserID: "1004", ChannelID: "other"})
	opaque := ts.opaqueToken("Usecretopaque")
	algNone := rawJWT(map[string]any{"alg": "none"}, map[string]any{"user_id": "1005", "exp": ts.clock.Now().Add(time.Hour).Unix()}, nil)
	tokens := []string{good, expired, foreign, wrongChannel, opaque, algNone}

	// Desktop.
	ts.get(t, "/api/payouts/pending", apiKeyHdr(testAPIKeyA))
	ts.get(t, "/api/payouts/pending?status=Bogus", apiKeyHdr(testAPIKeyB))
	ts.get(t, "/api/payouts/pending", apiKeyHdr(wrongKey))
	ts.get(t, "/api/nope", apiKeyHdr(testAPIKeyA))
	// Viewers, accepted and refused.
	for _, tok := range tokens {
		ts.get(t, "/api/pool/me", bearerHdr(tok))
		ts.get(t, "/api/roulette/state", bearerHdr(tok, "Origin", testOrigin))
		ts.do(t, http.MethodPost, "/api/payouts/claim", []byte(`{"characterName":"Norinn","enrollmentRequestId":"r1"}`),
			bearerHdr(tok, "Content-Type", "application/json"))
	}
	ts.do(t, http.MethodPost, "/api/payouts/claim", []byte(`{`), bearerHdr(good, "Content-Type", "application/json"))
	ts.do(t, http.MethodPost, "/api/payouts/claim", []byte(`{}`), bearerHdr(good, "Content-Type", "text/plain"))
	ts.do(t, http.MethodDelete, "/api/pool/me", nil, bearerHdr(good))
	ts.get(t, "/api/payouts/my-last", bearerHdr(good))
	// A token in the wrong header or as a request id must not be echoed into logs either.
	ts.get(t, "/api/version", hdr("X-Api-Token", good))
	// EventSub: accepted, badly signed, stale, malformed, verification, revocation.
	chat := chatEvent{chatterID: "1001", text: "!twgold Norinn"}.body()
	ts.deliver(t, "log-1", eventsub.TypeNotification, chat)
	ts.postEventSub(t, chat, signedHeaders("wrong-secret", "log-2", twitchTimestamp(ts.clock.Now()), eventsub.TypeNotification, chat))
	ts.postEventSub(t, chat, signedHeaders(testEventSubSecret, "log-3", twitchTimestamp(ts.clock.Now().Add(-time.Hour)), eventsub.TypeNotification, chat))
	ts.deliver(t, "log-4", eventsub.TypeNotification, []byte(`{"subscription":`))
	ts.deliver(t, "log-5", eventsub.TypeVerification, verificationBody("challenge-xyz"))
	ts.deliver(t, "log-6", eventsub.TypeRevocation, []byte(`{"subscription":{"id":"s","type":"channel.chat.message","status":"authorization_revoked"}}`))
	// Metrics, with and without the token.
	ts.get(t, "/metrics", hdr("Authorization", "Bearer "+metricsToken))
	ts.get(t, "/metrics", hdr("Authorization", "Bearer "+metricsToken+"x"))
	ts.get(t, "/metrics", nil)
	// Rate limited requests.
	for i := 0; i < 4; i++ {
		ts.do(t, http.MethodPost, "/api/payouts/claim", []byte(`{"characterName":"Norinn","enrollmentRequestId":"rl"}`),
			bearerHdr(good, "Content-Type", "application/json"))
	}

	// The next minute's first request writes the summaries of the viewer
	// polls' ordinary answers, which must hold no secret either.
	ts.clock.Advance(61 * time.Second)
	ts.get(t, "/api/version", nil)

	ts.srv.Close() // every handler has returned and logged
	out := logs.String()

	// The capture must be real: one line per request (the polls' ordinary
	// answers summed up), debug lines included.
	if n := strings.Count(out, `"msg":"request"`); n < 35 {
		t.Fatalf("only %d request log lines captured; log:\n%s", n, out)
	}
	if !strings.Contains(out, `"msg":"requests"`) {
		t.Errorf("no summary of the viewer polls captured")
	}
	if !strings.Contains(out, `"level":"DEBUG"`) {
		t.Errorf("no debug line captured; is the debug chat log gone?")
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if m["msg"] == "request" {
			for _, k := range []string{"method", "route", "status", "duration_ms", "request_id"} {
				if _, ok := m[k]; !ok {
					t.Errorf("request log line lacks %q: %s", k, line)
				}
			}
		}
	}

	secrets := map[string]string{
		"API key A":            testAPIKeyA,
		"API key B":            testAPIKeyB,
		"API key A (tail)":     testAPIKeyA[len(testAPIKeyA)-12:],
		"API key B (tail)":     testAPIKeyB[len(testAPIKeyB)-12:],
		"presented wrong key":  wrongKey,
		"EventSub secret":      testEventSubSecret,
		"metrics token":        metricsToken,
		"metrics token (tail)": metricsToken[len(metricsToken)-12:],
		"extension key (hex)":  hex.EncodeToString(ts.key),
		"extension key (b64)":  base64.StdEncoding.EncodeToString(ts.key),
		"bearer header":        "Bearer ey",
	}
	for i, tok := range tokens {
		parts := strings.Split(tok, ".")
		secrets["token "+string(rune('A'+i))] = tok
		if len(parts) == 3 && len(parts[2]) >= 16 {
			secrets["token signature "+string(rune('A'+i))] = parts[2]
		}
		secrets["token payload "+string(rune('A'+i))] = parts[1]
	}
	for what, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log contains the %s (%q)", what, s)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", out)
	}
}

// TestInternalErrorIsLoggedNotLeaked breaks the store under a running server:
// the client gets 500 internal in the standard shape without the cause, and
// the log has the cause under the same request id.
func TestInternalErrorIsLoggedNotLeaked(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	ts := newTestServerWith(t, nil, func(d *httpapi.Deps) { d.Logger = debugLogger(&logs) })
	if err := ts.db.Close(); err != nil {
		t.Fatal(err)
	}
	r := ts.get(t, "/api/pool/me", bearerHdr(ts.token("1001"), "X-Request-Id", "trace-internal-1"))
	wantError(t, "GET /api/pool/me with the store closed", r, http.StatusInternalServerError, "internal")
	if strings.Contains(strings.ToLower(r.text()), "sql") || strings.Contains(r.text(), "closed") {
		t.Errorf("500 body leaks the cause: %s", r.text())
	}
	// EventSub never answers 5xx other than 503 (Twitch retries later).
	body := chatEvent{chatterID: "1001", text: "!twgold Norinn"}.body()
	r = ts.deliver(t, "broken-store", eventsub.TypeNotification, body)
	wantError(t, "EventSub with the store closed", r, http.StatusServiceUnavailable, "unavailable")

	ts.srv.Close()
	found := false
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) && strings.Contains(line, "trace-internal-1") {
			found = true
		}
	}
	if !found {
		t.Errorf("no ERROR log line carries the request id; log:\n%s", logs.String())
	}
}

func TestNewHTTPServerTimeouts(t *testing.T) {
	t.Parallel()
	s := httpapi.NewHTTPServer("127.0.0.1:0", http.NotFoundHandler(), debugLogger(&testkit.Buffer{}))
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Fatalf("timeouts not all set: header %s, read %s, write %s, idle %s",
			s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
	if s.MaxHeaderBytes <= 0 || s.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes %d", s.MaxHeaderBytes)
	}
}

// logLines parses a JSON log into its lines.
func logLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		lines = append(lines, m)
	}
	return lines
}

// TestHotReadsAreSummarised: the ordinary answers of the viewer polls and
// of the EventSub webhook are counted into one "requests" line per route and
// minute; their refusals, and every request of the other routes, keep a line each.
func TestHotReadsAreSummarised(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	ts := newTestServerWith(t, nil, func(d *httpapi.Deps) { d.Logger = debugLogger(&logs) })
	good := ts.token("1001")
	for range 5 {
		if r := ts.get(t, "/api/roulette/state", bearerHdr(good)); r.status != http.StatusOK {
			t.Fatalf("GET /api/roulette/state: %d %s", r.status, r.text())
		}
	}
	ts.get(t, "/api/pool/me", bearerHdr(good))
	ts.get(t, "/api/pool/me", bearerHdr(good))
	ts.get(t, "/api/roulette/state", hdr("X-Request-Id", "refused-poll")) // 401: its own line
	chat := chatEvent{chatterID: "2001", text: "!twgold Summed"}.body()
	ts.deliver(t, "log-sum-1", eventsub.TypeNotification, chat)
	ts.deliver(t, "log-sum-2", eventsub.TypeNotification, chatEvent{chatterID: "2002", text: "gg"}.body())
	ts.postEventSub(t, chat, signedHeaders("wrong-secret", "log-sum-3", twitchTimestamp(ts.clock.Now()), eventsub.TypeNotification, chat)) // 401: its own line
	ts.get(t, "/api/payouts/pending", apiKeyHdr(testAPIKeyA).Clone())                                                                      // the Desktop: its own line
	ts.do(t, http.MethodPost, "/api/payouts/claim", []byte(`{"characterName":"Norinn","enrollmentRequestId":"r1"}`),
		bearerHdr(good, "Content-Type", "application/json", "X-Request-Id", "the-claim")) // a write: its own line

	before := logs.String()
	if strings.Contains(before, `"msg":"requests"`) {
		t.Fatalf("a summary before the minute ended:\n%s", before)
	}
	ts.clock.Advance(61 * time.Second)
	ts.get(t, "/api/version", nil) // the first request of the next minute writes the summaries
	ts.srv.Close()

	perRequest := map[string][]map[string]any{}
	summaries := map[string]map[string]any{}
	for _, m := range logLines(t, logs.String()) {
		switch m["msg"] {
		case "request":
			route, _ := m["route"].(string)
			perRequest[route] = append(perRequest[route], m)
		case "requests":
			route, _ := m["route"].(string)
			if summaries[route] != nil {
				t.Errorf("two summaries for %s", route)
			}
			summaries[route] = m
		}
	}
	if got := perRequest["GET /api/roulette/state"]; len(got) != 1 || got[0]["status"] != float64(401) || got[0]["request_id"] != "refused-poll" {
		t.Errorf("GET /api/roulette/state lines: want only the 401, got %v", got)
	}
	if got := perRequest["GET /api/pool/me"]; len(got) != 0 {
		t.Errorf("GET /api/pool/me's ordinary answers have their own lines: %v", got)
	}
	for _, route := range []string{"GET /api/payouts/pending", "POST /api/payouts/claim", "GET /api/version"} {
		if len(perRequest[route]) != 1 {
			t.Errorf("%s: %d request lines, want 1", route, len(perRequest[route]))
		}
	}
	if got := perRequest["POST /api/twitch/eventsub"]; len(got) != 1 || got[0]["status"] != float64(401) {
		t.Errorf("POST /api/twitch/eventsub lines: want only the refused signature, got %v", got)
	}
	for route, want := range map[string]float64{"GET /api/roulette/state": 5, "GET /api/pool/me": 2, "POST /api/twitch/eventsub": 2} {
		sum := summaries[route]
		if sum == nil {
			t.Errorf("no summary for %s", route)
			continue
		}
		if sum["count"] != want || sum["status_2xx"] != want {
			t.Errorf("%s summary: count %v, 2xx %v, want %v: %v", route, sum["count"], sum["status_2xx"], want, sum)
		}
		for _, k := range []string{"duration_ms_p50", "duration_ms_p99", "duration_ms_max", "interval_s"} {
			if _, ok := sum[k]; !ok {
				t.Errorf("%s summary lacks %q: %v", route, k, sum)
			}
		}
	}
	if len(summaries) != 3 {
		t.Errorf("summaries for %d routes, want 3: %v", len(summaries), summaries)
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs.String())
	}
}
