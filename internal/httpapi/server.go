// Package httpapi is the EBS's HTTP surface: routes, authentication, error
// shape, limits, CORS, logs and metrics. Handlers translate between HTTP and
// the use cases of package app; they hold no game rules.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/metrics"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// Body limits (ebs.md § HTTP conventions).
const (
	apiBodyLimit      = 64 << 10
	eventSubBodyLimit = 1 << 20
)

// SubscriberChecker answers whether a viewer subscribes to the channel (Helix).
type SubscriberChecker interface {
	IsSubscriber(ctx context.Context, twitchUserID string) (bool, error)
}

// Deps is what the server needs; main wires it.
type Deps struct {
	Service     *app.Service
	Config      config.Config
	Verifier    *auth.ViewerVerifier
	APIKeys     auth.APIKeys
	Subscribers SubscriberChecker // nil: only DevSkipSubscriberCheck lets claims through
	Logger      *slog.Logger
	Now         func() time.Time
	Version     string
	Metrics     *metrics.Metrics // nil: a fresh registry
	DevPages    http.Handler     // mounted under /dev/ in Development only; nil: no dev pages (404)
	// Revocations hears of each EventSub revocation once; nil: logged only.
	Revocations RevocationHandler
	// ReadyDetail, when set, adds the named states (the Twitch connection) to
	// /readyz's answer; they inform, they never make the replica unready.
	ReadyDetail func() map[string]any
	// PushReceipts hears the push seq viewers' panels report having
	// received (X-Mgm-Push-Seq); nil: the header is ignored.
	PushReceipts PushReceipts
}

// PushReceipts records viewers' confirmations of Extension PubSub pushes.
type PushReceipts interface {
	ViewerConfirmed(seq int64)
}

// Server serves the EBS API.
type Server struct {
	svc         *app.Service
	cfg         config.Config
	verifier    *auth.ViewerVerifier
	apiKeys     auth.APIKeys
	subscribers SubscriberChecker
	log         *slog.Logger
	now         func() time.Time
	version     string
	limiter     *limiter
	requests    *requestLog
	stateCache  atomic.Pointer[stateBody]
	metrics     *metrics.Metrics
	mux         *http.ServeMux
	ready       readiness
	revocations RevocationHandler
	readyDetail func() map[string]any
	receipts    PushReceipts
	proofs      proofCache
}

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{
		svc: d.Service, cfg: d.Config, verifier: d.Verifier, apiKeys: d.APIKeys, subscribers: d.Subscribers,
		log: d.Logger, now: d.Now, version: d.Version, metrics: d.Metrics, mux: http.NewServeMux(),
		revocations: d.Revocations, readyDetail: d.ReadyDetail, receipts: d.PushReceipts,
	}
	if s.metrics == nil {
		s.metrics = metrics.New()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.requests = newRequestLog(s.log, s.now)
	rl := d.Config.RateLimits
	s.limiter = newLimiter(map[string]int{
		classViewerRead: rl.ViewerReads, classViewerWrite: rl.ViewerWrites,
		classDesktop: rl.Desktop, classAnonymous: rl.Anonymous,
	}, s.now)
	s.routes()
	if d.DevPages != nil && d.Config.Development() {
		s.mux.Handle("GET /dev/", d.DevPages)
		s.mux.Handle("POST /dev/", d.DevPages) // the pages check the origin of what they change
	}
	return s
}

