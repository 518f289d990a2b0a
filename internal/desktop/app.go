package desktop

// This file assembles the Desktop companion: settings and secrets, the
// injector, the engine, and the local web UI; cmd/mgm-desktop only parses
// flags and calls Run.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/chatlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/engine"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/eventlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/screen"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/settings"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/ui"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// Injector modes (--injector).
const (
	InjectorAuto      = "auto"
	InjectorWindows   = "windows"
	InjectorSimulator = "simulator"
)

// Options are the command line's choices.
type Options struct {
	// DataDir holds settings.json, the API key and state.json (default:
	// the user's config folder + MimironsGoldOMatic).
	DataDir string
	// Listen is the UI's address (default 127.0.0.1:0, a random free port).
	Listen string
	// Injector is auto (Windows: type into WoW; elsewhere: the simulator),
	// windows or simulator.
	Injector string
	// WoWSimURL is the WoW client simulator (overrides the setting).
	WoWSimURL string
	// LogPath overrides the chat log for this run.
	LogPath string
	// NoBrowser does not open the UI in the browser.
	NoBrowser bool
	Version   string
	// Out receives the start banner and the event log.
	Out io.Writer
	// OpenBrowser opens a URL (default: the OS's opener).
	OpenBrowser func(url string) error
	// Ready is called with the UI's URL once it serves.
	Ready func(url string)
}

// ErrAlreadyRunning means another Desktop uses the same data folder.
var ErrAlreadyRunning = errors.New("another mgm-desktop is already running with this data folder")

// lockName is the instance lock in the data folder; it also holds the UI's
// URL for a second start to open.
const lockName = "desktop.lock"

// companion is the assembled Desktop: what build makes and serve runs.
type companion struct {
	o       Options
	store   *settings.Store
	events  *eventlog.Log // the UI's live log and the console
	log     *slog.Logger  // writes to events
	hub     *ui.Hub
	inj     *switchInjector
	native  inject.Injector // nil unless the Windows injector is in use
	scr     *switchScreen   // the screen route's source, following the injector
	reader  *screen.Reader
	queue   *inject.Queue
	eng     *engine.Engine
	token   string       // the UI's session token
	handler http.Handler // the UI, guarded by token

	mu          sync.Mutex
	s           settings.Settings
	apiKey      string
	saved       bool   // settings.json exists
	loadProblem string // why settings or the key could not be read
	chatLog     string
	chatLogNote string
	ebs         *ebsclient.Client // the client apply set up, for the Controls panel
}

// Run starts the Desktop and serves until ctx ends.
func Run(ctx context.Context, o Options) error {
	o, err := o.withDefaults()
	if err != nil {
		return err
	}
	// The lock comes before build: the engine reads (and may move aside)
	// the state file another instance is using.
	lock, err := acquireLock(filepath.Join(o.DataDir, lockName))
	if err != nil {
		if errors.Is(err, ErrAlreadyRunning) {
			pointToRunning(o)
		}
		return err
	}
	defer lock.release()
	d, err := build(o)
	if err != nil {
		return err
	}
	return d.serve(ctx, lock)
}

// withDefaults fills in the defaults, checks the injector and creates the
// data folder.
func (o Options) withDefaults() (Options, error) {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Injector == "" {
		o.Injector = InjectorAuto
	}
	if o.OpenBrowser == nil {
		o.OpenBrowser = openBrowser
	}
	switch o.Injector {
	case InjectorAuto, InjectorWindows, InjectorSimulator:
	default:
		return o, fmt.Errorf("--injector must be auto, windows or simulator (got %q)", o.Injector)
	}
	if o.DataDir == "" {
		d, err := settings.DefaultDir()
		if err != nil {
			return o, err
		}
		o.DataDir = d
	}
	// An absolute path only reads better in the banner; a relative one
	// works as well, so a failure keeps it.
	if abs, err := filepath.Abs(o.DataDir); err == nil {
		o.DataDir = abs
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return o, fmt.Errorf("data folder: %w", err)
	}
	return o, nil
}

