package twitchsim

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

type mainFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// lineWriter hands each complete line written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		select {
		case w.lines <- strings.TrimRight(line, "\n"):
		default:
		}
	}
}

var listeningLine = regexp.MustCompile(`^(\w+) listening on (http://127\.0\.0\.1:\d+)$`)

// startMain runs main on a free port and returns its base URL, a cancel
// function and the channel that receives its result.
func startMain(t *testing.T, main mainFunc, env map[string]string, wantService string) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{lines: make(chan string, 16)}
	stderr := &testkit.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- main(ctx, []string{"--listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, out, stderr)
	}()
	select {
	case line := <-out.lines:
		m := listeningLine.FindStringSubmatch(line)
		if m == nil || m[1] != wantService {
			cancel()
			t.Fatalf("first line = %q", line)
		}
		t.Cleanup(cancel)
		return m[2], cancel, done
	case err := <-done:
		cancel()
		t.Fatalf("main returned early: %v (stderr %s)", err, stderr.String())
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("no listening line")
	}
	return "", nil, nil
}

func waitExit(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("main returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("main did not exit after cancel")
	}
}

func TestMainsServeAndExitGracefully(t *testing.T) {
	cases := []struct {
		name    string
		main    mainFunc
		service string
		health  string
	}{
		{"eventsub", MainEventSub, EventSubService, healthEventSub},
		{"jwt", MainJWT, JWTService, healthJWT},
		{"helix", MainHelix, HelixService, healthHelix},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base, cancel, done := startMain(t, c.main, nil, c.service)
			if r := get(t, base+"/health"); r.status != http.StatusOK || trimNL(r.body) != c.health {
				t.Fatalf("health = %d %q", r.status, r.body)
			}
			cancel()
			waitExit(t, done)
			if _, err := http.Get(base + "/health"); err == nil {
				t.Fatal("still serving after exit")
			}
		})
	}
}

func TestMainEventSubEndToEnd(t *testing.T) {
	ebs := newFakeEBS(t, echoChallenge)
	env := map[string]string{"Twitch__EventSubSecret": testSecret, "Backend__BaseUrl": ebs.srv.URL, "Twitch__BroadcasterUserId": "bc"}
	base, cancel, done := startMain(t, MainEventSub, env, EventSubService)
	r := post(t, base+"/send-chat", `{"userId":"u","login":"l","text":"!twgold Etoehero","subscriber":true}`)
	if r.status != http.StatusOK {
		t.Fatalf("send-chat: %d %s", r.status, r.body)
	}
	if r := post(t, base+"/verify-subscription", ""); r.status != http.StatusOK || r.json(t)["ok"] != true {
		t.Fatalf("verify: %d %s", r.status, r.body)
	}
	got := ebs.requests()
	if len(got) != 2 || !bytes.Contains(got[0].body, []byte(`"broadcaster_user_id":"bc"`)) {
		t.Fatalf("EBS got %d requests: %s", len(got), got[0].body)
	}
	cancel()
	waitExit(t, done)
}

func TestMainHelixAndJWTSettings(t *testing.T) {
	base, _, _ := startMain(t, MainHelix, map[string]string{"MockHelix__StrictAuth": "TRUE", "MockHelix__Subscribers": "a,b"}, HelixService)
	if r := post(t, base+"/helix/chat/messages", `{}`); r.status != http.StatusUnauthorized {
		t.Fatalf("strict from env: %d", r.status)
	}
	r := do(t, http.MethodGet, base+"/helix/subscriptions?broadcaster_id=x&user_id=b", "", helixAuth)
	if r.status != http.StatusOK || r.json(t)["total"] != float64(1) {
		t.Fatalf("subscribers from env: %d %s", r.status, r.body)
	}

	base, _, _ = startMain(t, MainJWT, map[string]string{"Twitch__ExtensionClientId": "cid", "Twitch__BroadcasterUserId": "bc"}, JWTService)
	tok := issue(t, base, "userId=1", 7200)
	if p := payload(t, tok); p["aud"] != "cid" || p["channel_id"] != "bc" {
		t.Fatalf("payload = %v", p)
	}
}

func TestMainErrors(t *testing.T) {
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	for _, c := range []struct {
		name string
		main mainFunc
		args []string
		env  map[string]string
	}{
		{"unknown flag", MainHelix, []string{"--Nope=1"}, nil},
		{"bad listen", MainJWT, []string{"--listen", "nowhere"}, nil},
		{"bad backend", MainEventSub, []string{"--listen", "127.0.0.1:0"}, map[string]string{"Backend__BaseUrl": "ftp://x"}},
		{"bad secret", MainJWT, []string{"--listen", "127.0.0.1:0"}, map[string]string{"Twitch__ExtensionSecret": "%%%"}},
	} {
		err := c.main(ctx, c.args, func(k string) string { return c.env[k] }, &stdout, &stderr)
		if err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}

	// A port in use is an error, not a hang.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := MainHelix(ctx, []string{"--listen", ln.Addr().String()}, nil, &stdout, &stderr); err == nil {
		t.Error("busy port: no error")
	}

	// --help prints usage and succeeds.
	stdout.Reset()
	if err := MainEventSub(ctx, []string{"--help"}, nil, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), "Twitch__EventSubSecret") ||
		!strings.Contains(stdout.String(), "--listen") {
		t.Fatalf("help: %v %q", err, stdout.String())
	}
}