func (s *Server) routes() {
	m := s.mux
	// Viewer (extension JWT).
	m.HandleFunc("GET /api/roulette/state", s.viewer(classViewerRead, false, s.handleRouletteState))
	m.HandleFunc("GET /api/pool/me", s.viewer(classViewerRead, true, s.handlePoolMe))
	m.HandleFunc("DELETE /api/pool/me", s.viewer(classViewerWrite, true, s.handleLeavePool))
	m.HandleFunc("GET /api/payouts/my-last", s.viewer(classViewerRead, true, s.handleMyLastPayout))
	m.HandleFunc("POST /api/payouts/claim", s.viewer(classViewerWrite, true, s.handleClaim))
	m.HandleFunc("GET /api/streamers/{streamerId}/gift-queue", s.viewer(classViewerRead, false, s.handleViewerGiftQueue))
	m.HandleFunc("POST /api/gift-requests", s.viewer(classViewerWrite, true, s.handleCreateGift))
	// Desktop (API key).
	m.HandleFunc("GET /api/payouts/pending", s.desktop(s.handlePendingPayouts))
	m.HandleFunc("GET /api/payouts/{id}", s.uuidPath(s.desktop(s.handlePayout)))
	m.HandleFunc("GET /api/payouts/{id}/history", s.uuidPath(s.desktop(s.handlePayoutHistory)))
	m.HandleFunc("PATCH /api/payouts/{id}/status", s.uuidPath(s.desktop(s.handlePayoutStatus)))
	m.HandleFunc("POST /api/payouts/{id}/confirm-acceptance", s.uuidPath(s.desktop(s.handleConfirmAcceptance)))
	m.HandleFunc("GET /api/roulette/candidate", s.desktop(s.handleCandidate))
	m.HandleFunc("POST /api/roulette/verify-candidate", s.desktop(s.handleVerifyCandidate))
	m.HandleFunc("GET /api/gift-requests", s.desktop(s.handleGiftRequests))
	m.HandleFunc("PATCH /api/gift-requests/{id}", s.uuidPath(s.desktop(s.handlePatchGift)))
	m.HandleFunc("POST /api/gift-requests/{id}/select-item", s.uuidPath(s.desktop(s.handleSelectGiftItem)))
	m.HandleFunc("POST /api/gift-requests/{id}/confirm", s.uuidPath(s.desktop(s.handleConfirmGift)))
	m.HandleFunc("GET /api/streamer/controls", s.desktop(s.handleStreamerControls))
	m.HandleFunc("POST /api/streamer/roulette/pause", s.desktop(s.handlePause))
	m.HandleFunc("POST /api/streamer/roulette/resume", s.desktop(s.handleResume))
	m.HandleFunc("POST /api/streamer/pool/remove", s.desktop(s.handleRemoveEntrant))
	m.HandleFunc("GET /api/streamer/bans", s.desktop(s.handleBans))
	m.HandleFunc("POST /api/streamer/bans", s.desktop(s.handleBan))
	m.HandleFunc("DELETE /api/streamer/bans/{twitchUserId}", s.desktop(s.handleUnban))
	m.HandleFunc("GET /api/streamer/history", s.desktop(s.handleHistory))
	m.HandleFunc("POST /api/e2e/prepare-pending-payout", s.harnessEnabled(s.desktop(s.handlePreparePendingPayout)))
	// Twitch (HMAC), not rate limited: Twitch retries and would eventually revoke us.
	m.HandleFunc("POST /api/twitch/eventsub", s.handleEventSub)
	// Anonymous.
	m.HandleFunc("GET /api/version", s.anonymous(s.handleVersion))
	// Public: anyone may check a draw, with or without the panel (mgm-sim verify-draw).
	m.HandleFunc("GET /api/roulette/cycles/{id}/proof", s.uuidPath(s.anonymous(s.handleDrawProof)))
	m.HandleFunc("GET /healthz", s.handleHealthz)
	m.HandleFunc("GET /readyz", s.handleReadyz)
	m.HandleFunc("GET /metrics", s.mainMetrics())
}

// FlushRequestLogs writes the request summaries of the hot viewer reads
// counted so far, without waiting for the minute to end: call it once the
// HTTP server has shut down, so the last minute is not lost.
func (s *Server) FlushRequestLogs() { s.requests.flush() }

// Handler returns the complete handler with all middleware.
func (s *Server) Handler() http.Handler {
	return s.observe(s.cors(http.HandlerFunc(s.dispatch)))
}

// dispatch routes through the mux, replacing its plain-text 404 and 405
// answers with the standard error shape.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if r.RequestURI == "*" {
		// The asterisk form names no resource; the mux would redirect it.
		s.writeError(w, r, mgm.Errorf(mgm.CodeNotFound, "No such route."))
		return
	}
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		setRoute(r, pattern)
		s.mux.ServeHTTP(w, r) // routes again: only ServeHTTP fills in the path values
		return
	}
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		setRoute(r, "method_not_allowed")
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.writeError(w, r, mgm.Errorf(ebsapi.CodeMethodNotAllowed, "Method %s is not allowed here.", r.Method))
		return
	}
	if rec.status >= 300 && rec.status < 400 {
		// The mux's redirect to a cleaned path.
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		return
	}
	s.writeError(w, r, mgm.Errorf(mgm.CodeNotFound, "No such route."))
}

