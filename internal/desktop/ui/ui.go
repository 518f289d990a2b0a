// Package ui is the Desktop's local web interface: a small page served from
// embedded files on 127.0.0.1, a JSON API the page (and the tests) use, and
// server-sent events that push every change within a second.
//
// Access needs the random per-run token printed at start: the link carries
// it once (?token=…), after which it lives in a SameSite=Strict, HttpOnly
// cookie; API clients may send it as X-MGM-Token instead. The Host header
// must be the loopback address, so a web page cannot reach the UI through
// DNS rebinding.
package ui

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/engine"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/eventlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/markers"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

//go:embed static
var static embed.FS

// CookieName carries the token after the first visit.
const CookieName = "mgm_desktop_token"

// HeaderName carries the token for API clients.
const HeaderName = "X-MGM-Token"

// Backend is what the UI drives (*engine.Engine).
type Backend interface {
	Snapshot() engine.Snapshot
	Sync(ctx context.Context) engine.SyncReport
	Action(ctx context.Context, id, action string) error
	Unlock(ctx context.Context, ids []string) error
	Refresh()
}

// SettingsView is the settings as the page shows them (never the API key).
type SettingsView struct {
	EBSURL                 string `json:"ebsUrl"`
	APIKeySet              bool   `json:"apiKeySet"`
	APIKeyStorage          string `json:"apiKeyStorage"`
	PollIntervalSeconds    int    `json:"pollIntervalSeconds"`
	InjectionStrategy      string `json:"injectionStrategy"`
	WoWInstallDirectory    string `json:"wowInstallDirectory"`
	WoWChatLogPathOverride string `json:"wowChatLogPathOverride"`
	WoWProcess             string `json:"wowProcess"`
	WoWSimulatorURL        string `json:"wowSimulatorUrl"`
	// Read-only facts.
	Injector     string `json:"injector"`
	ChatLogPath  string `json:"chatLogPath"`
	ChatLogNote  string `json:"chatLogNote,omitempty"`
	SettingsFile string `json:"settingsFile"`
	FirstRun     bool   `json:"firstRun"`
	Problem      string `json:"problem,omitempty"`
}

// SettingsUpdate is PUT /api/settings. An empty APIKey keeps the stored
// one; ClearAPIKey deletes it.
type SettingsUpdate struct {
	EBSURL                 string `json:"ebsUrl"`
	APIKey                 string `json:"apiKey"`
	ClearAPIKey            bool   `json:"clearApiKey"`
	PollIntervalSeconds    int    `json:"pollIntervalSeconds"`
	InjectionStrategy      string `json:"injectionStrategy"`
	WoWInstallDirectory    string `json:"wowInstallDirectory"`
	WoWChatLogPathOverride string `json:"wowChatLogPathOverride"`
	WoWProcess             string `json:"wowProcess"`
	WoWSimulatorURL        string `json:"wowSimulatorUrl"`
}

// TestRequest is POST /api/settings/test: the values typed in the form,
// tried without saving them (an empty APIKey means the stored one).
type TestRequest struct {
	EBSURL string `json:"ebsUrl"`
	APIKey string `json:"apiKey"`
}

// TestResult is the answer of Test Connection.
type TestResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	Version string `json:"version,omitempty"`
	Pending int    `json:"pending"`
}

// Settings reads, saves and tests the settings (the app implements it).
type Settings interface {
	Get() SettingsView
	Save(ctx context.Context, u SettingsUpdate) (SettingsView, error)
	Test(ctx context.Context, r TestRequest) TestResult
	Windows() ([]inject.Window, error)
}

// Options configure the server.
type Options struct {
	Backend  Backend
	Settings Settings
	Log      *eventlog.Log
	Hub      *Hub
	Token    string
	// Doctor runs the doctor (nil: POST /api/doctor answers 501).
	Doctor func(ctx context.Context) engine.DoctorReport
	// Heartbeat keeps event streams alive through idle periods (default 15 s).
	Heartbeat time.Duration
	// Controls returns the EBS client for the Controls panel, nil while the
	// EBS is not configured (nil func: the same).
	Controls func() Controls
}

// Server is the UI's HTTP handler.
type Server struct {
	o   Options
	mux *http.ServeMux
}

