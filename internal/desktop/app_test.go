package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

const key = "app-test-desktop-api-key-0123456789"

// fakeSim is a WoW simulator that records typed lines and reports its log.
func fakeSim(t *testing.T, logPath string) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var lines []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/mock/health":
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "logFilePath": logPath})
		case "/api/mock/key":
			w.Write([]byte(`{"ok":true,"chatBoxOpen":true}`))
		case "/api/mock/add-message":
			var b struct{ Content string }
			json.NewDecoder(r.Body).Decode(&b)
			mu.Lock()
			lines = append(lines, b.Content)
			mu.Unlock()
			w.Write([]byte(`{}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), lines...) }
}

type running struct {
	url, base, token string
	out              *testkit.Buffer
	cancel           context.CancelFunc
	done             chan error
	opened           chan string
}

func start(t *testing.T, o Options) *running {
	t.Helper()
	r := &running{out: &testkit.Buffer{}, done: make(chan error, 1), opened: make(chan string, 1)}
	ready := make(chan string, 1)
	o.Out, o.Version = r.out, "1.2.3"
	o.Ready = func(u string) { ready <- u }
	if o.OpenBrowser == nil {
		o.OpenBrowser = func(u string) error { r.opened <- u; return nil }
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- Run(ctx, o) }()
	select {
	case r.url = <-ready:
	case err := <-r.done:
		t.Fatalf("Run: %v\n%s", err, r.out)
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	r.base, r.token, _ = strings.Cut(r.url, "/?token=")
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("Run did not stop")
	}
}

func (r *running) api(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	return testkit.Call(t, method, r.base+path, testkit.Header(map[string]string{"X-MGM-Token": r.token}), body, out)
}

func TestFirstRunSettingsAndSecrets(t *testing.T) {
	e := ebstest.Start(t, ebstest.SQLite, map[string]string{"Mgm__ApiKey": key, "Twitch__BroadcasterUserId": "b1"})
	dir := t.TempDir()
	logPath := filepath.Join(dir, "wow", "Logs", "WoWChatLog.txt")
	os.MkdirAll(filepath.Dir(logPath), 0o755)
	os.WriteFile(logPath, nil, 0o644)
	sim, typed := fakeSim(t, logPath)
	data := filepath.Join(dir, "data")
	r := start(t, Options{DataDir: data, Injector: InjectorSimulator, WoWSimURL: sim.URL})

	// First run: the browser opens on Settings.
	if u := <-r.opened; !strings.HasSuffix(u, "#settings") || !strings.Contains(u, "?token=") {
		t.Fatalf("opened %s", u)
	}
	if !strings.Contains(r.out.String(), "First run") {
		t.Fatal(r.out.String())
	}
	var v map[string]any
	r.api(t, "GET", "/api/settings", nil, &v)
	if v["firstRun"] != true || v["chatLogPath"] != logPath || v["chatLogNote"] != "reported by the WoW simulator" {
		t.Fatalf("%v", v)
	}
	// Test Connection uses the typed values without saving them.
	var res map[string]any
	r.api(t, "POST", "/api/settings/test", map[string]string{"ebsUrl": e.URL, "apiKey": "wrong-key-wrong-key-wrong-key"}, &res)
	if res["ok"] != false || !strings.Contains(res["message"].(string), "The EBS refused the API key (403). Copy the Desktop API key again") {
		t.Fatalf("%v", res)
	}
	// A stopped EBS is a sentence, not Go's "dial tcp …: connection refused".
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	stopped := "http://" + ln.Addr().String()
	ln.Close()
	r.api(t, "POST", "/api/settings/test", map[string]string{"ebsUrl": stopped, "apiKey": key}, &res)
	if want := "The EBS at " + stopped + " is not reachable (connection refused). Check the EBS URL in Settings and that the EBS is running."; res["ok"] != false || res["message"] != want {
		t.Fatalf("%v", res)
	}
	r.api(t, "POST", "/api/settings/test", map[string]string{"ebsUrl": e.URL, "apiKey": key}, &res)
	if res["ok"] != true || res["version"] != "0.0.0-test" {
		t.Fatalf("%v", res)
	}
	if _, err := os.Stat(filepath.Join(data, "settings.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("testing saved the settings")
	}
	if code := r.api(t, "PUT", "/api/settings", map[string]any{"ebsUrl": "", "apiKey": key}, nil); code != 400 {
		t.Fatalf("empty URL: %d", code)
	}
	if code := r.api(t, "PUT", "/api/settings", map[string]any{"ebsUrl": e.URL, "apiKey": key, "pollIntervalSeconds": 1}, &v); code != 200 || v["firstRun"] != false || v["apiKeySet"] != true {
		t.Fatalf("%d %v", code, v)
	}
	keyFile := filepath.Join(data, "api-key")
	if runtime.GOOS == "windows" {
		keyFile += ".dpapi"
	} else if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", fi, err)
	}
	b, _ := os.ReadFile(filepath.Join(data, "settings.json"))
	if strings.Contains(string(b), key) {
		t.Fatal("the API key is in settings.json")
	}
	// The engine is configured: the EBS is reachable.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var s struct {
			Configured bool `json:"configured"`
			EBS        struct {
				Reachable bool `json:"reachable"`
			} `json:"ebs"`
			WoW struct {
				Found bool `json:"found"`
			} `json:"wow"`
			ChatLog struct {
				Found bool `json:"found"`
			} `json:"chatLog"`
		}
		r.api(t, "GET", "/api/status", nil, &s)
		if s.Configured && s.EBS.Reachable && s.WoW.Found && s.ChatLog.Found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%+v\n%s", s, r.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(r.out.String(), key) {
		t.Fatal("the API key is in the event log")
	}
	// Update check typed into the simulator: the Desktop answers in game.
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("4/4 12:00:00.000  [MGM_UPDATE_CHECK]\r\n")
	f.Close()
	for deadline = time.Now().Add(10 * time.Second); ; {
		if ls := typed(); len(ls) > 0 && strings.Contains(ls[len(ls)-1], "AddMessage") {
			if !strings.Contains(ls[len(ls)-1], "v1.2.3") {
				t.Fatal(ls)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer typed: %v\n%s", typed(), r.out)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A second Desktop on the same data folder refuses to start.
	second := make(chan string, 1)
	err := Run(context.Background(), Options{DataDir: data, Out: io.Discard, OpenBrowser: func(u string) error { second <- u; return nil }})
	if !errors.Is(err, ErrAlreadyRunning) || <-second != r.url {
		t.Fatalf("second instance: %v", err)
	}

	// Restart: the settings and the key are kept; clearing the key deletes it.
	r.stop(t)
	if _, err := os.Stat(filepath.Join(data, "state.json")); err != nil {
		t.Fatal("no state saved at shutdown")
	}
	r = start(t, Options{DataDir: data, Injector: InjectorSimulator, WoWSimURL: sim.URL})
	if u := <-r.opened; strings.HasSuffix(u, "#settings") {
		t.Fatal("not a first run any more")
	}
	r.api(t, "GET", "/api/settings", nil, &v)
	if v["apiKeySet"] != true || v["ebsUrl"] != e.URL || v["pollIntervalSeconds"] != float64(1) {
		t.Fatalf("%v", v)
	}
	if code := r.api(t, "PUT", "/api/settings", map[string]any{"ebsUrl": e.URL, "clearApiKey": true}, &v); code != 200 || v["apiKeySet"] != false || v["firstRun"] != true {
		t.Fatalf("%d %v", code, v)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("clearing the key left the file")
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	if err := Run(context.Background(), Options{DataDir: t.TempDir(), Injector: "telepathy", Out: io.Discard}); err == nil {
		t.Fatal("bad injector accepted")
	}
	if runtime.GOOS != "windows" {
		if err := Run(context.Background(), Options{DataDir: t.TempDir(), Injector: InjectorWindows, Out: io.Discard}); err == nil {
			t.Fatal("the Windows injector started outside Windows")
		}
	}
}

func TestAutoInjectorWithoutSimulatorExplainsItself(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("auto means the Windows injector here")
	}
	r := start(t, Options{DataDir: t.TempDir(), NoBrowser: true})
	var s struct {
		WoW struct {
			Found   bool   `json:"found"`
			Problem string `json:"problem"`
		} `json:"wow"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.WoW.Problem == "" && time.Now().Before(deadline) {
		r.api(t, "GET", "/api/status", nil, &s)
		time.Sleep(20 * time.Millisecond)
	}
	if s.WoW.Found || !strings.Contains(s.WoW.Problem, "simulator URL") {
		t.Fatalf("%+v", s)
	}
	select {
	case u := <-r.opened:
		t.Fatalf("--no-browser opened %s", u)
	default:
	}
}

func TestBanner(t *testing.T) {
	i := startInfo{Version: "1.2.3", DataDir: "/data", Injector: "WoW simulator http://sim", URL: "http://127.0.0.1:1/?token=t"}
	want := "Mimiron's Gold-o-Matic Desktop 1.2.3\n  Data folder: /data\n  Injector:    WoW simulator http://sim\n  UI:          http://127.0.0.1:1/?token=t\n  Ctrl+C stops.\n"
	if got := banner(i); got != want {
		t.Fatalf("%q", got)
	}
	i.FirstRun = true
	if got := banner(i); !strings.Contains(got, "  UI:          http://127.0.0.1:1/?token=t\n  First run: the UI opens on Settings (EBS URL and API key).\n  Ctrl+C stops.\n") {
		t.Fatalf("%q", got)
	}
}
