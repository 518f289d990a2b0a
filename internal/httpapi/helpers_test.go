package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/conformance"
	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/jobs"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite/sqlitetest"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// Test fixtures shared by every file of the suite.
const (
	testBroadcaster    = "b1"
	testEventSubSecret = "test-eventsub-secret"
	testAPIKeyA        = "desktop-key-aaaaaaaaaaaaaaaaaaaa"
	testAPIKeyB        = "desktop-key-bbbbbbbbbbbbbbbbbbbb"
	testOrigin         = "https://abc123.ext-twitch.tv"
)

// testT0 is the spec's example instant: 2026-04-04T12:01:23.456Z.
var testT0 = time.Date(2026, 4, 4, 12, 1, 23, 456_000_000, time.UTC)

// testServer is the real handler on a real loopback server over a real SQLite
// store, with one settable clock injected everywhere.
type testServer struct {
	t      *testing.T
	srv    *httptest.Server
	url    string
	client *http.Client
	db     *store.DB
	svc    *app.Service
	clock  *conformance.Clock
	cfg    config.Config
	key    []byte // HMAC key of viewer tokens
	jobs   *jobs.Queue
	// workJobs starts the job workers once, for the tests that wait for a
	// job: a River client per parallel test, polling, would cost more CPU
	// than the tests themselves.
	workJobs sync.Once
}

// defaultTestConfig is the configuration every test starts from.
func defaultTestConfig() config.Config {
	return config.Config{
		Environment:            config.Development,
		SpinInterval:           300 * time.Second,
		RateLimits:             config.RateLimits{ViewerReads: 120, ViewerWrites: 5, Desktop: 600, Anonymous: 120},
		CorsOrigins:            []string{testOrigin},
		EventSubSecret:         testEventSubSecret,
		BroadcasterUserID:      testBroadcaster,
		APIKeys:                []string{testAPIKeyA, testAPIKeyB},
		DevSkipSubscriberCheck: true,
		HelixAPIBaseURL:        "http://127.0.0.1:0",
		LogLevel:               "debug",
	}
}

// newTestServer starts a server with the default configuration, changed by
// mutateConfig when it is not nil.
func newTestServer(t *testing.T, mutateConfig func(*config.Config)) *testServer {
	t.Helper()
	return newTestServerWith(t, mutateConfig, nil)
}

// newTestServerWith is newTestServer with a last look at the Deps (logger,
// subscriber checker, version) before the server is built.
func newTestServerWith(t *testing.T, mutateConfig func(*config.Config), mutateDeps func(*httpapi.Deps)) *testServer {
	t.Helper()
	return newTestServerOn(t, openSQLite, mutateConfig, mutateDeps)
}

// storeOpener opens a fresh, empty store for one test server.
type storeOpener func(t *testing.T) *store.DB

func openSQLite(t *testing.T) *store.DB {
	t.Helper()
	return sqlitetest.Open(t)
}

// openPostgres opens a throwaway PostgreSQL database (skipped when none is
// configured, unless MGM_REQUIRE_POSTGRES=1).
func openPostgres(t *testing.T) *store.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	return db
}

// bothStores names the stores a behaviour must hold on.
var bothStores = []struct {
	name string
	open storeOpener
}{{"sqlite", openSQLite}, {"postgres", openPostgres}}