// pointToRunning shows the streamer the Desktop that holds the data folder.
func pointToRunning(o Options) {
	url := readLockURL(filepath.Join(o.DataDir, lockName))
	if url == "" {
		return
	}
	// best effort: Run reports ErrAlreadyRunning whether or not this line
	// reached the console.
	_, _ = fmt.Fprintf(o.Out, "mgm-desktop is already running: %s\n", url)
	if !o.NoBrowser {
		_ = o.OpenBrowser(url) // best effort: the URL is printed just above
	}
}

// build assembles the Desktop: the event log, the settings and the API key,
// the injector and its queue, the engine and the UI. Nothing runs yet.
func build(o Options) (*companion, error) {
	d := &companion{o: o, store: settings.NewStore(o.DataDir), hub: ui.NewHub()}
	d.events = eventlog.New(500, nil, o.Out, d.hub.Notify)
	d.log = slog.New(d.events)
	d.loadSettings()

	if err := d.buildInjector(); err != nil {
		return nil, err
	}
	d.queue = inject.NewQueue(d.inj, func(line string, err error) {
		if err != nil {
			d.log.Warn("typing into WoW failed", "error", err, "line", clipLine(line))
		} else {
			d.log.Info("typed into WoW", "line", clipLine(line))
		}
	})
	d.reader = screen.NewReader(d.scr, screen.ReaderOptions{
		OnLine: func(line string, at time.Time) { d.eng.AcceptScreenLine(line, at) },
		OnChange: func(st screen.Status) {
			if st.Found {
				d.log.Info("screen route: reading the addon's strip", "source", st.Source)
			} else {
				d.log.Warn("screen route: the addon's strip cannot be read", "source", st.Source, "reason", st.Error)
			}
			d.hub.Notify()
		},
	})
	var err error
	d.eng, err = engine.New(engine.Options{DataDir: o.DataDir, Queue: d.queue, Log: d.log, Version: o.Version, OnChange: d.hub.Notify,
		Screen: d.screenState, Idle: d.keyboardIdle})
	if err != nil {
		return nil, err
	}
	d.queue.SetGate(d.eng.Gate)
	if d.token, err = randomToken(); err != nil {
		return nil, err
	}
	d.handler = ui.New(ui.Options{Backend: d.eng, Settings: d, Log: d.events, Hub: d.hub, Token: d.token, Doctor: d.doctor,
		Controls: d.controls})
	return d, nil
}

// startInfo is what the start banner reports.
type startInfo struct {
	Version, DataDir, Injector, URL string
	FirstRun                        bool
}

// banner is the text printed once the UI serves.
func banner(i startInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Mimiron's Gold-o-Matic Desktop %s\n  Data folder: %s\n  Injector:    %s\n  UI:          %s\n",
		i.Version, i.DataDir, i.Injector, i.URL)
	if i.FirstRun {
		b.WriteString("  First run: the UI opens on Settings (EBS URL and API key).\n")
	}
	b.WriteString("  Ctrl+C stops.\n")
	return b.String()
}

// serve listens, records the UI's URL in the lock file, runs the queue, the
// engine and the UI until ctx ends, then stops them gracefully.
func (d *companion) serve(ctx context.Context, lock *instanceLock) error {
	ln, err := net.Listen("tcp", d.o.Listen)
	if err != nil {
		return fmt.Errorf("UI listen %s: %w", d.o.Listen, err)
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
		d.log.Warn("the UI does not listen on loopback; it still answers only to a loopback Host", "addr", a)
	}
	url := "http://" + ln.Addr().String() + "/?token=" + d.token
	if err := lock.writeURL(url); err != nil {
		d.log.Warn("could not record the UI's address in the lock file; a second start will not point to this one", "error", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{
		Handler:           d.handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx }, // ends event streams at shutdown
	}
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); d.queue.Run(ctx) }()
	go func() { defer wg.Done(); d.reader.Run(ctx) }()
	go func() { defer wg.Done(); d.eng.Run(ctx) }()
	serveErr := make(chan error, 1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
			cancel()
		}
	}()
	d.apply()

	d.mu.Lock()
	firstRun := !d.configuredLocked()
	d.mu.Unlock()
	// best effort: a closed console must not stop the Desktop.
	_, _ = io.WriteString(d.o.Out, banner(startInfo{Version: d.o.Version, DataDir: d.o.DataDir, Injector: d.inj.Name(), URL: url, FirstRun: firstRun}))
	if d.o.Ready != nil {
		d.o.Ready(url)
	}
	if !d.o.NoBrowser {
		open := url
		if firstRun {
			open += "#settings"
		}
		if err := d.o.OpenBrowser(open); err != nil {
			d.log.Warn("could not open the browser; open the UI yourself", "error", err, "url", url)
		}
	}

	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		d.log.Warn("the UI did not stop in time; closing its connections", "error", err)
		// best effort: we are exiting; Close only adds listener errors.
		_ = srv.Close()
	}
	wg.Wait()
	select {
	case err := <-serveErr:
		return err
	default:
		return nil
	}
}

