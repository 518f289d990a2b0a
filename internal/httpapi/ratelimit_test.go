package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

// wantRateLimited checks a 429 with the standard body and an integer
// Retry-After of at least one second, and returns that delay.
func wantRateLimited(t *testing.T, what string, r response) time.Duration {
	t.Helper()
	wantError(t, what, r, http.StatusTooManyRequests, ebsapi.CodeRateLimited)
	ra := r.header.Get("Retry-After")
	secs, err := strconv.Atoi(ra)
	if err != nil || secs < 1 {
		t.Fatalf("%s: Retry-After %q, want whole seconds >= 1", what, ra)
	}
	return time.Duration(secs) * time.Second
}

func TestViewerWriteLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil) // ViewerWrites = 5
	for i := 1; i <= 5; i++ {
		r := ts.claim(t, "1001", "Norinn", fmt.Sprintf("req-%d", i))
		if r.status == http.StatusTooManyRequests {
			t.Fatalf("claim %d of 5 throttled: %s", i, r)
		}
		wantStatus(t, fmt.Sprintf("claim %d", i), r, http.StatusCreated)
	}
	r := ts.claim(t, "1001", "Norinn", "req-6")
	wait := wantRateLimited(t, "6th claim within a minute", r)
	if wait > time.Minute {
		t.Fatalf("Retry-After %s is longer than the window", wait)
	}

	// Refusals are not free passes: still refused at the same instant.
	wantRateLimited(t, "7th claim", ts.claim(t, "1001", "Norinn", "req-7"))

	// Another viewer has a bucket of their own.
	wantStatus(t, "other viewer's claim", ts.claim(t, "1002", "Jaina", "other-1"), http.StatusCreated)
	// Reads are a separate class.
	wantStatus(t, "throttled viewer still reads", ts.get(t, "/api/pool/me", bearerHdr(ts.token("1001"))), http.StatusOK)

	// Waiting exactly Retry-After is enough for one more.
	ts.clock.Advance(wait - time.Second)
	if wait > time.Second {
		wantRateLimited(t, "claim a second before Retry-After elapsed", ts.claim(t, "1001", "Norinn", "req-8"))
	}
	ts.clock.Advance(time.Second)
	wantStatus(t, "claim after Retry-After", ts.claim(t, "1001", "Norinn", "req-9"), http.StatusCreated)

	// After a full minute the whole allowance is back.
	ts.clock.Advance(60 * time.Second)
	for i := 0; i < 5; i++ {
		r := ts.claim(t, "1001", "Norinn", fmt.Sprintf("later-%d", i))
		wantStatus(t, fmt.Sprintf("claim %d after a minute", i+1), r, http.StatusCreated)
	}
	wantRateLimited(t, "6th claim of the next minute", ts.claim(t, "1001", "Norinn", "later-5"))
}

func TestViewerReadLimit(t *testing.T) {
	t.Parallel()
	t.Run("panel polling every 3 s for 10 minutes", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil) // ViewerReads = 120
		tok := ts.token("1001")
		opaque := ts.opaqueToken("Uanon")
		for i := 0; i < 200; i++ {
			for _, tk := range []string{tok, opaque} {
				r := ts.get(t, "/api/roulette/state", bearerHdr(tk))
				if r.status != http.StatusOK {
					t.Fatalf("poll %d at %s: %s", i, ts.clock.Now().Format(time.RFC3339), r)
				}
			}
			if i%10 == 0 {
				wantStatus(t, "pool/me poll", ts.get(t, "/api/pool/me", bearerHdr(tok)), http.StatusOK)
			}
			ts.clock.Advance(3 * time.Second)
		}
	})
	t.Run("burst over the minute's allowance", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil)
		tok := ts.token("1001")
		for i := 1; i <= 120; i++ {
			r := ts.get(t, "/api/roulette/state", bearerHdr(tok))
			wantStatus(t, fmt.Sprintf("read %d of 120", i), r, http.StatusOK)
		}
		wantRateLimited(t, "121st read", ts.get(t, "/api/roulette/state", bearerHdr(tok)))
		// pool/me shares the viewer-read bucket.
		wantRateLimited(t, "pool/me after the burst", ts.get(t, "/api/pool/me", bearerHdr(tok)))
		// Another viewer, and an opaque viewer, are unaffected.
		wantStatus(t, "other viewer", ts.get(t, "/api/roulette/state", bearerHdr(ts.token("1002"))), http.StatusOK)
		wantStatus(t, "opaque viewer", ts.get(t, "/api/roulette/state", bearerHdr(ts.opaqueToken("Uother"))), http.StatusOK)
		// Writes are a separate class.
		wantStatus(t, "claim after read burst", ts.claim(t, "1001", "Norinn", "r1"), http.StatusCreated)
		ts.clock.Advance(time.Minute)
		wantStatus(t, "read after a minute", ts.get(t, "/api/roulette/state", bearerHdr(tok)), http.StatusOK)
	})
	t.Run("opaque viewers are limited by opaque id", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, func(c *config.Config) { c.RateLimits.ViewerReads = 3 })
		a, b := ts.opaqueToken("Ua"), ts.opaqueToken("Ub")
		for i := 0; i < 3; i++ {
			wantStatus(t, "opaque a", ts.get(t, "/api/roulette/state", bearerHdr(a)), http.StatusOK)
		}
		wantRateLimited(t, "opaque a, 4th", ts.get(t, "/api/roulette/state", bearerHdr(a)))
		wantStatus(t, "opaque b", ts.get(t, "/api/roulette/state", bearerHdr(b)), http.StatusOK)
	})
}