// New builds the handler.
func New(o Options) *Server {
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	s := &Server{o: o, mux: http.NewServeMux()}
	files, _ := fs.Sub(static, "static")
	fileServer := http.FileServer(http.FS(files))
	s.mux.HandleFunc("GET /{$}", s.handleIndex(files))
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", fileServer))
	s.mux.HandleFunc("GET /api/status", s.handleStatus)
	s.mux.HandleFunc("GET /api/payouts", s.handlePayouts)
	s.mux.HandleFunc("GET /api/gifts", s.handleGifts)
	s.mux.HandleFunc("GET /api/events", s.handleEvents)
	s.mux.HandleFunc("GET /api/events/export", s.handleExport)
	s.mux.HandleFunc("POST /api/events/clear", s.handleClear)
	s.mux.HandleFunc("GET /api/stream", s.handleStream)
	s.mux.HandleFunc("GET /api/settings", s.handleGetSettings)
	s.mux.HandleFunc("PUT /api/settings", s.handlePutSettings)
	s.mux.HandleFunc("POST /api/settings/test", s.handleTest)
	s.mux.HandleFunc("GET /api/wow/windows", s.handleWindows)
	s.mux.HandleFunc("POST /api/sync", s.handleSync)
	s.mux.HandleFunc("POST /api/refresh", s.handleRefresh)
	s.mux.HandleFunc("POST /api/unlock", s.handleUnlock)
	s.mux.HandleFunc("POST /api/payouts/{id}/{action}", s.handleAction)
	s.mux.HandleFunc("POST /api/doctor", s.handleDoctor)
	s.controlRoutes()
	return s
}

// ServeHTTP checks the host and the token, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	if !loopbackHost(r.Host) {
		http.Error(w, "the Desktop UI answers on 127.0.0.1 only", http.StatusForbidden)
		return
	}
	if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet && r.URL.Path == "/" {
		if !s.tokenOK(t) {
			http.Error(w, "this link's token is not this run's; use the link mgm-desktop printed", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: t, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/", http.StatusSeeOther) // drop the token from the address bar
		return
	}
	if !s.authorized(r) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			serve.JSON(w, http.StatusUnauthorized, errorBody{"unauthorized", "send the token printed at start (cookie or " + HeaderName + ")"})
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "Open the link mgm-desktop printed when it started (it contains this run's access token).\n")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A cross-site form cannot carry the SameSite cookie, but refuse a
		// foreign Origin explicitly as well.
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
			serve.JSON(w, http.StatusForbidden, errorBody{"forbidden_origin", "requests from other sites are refused"})
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (s *Server) tokenOK(t string) bool {
	return s.o.Token != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.o.Token)) == 1
}

func (s *Server) authorized(r *http.Request) bool {
	if t := r.Header.Get(HeaderName); t != "" {
		return s.tokenOK(t)
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return s.tokenOK(c.Value)
	}
	return false
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		serve.JSON(w, http.StatusBadRequest, errorBody{"invalid_payload", err.Error()})
		return false
	}
	return true
}

// handleIndex serves the page with the current view embedded as JSON, so
// the first paint needs no round trip (the event stream takes over after).
func (s *Server) handleIndex(files fs.FS) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(files, "index.html")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		// json.Marshal escapes <, > and &, so the data cannot close the tag.
		data, err := json.Marshal(s.current())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		page := strings.Replace(string(b), "<!--INITIAL-->",
			`<script id="initial" type="application/json">`+string(data)+`</script>`, 1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
		io.WriteString(w, page)
	}
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	serve.JSON(w, http.StatusOK, s.o.Backend.Snapshot())
}

func (s *Server) handlePayouts(w http.ResponseWriter, r *http.Request) {
	p := s.o.Backend.Snapshot().Payouts
	if p == nil {
		p = []engine.PayoutView{}
	}
	serve.JSON(w, http.StatusOK, p)
}

