package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

func TestUnknownRouteIs404(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	for _, path := range []string{"/", "/api", "/api/nope", "/api/pool/me/extra", "/api/payouts/pending/", "/API/VERSION", "/favicon.ico"} {
		r := ts.get(t, path, bearerHdr(ts.token("1001"), "X-MGM-ApiKey", testAPIKeyA))
		wantError(t, "GET "+path, r, http.StatusNotFound, mgm.CodeNotFound)
	}
	r := ts.do(t, http.MethodPost, "/api/nope", []byte(`{}`), hdr("Content-Type", "application/json"))
	wantError(t, "POST /api/nope", r, http.StatusNotFound, mgm.CodeNotFound)
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	cases := []struct {
		method, path string
		allow        []string
	}{
		{http.MethodPut, "/api/pool/me", []string{"GET", "DELETE"}},
		{http.MethodPost, "/api/pool/me", []string{"GET", "DELETE"}},
		{http.MethodGet, "/api/payouts/claim", []string{"POST"}},
		{http.MethodPatch, "/api/payouts/claim", []string{"POST"}},
		{http.MethodPut, "/api/payouts/claim", []string{"POST"}},
		{http.MethodGet, "/api/twitch/eventsub", []string{"POST"}},
		{http.MethodPost, "/api/version", []string{"GET"}},
		{http.MethodPatch, "/api/roulette/state", []string{"GET"}},
		{http.MethodDelete, "/api/payouts/pending", []string{"GET"}},
		{http.MethodPost, "/metrics", []string{"GET"}},
	}
	for _, tc := range cases {
		r := ts.do(t, tc.method, tc.path, nil, bearerHdr(ts.token("1001")))
		what := tc.method + " " + tc.path
		wantError(t, what, r, http.StatusMethodNotAllowed, ebsapi.CodeMethodNotAllowed)
		allow := r.header.Get("Allow")
		if allow == "" {
			t.Errorf("%s: 405 without an Allow header", what)
		}
		for _, m := range tc.allow {
			if !containsToken(allow, m) {
				t.Errorf("%s: Allow %q lacks %s", what, allow, m)
			}
		}
		if containsToken(allow, tc.method) {
			t.Errorf("%s: Allow %q lists the refused method", what, allow)
		}
	}
}

// containsToken reports whether a comma-separated header value lists tok
// (case-insensitively).
func containsToken(list, tok string) bool {
	for _, p := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(p), tok) {
			return true
		}
	}
	return false
}

func TestClaimBodyErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config.Config) { c.RateLimits.ViewerWrites = 0 })
	tok := ts.token("1001")
	post := func(body []byte, contentType string) response {
		t.Helper()
		h := bearerHdr(tok)
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		return ts.do(t, http.MethodPost, "/api/payouts/claim", body, h)
	}

	big := []byte(`{"characterName":"Norinn","enrollmentRequestId":"r1","padding":"` +
		strings.Repeat("x", 64<<10) + `"}`)
	wantError(t, "claim body over 64 KiB", post(big, "application/json"), http.StatusRequestEntityTooLarge, ebsapi.CodePayloadTooLarge)
	trailing := append([]byte(`{"characterName":"Norinn","enrollmentRequestId":"r1"}`), bytes.Repeat([]byte(" "), 70<<10)...)
	wantError(t, "valid JSON followed by 70 KiB of blanks", post(trailing, "application/json"), http.StatusRequestEntityTooLarge, ebsapi.CodePayloadTooLarge)

	for _, ct := range []string{"text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", "json", ";;;"} {
		r := post([]byte(`{"characterName":"Norinn","enrollmentRequestId":"r1"}`), ct)
		wantError(t, "Content-Type "+ct, r, http.StatusUnsupportedMediaType, ebsapi.CodeUnsupportedMediaType)
	}

	invalid := []struct{ name, body string }{
		{"malformed JSON", `{"characterName":`},
		{"not JSON", `characterName=Norinn`},
		{"empty body", ``},
		{"only blanks", "  \n\t "},
		{"JSON array", `[]`},
		{"JSON array of objects", `[{"characterName":"Norinn","enrollmentRequestId":"r1"}]`},
		{"JSON string", `"Norinn"`},
		{"JSON number", `42`},
		{"JSON null", `null`},
		{"two JSON values", `{"characterName":"Norinn","enrollmentRequestId":"r1"} {"characterName":"Norinn","enrollmentRequestId":"r2"}`},
		{"trailing garbage", `{"characterName":"Norinn","enrollmentRequestId":"r1"}x`},
		{"name is a number", `{"characterName":5,"enrollmentRequestId":"r1"}`},
		{"name is an object", `{"characterName":{"a":1},"enrollmentRequestId":"r1"}`},
		{"id is a number", `{"characterName":"Norinn","enrollmentRequestId":7}`},
		{"id is a bool", `{"characterName":"Norinn","enrollmentRequestId":true}`},
		{"missing enrollmentRequestId", `{"characterName":"Norinn"}`},
		{"null enrollmentRequestId", `{"characterName":"Norinn","enrollmentRequestId":null}`},
		{"blank enrollmentRequestId", `{"characterName":"Norinn","enrollmentRequestId":"   "}`},
		{"enrollmentRequestId over 128 characters", `{"characterName":"Norinn","enrollmentRequestId":"` + strings.Repeat("a", 129) + `"}`},
		{"empty object", `{}`},
		{"raw control character inside a string", "{\"characterName\":\"No\x01rinn\",\"enrollmentRequestId\":\"r1\"}"},
	}
	for _, tc := range invalid {
		for _, ct := range []string{"application/json", ""} {
			r := post([]byte(tc.body), ct)
			wantError(t, fmt.Sprintf("%s (Content-Type %q)", tc.name, ct), r, http.StatusBadRequest, mgm.CodeInvalidPayload)
		}
	}
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("refused claims enrolled %d viewers", n)
	}

	// Accepted variants: charset parameter, +json types, unknown fields.
	r := post([]byte(`{"characterName":"Norinn","enrollmentRequestId":"ok-1","unknownField":[1,2,3]}`), "application/json; charset=utf-8")
	wantStatus(t, "claim with an unknown field and a charset", r, http.StatusCreated)
	r = post([]byte(`{"characterName":"Norinn","enrollmentRequestId":"ok-2"}`), "application/merge-patch+json")
	wantStatus(t, "claim as +json", r, http.StatusCreated)
}

