package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/engine"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/eventlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const token = "t0k3n"

type fakeBackend struct {
	mu      sync.Mutex
	snap    engine.Snapshot
	syncs   int
	actions []string
	unlock  []string
	refresh int
}

func (f *fakeBackend) Snapshot() engine.Snapshot { f.mu.Lock(); defer f.mu.Unlock(); return f.snap }
func (f *fakeBackend) Sync(context.Context) engine.SyncReport {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs++
	return engine.SyncReport{OK: true, Message: "1 payouts InProgress"}
}
func (f *fakeBackend) Action(_ context.Context, id, a string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a == "mark-sent" && id == "00000000-0000-4000-8000-000000000009" {
		return &ebsclient.Error{Status: 409, Code: mgm.CodeTerminalStatusChange, Message: "the payout is Sent"}
	}
	f.actions = append(f.actions, a+" "+id)
	return nil
}
func (f *fakeBackend) Unlock(_ context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unlock = append(f.unlock, ids...)
	return nil
}
func (f *fakeBackend) Refresh() { f.mu.Lock(); f.refresh++; f.mu.Unlock() }

type fakeSettings struct {
	mu    sync.Mutex
	v     SettingsView
	saved []SettingsUpdate
}

func (f *fakeSettings) Get() SettingsView { f.mu.Lock(); defer f.mu.Unlock(); return f.v }
func (f *fakeSettings) Save(_ context.Context, u SettingsUpdate) (SettingsView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u.EBSURL == "" {
		return SettingsView{}, errors.New("the EBS URL is required")
	}
	f.saved = append(f.saved, u)
	f.v.EBSURL, f.v.APIKeySet, f.v.FirstRun = u.EBSURL, f.v.APIKeySet || u.APIKey != "", false
	return f.v, nil
}
func (f *fakeSettings) Test(_ context.Context, r TestRequest) TestResult {
	return TestResult{OK: r.APIKey == "good", Message: "tested " + r.EBSURL}
}
func (f *fakeSettings) Windows() ([]inject.Window, error) { return nil, nil }

type fixture struct {
	srv *httptest.Server
	be  *fakeBackend
	st  *fakeSettings
	log *eventlog.Log
	hub *Hub
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, nil) }