func (s *Server) handleGifts(w http.ResponseWriter, r *http.Request) {
	snap := s.o.Backend.Snapshot()
	serve.JSON(w, http.StatusOK, map[string]any{"gifts": nonNil(snap.Gifts), "roulettes": nonNil(snap.Roulettes), "problem": snap.GiftProblem})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	serve.JSON(w, http.StatusOK, nonNil(s.o.Log.Newest(n)))
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="mgm-desktop-events-`+time.Now().Format("20060102-150405")+`.txt"`)
	io.WriteString(w, s.o.Log.Export())
}

func (s *Server) handleClear(w http.ResponseWriter, r *http.Request) {
	s.o.Log.Clear()
	serve.JSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// update is one server-sent event: everything the page shows.
type update struct {
	Status   engine.Snapshot  `json:"status"`
	Events   []eventlog.Entry `json:"events"`
	Settings SettingsView     `json:"settings"`
}

func (s *Server) current() update {
	return update{Status: s.o.Backend.Snapshot(), Events: nonNil(s.o.Log.Newest(300)), Settings: s.o.Settings.Get()}
}

// handleStream pushes the whole view on every change (coalesced over 100 ms,
// so a burst of changes is one message and any change shows within a second).
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch, unsubscribe := s.o.Hub.Subscribe()
	defer unsubscribe()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	send := func() error {
		b, err := json.Marshal(s.current())
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: update\ndata: %s\n\n", b); err != nil {
			return err
		}
		fl.Flush()
		return nil
	}
	if err := send(); err != nil {
		return
	}
	beat := time.NewTicker(s.o.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case <-ch:
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			drain(ch)
			if err := send(); err != nil {
				return
			}
		}
	}
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func (s *Server) handleGetSettings(w http.ResponseWriter, r *http.Request) {
	serve.JSON(w, http.StatusOK, s.o.Settings.Get())
}

func (s *Server) handlePutSettings(w http.ResponseWriter, r *http.Request) {
	var u SettingsUpdate
	if !decode(w, r, &u) {
		return
	}
	v, err := s.o.Settings.Save(r.Context(), u)
	if err != nil {
		serve.JSON(w, http.StatusBadRequest, errorBody{"invalid_settings", err.Error()})
		return
	}
	s.o.Hub.Notify()
	serve.JSON(w, http.StatusOK, v)
}

func (s *Server) handleTest(w http.ResponseWriter, r *http.Request) {
	var t TestRequest
	if !decode(w, r, &t) {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	serve.JSON(w, http.StatusOK, s.o.Settings.Test(ctx, t))
}

func (s *Server) handleWindows(w http.ResponseWriter, r *http.Request) {
	ws, err := s.o.Settings.Windows()
	if err != nil {
		serve.JSON(w, http.StatusInternalServerError, errorBody{"windows_unavailable", err.Error()})
		return
	}
	serve.JSON(w, http.StatusOK, nonNil(ws))
}

// handleSync runs Sync/Inject detached from the browser request: closing or
// reloading the page must not stop it half-way between PATCHes. The timeout
// bounds it instead.
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	serve.JSON(w, http.StatusOK, s.o.Backend.Sync(ctx))
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	s.o.Backend.Refresh()
	serve.JSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) handleUnlock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IDs []string `json:"ids"`
	}
	if !decode(w, r, &body) {
		return
	}
	for _, id := range body.IDs {
		if !markers.IsUUID(id) {
			serve.JSON(w, http.StatusBadRequest, errorBody{"invalid_payload", fmt.Sprintf("%q is not a payout id", id)})
			return
		}
	}
	if err := s.o.Backend.Unlock(r.Context(), body.IDs); err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, engine.ErrAlreadyMailed) {
			status = http.StatusConflict // the Desktop's own refusal, not the EBS's
		}
		serve.JSON(w, status, errorBody{"unlock_failed", engine.ExplainEBS(s.o.Backend.Snapshot().EBS.URL, err)})
		return
	}
	serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "unlocked": body.IDs})
}

func (s *Server) handleAction(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	if !markers.IsUUID(id) {
		serve.JSON(w, http.StatusBadRequest, errorBody{"invalid_payload", "not a payout id"})
		return
	}
	switch action {
	case "mark-sent", "mark-failed", "cancel", "unlock":
	default:
		serve.JSON(w, http.StatusNotFound, errorBody{"not_found", "actions: mark-sent, mark-failed, cancel, unlock"})
		return
	}
	if err := s.o.Backend.Action(r.Context(), id, action); err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, engine.ErrNotConfigured) || errors.Is(err, engine.ErrAlreadyMailed) {
			status = http.StatusConflict
		}
		serve.JSON(w, status, errorBody{"action_failed", engine.ExplainEBS(s.o.Backend.Snapshot().EBS.URL, err)})
		return
	}
	serve.JSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// DoctorResult is POST /api/doctor's answer: OK when the bridge answered,
// Text the report to paste into a bug report.
type DoctorResult struct {
	OK     bool                `json:"ok"`
	Text   string              `json:"text"`
	Report engine.DoctorReport `json:"report"`
}

// DoctorTimeout bounds a doctor run: its handshake, and the rest of one in
// flight, with the ping's wait for the typing guard.
const DoctorTimeout = 3 * time.Minute

func (s *Server) handleDoctor(w http.ResponseWriter, r *http.Request) {
	if s.o.Doctor == nil {
		serve.JSON(w, http.StatusNotImplemented, errorBody{"no_doctor", "this Desktop has no doctor"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), DoctorTimeout)
	defer cancel()
	rep := s.o.Doctor(ctx)
	serve.JSON(w, http.StatusOK, DoctorResult{OK: rep.OK, Text: rep.Text(), Report: rep})
}

// Hub fans change notifications out to the open event streams.
type Hub struct {
	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[chan struct{}]struct{}{}} }

// Notify wakes every subscriber (never blocks).
func (h *Hub) Notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Subscribe returns a channel that receives after changes, and its cancel.
func (h *Hub) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}
