package ebs_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebs"
	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
	"github.com/mimirons-goldomatic/mgm/internal/twitchauth/oauthtest"
)

// devTwitchClient records every answer, so the test can look for leaked tokens.
type devTwitchClient struct {
	t    *testing.T
	base string
	seen strings.Builder
}

func (c *devTwitchClient) do(method, path, contentType, origin string) (int, string) {
	c.t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	c.seen.Write(b)
	return resp.StatusCode, string(b)
}

type devLoginStatus struct {
	State           string `json:"state"`
	Message         string `json:"message"`
	Login           string `json:"login"`
	VerificationURI string `json:"verificationUri"`
	UserCode        string `json:"userCode"`
}

func (c *devTwitchClient) status() devLoginStatus {
	c.t.Helper()
	code, body := c.do(http.MethodGet, "/dev/twitch/login/status", "", "")
	var s devLoginStatus
	if err := json.Unmarshal([]byte(body), &s); code != http.StatusOK || err != nil {
		c.t.Fatalf("status: %d %s", code, body)
	}
	return s
}

// login starts a sign-in as the page's button does.
func (c *devTwitchClient) login() (int, devLoginStatus) {
	c.t.Helper()
	code, body := c.do(http.MethodPost, "/dev/twitch/login", "application/json", c.base)
	var s devLoginStatus
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		c.t.Fatalf("login: %d %s", code, body)
	}
	return code, s
}