// newTestServerOn is newTestServerWith on the store open returns.
func newTestServerOn(t *testing.T, open storeOpener, mutateConfig func(*config.Config), mutateDeps func(*httpapi.Deps)) *testServer {
	t.Helper()
	cfg := defaultTestConfig()
	if mutateConfig != nil {
		mutateConfig(&cfg)
	}
	db := open(t)
	t.Cleanup(func() { _ = db.Close() })

	clock := conformance.NewClock(testT0)
	queue := newJobQueue(t, db)
	svc := app.New(db, app.Options{Now: clock.Now, BroadcasterID: cfg.BroadcasterUserID, SpinInterval: cfg.SpinInterval, Jobs: queue,
		Policy: cfg.Controls.Policy()})
	key := cfg.ExtensionSecret
	if len(key) == 0 {
		key = auth.DevExtensionSecret()
	}
	deps := httpapi.Deps{
		Service: svc,
		Config:  cfg,
		Verifier: &auth.ViewerVerifier{
			Key:               key,
			BroadcasterUserID: cfg.BroadcasterUserID,
			Now:               clock.Now,
		},
		APIKeys: auth.NewAPIKeys(cfg.APIKeys),
		Now:     clock.Now,
		Version: "1.2.3-test",
		Logger:  testkit.Logger(t),
	}
	if mutateDeps != nil {
		mutateDeps(&deps)
	}
	// The server as mgm-ebs runs it: NewHTTPServer's limits, on the wrapped
	// listener, on loopback.
	api := httpapi.New(deps)
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = httpapi.NewHTTPServer("", api.Handler(), logger)
	srv.Listener = api.Listener(srv.Listener)
	srv.Start()
	t.Cleanup(srv.Close)

	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client.Timeout = 30 * time.Second
	return &testServer{t: t, srv: srv, url: srv.URL, client: client, db: db, svc: svc, clock: clock, cfg: cfg, key: key, jobs: queue}
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// text is the body without its trailing newline.
func (r response) text() string { return strings.TrimRight(string(r.body), "\n") }

func (r response) String() string {
	return http.StatusText(r.status) + " " + r.text()
}

// hdr builds a header from key/value pairs.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// do sends one request and reads the whole answer. body may be nil.
func (ts *testServer) do(t *testing.T, method, path string, body []byte, h http.Header) response {
	t.Helper()
	var b any
	if body != nil {
		b = body
	}
	r := testkit.Do(t, ts.client, method, ts.url+path, h, b)
	return response{status: r.Status, header: r.Header, body: r.Body}
}

// get is do for a GET without body.
func (ts *testServer) get(t *testing.T, path string, h http.Header) response {
	t.Helper()
	return ts.do(t, http.MethodGet, path, nil, h)
}

// token signs a viewer token for userID on the test broadcaster's channel,
// valid for an hour from the test clock.
func (ts *testServer) token(userID string) string {
	return ts.tokenWith(auth.TokenClaims{UserID: userID, ChannelID: testBroadcaster, DisplayName: "Disp" + userID})
}

// tokenWith signs c with the server's key, filling in iat and exp from the
// test clock when they are zero.
func (ts *testServer) tokenWith(c auth.TokenClaims) string {
	now := ts.clock.Now()
	if c.IssuedAt.IsZero() {
		c.IssuedAt = now
	}
	if c.Expires.IsZero() {
		c.Expires = now.Add(time.Hour)
	}
	return auth.SignViewerToken(ts.key, c)
}

// opaqueToken is a token of a viewer who has not shared identity.
func (ts *testServer) opaqueToken(opaqueID string) string {
	return ts.tokenWith(auth.TokenClaims{OpaqueUserID: opaqueID, ChannelID: testBroadcaster})
}

func bearerHdr(token string, kv ...string) http.Header {
	h := hdr(kv...)
	h.Set("Authorization", "Bearer "+token)
	return h
}

func apiKeyHdr(key string) http.Header { return hdr("X-MGM-ApiKey", key) }

// claim posts a panel enrollment as userID.
func (ts *testServer) claim(t *testing.T, userID, name, requestID string) response {
	t.Helper()
	body, err := json.Marshal(map[string]string{"characterName": name, "enrollmentRequestId": requestID})
	if err != nil {
		t.Fatal(err)
	}
	return ts.do(t, http.MethodPost, "/api/payouts/claim", body,
		bearerHdr(ts.token(userID), "Content-Type", "application/json"))
}

// poolMe returns the raw GET /api/pool/me body for userID (status must be 200).
func (ts *testServer) poolMe(t *testing.T, userID string) string {
	t.Helper()
	r := ts.get(t, "/api/pool/me", bearerHdr(ts.token(userID)))
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/pool/me as %s: %s", userID, r)
	}
	return r.text()
}

// poolCount reads the pool size straight from the store.
func (ts *testServer) poolCount(t *testing.T) int {
	t.Helper()
	n, err := ts.svc.PoolCount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// events reads one event stream straight from the store.
func (ts *testServer) events(t *testing.T, stream string) []store.Event {
	t.Helper()
	ctx := context.Background()
	var evs []store.Event
	if err := ts.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		evs, err = tx.Events(ctx, stream)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

// insertPayout writes a payout directly, standing in for the roulette engine.
func (ts *testServer) insertPayout(t *testing.T, p mgm.Payout) {
	t.Helper()
	ctx := context.Background()
	if err := ts.db.InTx(ctx, func(tx *store.Tx) error { return tx.InsertPayout(ctx, p) }); err != nil {
		t.Fatalf("insert payout: %v", err)
	}
}

// wantStatus fails when r does not have the expected status.
func wantStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body: %s", what, r.status, status, r.text())
	}
}

