// Package ebs assembles the backend from its parts — store, use cases, HTTP
// API — and runs it until its context ends. cmd/mgm-ebs calls Run; tests call
// it in-process on a free port.
package ebs

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/devpage"
	"github.com/mimirons-goldomatic/mgm/internal/helix"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/metrics"
	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// APIKeyFile holds the generated development API key inside the data folder.
const APIKeyFile = "desktop-api-key.txt"

// Options are the process-level pieces Run does not read from Config.
type Options struct {
	Out     io.Writer    // the startup banner
	Logger  *slog.Logger // structured logs
	Version string       // build version (-ldflags -X)
	Now     func() time.Time
	// Ready, when set, is called with the listening address once requests are served.
	Ready func(addr string)
}

// Run serves until ctx is cancelled, then shuts down gracefully.
func Run(ctx context.Context, cfg config.Config, o Options) error {
	started := time.Now()
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger

	var notes []string
	if cfg.Development() && len(cfg.APIKeys) == 0 {
		key, generated, err := devAPIKey(cfg.DataDir)
		if err != nil {
			return err
		}
		cfg.APIKeys = []string{key}
		path := filepath.Join(cfg.DataDir, APIKeyFile)
		if generated {
			notes = append(notes, fmt.Sprintf("Desktop API key (generated; shown this once, kept in %s):\n    %s", path, key))
		} else {
			notes = append(notes, "Desktop API key: in "+path)
		}
	}
	extKey := cfg.ExtensionSecret
	if len(extKey) == 0 && cfg.Development() {
		extKey = auth.DevExtensionSecret()
		notes = append(notes, "Viewer JWTs: development key (SHA-256 of \"mgm-dev-extension-secret-change-me\")")
	}
	if cfg.EventSubSecret == "" {
		notes = append(notes, "EventSub: signatures NOT verified (Twitch__EventSubSecret not set; Development only)")
	}

	db, where, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	hx := helix.New(cfg.HelixAPIBaseURL, cfg.HelixClientID, cfg.BroadcasterAccessToken, cfg.BroadcasterUserID)
	m := metrics.New()
	svc := app.New(db, app.Options{
		Now: o.Now, Logger: log, Observer: m, BroadcasterID: cfg.BroadcasterUserID,
		SpinInterval: cfg.SpinInterval, Announcer: hx,
	})
	// One tick before serving: the current window's cycle exists and the
	// snapshot is fresh, so the first viewer already sees the real phase and id.
	if err := svc.Tick(ctx); err != nil {
		return fmt.Errorf("start the roulette clock: %w", err)
	}
	var subs httpapi.SubscriberChecker
	if hx.Configured() {
		subs = hx
	} else {
		notes = append(notes, "Helix: not configured (Twitch__BroadcasterAccessToken / Twitch__BroadcasterUserId); calls skipped")
	}
	audience := ""
	if cfg.ValidateAudience {
		audience = cfg.ExtensionClientID
	}
	// Development only: the built extension panel with a stand-in Twitch helper (nil in Production).
	devPages := devpage.ForConfig(cfg, extKey, os.Getenv)
	api := httpapi.New(httpapi.Deps{
		Service: svc, Config: cfg, Logger: log, Now: o.Now, Version: o.Version, Subscribers: subs, Metrics: m,
		DevPages: devPages,
		Verifier: &auth.ViewerVerifier{Key: extKey, BroadcasterUserID: cfg.BroadcasterUserID, Audience: audience, Now: o.Now},
		APIKeys:  auth.NewAPIKeys(cfg.APIKeys),
	})

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := httpapi.NewHTTPServer(cfg.Listen, api.Handler(), log)
	addr := ln.Addr().String()

	fmt.Fprintf(o.Out, "Mimiron's Gold-o-Matic EBS %s — %s mode\n", versionOr(o.Version), cfg.Environment)
	fmt.Fprintf(o.Out, "  Listening:  http://%s  (health: /healthz, ready: /readyz, metrics: /metrics)\n", displayAddr(addr))
	if devPages != nil {
		hint := ""
		if dir := devpage.DirFromEnv(os.Getenv); !devpage.Built(dir) {
			hint = "  (not built: cd extension && npm ci && npm run build)"
		}
		fmt.Fprintf(o.Out, "  Dev panel:  http://%s/dev/panel%s\n", displayAddr(addr), hint)
	}
	fmt.Fprintf(o.Out, "  Store:      %s\n", where)
	for _, n := range notes {
		fmt.Fprintf(o.Out, "  %s\n", n)
	}
	fmt.Fprintf(o.Out, "  Ready in %d ms. Ctrl+C stops.\n", time.Since(started).Milliseconds())

	// The roulette clock and the sweeps run beside the server and stop before
	// the database closes.
	bgCtx, stopBackground := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		svc.RunBackground(bgCtx, tickInterval(cfg.SpinInterval))
	}()
	defer func() {
		stopBackground()
		bg.Wait()
	}()

	if o.Ready != nil {
		o.Ready(addr) // the listener is open: connections queue until Serve accepts them
	}
	log.Info("serving", "addr", addr, "environment", cfg.Environment, "store", db.Dialect())
	// In-flight requests get 10 s to finish once ctx ends.
	if err := serve.Until(ctx, srv, ln, 10*time.Second); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// tickInterval keeps the roulette's moments accurate to a small fraction of
// their length: 0.5 s for 5-minute cycles, less for short development ones.
func tickInterval(cycle time.Duration) time.Duration {
	return min(500*time.Millisecond, max(cycle/100, 20*time.Millisecond))
}

func openStore(ctx context.Context, cfg config.Config) (*store.DB, string, error) {
	if cfg.PostgresDSN != "" {
		db, err := postgres.Open(ctx, cfg.PostgresDSN)
		if err != nil {
			return nil, "", err
		}
		return db, "PostgreSQL", nil
	}
	path := filepath.Join(cfg.DataDir, sqlite.FileName)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, "", err
	}
	abs, _ := filepath.Abs(path)
	return db, "SQLite " + abs, nil
}

// devAPIKey reads the development API key from the data folder, generating
// and storing one (owner-only) on first use.
func devAPIKey(dataDir string) (key string, generated bool, err error) {
	path := filepath.Join(dataDir, APIKeyFile)
	if b, err := os.ReadFile(path); err == nil {
		if k := strings.TrimSpace(string(b)); k != "" {
			return k, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("create data folder: %w", err)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", false, err
	}
	key = "mgm_" + base64.RawURLEncoding.EncodeToString(b)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	return key, true, nil
}

func versionOr(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}

// displayAddr turns a wildcard listen address into one a browser can open.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