// uuidPath answers 404 for a route id that is not a UUID, before anything
// else — unless the path is another route's literal path (GET
// /api/payouts/claim), which deserves that route's 405.
func (s *Server) uuidPath(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if _, err := uuid.Parse(id); err == nil && len(id) == 36 {
			h(w, r)
			return
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := s.mux.Handler(probe); pattern != "" && !strings.Contains(pattern, "{id}") {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, mgm.Errorf(ebsapi.CodeMethodNotAllowed, "Method %s is not allowed here.", r.Method))
			return
		}
		s.writeError(w, r, mgm.Errorf(mgm.CodeNotFound, "Not found: ids in this route are UUIDs."))
	}
}

// headerRecorder captures what the mux's internal handlers would answer.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.status = code }

func (s *Server) handleMetrics() http.HandlerFunc {
	prom := promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{})
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.MetricsToken != "" {
			tok, ok := bearer(r)
			if !ok || !auth.ConstantTimeEqual(tok, s.cfg.MetricsToken) {
				s.writeError(w, r, mgm.Errorf(mgm.CodeUnauthorized, "Metrics need 'Authorization: Bearer <Mgm__MetricsToken>'."))
				return
			}
		}
		prom.ServeHTTP(w, r)
	}
}

// metricsOnMain reports whether the main listener serves /metrics. In
// Production the numbers (routes, outcomes, the process's memory) are not
// for everyone: only a token or an explicit Mgm__MetricsPublic opens them.
func (s *Server) metricsOnMain() bool {
	return s.cfg.Development() || s.cfg.MetricsPublic || s.cfg.MetricsToken != ""
}

// MetricsNote says, for the startup banner, how the main listener serves
// /metrics.
func (s *Server) MetricsNote() string {
	switch {
	case s.cfg.MetricsToken != "":
		return "needs Authorization: Bearer <Mgm__MetricsToken>"
	case s.cfg.Development():
		return "open (Development)"
	case s.cfg.MetricsPublic:
		return "open (Mgm__MetricsPublic=true)"
	default:
		return "not served (Production: set Mgm__MetricsListen, Mgm__MetricsToken or Mgm__MetricsPublic)"
	}
}

// mainMetrics is GET /metrics on the main listener.
func (s *Server) mainMetrics() http.HandlerFunc {
	serve := s.anonymous(s.handleMetrics())
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.metricsOnMain() {
			s.writeError(w, r, mgm.Errorf(mgm.CodeNotFound, "No such route."))
			return
		}
		serve(w, r)
	}
}

// MetricsHandler is the handler of the separate metrics listener
// (Mgm__MetricsListen): GET /metrics, with the token when one is set, and
// nothing else. It is not rate limited: it is meant for a private address
// that only the scraper reaches.
func (s *Server) MetricsHandler() http.Handler {
	metrics := s.handleMetrics()
	return s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/metrics":
			setRoute(r, "metrics_listener_unmatched")
			s.writeError(w, r, mgm.Errorf(mgm.CodeNotFound, "This listener serves only GET /metrics."))
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			setRoute(r, "method_not_allowed")
			w.Header().Set("Allow", "GET, HEAD")
			s.writeError(w, r, mgm.Errorf(ebsapi.CodeMethodNotAllowed, "Method %s is not allowed here.", r.Method))
		default:
			setRoute(r, "metrics_listener")
			metrics(w, r)
		}
	}))
}

// NewHTTPServer wraps a handler with the timeouts that keep slow clients from
// pinning connections. Serve it on Server.Listener, so that the answers
// net/http gives on its own are in the error shape too.
func NewHTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnContext:       connContext,
		// "OPTIONS *" reaches our handler (a 404 in our shape) instead of
		// net/http's bare 200 without a request id.
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