func TestClaim(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config.Config) { c.RateLimits.ViewerWrites = 0 })

	r := ts.claim(t, "1001", "  Norinn\u00a0 ", "req-1")
	wantBody(t, "first claim", r, http.StatusCreated, `{"characterName":"Norinn","enrollmentRequestId":"req-1"}`)
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("claim Content-Type %q", ct)
	}

	r = ts.claim(t, "1001", "Norinn", "req-1")
	wantBody(t, "same viewer repeats the request id", r, http.StatusOK, `{"characterName":"Norinn","enrollmentRequestId":"req-1"}`)
	// Even with another name: the stored record is the answer.
	r = ts.claim(t, "1001", "Jaina", "req-1")
	wantBody(t, "same viewer repeats the request id with another name", r, http.StatusOK, `{"characterName":"Norinn","enrollmentRequestId":"req-1"}`)
	r = ts.claim(t, "1001", "Norinn", "  req-1  ")
	wantBody(t, "request id with blanks is trimmed", r, http.StatusOK, `{"characterName":"Norinn","enrollmentRequestId":"req-1"}`)

	r = ts.claim(t, "1002", "Jaina", "req-1")
	wantError(t, "other viewer reuses the request id", r, http.StatusConflict, mgm.CodeDuplicateEnrollment)

	for _, bad := range []string{"", "   ", "N", "N0rinn", "Nor inn", "Norinn!", "Abcdefghijklm", "Νόρινν" /* Greek */, "ノリン"} {
		r = ts.claim(t, "1002", bad, "req-bad-"+bad)
		wantError(t, fmt.Sprintf("name %q", bad), r, http.StatusBadRequest, mgm.CodeInvalidCharacterName)
	}

	for _, taken := range []string{"NORINN", "norinn", " nOrInN "} {
		r = ts.claim(t, "1002", taken, "req-taken-"+strings.TrimSpace(taken))
		wantError(t, "name "+taken+" held by another viewer", r, http.StatusConflict, mgm.CodeCharacterNameTakenInPool)
	}

	// A refused claim does not use up its request id: the corrected retry works.
	r = ts.claim(t, "1002", "J4ina", "req-2")
	wantError(t, "bad name", r, http.StatusBadRequest, mgm.CodeInvalidCharacterName)
	r = ts.claim(t, "1002", "Jaina", "req-2")
	wantBody(t, "corrected retry with the same id", r, http.StatusCreated, `{"characterName":"Jaina","enrollmentRequestId":"req-2"}`)

	// Cyrillic goes out unescaped.
	r = ts.claim(t, "1003", "Тралл", "req-3")
	wantStatus(t, "Cyrillic claim", r, http.StatusCreated)
	if !bytes.Contains(r.body, []byte("Тралл")) || bytes.Contains(r.body, []byte(`\u`)) {
		t.Fatalf("Cyrillic name not written as raw UTF-8: %q", r.body)
	}
	if got := ts.poolMe(t, "1003"); got != `{"isEnrolled":true,"characterName":"Тралл","lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("pool/me for the Cyrillic viewer: %s", got)
	}
	// The Cyrillic name is taken case-insensitively too.
	r = ts.claim(t, "1004", "тРАЛЛ", "req-4")
	wantError(t, "Cyrillic name in another case", r, http.StatusConflict, mgm.CodeCharacterNameTakenInPool)

	// Renaming: the same viewer with a new id and a new name.
	r = ts.claim(t, "1001", "Thrall", "req-5")
	wantBody(t, "rename", r, http.StatusCreated, `{"characterName":"Thrall","enrollmentRequestId":"req-5"}`)
	if got := ts.poolMe(t, "1001"); got != `{"isEnrolled":true,"characterName":"Thrall","lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("pool/me after rename: %s", got)
	}
	if n := ts.poolCount(t); n != 3 {
		t.Fatalf("pool size %d, want 3", n)
	}
}

