// Package synthdesktop is the synthetic Desktop stand-in (`mgm-sim desktop`):
// on request it plays the Desktop's part of a payout — record consent, move
// to InProgress, then Sent — through the same EBS client the real Desktop
// uses, and reports each step. The predecessor's CI drove it the same way.
package synthdesktop

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

// Config is what the stand-in needs.
type Config struct {
	BackendBaseURL string // SyntheticDesktop__BackendBaseUrl
	APIKey         string // Mgm__ApiKey
	Now            func() time.Time
	// ClientOptions tune the EBS client (tests shorten retries).
	ClientOptions []ebsclient.Option
}

// Step is one EBS call of a run.
type Step struct {
	Name        string `json:"name"`
	StatusCode  int    `json:"statusCode"`
	BodySnippet string `json:"bodySnippet"`
}

// Run is the outcome of the last sequence.
type Run struct {
	OK             bool    `json:"ok"`
	Steps          []Step  `json:"steps"`
	Error          *string `json:"error"`
	CompletedAtUTC *string `json:"completedAtUtc"`
}

// Handler serves the stand-in's routes.
type Handler struct {
	cfg Config
	mux *http.ServeMux

	mu   sync.Mutex // one sequence at a time, like one streamer at one PC
	last Run
}

// New builds the handler.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), last: Run{Steps: []Step{}}}
	h.mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		// Field order as the predecessor wrote it: its health checks compared bytes.
		serve.JSON(w, http.StatusOK, struct {
			Status    string `json:"status"`
			Component string `json:"component"`
		}{"healthy", "SyntheticDesktop"})
	})
	h.mux.HandleFunc("GET /last-run", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		serve.JSON(w, http.StatusOK, h.last)
	})
	h.mux.HandleFunc("POST /run-sequence", h.runSequence)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) runSequence(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var req struct {
		PayoutID      string `json:"payoutId"`
		CharacterName string `json:"characterName"`
	}
	if strings.TrimSpace(h.cfg.APIKey) == "" {
		h.fail(nil, "Mgm:ApiKey is not configured.")
		serve.JSON(w, http.StatusInternalServerError, h.last)
		return
	}
	err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req)
	if _, perr := uuid.Parse(req.PayoutID); err != nil || perr != nil || strings.TrimSpace(req.CharacterName) == "" {
		h.fail(nil, "payoutId and characterName are required.")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var steps []Step
	var current *Step
	client, err := ebsclient.New(h.cfg.BackendBaseURL, h.cfg.APIKey, append(h.cfg.ClientOptions,
		ebsclient.WithUserAgent("mgm-sim-desktop"),
		ebsclient.WithTrace(func(t ebsclient.Trace) {
			// The last attempt of a step is the one that counts.
			current.StatusCode, current.BodySnippet = t.Status, string(t.Body)
		}))...)
	if err != nil {
		h.fail(nil, err.Error())
		serve.JSON(w, http.StatusInternalServerError, h.last)
		return
	}
	ctx := r.Context()
	sequence := []struct {
		name string
		run  func() error
	}{
		{"POST confirm-acceptance", func() error {
			_, err := client.ConfirmAcceptance(ctx, req.PayoutID, req.CharacterName)
			return err
		}},
		{"PATCH status InProgress", func() error {
			_, err := client.SetPayoutStatus(ctx, req.PayoutID, "inProgress")
			return err
		}},
		{"PATCH status Sent", func() error {
			_, err := client.SetPayoutStatus(ctx, req.PayoutID, "sent")
			return err
		}},
	}
	for _, s := range sequence {
		steps = append(steps, Step{Name: s.name})
		current = &steps[len(steps)-1]
		if err := s.run(); err != nil {
			h.fail(steps, fmt.Sprintf("%s failed: %v", s.name, err))
			serve.JSON(w, http.StatusBadGateway, h.last)
			return
		}
	}
	done := h.cfg.Now().UTC().Format(time.RFC3339Nano)
	h.last = Run{OK: true, Steps: steps, CompletedAtUTC: &done}
	serve.JSON(w, http.StatusOK, h.last)
}

func (h *Handler) fail(steps []Step, msg string) {
	if steps == nil {
		steps = []Step{}
	}
	done := h.cfg.Now().UTC().Format(time.RFC3339Nano)
	h.last = Run{OK: false, Steps: steps, Error: &msg, CompletedAtUTC: &done}
}

// Main runs `mgm-sim desktop`.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("desktop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9054", "listen address")
	backend := fs.String("backend", firstNonEmpty(getenv("SyntheticDesktop__BackendBaseUrl"), "http://127.0.0.1:8080"),
		"EBS base URL (env SyntheticDesktop__BackendBaseUrl)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h := New(Config{BackendBaseURL: *backend, APIKey: getenv("Mgm__ApiKey")})
	return Serve(ctx, *listen, h, "SyntheticDesktop", stdout)
}

// Serve listens on addr, prints where, and serves h until ctx ends.
func Serve(ctx context.Context, addr string, h http.Handler, name string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 90 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Fprintf(stdout, "%s listening on http://%s\n", name, ln.Addr())
	return serve.Until(ctx, srv, ln, 5*time.Second)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
