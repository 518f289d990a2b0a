package inject

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/sim/wowsim"
)

// startWoWSim runs the WoW client simulator with the real addon in the
// given key mode and returns its base URL.
func startWoWSim(t *testing.T, keys wowsim.KeyMode) string {
	t.Helper()
	sim, err := wowsim.NewServer(wowsim.ServerConfig{
		Client:  wowsim.Config{AddonDir: filepath.Join("..", "..", "..", "addon", "MimironsGoldOMatic"), PlayerName: "Streamer", Keys: keys},
		LogPath: filepath.Join(t.TempDir(), "Logs", "WoWChatLog.txt"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sim.Run(ctx); close(done) }()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		_ = sim.Close()
	})
	return srv.URL
}

func simPost(t *testing.T, url string, body any, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

type simState struct {
	Whispers []wowsim.Whisper `json:"whispers"`
	Loading  bool             `json:"loading"`
}

func getSimState(t *testing.T, base string) simState {
	t.Helper()
	resp, err := http.Get(base + "/api/mock/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st simState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// A client that ignores posted characters while its chat box is closed (a
// posted "/" does not open it) still runs every line the simulator injector
// types: it presses the real Enter first.
func TestSimulatorInjectorOpensTheChatBox(t *testing.T) {
	t.Parallel()
	base := startWoWSim(t, wowsim.KeysNeedOpenBox)
	line := func(text string) string { return `/run SendChatMessage("` + text + `","WHISPER",nil,"Jaina")` }

	// Without the Enter key the client drops the line: nothing is whispered.
	var raw struct {
		Dropped string `json:"dropped"`
	}
	simPost(t, base+"/api/mock/add-message", map[string]string{"content": line("bare")}, &raw)
	if raw.Dropped != wowsim.DroppedChatBoxClosed {
		t.Fatalf("a line posted with the chat box closed: dropped %q, want %q", raw.Dropped, wowsim.DroppedChatBoxClosed)
	}

	s, err := NewSimulator(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, text := range []string{"one", "two"} {
		if err := s.Inject(ctx, line(text)); err != nil {
			t.Fatalf("inject %q: %v", text, err)
		}
	}
	var got []string
	for _, w := range getSimState(t, base).Whispers {
		got = append(got, w.Text)
	}
	if strings.Join(got, ",") != "one,two" {
		t.Fatalf("whispers sent = %q, want one,two (the bare line must not run)", got)
	}
}

// A line the client ignored is a failure the queue retries or reports, with
// a sentence a streamer understands.
func TestSimulatorInjectorReportsSwallowedLines(t *testing.T) {
	t.Parallel()
	base := startWoWSim(t, wowsim.KeysNeedOpenBox)
	var res map[string]any
	simPost(t, base+"/api/mock/loading-screen", map[string]int{"ms": 600_000}, &res)
	s, err := NewSimulator(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = s.Inject(ctx, `/run SendChatMessage("lost","WHISPER",nil,"Jaina")`)
	if err == nil || !strings.Contains(err.Error(), "a loading screen swallowed it") {
		t.Fatalf("a line during a loading screen: %v", err)
	}
	if w := getSimState(t, base).Whispers; len(w) != 0 {
		t.Fatalf("a swallowed line ran: %v", w)
	}
}