func TestClaimActivePayout(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	now := ts.clock.Now()
	ts.insertPayout(t, mgm.Payout{
		ID: "10000000-0000-4000-8000-000000000009", TwitchUserID: "1001", TwitchDisplayName: "D", CharacterName: "Norinn",
		GoldAmount: mgm.PayoutGold, EnrollmentRequestID: "seed", Status: mgm.PayoutPending, CreatedAt: now, UpdatedAt: now,
	})
	r := ts.claim(t, "1001", "Norinn", "req-1")
	wantError(t, "claim with an active payout", r, http.StatusConflict, mgm.CodeActivePayoutExists)
}

type fakeSubscribers struct {
	ok    bool
	err   error
	calls atomic.Int32
}

func (f *fakeSubscribers) IsSubscriber(ctx context.Context, userID string) (bool, error) {
	f.calls.Add(1)
	return f.ok, f.err
}

func TestClaimSubscriberCheck(t *testing.T) {
	t.Parallel()
	noSkip := func(c *config.Config) { c.DevSkipSubscriberCheck = false }

	t.Run("no checker configured", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, noSkip)
		r := ts.claim(t, "1001", "Norinn", "req-1")
		wantError(t, "claim without Helix", r, http.StatusForbidden, mgm.CodeNotSubscriber)
		if n := ts.poolCount(t); n != 0 {
			t.Fatalf("pool size %d, want 0", n)
		}
	})
	t.Run("checker says no", func(t *testing.T) {
		t.Parallel()
		f := &fakeSubscribers{ok: false}
		ts := newTestServerWith(t, noSkip, func(d *httpapi.Deps) { d.Subscribers = f })
		r := ts.claim(t, "1001", "Norinn", "req-1")
		wantError(t, "non-subscriber claim", r, http.StatusForbidden, mgm.CodeNotSubscriber)
		if f.calls.Load() != 1 {
			t.Fatalf("checker called %d times", f.calls.Load())
		}
	})
	t.Run("checker says yes", func(t *testing.T) {
		t.Parallel()
		f := &fakeSubscribers{ok: true}
		ts := newTestServerWith(t, noSkip, func(d *httpapi.Deps) { d.Subscribers = f })
		r := ts.claim(t, "1001", "Norinn", "req-1")
		wantBody(t, "subscriber claim", r, http.StatusCreated, `{"characterName":"Norinn","enrollmentRequestId":"req-1"}`)
		// A repeat is answered from the stored record, without asking Twitch.
		r = ts.claim(t, "1001", "Norinn", "req-1")
		wantStatus(t, "repeat", r, http.StatusOK)
		if f.calls.Load() != 1 {
			t.Fatalf("checker called %d times, want 1", f.calls.Load())
		}
	})
	t.Run("checker fails", func(t *testing.T) {
		t.Parallel()
		f := &fakeSubscribers{err: errors.New("helix: 502 bad gateway")}
		ts := newTestServerWith(t, noSkip, func(d *httpapi.Deps) { d.Subscribers = f })
		r := ts.claim(t, "1001", "Norinn", "req-1")
		wantError(t, "claim while Helix fails", r, http.StatusServiceUnavailable, mgm.CodeUnavailable)
		if n := ts.poolCount(t); n != 0 {
			t.Fatalf("pool size %d, want 0", n)
		}
		// Twitch recovers: the same request id now succeeds.
		f.err, f.ok = nil, true
		r = ts.claim(t, "1001", "Norinn", "req-1")
		wantStatus(t, "retry after Helix recovered", r, http.StatusCreated)
	})
	t.Run("dev skip ignores a failing checker", func(t *testing.T) {
		t.Parallel()
		f := &fakeSubscribers{err: errors.New("boom")}
		ts := newTestServerWith(t, nil, func(d *httpapi.Deps) { d.Subscribers = f })
		r := ts.claim(t, "1001", "Norinn", "req-1")
		wantStatus(t, "claim with DevSkipSubscriberCheck", r, http.StatusCreated)
	})
}

