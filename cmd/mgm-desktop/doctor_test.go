package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop"
	"github.com/mimirons-goldomatic/mgm/internal/sim/wowsim"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// startSim runs the WoW client simulator with the real addon and returns
// its URL and chat log.
func startSim(t *testing.T, client wowsim.Config, log wowsim.ChatLogOptions) (string, string) {
	t.Helper()
	root, _ := filepath.Abs("../..")
	logPath := filepath.Join(t.TempDir(), "Logs", "WoWChatLog.txt")
	client.AddonDir, client.PlayerName = filepath.Join(root, "addon", "MimironsGoldOMatic"), "Streamer"
	sim, err := wowsim.NewServer(wowsim.ServerConfig{Client: client, LogPath: logPath, ChatLog: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sim.Run(ctx); close(done) }()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); stop(); <-done; sim.Close() })
	return srv.URL, logPath
}

var routeLine = regexp.MustCompile(`(?m)^(OK|FAIL) +route (screen|log-print|log-whisper): (pong after (\d+\.\d+) s|no pong within)`)

// routesOf reads each route's outcome from the report: the round trip in
// seconds, or "" when it did not answer.
func routesOf(t *testing.T, report string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, m := range routeLine.FindAllStringSubmatch(report, -1) {
		got[m[2]] = m[4]
	}
	if len(got) != 3 {
		t.Fatalf("the report does not list the three routes:\n%s", report)
	}
	return got
}

// `mgm-desktop doctor` against the simulated client running the real
// addon: it starts the Desktop for the check, the addon answers the ping,
// and the report gives the round trip of each route that answered.
func TestDoctorCommandAgainstTheSimulator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulated client with the real addon")
	}
	for _, tc := range []struct {
		name     string
		client   wowsim.Config
		log      wowsim.ChatLogOptions
		answered []string // the routes that must answer
		silent   []string // the routes that must not
		text     []string
	}{
		{
			name: "a kind client: every route",
			client: wowsim.Config{LoggingChat: true, Prints: wowsim.PrintsLogged, FlushToggle: wowsim.ToggleFlushes,
				Keys: wowsim.KeysOpenBox, SelfWhisper: wowsim.SelfWhisperRelayed},
			log:      wowsim.ChatLogOptions{Mode: wowsim.LogLineByLine},
			answered: []string{"screen", "log-print", "log-whisper"},
			text:     []string{"written during the check", "OK    screen: the addon's strip is read", "Bridge: UP", "Nothing: every route answered."},
		},
		{
			name:     "the pessimistic client: the screen alone",
			client:   wowsim.Config{Keys: wowsim.KeysOpenBox},
			answered: []string{"screen"},
			silent:   []string{"log-print", "log-whisper"},
			text:     []string{"not written during the check", "Bridge: UP", "WoW did not write the chat log during the check"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			simURL, logPath := startSim(t, tc.client, tc.log)
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"doctor", "--data-dir", t.TempDir(), "--injector", "simulator",
				"--wow-sim-url", simURL, "--log-path", logPath}, &out, &errOut)
			report := out.String()
			t.Logf("mgm-desktop doctor:\n%s", report)
			if err != nil {
				t.Fatalf("exit status 1: %v\n%s", err, errOut.String())
			}
			routes := routesOf(t, report)
			for _, r := range tc.answered {
				if routes[r] == "" {
					t.Errorf("route %s did not answer", r)
				}
			}
			for _, r := range tc.silent {
				if routes[r] != "" {
					t.Errorf("route %s answered in %s s", r, routes[r])
				}
			}
			for _, w := range append(tc.text, "OK    WoW found: ", "OK    ping typed", "Injector: WoW simulator "+simURL) {
				if !strings.Contains(report, w) {
					t.Errorf("the report lacks %q", w)
				}
			}
		})
	}
}

// With a Desktop already running on the data folder, the doctor asks that
// one (its injector and chat log, not the flags'), and exits 1 when the
// addon does not answer because WoW is not there.
func TestDoctorCommandAsksTheRunningDesktop(t *testing.T) {
	data := t.TempDir()
	var console testkit.Buffer
	ready := make(chan string, 1)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- desktop.Run(ctx, desktop.Options{DataDir: data, NoBrowser: true, Injector: desktop.InjectorSimulator,
			WoWSimURL: "http://127.0.0.1:1", Out: &console, Version: "1.2.3", Ready: func(u string) { ready <- u }})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("the running Desktop: %v", err)
		}
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("the Desktop did not start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the Desktop did not start")
	}

	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"doctor", "--data-dir", data, "--wow-sim-url", "http://127.0.0.1:2"}, &out, &errOut)
	if !errors.Is(err, errBridgeDown) {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	for _, w := range []string{"Desktop 1.2.3 on ", "Injector: WoW simulator http://127.0.0.1:1", "FAIL  WoW not found: ",
		"FAIL  ping not typed: WoW was not found", "Bridge: DOWN", "What to do:"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the report lacks %q:\n%s", w, out.String())
		}
	}
	if !strings.Contains(console.String(), "doctor: checking the bridge") {
		t.Errorf("the running Desktop did not run the doctor:\n%s", console.String())
	}
}

func TestDoctorFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"doctor", "--listen", "x"}, &out, &errOut); err == nil {
		t.Error("--listen accepted by doctor")
	}
	if err := run(context.Background(), []string{"doctor", "extra"}, &out, &errOut); err == nil {
		t.Error("positional argument accepted by doctor")
	}
	errOut.Reset()
	run(context.Background(), []string{"doctor", "--help"}, &out, &errOut)
	for _, f := range []string{"-data-dir", "-injector", "-wow-sim-url", "-log-path", "Exit status 0 when the addon answered"} {
		if !strings.Contains(errOut.String(), f) {
			t.Errorf("doctor --help lacks %s:\n%s", f, errOut.String())
		}
	}
}
