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
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/autotls"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/devpage"
	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/extpubsub"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/jobs"
	"github.com/mimirons-goldomatic/mgm/internal/lockfile"
	"github.com/mimirons-goldomatic/mgm/internal/metrics"
	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/twitchauth"
	"github.com/mimirons-goldomatic/mgm/internal/twitchsubs"
)

// APIKeyFile holds the generated development API key inside the data folder.
const APIKeyFile = "desktop-api-key.txt"

// LockFile in the data folder keeps a second process off a SQLite store
// (SQLite allows one writer process, and two migrating a fresh database
// race); it holds the holder's pid.
const LockFile = "mgm-ebs.lock"

// ErrDataDirInUse is matched by the error Run returns when another process
// holds the data folder.
var ErrDataDirInUse = errors.New("data folder in use")

// dataDirInUse names the holder: "another mgm-ebs is using DIR (pid N)".
type dataDirInUse struct{ dir, pid string }

func (e *dataDirInUse) Error() string {
	return fmt.Sprintf("another mgm-ebs is using %s (pid %s)", e.dir, e.pid)
}

func (e *dataDirInUse) Is(target error) bool { return target == ErrDataDirInUse }

// Options are the process-level pieces Run does not read from Config.
type Options struct {
	Out     io.Writer    // the startup banner
	Logger  *slog.Logger // structured logs
	Version string       // build version (-ldflags -X)
	Now     func() time.Time
	// Seed draws each cycle's secret draw seed (see app.Options.Seed). Nil
	// is crypto/rand; tests set it to make a draw order exact.
	Seed func(cycleID string) (drawproof.Seed, error)
	// Ready, when set, is called with the listening address once requests are
	// served (with built-in HTTPS, the HTTPS listener's).
	Ready func(addr string)
	// ChallengeReady, when set and with built-in HTTPS, is called before
	// Ready with the plain-HTTP listener's address (ACME challenges, redirect).
	ChallengeReady func(addr string)
	// UserToken is the broadcaster's refreshing user token for the EventSub
	// WebSocket subscription; nil = Twitch__BroadcasterAccessToken, static.
	UserToken twitchsubs.TokenSource
	// AppToken is the app access token the webhook subscription manager
	// needs; nil = the manager does not run.
	AppToken twitchsubs.TokenSource
	// TwitchSleep waits between the polls of a sign-in started on the
	// development page /dev/twitch; nil is the wall clock.
	TwitchSleep twitchauth.Sleeper
}

// Run serves until ctx is cancelled, then shuts down gracefully.
func Run(ctx context.Context, cfg config.Config, o Options) (err error) {
	started := time.Now()
	o = o.withDefaults()
	b, err := build(ctx, cfg, o)
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, b.db.Close())
		b.releaseLock()
	}()
	ln, err := net.Listen("tcp", b.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", b.cfg.Listen, err)
	}
	var httpLn net.Listener
	if b.tls != nil {
		if httpLn, err = net.Listen("tcp", b.cfg.TLS.HTTPListen); err != nil {
			_ = ln.Close() // the listen error is the one worth reporting
			return fmt.Errorf("listen for HTTP (ACME challenges, redirect to HTTPS) on %s: %w", b.cfg.TLS.HTTPListen, err)
		}
	}
	var metricsLn net.Listener
	if b.cfg.MetricsListen != "" {
		if metricsLn, err = net.Listen("tcp", b.cfg.MetricsListen); err != nil {
			_ = ln.Close() // the listen error is the one worth reporting
			if httpLn != nil {
				_ = httpLn.Close()
			}
			return fmt.Errorf("listen for metrics on %s: %w", b.cfg.MetricsListen, err)
		}
		b.notes = append(b.notes, fmt.Sprintf("Metrics:    http://%s/metrics (own listener); on the main listener /metrics is %s",
			displayAddr(metricsLn.Addr().String()), b.metricsNote))
	} else {
		b.notes = append(b.notes, "Metrics:    /metrics on the main listener is "+b.metricsNote)
	}
	if httpLn != nil {
		b.notes = append(b.notes, b.tlsNotes(ln.Addr().String(), httpLn.Addr().String())...)
	}
	b.banner(o.Out, ln.Addr().String(), o.Version, time.Since(started))
	if metricsLn != nil {
		// The scraper's listener lives and stops with the main one.
		srv := httpapi.NewHTTPServer(b.cfg.MetricsListen, b.metricsHandler, o.Logger)
		errc := make(chan error, 1)
		mctx, stop := context.WithCancel(ctx)
		go func() { errc <- serve.Until(mctx, srv, b.listener(metricsLn), time.Second) }()
		defer func() {
			stop()
			err = errors.Join(err, <-errc)
		}()
	}
	if httpLn != nil {
		// The challenge and redirect listener lives and stops with the main one.
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		srv := httpapi.NewHTTPServer(b.cfg.TLS.HTTPListen, b.tls.HTTPHandler(port, b.handler), o.Logger)
		errc := make(chan error, 1)
		hctx, stop := context.WithCancel(ctx)
		go func() { errc <- serve.Until(hctx, srv, httpLn, time.Second) }()
		defer func() {
			stop()
			err = errors.Join(err, <-errc)
		}()
		if o.ChallengeReady != nil {
			o.ChallengeReady(httpLn.Addr().String())
		}
	}
	return b.serve(ctx, ln, o)
}