// newFixtureWith is newFixture with the server's options adjusted by opts.
func newFixtureWith(t *testing.T, opts func(*Options)) *fixture {
	hub := NewHub()
	f := &fixture{be: &fakeBackend{}, st: &fakeSettings{v: SettingsView{FirstRun: true, SettingsFile: "/x/settings.json"}}, hub: hub}
	f.log = eventlog.New(100, nil, nil, hub.Notify)
	o := Options{Backend: f.be, Settings: f.st, Log: f.log, Hub: hub, Token: token}
	if opts != nil {
		opts(&o)
	}
	f.srv = httptest.NewServer(New(o))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) do(t *testing.T, method, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if _, ok := hdr[HeaderName]; !ok {
		req.Header.Set(HeaderName, token)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	if k := hdr["Host"]; k != "" {
		req.Host = k
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestTokenCookieAndHost(t *testing.T) {
	f := newFixture(t)
	if r, _ := f.do(t, "GET", "/api/status", "", map[string]string{HeaderName: ""}); r.StatusCode != 401 {
		t.Fatalf("no token: %d", r.StatusCode)
	}
	if r, _ := f.do(t, "GET", "/api/status", "", map[string]string{HeaderName: "wrong"}); r.StatusCode != 401 {
		t.Fatalf("wrong token: %d", r.StatusCode)
	}
	if r, body := f.do(t, "GET", "/", "", map[string]string{HeaderName: ""}); r.StatusCode != 401 || !strings.Contains(body, "link") {
		t.Fatalf("page without token: %d %s", r.StatusCode, body)
	}
	if r, _ := f.do(t, "GET", "/?token=nope", "", map[string]string{HeaderName: ""}); r.StatusCode != 401 {
		t.Fatalf("bad link: %d", r.StatusCode)
	}
	// The link sets the cookie and drops the token from the address.
	r, _ := f.do(t, "GET", "/?token="+token, "", map[string]string{HeaderName: ""})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("link: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	var c *http.Cookie
	for _, k := range r.Cookies() {
		if k.Name == CookieName {
			c = k
		}
	}
	if c == nil || c.Value != token || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", c)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
	req.AddCookie(c)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("page with cookie: %v %v", resp, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Sync / Inject") || !strings.Contains(string(page), `<script id="initial" type="application/json">{"status":`) {
		t.Fatal("not the page, or no initial data")
	}
	if r, body := f.do(t, "GET", "/static/app.js", "", nil); r.StatusCode != 200 || !strings.Contains(body, "EventSource") {
		t.Fatalf("app.js %d", r.StatusCode)
	}
	// DNS rebinding: a foreign Host is refused even with the token.
	if r, _ := f.do(t, "GET", "/api/status", "", map[string]string{"Host": "evil.example:80"}); r.StatusCode != 403 {
		t.Fatalf("foreign host: %d", r.StatusCode)
	}
	if r, _ := f.do(t, "GET", "/api/status", "", map[string]string{"Host": "localhost:1234"}); r.StatusCode != 200 {
		t.Fatalf("localhost: %d", r.StatusCode)
	}
	// A cross-site POST is refused.
	if r, _ := f.do(t, "POST", "/api/sync", "", map[string]string{"Origin": "https://evil.example"}); r.StatusCode != 403 || f.be.syncs != 0 {
		t.Fatalf("cross-site: %d", r.StatusCode)
	}
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	f.be.snap.Configured = true
	f.be.snap.Payouts = []engine.PayoutView{{ID: "00000000-0000-4000-8000-000000000001", CharacterName: "Thrall", Status: "InProgress", Accepted: true}}
	r, body := f.do(t, "GET", "/api/status", "", nil)
	var snap engine.Snapshot
	if r.StatusCode != 200 || json.Unmarshal([]byte(body), &snap) != nil || !snap.Configured || snap.Payouts[0].CharacterName != "Thrall" {
		t.Fatalf("%d %s", r.StatusCode, body)
	}
	if _, body := f.do(t, "GET", "/api/payouts", "", nil); !strings.Contains(body, `"accepted":true`) {
		t.Fatal(body)
	}
	if _, body := f.do(t, "GET", "/api/gifts", "", nil); body != `{"gifts":[],"problem":"","roulettes":[]}`+"\n" {
		t.Fatal(body)
	}
	if _, body := f.do(t, "POST", "/api/sync", "", map[string]string{"Origin": f.srv.URL}); !strings.Contains(body, `"ok":true`) || f.be.syncs != 1 {
		t.Fatal(body)
	}
	id := "00000000-0000-4000-8000-000000000001"
	for _, a := range []string{"mark-sent", "mark-failed", "cancel", "unlock"} {
		if r, body := f.do(t, "POST", "/api/payouts/"+id+"/"+a, "", nil); r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", a, r.StatusCode, body)
		}
	}
	if len(f.be.actions) != 4 || f.be.actions[0] != "mark-sent "+id {
		t.Fatal(f.be.actions)
	}
	if r, _ := f.do(t, "POST", "/api/payouts/"+id+"/explode", "", nil); r.StatusCode != 404 {
		t.Fatal("unknown action")
	}
	if r, _ := f.do(t, "POST", "/api/payouts/not-an-id/cancel", "", nil); r.StatusCode != 400 {
		t.Fatal("bad id")
	}
	if r, body := f.do(t, "POST", "/api/payouts/00000000-0000-4000-8000-000000000009/mark-sent", "", nil); r.StatusCode != 502 ||
		!strings.Contains(body, "This payout is already finished (Sent, Failed or Cancelled) on the EBS, so it cannot change any more (the payout is Sent).") {
		t.Fatalf("EBS refusal: %d %s", r.StatusCode, body)
	}
	if r, _ := f.do(t, "POST", "/api/unlock", `{"ids":["`+id+`"]}`, nil); r.StatusCode != 200 || len(f.be.unlock) != 1 {
		t.Fatal("unlock")
	}
	if r, _ := f.do(t, "POST", "/api/unlock", `{"ids":["x"]}`, nil); r.StatusCode != 400 {
		t.Fatal("unlock bad id")
	}
	if r, _ := f.do(t, "POST", "/api/refresh", "", nil); r.StatusCode != 200 || f.be.refresh != 1 {
		t.Fatal("refresh")
	}
	slog.New(f.log).Info("first")
	slog.New(f.log).Warn("second")
	if _, body := f.do(t, "GET", "/api/events?limit=1", "", nil); !strings.Contains(body, "second") || strings.Contains(body, "first") {
		t.Fatal(body)
	}
	r, body = f.do(t, "GET", "/api/events/export", "", nil)
	if !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") || strings.Index(body, "second") > strings.Index(body, "first") {
		t.Fatal(body)
	}
	f.do(t, "POST", "/api/events/clear", "", nil)
	if _, body := f.do(t, "GET", "/api/events", "", nil); body != "[]\n" {
		t.Fatal(body)
	}
}

func TestSettingsAPI(t *testing.T) {
	f := newFixture(t)
	if _, body := f.do(t, "GET", "/api/settings", "", nil); !strings.Contains(body, `"firstRun":true`) || strings.Contains(body, "apiKey\"") {
		t.Fatal(body)
	}
	if r, body := f.do(t, "PUT", "/api/settings", `{"ebsUrl":""}`, nil); r.StatusCode != 400 || !strings.Contains(body, "required") {
		t.Fatalf("%d %s", r.StatusCode, body)
	}
	if r, _ := f.do(t, "PUT", "/api/settings", `{"ebsUrl":"http://x","bogus":1}`, nil); r.StatusCode != 400 {
		t.Fatal("unknown field accepted")
	}
	r, body := f.do(t, "PUT", "/api/settings", `{"ebsUrl":"http://127.0.0.1:8080","apiKey":"k","pollIntervalSeconds":2}`, nil)
	if r.StatusCode != 200 || !strings.Contains(body, `"apiKeySet":true`) || strings.Contains(body, `"k"`) {
		t.Fatalf("%d %s", r.StatusCode, body)
	}
	if f.st.saved[0].PollIntervalSeconds != 2 {
		t.Fatal(f.st.saved)
	}
	if _, body := f.do(t, "POST", "/api/settings/test", `{"ebsUrl":"http://e","apiKey":"good"}`, nil); !strings.Contains(body, `"ok":true`) {
		t.Fatal(body)
	}
	if _, body := f.do(t, "GET", "/api/wow/windows", "", nil); body != "[]\n" {
		t.Fatal(body)
	}
}

// Changes reach an open event stream within a second.
func TestStreamPushesChanges(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/stream", nil)
	req.Header.Set(HeaderName, token)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%v %v", resp, err)
	}
	defer resp.Body.Close()
	updates := make(chan update, 10)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var u update
				json.Unmarshal([]byte(data), &u)
				updates <- u
			}
		}
	}()
	first := <-updates
	if first.Status.Configured || !first.Settings.FirstRun {
		t.Fatalf("%+v", first)
	}
	f.be.mu.Lock()
	f.be.snap.Configured = true
	f.be.snap.WoW.Found = true
	f.be.mu.Unlock()
	start := time.Now()
	slog.New(f.log).Info("WoW found")
	select {
	case u := <-updates:
		if !u.Status.Configured || !u.Status.WoW.Found || len(u.Events) != 1 || u.Events[0].Message != "WoW found" {
			t.Fatalf("%+v", u)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("pushed after %s", d)
		}
	case <-time.After(time.Second):
		t.Fatal("no push within a second")
	}
	// A burst of changes is coalesced into few messages.
	for i := 0; i < 50; i++ {
		slog.New(f.log).Info("burst", "n", i)
	}
	time.Sleep(400 * time.Millisecond)
	if n := len(updates); n > 3 {
		t.Fatalf("%d messages for one burst", n)
	}
}

func TestLoopbackHost(t *testing.T) {
	for h, want := range map[string]bool{"127.0.0.1:80": true, "localhost:5": true, "[::1]:9": true, "127.0.0.1": true,
		"example.com:80": false, "10.0.0.1:80": false, "": false} {
		if loopbackHost(h) != want {
			t.Errorf("%q", h)
		}
	}
}
