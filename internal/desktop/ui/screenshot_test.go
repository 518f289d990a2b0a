package ui

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/engine"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/eventlog"
)

// TestScreenshot renders the Desktop UI with a busy evening's data in
// headless Chromium and saves docs/screenshots/desktop-ui.png for the README.
// It runs only with MGM_SCREENSHOT=1 (it rewrites a file in the repository)
// and when Chromium is installed (MGM_CHROMIUM, else /usr/bin/chromium).
func TestScreenshot(t *testing.T) {
	if os.Getenv("MGM_SCREENSHOT") != "1" {
		t.Skip("set MGM_SCREENSHOT=1 to update docs/screenshots/desktop-ui.png")
	}
	chromium := findChromium(t)
	srv := busyServer(t, func(h http.Handler) http.Handler { return h })

	out, _ := filepath.Abs("../../../docs/screenshots/desktop-ui.png")
	os.MkdirAll(filepath.Dir(out), 0o755)
	os.Remove(out)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--window-size=1280,900", "--screenshot="+out, srv.URL+"/?token="+token)
	cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, b)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Size() < 20_000 {
		t.Fatalf("screenshot %v %v", fi, err)
	}
	t.Logf("wrote %s (%d bytes)", out, fi.Size())
}

// busyServer serves the UI with a busy evening's data; wrap may add test
// routes around the UI's handler.
func busyServer(t *testing.T, wrap func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	return busyServerWith(t, wrap, nil)
}

// bridgeDown turns busyServer's bridge down: no route answers, with the
// problem and the advice the dashboard shows then.
func bridgeDown(s *engine.Snapshot) {
	b := &s.Bridge
	b.State, b.Summary = "down", "no answer from the addon; chat log not written since 21:02"
	for i := range b.Routes {
		b.Routes[i].Answered, b.Routes[i].RTTSeconds = false, 0
	}
	b.Problem = `the addon did not answer the handshake within 15s (screen: WoW's window is minimised, so the Desktop cannot read the addon's strip: restore the window; chat log: nothing from the addon arrived in C:\Games\WoW335\Logs\WoWChatLog.txt)`
	b.Advice = []string{
		"Restore WoW's window: it is minimised.",
		"Make sure the MimironsGoldOMatic addon is enabled (type /mgm in WoW: the queue window opens).",
		"Keep WoW's window visible (not minimised, the top-left corner not covered, the UI not hidden with Alt+Z): the Desktop reads the addon's answers from a small strip there.",
		"Turn chat logging on in WoW (/mgm log) so the chat log can carry the answers too.",
		"If WoW runs as administrator, run the Desktop as administrator too (or neither): Windows blocks keys sent to an elevated window.",
	}
	b.Guard = ""
}

