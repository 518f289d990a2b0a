package ebs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	telemetry "github.com/mimirons-goldomatic/mgm/internal/metrics"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/twitchauth/oauthtest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// The streamer's path: twitch login (the test plays the user at Twitch),
// twitch status, the server started on the stored sign-in, and a revoked
// grant reported. No token may appear in any output, log or /metrics.
func TestTwitchLoginStatusAndServe(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			srv := oauthtest.New(t, time.Now)
			env := map[string]string{
				"Mgm__Environment": "Development", "Mgm__Listen": "127.0.0.1:0", "Mgm__DataDir": filepath.Join(t.TempDir(), "data"),
				"Twitch__HelixClientId": srv.ClientID, "Twitch__ClientSecret": srv.ClientSecret, "Twitch__AuthBaseUrl": srv.URL,
				"Twitch__TokenEncryptionKey": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
				"Twitch__BroadcasterUserId":  srv.UserID,
			}
			if store == "postgres" {
				env["ConnectionStrings__PostgreSQL"] = pgtest.NewDatabase(t)
			}
			cfg := load(t, env)
			ctx := context.Background()
			var out, logs lockedBuffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			var slept []time.Duration
			opts := TwitchOptions{Out: &out, Logger: logger, Sleep: func(_ context.Context, d time.Duration) error {
				slept = append(slept, d)
				return nil
			}}
			srv.DevicePolls("authorization_pending", "slow_down", "")
			if err := Twitch(ctx, cfg, "login", opts); err != nil {
				t.Fatalf("login: %v\n%s", err, out.String())
			}
			for _, want := range []string{
				"open\n\n    https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH\n",
				"enter the code\n\n    ABCDEFGH\n",
				"Scopes asked for: channel:bot channel:read:subscriptions user:bot user:read:chat user:write:chat",
				"Connected as twitchdev (user id 141981764)",
				"encrypted with Twitch__TokenEncryptionKey",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("login output lacks %q:\n%s", want, out.String())
				}
			}
			if len(slept) != 3 || slept[0] != 5*time.Second || slept[2] != 10*time.Second {
				t.Errorf("polled after %v, want 5s, 10s, 10s", slept)
			}

			out.b.Reset()
			if err := Twitch(ctx, cfg, "status", opts); err != nil {
				t.Fatalf("status: %v\n%s", err, out.String())
			}
			for _, want := range []string{"Connected:   twitchdev (user id 141981764)",
				"Scopes:      channel:bot channel:read:subscriptions user:bot user:read:chat user:write:chat",
				"Stored:      encrypted", "Status:      OK"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("status output lacks %q:\n%s", want, out.String())
				}
			}

			// The server picks the sign-in up; banner and /metrics say so without the token.
			var banner lockedBuffer
			runCtx, cancel := context.WithCancel(ctx)
			ready, done := make(chan string, 1), make(chan error, 1)
			go func() {
				done <- Run(runCtx, cfg, Options{Out: &banner, Logger: logger, Ready: func(a string) { ready <- a }})
			}()
			var addr string
			select {
			case addr = <-ready:
			case err := <-done:
				t.Fatalf("run: %v", err)
			}
			if !strings.Contains(banner.String(), "Twitch:     signed in as twitchdev (user id 141981764); renewed automatically") {
				t.Errorf("banner:\n%s", banner.String())
			}
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if !strings.Contains(string(metrics), `mgm_twitch_token_state{state="valid"} 1`) {
				t.Errorf("/metrics lacks the token state")
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}

			// /readyz's detail part, for the lead's wiring.
			db, _, err := openStore(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			b := &backend{cfg: cfg, db: db}
			if _, err := b.helixClient(ctx, Options{Now: time.Now, Logger: logger}, telemetry.New()); err != nil {
				t.Fatal(err)
			}
			if d := fmt.Sprint(b.twitchReadyDetail()); !strings.Contains(d, "state:valid") || !strings.Contains(d, "login:twitchdev") || b.appTokens == nil {
				t.Errorf("ready detail %s", d)
			}
			_ = db.Close()

			// Revoked at Twitch: status says what to do, and fails.
			srv.Revoke(true)
			out.b.Reset()
			cfg.LogLevel = "debug"
			// Validation is due only hourly; an unused status after a
			// revocation still finds out through the refresh.
			err = Twitch(ctx, cfg, "status", TwitchOptions{Out: &out, Logger: logger, Now: func() time.Time { return time.Now().Add(2 * time.Hour) }})
			if !errors.Is(err, ErrTwitchNotReady) || !strings.Contains(out.String(), "run mgm-ebs twitch login again") {
				t.Fatalf("revoked status: %v\n%s", err, out.String())
			}

			all := out.String() + logs.String() + banner.String() + string(metrics)
			for _, tok := range append(srv.Issued(), srv.ClientSecret) {
				if strings.Contains(all, tok) {
					t.Errorf("%q leaked into the output, logs, banner or /metrics", tok)
				}
			}
		})
	}
}

func TestTwitchLoginRefusesAnotherAccount(t *testing.T) {
	srv := oauthtest.New(t, time.Now)
	cfg := load(t, map[string]string{"Mgm__DataDir": filepath.Join(t.TempDir(), "data"),
		"Twitch__HelixClientId": srv.ClientID, "Twitch__AuthBaseUrl": srv.URL, "Twitch__BroadcasterUserId": "999"})
	srv.DevicePolls("")
	var out bytes.Buffer
	err := Twitch(context.Background(), cfg, "login", TwitchOptions{Out: &out, Sleep: func(context.Context, time.Duration) error { return nil }})
	if err == nil || !strings.Contains(err.Error(), "signed in as twitchdev (user id 141981764), but Twitch__BroadcasterUserId is 999") {
		t.Fatalf("err = %v", err)
	}
	out.Reset()
	if err := Twitch(context.Background(), cfg, "status", TwitchOptions{Out: &out}); !errors.Is(err, ErrTwitchNotReady) ||
		!strings.Contains(out.String(), "Connected:   no") || !strings.Contains(out.String(), "run mgm-ebs twitch login") {
		t.Fatalf("status after a refused login: %v\n%s", err, out.String())
	}
	if err := Twitch(context.Background(), load(t, nil), "login", TwitchOptions{}); err == nil || !strings.Contains(err.Error(), "Twitch__HelixClientId is not set") {
		t.Fatalf("without a client id: %v", err)
	}
}