func (o Options) withDefaults() Options {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// backend is the assembled EBS: what serve runs and banner describes.
type backend struct {
	// cfg is the configuration as run, with the development API key filled in.
	cfg     config.Config
	db      *store.DB
	store   string // where the data lives: "PostgreSQL" or "SQLite <path>"
	svc     *app.Service
	jobs    *jobs.Queue
	handler http.Handler
	// flushRequestLogs writes the last request summaries once serving stops.
	flushRequestLogs func()
	// metricsHandler serves the Mgm__MetricsListen listener; metricsNote says
	// who may read /metrics, for the banner.
	metricsHandler http.Handler
	metricsNote    string
	// listener wraps each listener so that net/http's own answers are in
	// the API's error shape.
	listener func(net.Listener) net.Listener
	// devPanel says /dev/panel is served; devPanelHint, that it has nothing
	// built to serve yet and how to build it.
	devPanel     bool
	devPanelHint string
	// notes are the development conveniences and missing integrations in
	// effect, one banner line each.
	notes []string
	// lock holds a SQLite data folder (nil with PostgreSQL).
	lock *lockfile.Lock
	// twitch runs beside the server: the EventSub WebSocket client or the
	// webhook subscription manager (nil when neither is configured).
	twitch func(context.Context)
	// twitchUser is the stored broadcaster sign-in, when Helix uses it
	// (nil with Twitch__BroadcasterAccessToken or without a client id).
	twitchUser *twitchauth.UserTokenSource
	// userTokens is the broadcaster's token as Helix gets it (static or
	// the stored sign-in; nil when neither can exist), and appTokens the
	// app access token (nil without Twitch__ClientSecret): for EventSub.
	userTokens twitchauth.TokenSource
	appTokens  *twitchauth.AppTokenSource
	// push sends the roulette to the panel through Extension PubSub (nil
	// when not configured).
	push *extpubsub.Pusher
	// devTwitch is the development page's sign-in (nil in Production);
	// serve stops a flow it left running.
	devTwitch *devpage.TwitchLogin
	// tls is built-in HTTPS (nil without Mgm__TlsDomain).
	tls *autotls.Manager
	// tlsCache says where its certificate is kept, for the banner.
	tlsCache string
}

func (b *backend) releaseLock() {
	if b.lock != nil {
		b.lock.Release()
	}
}

// build assembles store, use cases and HTTP API from cfg. The store is open
// on success; the caller closes b.db.
func build(ctx context.Context, cfg config.Config, o Options) (_ *backend, err error) {
	var lock *lockfile.Lock
	if cfg.PostgresDSN == "" {
		// Before anything reads or writes the folder: the API key file and
		// the database's migrations are not safe against a second process.
		if lock, err = lockDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				lock.Release()
			}
		}()
	}
	var notes []string
	if cfg.Development() && len(cfg.APIKeys) == 0 {
		key, generated, err := devAPIKey(cfg.DataDir)
		if err != nil {
			return nil, err
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
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = db.Close() // the build error is the one worth reporting
		}
	}()
	b := &backend{cfg: cfg, db: db, store: where, notes: notes, lock: lock}
	if err := b.buildTLS(o); err != nil {
		return nil, err
	}

	queue, err := jobs.New(b.db, jobs.Config{Logger: o.Logger, AttemptTimeout: cfg.JobAttemptTimeout, RescueAfter: cfg.JobRescueAfter})
	if err != nil {
		return nil, err
	}
	b.jobs = queue
	m := metrics.New()
	hx, err := b.helixClient(ctx, o, m)
	if err != nil {
		return nil, err
	}
	b.svc = app.New(b.db, app.Options{
		Now: o.Now, Logger: o.Logger, Observer: m, BroadcasterID: cfg.BroadcasterUserID, DefaultStreamerID: cfg.DevBroadcasterUserID,
		SpinInterval: cfg.SpinInterval, Announcer: hx, Jobs: queue, Seed: o.Seed, Policy: cfg.Controls.Policy(),
		DrawProofRetention: proofRetention(cfg.DrawProofRetentionDays),
	})
	// One tick before serving: the current window's cycle exists and the
	// snapshot is fresh, so the first viewer already sees the real phase and id.
	if err := b.svc.Tick(ctx); err != nil {
		return nil, fmt.Errorf("start the roulette clock: %w", err)
	}
	var subs httpapi.SubscriberChecker
	if hx.Configured() || (b.twitchUser != nil && cfg.BroadcasterUserID != "") {
		// With the stored sign-in the check is wired even while it is
		// missing or refused: the viewer then hears "could not confirm"
		// rather than "not a subscriber".
		subs = hx
	} else {
		b.notes = append(b.notes, "Helix: not configured (sign in with mgm-ebs twitch login, or set Twitch__BroadcasterAccessToken; and Twitch__BroadcasterUserId); calls skipped")
	}
	audience := ""
	if cfg.ValidateAudience {
		audience = cfg.ExtensionClientID
	}
	// Development only: the built extension panel with a stand-in Twitch helper (nil in Production).
	devPages := devpage.ForConfig(cfg, extKey, os.Getenv)
	if devPages != nil {
		b.devPanel = true
		if dir := devpage.DirFromEnv(os.Getenv); !devpage.Built(dir) {
			b.devPanelHint = "not built: cd extension && npm ci && npm run build"
		}
		b.devTwitch = devpage.NewTwitchLogin(b.devTwitchOptions(o))
		devPages = devpage.WithTwitch(devPages, b.devTwitch)
	}
	// EventSub uses the same tokens as Helix: the stored sign-in (refreshed)
	// or the static token, and the app access token when a secret is set.
	if o.UserToken == nil && b.userTokens != nil {
		o.UserToken = b.userTokens
	}
	if o.AppToken == nil && b.appTokens != nil {
		o.AppToken = b.appTokens
	}
	ev := b.eventSub(o)
	push := b.panelPush(o, extKey, m)
	readyDetail := func() map[string]any {
		d := map[string]any{}
		if ev.readyDetail != nil {
			maps.Copy(d, ev.readyDetail())
		}
		maps.Copy(d, b.twitchReadyDetail())
		maps.Copy(d, push.readyDetail())
		if b.tls != nil {
			d["tls"] = b.tls.Status()
		}
		return d
	}
	var receipts httpapi.PushReceipts
	if push.pusher != nil {
		receipts = push.pusher
	}
	api := httpapi.New(httpapi.Deps{
		Service: b.svc, Config: cfg, Logger: o.Logger, Now: o.Now, Version: o.Version, Subscribers: subs, Metrics: m,
		DevPages:    devPages,
		Verifier:    &auth.ViewerVerifier{Key: extKey, BroadcasterUserID: cfg.BroadcasterUserID, Audience: audience, Now: o.Now},
		APIKeys:     auth.NewAPIKeys(cfg.APIKeys),
		Revocations: ev.revocations, ReadyDetail: readyDetail, PushReceipts: receipts,
	})
	if push.pusher != nil {
		push.source.api = api
		b.push = push.pusher
	}
	if ev.start != nil {
		b.twitch = func(ctx context.Context) { ev.start(ctx, api, m) }
	}
	b.handler, b.metricsHandler, b.metricsNote, b.listener = api.Handler(), api.MetricsHandler(), api.MetricsNote(), api.Listener
	b.flushRequestLogs = api.FlushRequestLogs
	return b, nil
}