func TestPoolMe(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	if got := ts.poolMe(t, "1001"); got != `{"isEnrolled":false,"characterName":null,"lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("before enrollment: %s", got)
	}
	wantStatus(t, "claim", ts.claim(t, "1001", "Norinn", "req-1"), http.StatusCreated)
	if got := ts.poolMe(t, "1001"); got != `{"isEnrolled":true,"characterName":"Norinn","lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("after enrollment: %s", got)
	}
	if got := ts.poolMe(t, "1002"); got != `{"isEnrolled":false,"characterName":null,"lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("another viewer: %s", got)
	}
}

func TestMyLastPayoutNotFound(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	r := ts.get(t, "/api/payouts/my-last", bearerHdr(ts.token("1001")))
	wantError(t, "viewer without payout", r, http.StatusNotFound, mgm.CodeNotFound)
	// Enrolled but never paid: still 404.
	wantStatus(t, "claim", ts.claim(t, "1001", "Norinn", "req-1"), http.StatusCreated)
	r = ts.get(t, "/api/payouts/my-last", bearerHdr(ts.token("1001")))
	wantError(t, "enrolled viewer without payout", r, http.StatusNotFound, mgm.CodeNotFound)
}

func TestRouletteState(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	tok := ts.token("1001")
	state := func() string {
		t.Helper()
		r := ts.get(t, "/api/roulette/state", bearerHdr(tok))
		wantStatus(t, "GET /api/roulette/state", r, http.StatusOK)
		return r.text()
	}
	want := func(next, now string, count int) string {
		return `{"nextSpinAt":"` + next + `","serverNow":"` + now + `","spinIntervalSeconds":300,` +
			`"poolParticipantCount":` + fmt.Sprint(count) + `,"spinPhase":"idle","currentSpinCycleId":null,` +
			`"candidateCharacterName":null,"lastCycle":null,"drawCommitment":null,"poolCharacterNames":[],"recentWinners":[],"pausedReason":null}`
	}

	if got, w := state(), want("2026-04-04T12:05:00.000Z", "2026-04-04T12:01:23.456Z", 0); got != w {
		t.Fatalf("state at T0\n got: %s\nwant: %s", got, w)
	}

	wantStatus(t, "claim", ts.claim(t, "2001", "Norinn", "a"), http.StatusCreated)
	wantStatus(t, "claim", ts.claim(t, "2002", "Тралл", "b"), http.StatusCreated)
	// With members and the clock ticking, the phase is collecting and the
	// cycle has an id (null exactly when idle).
	if err := ts.svc.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	collecting := func(next, now string) {
		t.Helper()
		var st struct {
			NextSpinAt, ServerNow, SpinPhase string
			PoolParticipantCount             int
			CurrentSpinCycleID               *string
		}
		body := state()
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		if st.NextSpinAt != next || st.ServerNow != now || st.SpinPhase != "collecting" || st.PoolParticipantCount != 2 ||
			st.CurrentSpinCycleID == nil || len(*st.CurrentSpinCycleID) != 36 {
			t.Fatalf("state at %s: %s", now, body)
		}
	}
	collecting("2026-04-04T12:05:00.000Z", "2026-04-04T12:01:23.456Z")
	// Exactly on a boundary the next one is a whole interval away; the new
	// window's cycle was created ahead of time, so its id is known at once.
	ts.clock.Advance(3*time.Minute + 36*time.Second + 544*time.Millisecond) // 12:05:00.000
	collecting("2026-04-04T12:10:00.000Z", "2026-04-04T12:05:00.000Z")
	// One millisecond before a boundary.
	ts.clock.Advance(4*time.Minute - time.Millisecond) // 12:08:59.999, before the draw at 12:09:00
	collecting("2026-04-04T12:10:00.000Z", "2026-04-04T12:08:59.999Z")

	// Keys and JSON types, independent of the exact values.
	var m map[string]any
	if err := json.Unmarshal([]byte(state()), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nextSpinAt", "serverNow", "spinIntervalSeconds", "poolParticipantCount", "spinPhase",
		"currentSpinCycleId", "candidateCharacterName", "lastCycle", "drawCommitment", "poolCharacterNames", "recentWinners", "pausedReason"} {
		if _, ok := m[k]; !ok {
			t.Errorf("roulette state lacks %q", k)
		}
	}
	if len(m) != 12 {
		t.Errorf("roulette state has %d fields, want 12: %v", len(m), m)
	}
}

func TestRouletteStateShortInterval(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config.Config) { c.SpinInterval = 60 * time.Second })
	r := ts.get(t, "/api/roulette/state", bearerHdr(ts.opaqueToken("Uanon")))
	wantBody(t, "60 s cycles", r, http.StatusOK,
		`{"nextSpinAt":"2026-04-04T12:02:00.000Z","serverNow":"2026-04-04T12:01:23.456Z","spinIntervalSeconds":60,`+
			`"poolParticipantCount":0,"spinPhase":"idle","currentSpinCycleId":null,"candidateCharacterName":null,"lastCycle":null,"drawCommitment":null,"poolCharacterNames":[],"recentWinners":[],"pausedReason":null}`)
}

func TestVersion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		current string
		build   string
		info    config.VersionInfo
		want    string
	}{
		{name: "build version", build: "1.2.3",
			want: `{"version":"1.2.3","releaseNotesUrl":null,"minimumDesktopVersion":null,"minimumAddonVersion":null,"minimumExtensionVersion":null}`},
		{name: "configured version wins", current: "2.0.0", build: "1.2.3",
			want: `{"version":"2.0.0","releaseNotesUrl":null,"minimumDesktopVersion":null,"minimumAddonVersion":null,"minimumExtensionVersion":null}`},
		{name: "all set", current: "2.1.0", build: "1.2.3",
			info: config.VersionInfo{ReleaseNotesURL: "https://example.com/notes?a=1&b=2", MinimumDesktopVersion: "1.0.0",
				MinimumAddonVersion: "1.1.0", MinimumExtensionVersion: "0.9.0"},
			want: `{"version":"2.1.0","releaseNotesUrl":"https://example.com/notes?a=1&b=2","minimumDesktopVersion":"1.0.0",` +
				`"minimumAddonVersion":"1.1.0","minimumExtensionVersion":"0.9.0"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServerWith(t, func(c *config.Config) {
				c.Version = tc.info
				c.Version.CurrentVersion = tc.current
			}, func(d *httpapi.Deps) { d.Version = tc.build })
			r := ts.get(t, "/api/version", nil)
			wantBody(t, "GET /api/version", r, http.StatusOK, tc.want)
		})
	}
	t.Run("never empty", func(t *testing.T) {
		t.Parallel()
		ts := newTestServerWith(t, func(c *config.Config) { c.Version.CurrentVersion = "   " }, func(d *httpapi.Deps) { d.Version = "" })
		r := ts.get(t, "/api/version", nil)
		wantStatus(t, "GET /api/version", r, http.StatusOK)
		var v struct {
			Version *string `json:"version"`
		}
		if err := json.Unmarshal(r.body, &v); err != nil || v.Version == nil || strings.TrimSpace(*v.Version) == "" {
			t.Fatalf("version empty: %s (%v)", r.text(), err)
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	r := ts.get(t, "/healthz", nil)
	wantStatus(t, "GET /healthz", r, http.StatusOK)
	r = ts.get(t, "/readyz", nil)
	wantStatus(t, "GET /readyz", r, http.StatusOK)

	if err := ts.db.Close(); err != nil {
		t.Fatal(err)
	}
	// One failed check right after a passing one is a blip, not an outage...
	r = ts.get(t, "/readyz", nil)
	wantStatus(t, "GET /readyz just after the database closed", r, http.StatusOK)
	if !strings.Contains(r.text(), `"warning"`) {
		t.Fatalf("a failed check within the grace period carries a warning: %s", r.text())
	}
	// ...checks failing for the whole grace period are.
	ts.clock.Advance(httpapi.ReadyGrace)
	r = ts.get(t, "/readyz", nil)
	wantError(t, "GET /readyz with the database closed", r, http.StatusServiceUnavailable, mgm.CodeUnavailable)
	r = ts.get(t, "/healthz", nil)
	wantStatus(t, "GET /healthz with the database closed (liveness)", r, http.StatusOK)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	ts.get(t, "/api/version", nil)
	body := chatEvent{chatterID: "1001", text: "!twgold Norinn"}.body()
	wantStatus(t, "eventsub", ts.deliver(t, "m-1", "notification", body), http.StatusOK)

	r := ts.get(t, "/metrics", nil)
	wantStatus(t, "GET /metrics", r, http.StatusOK)
	for _, name := range []string{"mgm_http_requests_total", "mgm_eventsub_messages_total", "mgm_http_request_duration_seconds"} {
		if !strings.Contains(string(r.body), name) {
			t.Errorf("metrics lack %s", name)
		}
	}
	// Unmatched paths are counted under one label, not one per path.
	ts.get(t, "/api/does-not-exist-"+strings.Repeat("z", 20), nil)
	r = ts.get(t, "/metrics", nil)
	if strings.Contains(string(r.body), "does-not-exist") {
		t.Errorf("metrics carry a raw unknown path as a label")
	}
}

func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "metrics-token-0123456789"
	ts := newTestServer(t, func(c *config.Config) { c.MetricsToken = token })
	for _, h := range []struct {
		name string
		h    map[string]string
	}{
		{"no token", nil},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}},
		{"token prefix", map[string]string{"Authorization": "Bearer " + token[:10]}},
		{"wrong scheme", map[string]string{"Authorization": "Basic " + token}},
		{"API key instead", map[string]string{"X-MGM-ApiKey": testAPIKeyA}},
	} {
		hh := http.Header{}
		for k, v := range h.h {
			hh.Set(k, v)
		}
		r := ts.get(t, "/metrics", hh)
		wantError(t, "/metrics "+h.name, r, http.StatusUnauthorized, mgm.CodeUnauthorized)
	}
	r := ts.get(t, "/metrics", hdr("Authorization", "Bearer "+token))
	wantStatus(t, "/metrics with the token", r, http.StatusOK)
	if !strings.Contains(string(r.body), "mgm_http_requests_total") {
		t.Errorf("metrics body lacks mgm_http_requests_total")
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)

	r1 := ts.get(t, "/healthz", nil)
	r2 := ts.get(t, "/healthz", nil)
	id1, id2 := r1.header.Get("X-Request-Id"), r2.header.Get("X-Request-Id")
	if id1 == "" || id2 == "" {
		t.Fatalf("no X-Request-Id generated: %q %q", id1, id2)
	}
	if id1 == id2 {
		t.Fatalf("two requests got the same generated id %q", id1)
	}

	sane := []string{"abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "req_1:2/3", strings.Repeat("x", 128), "~!@#$%^&*()"}
	for _, id := range sane {
		for _, path := range []string{"/healthz", "/api/nope", "/api/pool/me"} {
			r := ts.get(t, path, hdr("X-Request-Id", id))
			if got := r.header.Get("X-Request-Id"); got != id {
				t.Errorf("GET %s with X-Request-Id %q: got %q, want it echoed", path, id, got)
			}
		}
	}

	// Values the Go client can send but the server must not trust.
	insane := []string{"has space", "tab\there", strings.Repeat("x", 129), "ünïcode", "a\"b c"}
	for _, id := range insane {
		r := ts.get(t, "/healthz", hdr("X-Request-Id", id))
		got := r.header.Get("X-Request-Id")
		if got == "" || got == id || strings.ContainsAny(got, " \t") || len(got) > 128 {
			t.Errorf("X-Request-Id %q: got %q, want a fresh id", id, got)
		}
	}

	// Control characters cannot cross the wire through net/http; hand them to
	// the handler directly.
	h := httpapi.New(httpapi.Deps{Service: ts.svc, Config: ts.cfg, Now: ts.clock.Now}).Handler()
	for _, id := range []string{"a\x01b", "a\x7fb", "line\nbreak", "cr\rlf", "nul\x00"} {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Header["X-Request-Id"] = []string{id}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-Id")
		if got == "" || got == id || strings.ContainsAny(got, "\x00\x01\x7f\r\n") {
			t.Errorf("X-Request-Id %q: got %q, want a fresh id", id, got)
		}
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)

	preflight := func(origin, method, headers, path string) response {
		t.Helper()
		h := hdr("Origin", origin, "Access-Control-Request-Method", method)
		if headers != "" {
			h.Set("Access-Control-Request-Headers", headers)
		}
		return ts.do(t, http.MethodOptions, path, nil, h)
	}

	for _, path := range []string{"/api/payouts/claim", "/api/pool/me", "/api/roulette/state"} {
		r := preflight(testOrigin, "POST", "authorization,content-type", path)
		if r.status != http.StatusNoContent {
			t.Fatalf("preflight %s: status %d, want 204; body %s", path, r.status, r.text())
		}
		if got := r.header.Get("Access-Control-Allow-Origin"); got != testOrigin {
			t.Errorf("preflight %s: Allow-Origin %q, want %q", path, got, testOrigin)
		}
		methods := r.header.Get("Access-Control-Allow-Methods")
		for _, m := range []string{"GET", "POST", "PATCH", "DELETE"} {
			if !containsToken(methods, m) {
				t.Errorf("preflight %s: Allow-Methods %q lacks %s", path, methods, m)
			}
		}
		headers := r.header.Get("Access-Control-Allow-Headers")
		for _, h := range []string{"Authorization", "Content-Type", "X-Mgm-Push-Seq"} {
			if !containsToken(headers, h) {
				t.Errorf("preflight %s: Allow-Headers %q lacks %s", path, headers, h)
			}
		}
		// Chromium keeps a preflight at most 7200 s: one per route per session.
		if got := r.header.Get("Access-Control-Max-Age"); got != "7200" {
			t.Errorf("preflight %s: Max-Age %q, want 7200", path, got)
		}
		if !containsToken(strings.Join(r.header.Values("Vary"), ","), "Origin") {
			t.Errorf("preflight %s: Vary %q lacks Origin", path, r.header.Values("Vary"))
		}
	}

	for _, origin := range []string{"https://evil.example", "https://abc123.ext-twitch.tv.evil.example", "http://abc123.ext-twitch.tv", "null"} {
		r := preflight(origin, "POST", "authorization", "/api/payouts/claim")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight from %s: Allow-Origin %q, want none", origin, got)
		}
		if got := r.header.Get("Access-Control-Allow-Methods"); got != "" {
			t.Errorf("preflight from %s: Allow-Methods %q, want none", origin, got)
		}
		if r.status >= 500 {
			t.Errorf("preflight from %s: status %d", origin, r.status)
		}
		// A plain request from that origin is served but not marked readable.
		r = ts.get(t, "/api/roulette/state", bearerHdr(ts.token("1001"), "Origin", origin))
		wantStatus(t, "GET from "+origin, r, http.StatusOK)
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("GET from %s: Allow-Origin %q, want none", origin, got)
		}
	}

	r := ts.get(t, "/api/roulette/state", bearerHdr(ts.token("1001"), "Origin", testOrigin))
	wantStatus(t, "GET from the extension", r, http.StatusOK)
	if got := r.header.Get("Access-Control-Allow-Origin"); got != testOrigin {
		t.Errorf("GET from the extension: Allow-Origin %q", got)
	}
	if !containsToken(strings.Join(r.header.Values("Vary"), ","), "Origin") {
		t.Errorf("GET from the extension: Vary %q lacks Origin", r.header.Values("Vary"))
	}

	// Errors must be readable by the panel too.
	r = ts.get(t, "/api/pool/me", hdr("Origin", testOrigin))
	wantError(t, "unauthenticated GET from the extension", r, http.StatusUnauthorized, mgm.CodeUnauthorized)
	if got := r.header.Get("Access-Control-Allow-Origin"); got != testOrigin {
		t.Errorf("401 from the extension: Allow-Origin %q", got)
	}
}