// busyServerWith is busyServer with the snapshot adjusted by mutate.
func busyServerWith(t *testing.T, wrap func(http.Handler) http.Handler, mutate func(*engine.Snapshot)) *httptest.Server {
	t.Helper()
	now := time.Now()
	at := func(d time.Duration) string { return now.Add(-d).UTC().Format(time.RFC3339) }
	var snap engine.Snapshot
	snap.Version, snap.Configured, snap.PollIntervalSeconds = "1.0.0", true, 5
	snap.EBS.URL, snap.EBS.Reachable, snap.EBS.LastOK = "https://ebs.example.com", true, now
	snap.WoW.Injector, snap.WoW.Found, snap.WoW.Target = "Windows (PostMessage, fallback SendInput)", true, "WoW.exe pid 7412"
	snap.ChatLog.Path, snap.ChatLog.Found, snap.ChatLog.LastGrowth, snap.ChatLog.Size = `C:\Games\WoW335\Logs\WoWChatLog.txt`, true, now, 1843221
	snap.ChatLog.Growing = true
	snap.Spin = &engine.SpinView{SpinCycleID: "5f0c2a4e-8d1b-4c3e-9a7f-2b6d1e0c9a84", CharacterName: "Norinn", Phase: "verification", WhoSent: true}
	snap.Payouts = []engine.PayoutView{
		{ID: "0b7e4c1a-93d2-4f5e-8a61-7c2d9e0f1b34", CharacterName: "Jaina", TwitchDisplayName: "JainaFan", Gold: 1000, Status: "InProgress", CreatedAt: at(9 * time.Minute), Accepted: true, Notified: true},
		{ID: "6d2f8a90-1c4b-4e7d-b3a5-0f9e8d7c6b5a", CharacterName: "Воля", TwitchDisplayName: "volya_tv", Gold: 1000, Status: "Pending", CreatedAt: at(4 * time.Minute), Accepted: true, Notified: true},
		{ID: "c41a7e2b-5d6f-4a8c-9e0b-1f2a3b4c5d6e", CharacterName: "Thrall", TwitchDisplayName: "OrgrimmarOwl", Gold: 1000, Status: "Pending", CreatedAt: at(40 * time.Second), Notified: true},
	}
	snap.Gifts = []engine.GiftView{
		{ID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", ViewerDisplayName: "ArthasFan", CharacterName: "Arthas", State: "SelectingItem", QueuePosition: 1},
		{ID: "1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b", ViewerDisplayName: "sylvanas_88", CharacterName: "Sylvanas", State: "Pending", QueuePosition: 2},
	}
	snap.Roulettes = []engine.RouletteView{{GiftID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
		Items: []string{"Frostweave Cloth", "Infinite Dust", "Saronite Ore", "Runecloth"}, Chosen: "Frostweave Cloth", Until: now.Add(-time.Second)}}
	snap.LastSync = &engine.SyncReport{OK: true, At: now.Add(-7 * time.Minute),
		Message: "1 payout(s) InProgress, 1 ReceiveGold line(s) typed into WoW.exe pid 7412"}

	snap.Bridge = engine.BridgeView{State: "up", Summary: "round trip 0.4 s via screen",
		LastCheck: now.Add(-50 * time.Second),
		Guard:     "the keyboard was used 1.2 s ago (waiting for 3 s of quiet)",
		Commands: []engine.CommandView{
			{Key: "notify:c41a7e2b-5d6f-4a8c-9e0b-1f2a3b4c5d6e", State: "typed", Tries: 2, Result: "no acknowledgement from the addon within 20s (try 1 of 3)"},
			{Key: "who:5f0c2a4e-8d1b-4c3e-9a7f-2b6d1e0c9a84", State: "queued", Tries: 0},
		}}
	for _, r := range []struct {
		route    string
		answered bool
		rtt      float64
		last     time.Duration
	}{{"screen", true, 0.4, 3 * time.Second}, {"log-print", true, 4.8, 47 * time.Second}, {"log-whisper", false, 0, -1}} {
		v := struct {
			Route      string    `json:"route"`
			Answered   bool      `json:"answered"`
			RTTSeconds float64   `json:"rttSeconds"`
			LastLine   time.Time `json:"lastLine"`
		}{Route: r.route, Answered: r.answered, RTTSeconds: r.rtt}
		if r.last >= 0 {
			v.LastLine = now.Add(-r.last)
		}
		snap.Bridge.Routes = append(snap.Bridge.Routes, v)
	}
	if mutate != nil {
		mutate(&snap)
	}

	clock := now.Add(-10 * time.Minute)
	events := eventlog.New(100, func() time.Time { clock = clock.Add(17 * time.Second); return clock }, nil, nil)
	log := slog.New(events)
	const jaina, volya, arthas = "0b7e4c1a-93d2-4f5e-8a61-7c2d9e0f1b34", "6d2f8a90-1c4b-4e7d-b3a5-0f9e8d7c6b5a", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	log.Info("/who requested for the candidate", "character", "Jaina", "spinCycle", "2d4c…")
	log.Info("[MGM_WHO] verify-candidate OK: Jaina online=true → winner (payout " + jaina + ")")
	log.Info("winner whisper typed (NotifyWinnerWhisper)", "payout", jaina, "character", "Jaina")
	log.Info("[MGM_ACCEPT] acceptance recorded for " + jaina + " (Jaina)")
	log.Info("payout set InProgress", "payout", jaina, "character", "Jaina")
	log.Info("ReceiveGold chunk typed", "chars", 73, "payouts", 1)
	log.Info("[MGM_WHO] verify-candidate OK: Воля online=true → winner (payout " + volya + ")")
	log.Info("[MGM_ACCEPT] acceptance recorded for " + volya + " (Воля)")
	log.Info("[MGM_GIFT] inventory requested", "gift", arthas, "character", "Arthas")
	log.Info("[MGM_ITEMS] roulette spin 4210ms, items=4 (gift " + arthas + ")")
	log.Info("/who requested for the candidate", "character", "Norinn", "spinCycle", "5f0c2a4e-8d1b-4c3e-9a7f-2b6d1e0c9a84")
	log.Warn("ignored a marker that the addon did not print (someone typed it in chat?)",
		"marker", "MGM_CONFIRM", "line", "4/4 21:14:03.551  [Rogue] whispers: [MGM_CONFIRM:…]")

	hub := NewHub()
	set := &fakeSettings{v: SettingsView{EBSURL: "https://ebs.example.com", APIKeySet: true, PollIntervalSeconds: 5,
		InjectionStrategy: "PostMessage", WoWInstallDirectory: `C:\Games\WoW335`, Injector: snap.WoW.Injector,
		ChatLogPath: snap.ChatLog.Path, SettingsFile: `C:\Users\streamer\AppData\Roaming\MimironsGoldOMatic\settings.json`}}
	srv := httptest.NewServer(wrap(New(Options{Backend: &fakeBackend{snap: snap}, Settings: set, Log: events, Hub: hub, Token: token})))
	t.Cleanup(srv.Close)
	return srv
}

// findChromium is MGM_CHROMIUM, else /usr/bin/chromium; the test is skipped without it.
func findChromium(t *testing.T) string {
	t.Helper()
	chromium := os.Getenv("MGM_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no Chromium at %s (apt-get install -y chromium)", chromium)
	}
	return chromium
}