// wantBody fails unless r is status with exactly the raw JSON body want
// (trailing newline ignored).
func wantBody(t *testing.T, what string, r response, status int, want string) {
	t.Helper()
	wantStatus(t, what, r, status)
	if got := r.text(); got != want {
		t.Fatalf("%s: body\n got: %s\nwant: %s", what, got, want)
	}
}

// wantError checks the status and the exact standard error shape:
// {"code": code, "message": non-empty string, "details": {}} and nothing else,
// served as JSON with an X-Request-Id.
func wantError(t *testing.T, what string, r response, status int, code mgm.Code) {
	t.Helper()
	wantErrorDetails(t, what, r, status, code, "{}")
}

// wantErrorDetails is wantError for an error whose details say more: they
// must be exactly details (JSON, compact).
func wantErrorDetails(t *testing.T, what string, r response, status int, code mgm.Code, details string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d (%s); body: %s", what, r.status, status, code, r.text())
	}
	checkErrorShapeDetails(t, what, r, code, details)
}

func checkErrorShape(t *testing.T, what string, r response, code mgm.Code) {
	t.Helper()
	checkErrorShapeDetails(t, what, r, code, "{}")
}

func checkErrorShapeDetails(t *testing.T, what string, r response, code mgm.Code, details string) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Errorf("%s: error response without X-Request-Id", what)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &fields); err != nil {
		t.Fatalf("%s: error body is not a JSON object: %v; body: %q", what, err, r.body)
	}
	if len(fields) != 3 {
		t.Errorf("%s: error body has %d fields, want exactly code, message, details: %s", what, len(fields), r.text())
	}
	var gotCode, msg string
	if err := json.Unmarshal(fields["code"], &gotCode); err != nil || gotCode != string(code) {
		t.Errorf("%s: code %s, want %q", what, fields["code"], code)
	}
	if err := json.Unmarshal(fields["message"], &msg); err != nil || strings.TrimSpace(msg) == "" {
		t.Errorf("%s: message %s, want a non-empty string", what, fields["message"])
	}
	if d := string(bytes.TrimSpace(fields["details"])); d != details {
		t.Errorf("%s: details %q, want %s", what, d, details)
	}
}

// --- EventSub ---------------------------------------------------------------

// chatEvent describes a channel.chat.message notification.
type chatEvent struct {
	broadcaster string // default testBroadcaster
	chatterID   string
	login       string // default lower-case "viewer"+chatterID
	display     string // default "Viewer"+chatterID
	messageID   string // default "chat-msg-"+chatterID
	text        string
	badges      any // default a subscriber badge; any JSON value
}

// body renders a realistic Twitch channel.chat.message notification body.
func (e chatEvent) body() []byte {
	if e.broadcaster == "" {
		e.broadcaster = testBroadcaster
	}
	if e.login == "" {
		e.login = "viewer" + e.chatterID
	}
	if e.display == "" {
		e.display = "Viewer" + e.chatterID
	}
	if e.messageID == "" {
		e.messageID = "chat-msg-" + e.chatterID
	}
	if e.badges == nil {
		e.badges = []map[string]string{{"set_id": "subscriber", "id": "12", "info": "16"}}
	}
	type fragment struct {
		Type      string  `json:"type"`
		Text      string  `json:"text"`
		Cheermote *string `json:"cheermote"`
		Emote     *string `json:"emote"`
		Mention   *string `json:"mention"`
	}
	type message struct {
		Text      string     `json:"text"`
		Fragments []fragment `json:"fragments"`
	}
	type event struct {
		BroadcasterUserID           string  `json:"broadcaster_user_id"`
		BroadcasterUserLogin        string  `json:"broadcaster_user_login"`
		BroadcasterUserName         string  `json:"broadcaster_user_name"`
		ChatterUserID               string  `json:"chatter_user_id"`
		ChatterUserLogin            string  `json:"chatter_user_login"`
		ChatterUserName             string  `json:"chatter_user_name"`
		MessageID                   string  `json:"message_id"`
		Message                     message `json:"message"`
		Color                       string  `json:"color"`
		Badges                      any     `json:"badges"`
		MessageType                 string  `json:"message_type"`
		Cheer                       any     `json:"cheer"`
		Reply                       any     `json:"reply"`
		ChannelPointsCustomRewardID *string `json:"channel_points_custom_reward_id"`
	}
	env := map[string]any{
		"subscription": map[string]any{
			"id":      "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
			"type":    "channel.chat.message",
			"version": "1",
			"status":  "enabled",
			"cost":    0,
			"condition": map[string]string{
				"broadcaster_user_id": e.broadcaster,
				"user_id":             testBroadcaster,
			},
			"transport": map[string]string{
				"method":   "webhook",
				"callback": "https://example.com/api/twitch/eventsub",
			},
			"created_at": "2026-04-01T10:00:00.123456789Z",
		},
		"event": event{
			BroadcasterUserID:    e.broadcaster,
			BroadcasterUserLogin: "streamer",
			BroadcasterUserName:  "Streamer",
			ChatterUserID:        e.chatterID,
			ChatterUserLogin:     e.login,
			ChatterUserName:      e.display,
			MessageID:            e.messageID,
			Message:              message{Text: e.text, Fragments: []fragment{{Type: "text", Text: e.text}}},
			Color:                "#00FF7F",
			Badges:               e.badges,
			MessageType:          "text",
		},
	}
	b, err := json.Marshal(env)
	if err != nil {
		panic(err)
	}
	return b
}