// TestNoRouteAnswers500 throws malformed and hostile requests at every route
// and checks that none of them is answered with a 5xx.
func TestNoRouteAnswers500(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config.Config) {
		c.RateLimits = config.RateLimits{} // unlimited: we want the handlers' answers
	})
	paths := []string{
		"/api/roulette/state", "/api/pool/me", "/api/payouts/my-last", "/api/payouts/claim",
		"/api/payouts/pending", "/api/payouts/pending?status=%00", "/api/payouts/pending?status=" + strings.Repeat("a,", 500),
		"/api/twitch/eventsub", "/api/version", "/healthz", "/readyz", "/metrics",
		"/api/payouts/not-a-uuid/status", "/api/%2e%2e/etc/passwd", "/api/payouts/claim?x=%ff",
		"/" + strings.Repeat("a/", 200),
	}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	bodies := [][]byte{
		nil, []byte(``), []byte(`{`), []byte(`[]`), []byte(`null`), []byte(`"x"`), []byte(`{} {}`),
		[]byte(`{"characterName":5,"enrollmentRequestId":[]}`),
		[]byte(`{"characterName":"` + strings.Repeat("Я", 5000) + `","enrollmentRequestId":"x"}`),
		[]byte("\xff\xfe\x00garbage"),
		[]byte(`{"subscription":{"type":"channel.chat.message"},"event":{"badges":"x"}}`),
		bytes.Repeat([]byte("{"), 100_000),
	}
	auths := []http.Header{
		nil,
		bearerHdr(ts.token("1001")),
		bearerHdr(ts.opaqueToken("Uop")),
		bearerHdr("x.y.z"),
		apiKeyHdr(testAPIKeyA),
		apiKeyHdr("nope"),
		hdr("Origin", testOrigin, "Access-Control-Request-Method", "POST"),
	}
	contentTypes := []string{"", "application/json", "text/plain", "application/json; charset=\"", "*/*"}
	count := 0
	for _, path := range paths {
		for _, method := range methods {
			for bi, body := range bodies {
				// Every body against POST; a few against the other methods.
				if method != http.MethodPost && bi > 2 {
					continue
				}
				for ai, a := range auths {
					ct := contentTypes[(bi+ai)%len(contentTypes)]
					h := http.Header{}
					for k, v := range a {
						h[k] = v
					}
					if ct != "" {
						h.Set("Content-Type", ct)
					}
					r := ts.do(t, method, path, body, h)
					count++
					if r.status >= 500 {
						t.Errorf("%s %s (body %d, auth %d, Content-Type %q): status %d: %s", method, path, bi, ai, ct, r.status, r.text())
					}
					if r.status >= 400 && method != http.MethodHead {
						var e struct {
							Code    string          `json:"code"`
							Details json.RawMessage `json:"details"`
						}
						if err := json.Unmarshal(r.body, &e); err != nil || e.Code == "" || string(e.Details) != "{}" {
							t.Errorf("%s %s: %d without the standard error body: %q", method, path, r.status, r.body)
						}
					}
				}
			}
		}
	}
	t.Logf("%d requests, none answered 5xx", count)
}