func clipLine(s string) string {
	if r := []rune(s); len(r) > 120 {
		return string(r[:120]) + "…"
	}
	return s
}

func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func (d *companion) loadSettings() {
	s, exists, err := d.store.Load()
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
		d.log.Error("could not read the settings; using the defaults", "error", err)
	}
	key, kerr := d.store.Secrets.Load()
	if kerr != nil {
		problems = append(problems, kerr.Error())
		d.log.Error("could not read the API key", "error", kerr)
	}
	d.mu.Lock()
	d.s, d.saved, d.apiKey, d.loadProblem = s, exists, key, strings.Join(problems, "; ")
	d.mu.Unlock()
}

func (d *companion) configuredLocked() bool { return d.s.BaseURL != "" && d.apiKey != "" }

// buildInjector picks the injector for the run; the simulator's URL may
// change later with the settings.
func (d *companion) buildInjector() error {
	d.inj = &switchInjector{}
	d.scr = &switchScreen{}
	useNative := d.o.Injector == InjectorWindows || (d.o.Injector == InjectorAuto && inject.NativeAvailable)
	if useNative {
		n, err := inject.NewNative(inject.NativeOptions{
			Process:  func() string { d.mu.Lock(); defer d.mu.Unlock(); return d.s.WoWProcess },
			Strategy: func() string { d.mu.Lock(); defer d.mu.Unlock(); return d.s.InjectionStrategy },
		})
		if err != nil {
			return err
		}
		d.native = n
		d.inj.set(n)
		src, err := screen.NewNative(func() string { d.mu.Lock(); defer d.mu.Unlock(); return d.s.WoWProcess })
		if err != nil {
			d.scr.set(nil, err.Error())
		} else {
			d.scr.set(src, "")
		}
		return nil
	}
	d.updateSimulator()
	return nil
}

// updateSimulator points the simulator injector at the flag's or the settings' URL.
func (d *companion) updateSimulator() {
	if d.native != nil {
		return
	}
	d.mu.Lock()
	u := d.o.WoWSimURL
	if u == "" {
		u = d.s.WoWSimulatorURL
	}
	d.mu.Unlock()
	if u == "" {
		reason := "no WoW simulator URL: set one in Settings (or start with --wow-sim-url)"
		if d.o.Injector == InjectorAuto {
			reason = fmt.Sprintf("typing into WoW needs Windows; on %s set the WoW simulator URL in Settings for a demo", runtime.GOOS)
		}
		d.inj.set(inject.Unavailable{Reason: reason})
		d.scr.set(nil, reason)
		return
	}
	if cur, ok := d.inj.get().(*inject.Simulator); ok && cur.Name() == "WoW simulator "+strings.TrimRight(u, "/") {
		return
	}
	sim, err := inject.NewSimulator(u, nil)
	if err != nil {
		d.inj.set(inject.Unavailable{Reason: err.Error()})
		d.scr.set(nil, err.Error())
		return
	}
	d.inj.set(sim)
	if src, err := screen.NewSimulator(u, nil); err != nil {
		d.scr.set(nil, err.Error())
	} else {
		d.scr.set(src, "")
	}
}

// screenState is the screen route's reader as the engine needs it.
func (d *companion) screenState() engine.ScreenState {
	st := d.reader.Status()
	typing, known := st.Typing(time.Now(), time.Second)
	return engine.ScreenState{Available: true, Found: st.Found, Problem: st.Error, Typing: typing, TypingKnown: known, SeenAt: st.FlagsAt,
		Source: st.Source, Minimised: st.Minimised}
}