// banner writes the startup banner: what runs where, and every development
// convenience in effect. addr is the address actually listened on.
func (b *backend) banner(w io.Writer, addr, version string, startup time.Duration) {
	mode := string(b.cfg.Environment) + " mode"
	if r := b.cfg.EnvironmentReason(); r != "" {
		mode += " (" + r + ")"
	}
	fmt.Fprintf(w, "Mimiron's Gold-o-Matic EBS %s — %s\n", versionOr(version), mode)
	for _, warning := range b.cfg.Warnings() {
		fmt.Fprintf(w, "  %s\n", warning)
	}
	base := "http://" + displayAddr(addr)
	if b.tls != nil {
		base = b.cfg.PublicURL
	}
	fmt.Fprintf(w, "  Listening:  %s  (health: /healthz, ready: /readyz)\n", base)
	if b.devPanel {
		hint := ""
		if b.devPanelHint != "" {
			hint = "  (" + b.devPanelHint + ")"
		}
		fmt.Fprintf(w, "  Dev panel:  %s/dev/panel%s\n", base, hint)
	}
	fmt.Fprintf(w, "  Store:      %s\n", b.store)
	for _, n := range b.notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	if id := b.cfg.DevBroadcasterUserID; id != "" {
		fmt.Fprintf(w, "  Gift queue: development broadcaster id %q (Twitch__BroadcasterUserId not set)\n", id)
	}
	fmt.Fprintf(w, "  Ready in %d ms. Ctrl+C stops.\n", startup.Milliseconds())
}