// TestClaimConcurrent races panel claims: the losers get the proper 200/409,
// never a 5xx and never a second pool row.
func TestClaimConcurrent(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config.Config) { c.RateLimits.ViewerWrites = 0 })
	race := func(n int, claim func(i int) response) []int {
		statuses := make([]int, n)
		done := make(chan struct{})
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			go func(i int) {
				defer func() { done <- struct{}{} }()
				<-start
				statuses[i] = claim(i).status
			}(i)
		}
		close(start)
		for i := 0; i < n; i++ {
			<-done
		}
		return statuses
	}
	count := func(statuses []int) map[int]int {
		m := map[int]int{}
		for _, s := range statuses {
			m[s]++
		}
		return m
	}
	// claimNoFatal is ts.claim without t.Fatal (it runs off the test goroutine).
	claimNoFatal := func(userID, name, id string) response {
		body, _ := json.Marshal(map[string]string{"characterName": name, "enrollmentRequestId": id})
		req, _ := http.NewRequest(http.MethodPost, ts.url+"/api/payouts/claim", bytes.NewReader(body))
		req.Header = bearerHdr(ts.token(userID), "Content-Type", "application/json")
		resp, err := ts.client.Do(req)
		if err != nil {
			return response{status: -1}
		}
		defer resp.Body.Close()
		return response{status: resp.StatusCode}
	}

	// One viewer, one request id, many tabs.
	got := count(race(10, func(int) response { return claimNoFatal("1001", "Norinn", "same-id") }))
	if got[http.StatusCreated] != 1 || got[http.StatusOK] != 9 {
		t.Fatalf("same viewer, same id: statuses %v, want one 201 and nine 200", got)
	}
	// Many viewers, one request id.
	got = count(race(10, func(i int) response { return claimNoFatal(fmt.Sprint(2000+i), letters(i+1), "shared-id") }))
	if got[http.StatusCreated] != 1 || got[http.StatusConflict] != 9 {
		t.Fatalf("many viewers, one id: statuses %v, want one 201 and nine 409", got)
	}
	// Many viewers, one name.
	got = count(race(10, func(i int) response { return claimNoFatal(fmt.Sprint(3000+i), "Jaina", fmt.Sprint("name-", i)) }))
	if got[http.StatusCreated] != 1 || got[http.StatusConflict] != 9 {
		t.Fatalf("many viewers, one name: statuses %v, want one 201 and nine 409", got)
	}
	if n := ts.poolCount(t); n != 3 {
		t.Fatalf("pool size %d, want 3", n)
	}
}