// waitFor polls the status until it leaves pending (generous deadline, no timed assert).
func (c *devTwitchClient) waitFor(want string) devLoginStatus {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := c.status()
		if s.State != "pending" || time.Now().After(deadline) {
			if s.State != want {
				c.t.Fatalf("sign-in ended %+v, want %s", s, want)
			}
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The Development page signs the broadcaster in with the device flow (the
// test plays the user at Twitch), and the server uses the sign-in at once.
func TestDevTwitchLogin(t *testing.T) {
	for _, store := range ebstest.Stores {
		t.Run(string(store), func(t *testing.T) {
			srv := oauthtest.New(t, time.Now)
			var logs testkit.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			// Each poll of Twitch waits for the test: "pending" is observable.
			polls := make(chan struct{})
			sleep := func(ctx context.Context, _ time.Duration) error {
				select {
				case <-polls:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			e := ebstest.Start(t, store, map[string]string{
				"Twitch__HelixClientId": srv.ClientID, "Twitch__ClientSecret": srv.ClientSecret, "Twitch__AuthBaseUrl": srv.URL,
				"Twitch__BroadcasterUserId": srv.UserID,
			}, func(o *ebs.Options) { o.TwitchSleep, o.Logger = sleep, logger })
			c := &devTwitchClient{t: t, base: e.URL}

			code, page := c.do(http.MethodGet, "/dev/twitch", "", "")
			if code != http.StatusOK || !strings.Contains(page, "not_connected") || !strings.Contains(page, "Connect Twitch") {
				t.Fatalf("page before the sign-in: %d\n%s", code, page)
			}
			if s := c.status(); s.State != "idle" {
				t.Fatalf("status before the sign-in: %+v", s)
			}

			// Other sites cannot start a sign-in.
			for _, bad := range []struct{ name, contentType, origin string }{
				{"no origin", "application/json", ""},
				{"another origin", "application/json", "http://evil.example"},
				{"a form post", "application/x-www-form-urlencoded", e.URL},
			} {
				if code, body := c.do(http.MethodPost, "/dev/twitch/login", bad.contentType, bad.origin); code != http.StatusForbidden {
					t.Errorf("%s: %d %s", bad.name, code, body)
				}
			}
			if len(srv.Forms()) != 0 {
				t.Fatalf("a refused POST reached Twitch: %v", srv.Forms())
			}

			srv.DevicePolls("authorization_pending", "")
			code, s := c.login()
			if code != http.StatusAccepted || s.State != "pending" || s.UserCode != "ABCDEFGH" ||
				s.VerificationURI != "https://www.twitch.tv/activate?public=true&device-code=ABCDEFGH" {
				t.Fatalf("login: %d %+v", code, s)
			}
			// A second click while the first runs gets the same code.
			if code, again := c.login(); code != http.StatusOK || again != s {
				t.Fatalf("second login: %d %+v", code, again)
			}
			if s := c.status(); s.State != "pending" || s.UserCode != "ABCDEFGH" {
				t.Fatalf("status while waiting: %+v", s)
			}
			if forms := srv.Forms(); len(forms) != 1 || !strings.Contains(forms[0], "scopes=channel%3Abot+channel%3Aread%3Asubscriptions+user%3Abot+user%3Aread%3Achat+user%3Awrite%3Achat") {
				t.Fatalf("device starts: %v", forms)
			}

			polls <- struct{}{} // pending
			polls <- struct{}{} // approved
			s = c.waitFor("connected")
			if s.Login != "twitchdev" || !strings.Contains(s.Message, "Connected as twitchdev (user id 141981764)") {
				t.Fatalf("connected: %+v", s)
			}
			// The server uses the stored sign-in at once.
			_, ready := c.do(http.MethodGet, "/readyz", "", "")
			if !strings.Contains(ready, `"state":"valid"`) || !strings.Contains(ready, `"login":"twitchdev"`) {
				t.Errorf("/readyz after the sign-in: %s", ready)
			}
			_, page = c.do(http.MethodGet, "/dev/twitch", "", "")
			for _, want := range []string{"twitchdev (user id 141981764)", "valid",
				"channel:bot channel:read:subscriptions user:bot user:read:chat user:write:chat", "Refresh</dt><dd>yes"} {
				if !strings.Contains(page, want) {
					t.Errorf("page after the sign-in lacks %q:\n%s", want, page)
				}
			}

			// A new flow may start once the last one ended; each outcome is told.
			for _, tc := range []struct{ answer, state, message string }{
				{"access_denied", "denied", "declined"},
				{"expired_token", "expired", "expired"},
				{"invalid client", "error", "invalid client"},
			} {
				srv.DevicePolls(tc.answer)
				if code, s := c.login(); code != http.StatusAccepted || s.State != "pending" {
					t.Fatalf("%s: login %d %+v", tc.answer, code, s)
				}
				polls <- struct{}{}
				if s := c.waitFor(tc.state); !strings.Contains(s.Message, tc.message) {
					t.Errorf("%s: %+v", tc.answer, s)
				}
			}
			// A failed attempt leaves the stored sign-in in place.
			if _, ready := c.do(http.MethodGet, "/readyz", "", ""); !strings.Contains(ready, `"login":"twitchdev"`) {
				t.Errorf("/readyz after failed attempts: %s", ready)
			}

			// A flow still waiting when the EBS stops ends with it (the leak check sees to it).
			srv.DevicePolls("authorization_pending")
			if code, _ := c.login(); code != http.StatusAccepted {
				t.Fatalf("last login: %d", code)
			}

			all := c.seen.String() + logs.String()
			for _, tok := range append(srv.Issued(), srv.ClientSecret, "DEVICE-secret") {
				if strings.Contains(all, tok) {
					t.Errorf("%q leaked into an answer or the log", tok)
				}
			}
		})
	}
}

// In Production the page and its routes do not exist.
func TestDevTwitchNotInProduction(t *testing.T) {
	srv := oauthtest.New(t, time.Now)
	env := productionEnv(t)
	maps.Copy(env, map[string]string{"Twitch__HelixClientId": srv.ClientID, "Twitch__ClientSecret": srv.ClientSecret, "Twitch__AuthBaseUrl": srv.URL})
	e := ebstest.Start(t, ebstest.SQLite, env)
	c := &devTwitchClient{t: t, base: e.URL}
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/dev/twitch"}, {http.MethodPost, "/dev/twitch/login"}, {http.MethodGet, "/dev/twitch/login/status"},
	} {
		if code, body := c.do(r.method, r.path, "application/json", e.URL); code != http.StatusNotFound {
			t.Errorf("%s %s in Production: %d %s", r.method, r.path, code, body)
		}
	}
	if len(srv.Forms()) != 0 {
		t.Errorf("Production reached Twitch: %v", srv.Forms())
	}
}

// Where the stored sign-in is not in use, the page says why and starts nothing.
func TestDevTwitchUnavailable(t *testing.T) {
	e := ebstest.Start(t, ebstest.SQLite, map[string]string{"Twitch__BroadcasterAccessToken": "static-token"})
	c := &devTwitchClient{t: t, base: e.URL}
	if code, page := c.do(http.MethodGet, "/dev/twitch", "", ""); code != http.StatusOK ||
		!strings.Contains(page, "Twitch__BroadcasterAccessToken is set") || !strings.Contains(page, "disabled") {
		t.Fatalf("page: %d\n%s", code, page)
	}
	if code, body := c.do(http.MethodPost, "/dev/twitch/login", "application/json", e.URL); code != http.StatusServiceUnavailable ||
		!strings.Contains(body, "Twitch__BroadcasterAccessToken is set") {
		t.Fatalf("login: %d %s", code, body)
	}
	if strings.Contains(c.seen.String(), "static-token") {
		t.Error("the static token leaked into an answer")
	}
}