// keyboardIdle is how long the keyboard has been idle: Windows' own
// counter, or the simulator's.
func (d *companion) keyboardIdle(ctx context.Context) (time.Duration, error) {
	if d.native != nil {
		return inject.LastInputIdle()
	}
	if sim, ok := d.inj.get().(*inject.Simulator); ok {
		return sim.Idle(ctx)
	}
	return 0, errors.New("no keyboard to watch")
}

// apply hands the current settings to the engine.
func (d *companion) apply() {
	d.updateSimulator()
	d.mu.Lock()
	s, key := d.s, d.apiKey
	d.mu.Unlock()
	cfg := engine.Config{EBSURL: s.BaseURL, PollInterval: time.Duration(s.PollIntervalSeconds) * time.Second}
	if s.BaseURL != "" && key != "" {
		c, err := ebsclient.New(s.BaseURL, key, ebsclient.WithUserAgent("mgm-desktop/"+d.o.Version))
		if err != nil {
			d.log.Error("could not set up the EBS client", "error", err)
		} else {
			cfg.EBS = c
		}
	}
	d.mu.Lock()
	d.ebs, _ = cfg.EBS.(*ebsclient.Client)
	d.mu.Unlock()
	path, note := d.resolveChatLog(s)
	cfg.ChatLogPath = path
	if path == "" {
		cfg.ChatLogProblem = note
	}
	d.mu.Lock()
	d.chatLog, d.chatLogNote = path, note
	d.mu.Unlock()
	d.eng.Configure(cfg)
}

// controls is the EBS client for the UI's Controls panel (nil until set up).
func (d *companion) controls() ui.Controls {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ebs == nil {
		return nil
	}
	return d.ebs
}

// resolveChatLog: --log-path, else the settings, else (for the simulator)
// wherever the simulator says it writes.
func (d *companion) resolveChatLog(s settings.Settings) (string, string) {
	if strings.TrimSpace(d.o.LogPath) != "" {
		// Resolve cannot fail with an override.
		p, _ := chatlog.Resolve(d.o.LogPath, "")
		return p, "from --log-path"
	}
	p, err := chatlog.Resolve(s.WoWChatLogPathOverride, s.WoWInstallDirectory)
	if err == nil {
		return p, ""
	}
	if sim, ok := d.inj.get().(*inject.Simulator); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if h, herr := sim.Health(ctx); herr == nil && h.LogFilePath != "" {
			return h.LogFilePath, "reported by the WoW simulator"
		}
	}
	return "", err.Error()
}

// ---- ui.Settings ----

func (d *companion) Get() ui.SettingsView {
	d.mu.Lock()
	defer d.mu.Unlock()
	return ui.SettingsView{
		EBSURL: d.s.BaseURL, APIKeySet: d.apiKey != "", APIKeyStorage: d.store.Secrets.Describe(),
		PollIntervalSeconds: d.s.PollIntervalSeconds, InjectionStrategy: d.s.InjectionStrategy,
		WoWInstallDirectory: d.s.WoWInstallDirectory, WoWChatLogPathOverride: d.s.WoWChatLogPathOverride,
		WoWProcess: d.s.WoWProcess, WoWSimulatorURL: d.s.WoWSimulatorURL,
		Injector: d.inj.Name(), ChatLogPath: d.chatLog, ChatLogNote: d.chatLogNote,
		SettingsFile: d.store.Path(), FirstRun: !d.configuredLocked(), Problem: d.loadProblem,
	}
}