func TestDesktopLimit(t *testing.T) {
	t.Parallel()
	t.Run("per key", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, func(c *config.Config) { c.RateLimits.Desktop = 3 })
		for i := 0; i < 3; i++ {
			wantStatus(t, "key A", ts.get(t, "/api/payouts/pending", apiKeyHdr(testAPIKeyA)), http.StatusOK)
		}
		wantRateLimited(t, "key A, 4th", ts.get(t, "/api/payouts/pending", apiKeyHdr(testAPIKeyA)))
		wantStatus(t, "key B", ts.get(t, "/api/payouts/pending", apiKeyHdr(testAPIKeyB)), http.StatusOK)
		// Viewers are not Desktop.
		wantStatus(t, "viewer", ts.get(t, "/api/pool/me", bearerHdr(ts.token("1001"))), http.StatusOK)
		ts.clock.Advance(time.Minute)
		wantStatus(t, "key A after a minute", ts.get(t, "/api/payouts/pending", apiKeyHdr(testAPIKeyA)), http.StatusOK)
	})
	t.Run("polling every 2 s for 10 minutes", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, nil) // Desktop = 600
		for i := 0; i < 300; i++ {
			r := ts.get(t, "/api/payouts/pending?status=Pending,InProgress", apiKeyHdr(testAPIKeyA))
			if r.status != http.StatusOK {
				t.Fatalf("poll %d: %s", i, r)
			}
			ts.clock.Advance(2 * time.Second)
		}
	})
}

func TestAnonymousLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil) // Anonymous = 120
	for i := 1; i <= 120; i++ {
		r := ts.get(t, "/api/version", nil)
		wantStatus(t, fmt.Sprintf("version %d of 120", i), r, http.StatusOK)
	}
	wantRateLimited(t, "121st /api/version", ts.get(t, "/api/version", nil))
	// A forged forwarding header does not buy a new bucket.
	wantRateLimited(t, "with X-Forwarded-For", ts.get(t, "/api/version", hdr("X-Forwarded-For", "203.0.113.7", "X-Real-Ip", "203.0.113.7")))
	// Authenticated classes are separate.
	wantStatus(t, "viewer read", ts.get(t, "/api/roulette/state", bearerHdr(ts.token("1001"))), http.StatusOK)
	wantStatus(t, "desktop", ts.get(t, "/api/payouts/pending", apiKeyHdr(testAPIKeyA)), http.StatusOK)

	// Another client address has its own bucket (127.0.0.0/8 is all loopback on Linux).
	other := &http.Client{Transport: &http.Transport{
		DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext,
	}}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, ts.url+"/api/version", nil)
	resp, err := other.Do(req)
	if err != nil {
		t.Logf("cannot dial from 127.0.0.2 (%v); skipping the per-IP check", err)
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/api/version from 127.0.0.2: status %d, want 200 (own bucket)", resp.StatusCode)
		}
	}

	ts.clock.Advance(time.Minute)
	wantStatus(t, "/api/version after a minute", ts.get(t, "/api/version", nil), http.StatusOK)
}

func TestEventSubNeverLimited(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config.Config) {
		c.RateLimits = config.RateLimits{ViewerReads: 1, ViewerWrites: 1, Desktop: 1, Anonymous: 1}
	})
	for i := 0; i < 200; i++ {
		text := "hello chat"
		if i%4 == 0 {
			text = "!twgold " + letters(i)
		}
		body := chatEvent{chatterID: fmt.Sprint(5000 + i), text: text, messageID: fmt.Sprintf("chat-%d", i)}.body()
		r := ts.deliver(t, fmt.Sprintf("delivery-%d", i), "notification", body)
		if r.status != http.StatusOK {
			t.Fatalf("delivery %d: %s", i, r)
		}
	}
	if n := ts.poolCount(t); n != 50 {
		t.Fatalf("pool size %d after 50 enrollments, want 50", n)
	}
}

// letters spells n as a distinct valid character name ("Aaaa", "Aaab", …).
func letters(n int) string {
	b := []byte("Aaaa")
	for i := 3; i > 0 && n > 0; i-- {
		b[i] = byte('a' + n%26)
		n /= 26
	}
	return string(b)
}
