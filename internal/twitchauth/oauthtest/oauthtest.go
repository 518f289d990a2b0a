// Package oauthtest is a Twitch OAuth server for tests (id.twitch.tv's
// device, token and validate endpoints), in the shapes Twitch documents:
// form posts in, JSON out, errors as {"status":N,"message":"…"}. Tokens it
// issues contain "-secret-" so that tests can look for leaks.
package oauthtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is the test OAuth server. Set the exported fields before use.
type Server struct {
	URL          string
	ClientID     string
	ClientSecret string
	// Scopes granted: by default exactly those asked for.
	Scopes    []string
	UserID    string
	Login     string
	ExpiresIn time.Duration
	// Interval is the device flow's polling interval (Twitch says 5 s).
	Interval time.Duration

	now func() time.Time
	t   testing.TB

	mu sync.Mutex
	// devicePolls are the answers to successive device-code polls: an error
	// message ("authorization_pending", "slow_down", …) or "" for the grant.
	devicePolls    []string
	polls          int
	seq            int
	access         map[string]time.Time
	refresh        map[string]bool
	issued         []string
	revoked        bool
	refreshCalls   int
	appCalls       int
	validateCalls  int
	refreshGate    chan struct{}
	refreshEntered chan struct{}
	forms          []string
}

// New starts a server, closed when the test ends; now is the clock tokens
// expire by.
func New(t testing.TB, now func() time.Time) *Server {
	s := &Server{ClientID: "cid123", ClientSecret: "csecret", UserID: "141981764", Login: "twitchdev",
		ExpiresIn: 4 * time.Hour, Interval: 5 * time.Second, now: now, t: t,
		access: map[string]time.Time{}, refresh: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// DevicePolls sets the answers to the next device-code polls ("" = approve)
// and restarts their count.
func (s *Server) DevicePolls(answers ...string) {
	s.mu.Lock()
	s.devicePolls, s.polls = answers, 0
	s.mu.Unlock()
}

// Revoke makes every token and refresh token invalid (the user disconnected
// the app), or valid again.
func (s *Server) Revoke(revoked bool) { s.mu.Lock(); s.revoked = revoked; s.mu.Unlock() }

// HoldRefreshes makes refresh requests wait until release is called; entered
// receives once per refresh request that arrived.
func (s *Server) HoldRefreshes() (entered <-chan struct{}, release func()) {
	gate, in := make(chan struct{}), make(chan struct{}, 64)
	s.mu.Lock()
	s.refreshGate, s.refreshEntered = gate, in
	s.mu.Unlock()
	return in, func() { close(gate) }
}

// Counts of requests.
func (s *Server) RefreshCalls() int  { s.mu.Lock(); defer s.mu.Unlock(); return s.refreshCalls }
func (s *Server) AppCalls() int      { s.mu.Lock(); defer s.mu.Unlock(); return s.appCalls }
func (s *Server) ValidateCalls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.validateCalls }
func (s *Server) Polls() int         { s.mu.Lock(); defer s.mu.Unlock(); return s.polls }

// Forms are the device and token endpoints' request bodies, in order.
func (s *Server) Forms() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.forms...)
}

// Issued lists every token handed out (access, refresh, device code), for
// leak checks.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{"DEVICE-secret"}, s.issued...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error writes Twitch's error shape.
func Error(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": status, "message": msg})
}

func (s *Server) scopes(asked string) []string {
	if s.Scopes != nil {
		return s.Scopes
	}
	return strings.Fields(asked)
}

// issue makes a new token pair; the caller holds mu.
func (s *Server) issue() (string, string) {
	s.seq++
	at, rt := fmt.Sprintf("AT-secret-%03d", s.seq), fmt.Sprintf("RT-secret-%03d", s.seq)
	s.access[at] = s.now().Add(s.ExpiresIn)
	s.refresh[rt] = true
	s.issued = append(s.issued, at, rt)
	return at, rt
}