// /metrics on the main listener: open in Development; in Production served
// only with a token (then required) or when made public explicitly, else
// not there at all.
func TestMetricsExposure(t *testing.T) {
	const token = "metrics-token-0123456789"
	for _, tc := range []struct {
		name      string
		cfg       func(*config.Config)
		anonymous int // status without a token
	}{
		{"development", func(c *config.Config) {}, http.StatusOK},
		{"production default", func(c *config.Config) { c.Environment = config.Production }, http.StatusNotFound},
		{"production with a separate listener", func(c *config.Config) {
			c.Environment = config.Production
			c.MetricsListen = "127.0.0.1:0"
		}, http.StatusNotFound},
		{"production public", func(c *config.Config) { c.Environment = config.Production; c.MetricsPublic = true }, http.StatusOK},
		{"production token", func(c *config.Config) { c.Environment = config.Production; c.MetricsToken = token }, http.StatusUnauthorized},
		{"production public and token", func(c *config.Config) {
			c.Environment = config.Production
			c.MetricsPublic = true
			c.MetricsToken = token
		}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, tc.cfg)
			ts.get(t, "/api/version", nil)
			r := ts.get(t, "/metrics", nil)
			switch tc.anonymous {
			case http.StatusOK:
				wantStatus(t, "GET /metrics", r, http.StatusOK)
				if !strings.Contains(string(r.body), "mgm_http_requests_total") {
					t.Errorf("metrics body lacks mgm_http_requests_total")
				}
			case http.StatusNotFound:
				wantError(t, "GET /metrics", r, http.StatusNotFound, mgm.CodeNotFound)
				if strings.Contains(string(r.body), "mgm_") {
					t.Errorf("a refused /metrics leaks metrics: %s", r.body)
				}
			case http.StatusUnauthorized:
				wantError(t, "GET /metrics", r, http.StatusUnauthorized, mgm.CodeUnauthorized)
				wantStatus(t, "GET /metrics with the token", ts.get(t, "/metrics", hdr("Authorization", "Bearer "+token)), http.StatusOK)
			}
		})
	}
}

