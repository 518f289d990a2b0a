package twitchsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func do(t *testing.T, method, url string, body string, hdr map[string]string) response {
	t.Helper()
	var b any
	if body != "" {
		b = body
	}
	r := testkit.Do(t, nil, method, url, testkit.Header(hdr), b)
	return response{status: r.Status, header: r.Header, body: r.Body}
}

func get(t *testing.T, url string) response { t.Helper(); return do(t, http.MethodGet, url, "", nil) }

func post(t *testing.T, url, body string) response {
	t.Helper()
	return do(t, http.MethodPost, url, body, map[string]string{"Content-Type": "application/json"})
}

// received is one request the fake EBS got.
type received struct {
	header http.Header
	body   []byte
	path   string
}

// fakeEBS records what it receives and answers with reply.
type fakeEBS struct {
	srv   *httptest.Server
	mu    sync.Mutex
	got   []received
	reply func(w http.ResponseWriter, body []byte)
}

func newFakeEBS(t *testing.T, reply func(w http.ResponseWriter, body []byte)) *fakeEBS {
	t.Helper()
	f := &fakeEBS{reply: reply}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, received{header: r.Header.Clone(), body: b, path: r.URL.Path})
		f.mu.Unlock()
		f.reply(w, b)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEBS) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.got...)
}

func (f *fakeEBS) only(t *testing.T) received {
	t.Helper()
	got := f.requests()
	if len(got) != 1 {
		t.Fatalf("fake EBS got %d requests, want 1", len(got))
	}
	if got[0].path != EventSubPath {
		t.Fatalf("fake EBS path = %q", got[0].path)
	}
	return got[0]
}

func trimNL(b []byte) string { return string(bytes.TrimSuffix(b, []byte("\n"))) }

func TestHealthBodiesExact(t *testing.T) {
	cases := []struct {
		name string
		h    http.Handler
		want string
	}{
		{"eventsub", NewEventSub(EventSubOptions{}), `{"status":"ok","service":"MockEventSubWebhook"}`},
		{"jwt", NewJWT(JWTOptions{}), `{"status":"ok","service":"MockExtensionJwt"}`},
		{"helix", NewHelix(HelixOptions{}), `{"status":"healthy","component":"MockHelixApi"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.h)
			defer srv.Close()
			r := get(t, srv.URL+"/health")
			if r.status != http.StatusOK || trimNL(r.body) != c.want {
				t.Fatalf("GET /health = %d %q, want 200 %q", r.status, r.body, c.want)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type = %q", ct)
			}
			if r := do(t, http.MethodPost, srv.URL+"/health", "", nil); r.status != http.StatusMethodNotAllowed {
				t.Fatalf("POST /health = %d, want 405", r.status)
			}
		})
	}
}

func TestParseSettings(t *testing.T) {
	env := map[string]string{
		"Twitch__EventSubSecret":    "from-env",
		"BACKEND__BASEURL":          "http://upper:1",
		"Twitch__BroadcasterUserId": "b-env",
	}
	getenv := func(k string) string { return env[k] }

	s, err := parseSettings(nil, getenv, eventSubKeys, DefaultEventSubListen)
	if err != nil {
		t.Fatal(err)
	}
	if s.listen != DefaultEventSubListen || s.get(KeyEventSubSecret) != "from-env" || s.get(KeyBackendBaseURL) != "http://upper:1" {
		t.Fatalf("env only: %+v", s)
	}

	s, err = parseSettings([]string{
		"--Twitch:EventSubSecret=from-flag", "--backend__baseurl", "http://flag:2",
		"--listen", "127.0.0.1:0", "Twitch:BroadcasterUserId=",
	}, getenv, eventSubKeys, DefaultEventSubListen)
	if err != nil {
		t.Fatal(err)
	}
	if s.listen != "127.0.0.1:0" || s.get(KeyEventSubSecret) != "from-flag" || s.get(KeyBackendBaseURL) != "http://flag:2" || s.get(KeyBroadcasterUserID) != "" {
		t.Fatalf("flags: %+v", s)
	}

	if _, err := parseSettings([]string{"--help"}, getenv, eventSubKeys, ""); err != errHelp {
		t.Fatalf("--help: %v", err)
	}
	for _, bad := range [][]string{{"--Nope:Key=1"}, {"stray"}, {"--listen", "nohost"}, {"--Twitch:EventSubSecret"}} {
		if _, err := parseSettings(bad, getenv, eventSubKeys, ""); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// A key of another stand-in is unknown here.
	if _, err := parseSettings([]string{"--MockHelix:StrictAuth=true"}, getenv, eventSubKeys, ""); err == nil {
		t.Error("foreign key accepted")
	}
}
