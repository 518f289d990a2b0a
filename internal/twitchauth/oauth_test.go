package twitchauth

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/twitchauth/oauthtest"
)

// clock is the tests' time: it moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newOAuthServer(t *testing.T, c *clock) *oauthtest.Server { return oauthtest.New(t, c.Now) }

func client(s *oauthtest.Server) *Client { return NewClient(s.URL, s.ClientID, s.ClientSecret) }

func TestPollDevice(t *testing.T) {
	tests := []struct {
		name   string
		polls  []string
		want   error // nil = a grant
		sleeps []time.Duration
	}{
		{"approved after pending", []string{"authorization_pending", "authorization_pending", ""}, nil, []time.Duration{5e9, 5e9, 5e9}},
		{"slow_down adds five seconds", []string{"slow_down", "authorization_pending", ""}, nil, []time.Duration{5e9, 10e9, 10e9}},
		{"declined", []string{"authorization_pending", "access_denied"}, ErrAccessDenied, []time.Duration{5e9, 5e9}},
		{"expired code", []string{"authorization_pending", "invalid device code"}, ErrDeviceExpired, []time.Duration{5e9, 5e9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newOAuthServer(t, newClock())
			srv.DevicePolls(tt.polls...)
			c := client(srv)
			dc, err := c.StartDevice(context.Background(), Scopes)
			if err != nil {
				t.Fatal(err)
			}
			if dc.UserCode != "ABCDEFGH" || dc.Interval != 5*time.Second || dc.ExpiresIn != 30*time.Minute {
				t.Fatalf("device code = %+v", dc)
			}
			var slept []time.Duration
			g, err := c.PollDevice(context.Background(), dc, Scopes, func(_ context.Context, d time.Duration) error {
				slept = append(slept, d)
				return nil
			})
			if tt.want != nil {
				if err != tt.want {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
			} else if err != nil || g.AccessToken != "AT-secret-001" || g.RefreshToken != "RT-secret-001" || g.ExpiresIn != 4*time.Hour {
				t.Fatalf("grant = %+v, %v", g, err)
			}
			if fmt.Sprint(slept) != fmt.Sprint(tt.sleeps) {
				t.Fatalf("slept %v, want %v", slept, tt.sleeps)
			}
			// The documented form: no client_secret in a device-code poll.
			forms := srv.Forms()
			if !strings.Contains(forms[0], "scopes=channel%3Abot+channel%3Aread%3Asubscriptions+user%3Abot+user%3Aread%3Achat+user%3Awrite%3Achat") {
				t.Fatalf("device request %s", forms[0])
			}
			for _, f := range forms[1:] {
				if strings.Contains(f, "client_secret") {
					t.Fatalf("device poll sent the client secret: %s", f)
				}
			}
		})
	}
}

func TestPollDeviceStopsAtExpiry(t *testing.T) {
	srv := newOAuthServer(t, newClock())
	polls := make([]string, 1000)
	for i := range polls {
		polls[i] = "authorization_pending"
	}
	srv.DevicePolls(polls...)
	c := client(srv)
	dc := DeviceCode{DeviceCode: "DEVICE-secret", Interval: 5 * time.Second, ExpiresIn: 30 * time.Second}
	_, err := c.PollDevice(context.Background(), dc, Scopes, func(context.Context, time.Duration) error { return nil })
	if err != ErrDeviceExpired {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Polls(); n != 6 {
		t.Fatalf("polled %d times in 30 s at 5 s, want 6", n)
	}
}

func TestAppTokenSource(t *testing.T) {
	c := newClock()
	srv := newOAuthServer(t, c)
	src := NewAppTokenSource(client(srv), c.Now)
	ctx := context.Background()
	a, err := src.Token(ctx)
	if err != nil || !strings.HasPrefix(a, "APP-secret-") {
		t.Fatalf("token %q, %v", a, err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b, err := src.Token(ctx); err != nil || b != a {
				t.Errorf("cached token %q, %v", b, err)
			}
		}()
	}
	wg.Wait()
	if n := srv.AppCalls(); n != 1 {
		t.Fatalf("%d app token requests, want 1", n)
	}
	c.Advance(4*time.Hour - 4*time.Minute) // inside the five-minute margin
	b, _ := src.Token(ctx)
	if b == a || srv.AppCalls() != 2 {
		t.Fatalf("not renewed before expiry")
	}
	src.Invalidate(a) // an old token: nothing happens
	if c2, _ := src.Token(ctx); c2 != b {
		t.Fatal("invalidating an old token dropped the current one")
	}
	src.Invalidate(b)
	if c3, _ := src.Token(ctx); c3 == b || srv.AppCalls() != 3 {
		t.Fatal("not renewed after Invalidate")
	}
	if _, err := NewAppTokenSource(NewClient(srv.URL, "cid123", ""), nil).Token(ctx); err == nil || !strings.Contains(err.Error(), "Twitch__ClientSecret") {
		t.Fatalf("without a secret: %v", err)
	}
}

func TestStaticTokenSource(t *testing.T) {
	s := NewStaticTokenSource("static-tok")
	s.Invalidate("static-tok")
	if tok, err := s.Token(context.Background()); tok != "static-tok" || err != nil || s.Status().State != StateStatic {
		t.Fatalf("%q %v", tok, err)
	}
	if _, err := NewStaticTokenSource("").Token(context.Background()); err != ErrNotConnected {
		t.Fatalf("empty: %v", err)
	}
}