// twitchTimestamp formats t as Twitch does (RFC 3339, nanoseconds, Z).
func twitchTimestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// signedHeaders are the headers Twitch sends with body, signed with secret.
func signedHeaders(secret, messageID, timestamp, messageType string, body []byte) http.Header {
	return hdr(
		eventsub.HeaderMessageID, messageID,
		eventsub.HeaderTimestamp, timestamp,
		eventsub.HeaderSignature, eventsub.Sign(secret, messageID, timestamp, body),
		eventsub.HeaderMessageType, messageType,
		eventsub.HeaderSubscriptionType, "channel.chat.message",
		"Twitch-Eventsub-Message-Retry", "0",
		"Twitch-Eventsub-Subscription-Version", "1",
		"Content-Type", "application/json",
	)
}

// postEventSub posts body with h to the webhook.
func (ts *testServer) postEventSub(t *testing.T, body []byte, h http.Header) response {
	t.Helper()
	return ts.do(t, http.MethodPost, "/api/twitch/eventsub", body, h)
}

// deliver posts body as a freshly signed delivery of the given type.
func (ts *testServer) deliver(t *testing.T, messageID, messageType string, body []byte) response {
	t.Helper()
	return ts.postEventSub(t, body, signedHeaders(testEventSubSecret, messageID,
		twitchTimestamp(ts.clock.Now()), messageType, body))
}

// --- raw JWTs -----------------------------------------------------------------

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rawJWT builds a token with any header and signature algorithm, for the
// attacks SignViewerToken cannot produce. sign nil leaves the signature empty.
func rawJWT(header, claims map[string]any, sign func(signingInput []byte) []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := b64url(h) + "." + b64url(c)
	sig := ""
	if sign != nil {
		sig = b64url(sign([]byte(input)))
	}
	return input + "." + sig
}

func hmacSHA256(key []byte) func([]byte) []byte {
	return func(in []byte) []byte { m := hmac.New(sha256.New, key); m.Write(in); return m.Sum(nil) }
}

func hmacSHA512(key []byte) func([]byte) []byte {
	return func(in []byte) []byte { m := hmac.New(sha512.New, key); m.Write(in); return m.Sum(nil) }
}

// --- log capture --------------------------------------------------------------

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newJobQueue is the real job queue over the test's store, quick to retry.
func newJobQueue(t *testing.T, db *store.DB) *jobs.Queue {
	t.Helper()
	q, err := jobs.New(db, jobs.Config{Attempts: 3, PollInterval: 20 * time.Millisecond,
		Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// runJobs works q's jobs with svc until the test ends.
func runJobs(t *testing.T, q *jobs.Queue, svc *app.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, svc) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Logf("job workers: %v", err) // some tests close the database under them
		}
	})
}

// awaitAnnouncement waits until the payout's announcement job has recorded
// its outcome and returns the payout's history then.
func awaitAnnouncement(t *testing.T, ts *testServer, id string) []historyEvent {
	t.Helper()
	ts.workJobs.Do(func() { runJobs(t, ts.jobs, ts.svc) })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		h := getHistory(t, ts, id)
		if n := len(h); n > 0 && (h[n-1].Type == app.EventAnnouncementSucceeded || h[n-1].Type == app.EventAnnouncementFailed) {
			return h
		}
	}
	t.Fatalf("payout %s: no announcement outcome recorded", id)
	return nil
}