// MetricsHandler is what the separate metrics listener serves: /metrics
// (with the token when one is set) and nothing else, in the error shape.
func TestMetricsHandler(t *testing.T) {
	for _, token := range []string{"", "metrics-token-0123456789"} {
		cfg := defaultTestConfig()
		cfg.Environment = config.Production
		cfg.MetricsListen = "127.0.0.1:0"
		cfg.MetricsToken = token
		srv := httptest.NewServer(httpapi.New(httpapi.Deps{Config: cfg, Verifier: &auth.ViewerVerifier{}}).MetricsHandler())
		t.Cleanup(srv.Close)
		ts := &testServer{t: t, url: srv.URL, client: srv.Client()}
		r := ts.get(t, "/metrics", nil)
		if token == "" {
			wantStatus(t, "GET /metrics on the metrics listener", r, http.StatusOK)
			if !strings.Contains(string(r.body), "go_goroutines") {
				t.Errorf("metrics listener body lacks go_goroutines")
			}
		} else {
			wantError(t, "GET /metrics on the metrics listener without the token", r, http.StatusUnauthorized, mgm.CodeUnauthorized)
			wantStatus(t, "GET /metrics on the metrics listener with the token", ts.get(t, "/metrics", hdr("Authorization", "Bearer "+token)), http.StatusOK)
		}
		for _, path := range []string{"/", "/api/version", "/healthz", "/metrics/x"} {
			wantError(t, "GET "+path+" on the metrics listener", ts.get(t, path, nil), http.StatusNotFound, mgm.CodeNotFound)
		}
		wantError(t, "POST /metrics on the metrics listener", ts.do(t, http.MethodPost, "/metrics", nil, nil), http.StatusMethodNotAllowed, "method_not_allowed")
	}
}