// Valid reports whether Twitch would accept the access token now (for a
// Helix stand-in in the same test).
func (s *Server) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[token]
	return ok && !s.revoked && s.now().Before(exp)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/oauth2/device":
		_ = r.ParseForm()
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm.Encode())
		s.mu.Unlock()
		if r.PostForm.Get("client_id") != s.ClientID {
			Error(w, 400, "invalid client")
			return
		}
		writeJSON(w, 200, map[string]any{"device_code": "DEVICE-secret", "expires_in": 1800, "interval": int(s.Interval / time.Second),
			"user_code": "ABCDEFGH", "verification_uri": "https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH"})
	case r.Method == http.MethodPost && r.URL.Path == "/oauth2/token":
		s.token(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/oauth2/validate":
		s.mu.Lock()
		s.validateCalls++
		s.mu.Unlock()
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "OAuth ")
		if !ok || !s.Valid(tok) {
			Error(w, 401, "invalid access token")
			return
		}
		s.mu.Lock()
		exp := s.access[tok]
		s.mu.Unlock()
		writeJSON(w, 200, map[string]any{"client_id": s.ClientID, "login": s.Login, "scopes": s.grantedScopes(),
			"user_id": s.UserID, "expires_in": int(exp.Sub(s.now()) / time.Second)})
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) grantedScopes() []string {
	if s.Scopes != nil {
		return s.Scopes
	}
	return []string{"channel:bot", "channel:read:subscriptions", "user:bot", "user:read:chat", "user:write:chat"}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	s.mu.Lock()
	s.forms = append(s.forms, f.Encode())
	s.mu.Unlock()
	if f.Get("client_id") != s.ClientID {
		Error(w, 400, "invalid client")
		return
	}
	switch f.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.mu.Lock()
		defer s.mu.Unlock()
		if f.Get("device_code") != "DEVICE-secret" {
			Error(w, 400, "invalid device code")
			return
		}
		ans := "invalid device code"
		if s.polls < len(s.devicePolls) {
			ans = s.devicePolls[s.polls]
		}
		s.polls++
		if ans != "" {
			Error(w, 400, ans)
			return
		}
		at, rt := s.issue()
		writeJSON(w, 200, map[string]any{"access_token": at, "expires_in": int(s.ExpiresIn / time.Second),
			"refresh_token": rt, "scope": s.scopes(f.Get("scopes")), "token_type": "bearer"})
	case "refresh_token":
		s.mu.Lock()
		s.refreshCalls++
		gate, entered := s.refreshGate, s.refreshEntered
		s.mu.Unlock()
		if entered != nil {
			entered <- struct{}{}
		}
		if gate != nil {
			<-gate
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ClientSecret != "" && f.Get("client_secret") != s.ClientSecret {
			Error(w, 400, "invalid client secret")
			return
		}
		rt := f.Get("refresh_token")
		if s.revoked || !s.refresh[rt] {
			writeJSON(w, 400, map[string]any{"error": "Bad Request", "status": 400, "message": "Invalid refresh token"})
			return
		}
		delete(s.refresh, rt) // rotated, as for a public client
		at, nrt := s.issue()
		// Twitch's documented refresh answer has no expires_in.
		writeJSON(w, 200, map[string]any{"access_token": at, "refresh_token": nrt, "scope": s.grantedScopes(), "token_type": "bearer"})
	case "client_credentials":
		s.mu.Lock()
		defer s.mu.Unlock()
		if f.Get("client_secret") != s.ClientSecret {
			Error(w, 403, "invalid client secret")
			return
		}
		s.appCalls++
		s.seq++
		at := fmt.Sprintf("APP-secret-%03d", s.seq)
		s.access[at] = s.now().Add(s.ExpiresIn)
		s.issued = append(s.issued, at)
		writeJSON(w, 200, map[string]any{"access_token": at, "expires_in": int(s.ExpiresIn / time.Second), "token_type": "bearer"})
	default:
		Error(w, 400, "unsupported grant type")
	}
}