// serve answers on ln until ctx ends, with the roulette clock and the sweeps
// running beside the server; both stop before Run closes the database.
func (b *backend) serve(ctx context.Context, ln net.Listener, o Options) error {
	log := o.Logger
	handler, wrapped := b.handler, b.listener(ln)
	if b.tls != nil {
		// TLS first, then the shaping: it must see the plain bytes.
		handler, wrapped = autotls.HSTS(handler), b.listener(b.tls.Listener(ln))
	}
	srv := httpapi.NewHTTPServer(b.cfg.Listen, handler, log)
	addr := ln.Addr().String()

	bgCtx, stopBackground := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Add(1)
	go func() {
		defer bg.Done()
		b.svc.RunBackground(bgCtx, tickInterval(b.cfg.SpinInterval))
	}()
	bg.Add(1)
	go func() {
		defer bg.Done()
		if err := b.jobs.Run(bgCtx, b.svc); err != nil {
			log.Error("job queue stopped", "error", err)
		}
	}()
	if b.twitch != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			b.twitch(bgCtx)
		}()
	}
	if b.push != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			b.push.Run(bgCtx)
		}()
	}
	if b.tls != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			b.tls.Run(bgCtx)
		}()
	}
	if b.twitchUser != nil {
		bg.Add(1)
		go func() {
			defer bg.Done()
			b.twitchUser.Run(bgCtx, nil) // hourly validation, refresh ahead of expiry
		}()
	}
	defer func() {
		stopBackground()
		bg.Wait()
		if b.devTwitch != nil {
			b.devTwitch.Close()
		}
	}()

	if o.Ready != nil {
		o.Ready(addr) // the listener is open: connections queue until Serve accepts them
	}
	log.Info("serving", "addr", addr, "environment", b.cfg.Environment, "store", b.db.Dialect())
	// In-flight requests get 10 s to finish once ctx ends.
	err := serve.Until(ctx, srv, wrapped, 10*time.Second)
	b.flushRequestLogs()
	if err != nil {
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

// lockDataDir takes the data folder for this process, creating it if needed.
// A second process gets *dataDirInUse at once rather than waiting: it is
// almost always a mistake (a second terminal, a stale service), and the
// operator should hear about it.
func lockDataDir(dir string) (*lockfile.Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	lock, err := lockfile.Acquire(path)
	if errors.Is(err, lockfile.ErrLocked) {
		abs, _ := filepath.Abs(dir)
		return nil, &dataDirInUse{dir: abs, pid: holderPID(path)}
	}
	if err != nil {
		return nil, fmt.Errorf("lock the data folder: %w", err)
	}
	if err := lock.Write(strconv.Itoa(os.Getpid())); err != nil {
		lock.Release()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return lock, nil
}

// holderPID reads the holder's pid, waiting briefly for a holder that has
// just taken the lock and not yet written it.
func holderPID(path string) string {
	for range 50 {
		if pid := lockfile.Read(path); pid != "" {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "unknown"
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

// proofRetention turns the setting into app.Options.DrawProofRetention,
// where 0 means the default and "forever" is negative.
func proofRetention(days int) time.Duration {
	if days == 0 {
		return -1
	}
	return time.Duration(days) * 24 * time.Hour
}