func (d *companion) Save(ctx context.Context, u ui.SettingsUpdate) (ui.SettingsView, error) {
	s := settings.Settings{
		BaseURL: u.EBSURL, PollIntervalSeconds: u.PollIntervalSeconds, InjectionStrategy: u.InjectionStrategy,
		WoWInstallDirectory: u.WoWInstallDirectory, WoWChatLogPathOverride: u.WoWChatLogPathOverride,
		WoWProcess: u.WoWProcess, WoWSimulatorURL: u.WoWSimulatorURL,
	}.Normalize()
	if s.BaseURL == "" {
		return ui.SettingsView{}, errors.New("the EBS URL is required")
	}
	if err := s.Validate(); err != nil {
		return ui.SettingsView{}, err
	}
	key := strings.TrimSpace(u.APIKey)
	if key != "" {
		if _, err := ebsclient.New(s.BaseURL, key); err != nil {
			return ui.SettingsView{}, err
		}
	}
	if err := d.store.Save(s); err != nil {
		return ui.SettingsView{}, fmt.Errorf("saving settings: %w", err)
	}
	switch {
	case u.ClearAPIKey:
		if err := d.store.Secrets.Clear(); err != nil {
			return ui.SettingsView{}, fmt.Errorf("deleting the API key: %w", err)
		}
	case key != "":
		if err := d.store.Secrets.Save(key); err != nil {
			return ui.SettingsView{}, fmt.Errorf("saving the API key: %w", err)
		}
	}
	d.mu.Lock()
	d.s, d.saved, d.loadProblem = s, true, ""
	if u.ClearAPIKey {
		d.apiKey = ""
	} else if key != "" {
		d.apiKey = key
	}
	d.mu.Unlock()
	// Never the API key.
	d.log.Info("settings saved", "ebs", s.BaseURL, "pollSeconds", s.PollIntervalSeconds)
	d.apply()
	return d.Get(), nil
}

func (d *companion) Test(ctx context.Context, r ui.TestRequest) ui.TestResult {
	d.mu.Lock()
	u, key := strings.TrimSpace(r.EBSURL), strings.TrimSpace(r.APIKey)
	if u == "" {
		u = d.s.BaseURL
	}
	if key == "" {
		key = d.apiKey
	}
	d.mu.Unlock()
	// Temporary client: testing never changes the live settings.
	c, err := ebsclient.New(u, key, ebsclient.WithRetry(ebsclient.RetryPolicy{Attempts: 1}),
		ebsclient.WithHTTPClient(&http.Client{Timeout: 8 * time.Second}), ebsclient.WithUserAgent("mgm-desktop/"+d.o.Version))
	if err != nil {
		return ui.TestResult{Message: err.Error()}
	}
	ps, err := c.PendingPayouts(ctx, mgm.PayoutPending, mgm.PayoutInProgress)
	if err != nil {
		return ui.TestResult{Message: engine.ExplainEBS(c.BaseURL(), err)}
	}
	// The payouts call proved the connection; the version is only shown.
	v, verr := c.Version(ctx)
	shown := v.Version
	if verr != nil {
		shown = "unknown"
	}
	return ui.TestResult{OK: true, Version: v.Version, Pending: len(ps),
		Message: fmt.Sprintf("Connected to the EBS %s (version %s): %d active payout(s).", c.BaseURL(), shown, len(ps))}
}

func (d *companion) Windows() ([]inject.Window, error) { return inject.ListWindows() }

// switchInjector lets the simulator's URL change with the settings.
type switchInjector struct {
	mu  sync.Mutex
	cur inject.Injector
}

func (s *switchInjector) set(i inject.Injector) { s.mu.Lock(); s.cur = i; s.mu.Unlock() }
func (s *switchInjector) get() inject.Injector  { s.mu.Lock(); defer s.mu.Unlock(); return s.cur }
func (s *switchInjector) Name() string          { return s.get().Name() }
func (s *switchInjector) Target(ctx context.Context) (string, error) {
	return s.get().Target(ctx)
}
func (s *switchInjector) Inject(ctx context.Context, line string) error {
	return s.get().Inject(ctx, line)
}

// switchScreen is the screen route's source; it follows the injector (the
// simulator's URL may change with the settings).
type switchScreen struct {
	mu     sync.Mutex
	cur    screen.Source
	reason string // why there is none
}

func (s *switchScreen) set(src screen.Source, reason string) {
	s.mu.Lock()
	s.cur, s.reason = src, reason
	s.mu.Unlock()
}

func (s *switchScreen) get() (screen.Source, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur, s.reason
}

func (s *switchScreen) Name() string {
	if src, reason := s.get(); src != nil {
		return src.Name()
	} else {
		return "no screen (" + reason + ")"
	}
}

func (s *switchScreen) Capture(ctx context.Context) (image.Image, error) {
	src, reason := s.get()
	if src == nil {
		return nil, errors.New(reason)
	}
	return src.Capture(ctx)
}

// openBrowser uses the platform's URL opener without waiting for it.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// Reap the opener; its exit status says nothing about the browser.
	go func() { _ = cmd.Wait() }()
	return nil
}
