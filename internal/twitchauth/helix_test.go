package twitchauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/helix"
	"github.com/mimirons-goldomatic/mgm/internal/twitchauth/oauthtest"
)

// Helix through the stored sign-in: a 401 leads to one refresh and one
// retry; a revoked grant ends in the typed errors the callers degrade on.
func TestHelixUsesTokenSource(t *testing.T) {
	f := newFixture(t)
	db := oneDB(t, "sqlite")
	src := f.source(db, nil)
	f.signIn(t, src)

	var mu sync.Mutex
	refused := map[string]bool{}
	var seen []string
	hx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		seen = append(seen, tok)
		bad := refused[tok]
		mu.Unlock()
		if bad {
			oauthtest.Error(w, 401, "Invalid OAuth token")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[{"message_id":"m1","is_sent":true,"drop_reason":null}]}`)
	}))
	t.Cleanup(hx.Close)
	c := helix.NewWithTokens(hx.URL, "cid123", src, "141981764")
	ctx := context.Background()
	if err := src.Load(ctx); err != nil || !c.Configured() {
		t.Fatalf("not configured after sign-in: %v", err)
	}
	if err := c.SendChatMessage(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	refused["AT-secret-001"] = true // Twitch stopped accepting it early
	mu.Unlock()
	if err := c.SendChatMessage(ctx, "again"); err != nil {
		t.Fatalf("after a 401: %v", err)
	}
	mu.Lock()
	if strings.Join(seen, ",") != "AT-secret-001,AT-secret-001,AT-secret-002" {
		t.Fatalf("helix saw %v", seen)
	}
	mu.Unlock()
	if n := f.srv.RefreshCalls(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}

	// Revoked: Helix refuses the token and the refresh is refused too.
	mu.Lock()
	refused["AT-secret-002"] = true
	mu.Unlock()
	f.srv.Revoke(true)
	err := c.SendChatMessage(ctx, "third")
	if !errors.Is(err, ErrGrantInvalid) || !errors.Is(err, helix.ErrNotConfigured) {
		t.Fatalf("revoked: %v", err)
	}
	if c.Configured() {
		t.Fatal("still configured with a revoked grant: the reward line would not be skipped")
	}
	if _, err := c.IsSubscriber(ctx, "42"); !errors.Is(err, ErrGrantInvalid) {
		t.Fatalf("subscriber check: %v", err)
	}
	if n := f.srv.RefreshCalls(); n != 2 {
		t.Fatalf("%d refreshes, want 2 (one for the 401, none after the refusal)", n)
	}
}
