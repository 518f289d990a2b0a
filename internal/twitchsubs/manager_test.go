package twitchsubs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
	"github.com/mimirons-goldomatic/mgm/internal/twitchsubs"
)

func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }

const (
	broadcaster = "1001"
	callback    = "https://ebs.example.com/api/twitch/eventsub"
)

// fakeHelix serves the three EventSub subscription endpoints as Twitch
// documents them (https://dev.twitch.tv/docs/api/reference/eventsub/),
// paging the list by two.
type fakeHelix struct {
	mu      sync.Mutex
	subs    []twitchsubs.Subscription
	seq     int
	deleted []string
	secrets []string
	forbid  bool
}

func (f *fakeHelix) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	auth := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Bearer app-token" || r.Header.Get("Client-Id") != "cid" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}`))
			return false
		}
		return true
	}
	mux.HandleFunc("GET /helix/eventsub/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		start, _ := strconv.Atoi(r.URL.Query().Get("after"))
		var page []twitchsubs.Subscription
		for _, s := range f.subs[min(start, len(f.subs)):] {
			if typ := r.URL.Query().Get("type"); typ == "" || s.Type == typ {
				page = append(page, s)
			}
		}
		end := min(start+2, len(f.subs))
		body := map[string]any{"data": page[:min(2, len(page))], "total": len(f.subs), "total_cost": 1, "max_total_cost": 10000, "pagination": map[string]any{}}
		if end < len(f.subs) {
			body["pagination"] = map[string]any{"cursor": strconv.Itoa(end)}
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	mux.HandleFunc("POST /helix/eventsub/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		var body struct {
			Type      string               `json:"type"`
			Version   string               `json:"version"`
			Condition map[string]string    `json:"condition"`
			Transport twitchsubs.Transport `json:"transport"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.forbid {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"Forbidden","status":403,"message":"subscription missing proper authorization"}`))
			return
		}
		for _, s := range f.subs {
			if s.Type == body.Type && s.Transport.Callback == body.Transport.Callback && s.Condition["broadcaster_user_id"] == body.Condition["broadcaster_user_id"] {
				w.WriteHeader(http.StatusConflict)
				_, _ = w.Write([]byte(`{"error":"Conflict","status":409,"message":"subscription already exists"}`))
				return
			}
		}
		f.seq++
		f.secrets = append(f.secrets, body.Transport.Secret)
		s := twitchsubs.Subscription{ID: fmt.Sprintf("new-%d", f.seq), Status: "webhook_callback_verification_pending", Type: body.Type,
			Version: body.Version, Condition: body.Condition, Transport: twitchsubs.Transport{Method: "webhook", Callback: body.Transport.Callback}}
		f.subs = append(f.subs, s)
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]any{"data": []any{s}, "total": len(f.subs), "total_cost": 1, "max_total_cost": 10000})
	})
	mux.HandleFunc("DELETE /helix/eventsub/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		id := r.URL.Query().Get("id")
		f.mu.Lock()
		defer f.mu.Unlock()
		i := slices.IndexFunc(f.subs, func(s twitchsubs.Subscription) bool { return s.ID == id })
		if i < 0 {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		f.subs = slices.Delete(f.subs, i, i+1)
		f.deleted = append(f.deleted, id)
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func (f *fakeHelix) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.subs {
		out = append(out, s.ID)
	}
	return out
}

func chatSub(id, status, broadcasterID, cb string) twitchsubs.Subscription {
	return twitchsubs.Subscription{ID: id, Status: status, Type: twitchsubs.ChatMessageType, Version: "1",
		Condition: twitchsubs.ChatCondition(broadcasterID), Transport: twitchsubs.Transport{Method: "webhook", Callback: cb}}
}

func newManager(t *testing.T, f *fakeHelix) *twitchsubs.Manager {
	srv := httptest.NewServer(f.handler(t))
	t.Cleanup(srv.Close)
	return twitchsubs.NewManager(twitchsubs.Config{
		Helix:         &twitchsubs.Helix{BaseURL: srv.URL, ClientID: "cid", Token: twitchsubs.StaticToken("app-token")},
		BroadcasterID: broadcaster, Callback: callback, Secret: "s3cre7", Logger: testkit.Logger(t),
	})
}

func TestReconcileKeepsExactlyOurSubscription(t *testing.T) {
	tests := []struct {
		name        string
		existing    []twitchsubs.Subscription
		wantIDs     []string
		wantDeleted []string
		wantCreated int
	}{
		{name: "none: created", wantIDs: []string{"new-1"}, wantCreated: 1},
		{name: "ours enabled: kept", existing: []twitchsubs.Subscription{chatSub("a", "enabled", broadcaster, callback)}, wantIDs: []string{"a"}},
		{
			name: "elsewhere, failed and another channel's",
			existing: []twitchsubs.Subscription{
				chatSub("old-host", "enabled", broadcaster, "https://old.example.com/api/twitch/eventsub"),
				chatSub("failed", "webhook_callback_verification_failed", broadcaster, callback),
				chatSub("other-channel", "enabled", "9999", "https://elsewhere.example.com/cb"),
			},
			wantIDs: []string{"other-channel", "new-1"}, wantDeleted: []string{"old-host", "failed"}, wantCreated: 1,
		},
		{
			name:     "duplicates of ours: one kept",
			existing: []twitchsubs.Subscription{chatSub("a", "enabled", broadcaster, callback), chatSub("b", "enabled", broadcaster, callback)},
			wantIDs:  []string{"a"}, wantDeleted: []string{"b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeHelix{subs: slices.Clone(tt.existing)}
			m := newManager(t, f)
			for range 2 { // the second check finds everything in place
				if err := m.Reconcile(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if got := f.ids(); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("subscriptions = %v, want %v", got, tt.wantIDs)
			}
			if !slices.Equal(f.deleted, tt.wantDeleted) {
				t.Errorf("deleted = %v, want %v", f.deleted, tt.wantDeleted)
			}
			if len(f.secrets) != tt.wantCreated || (tt.wantCreated > 0 && f.secrets[0] != "s3cre7") {
				t.Errorf("created with secrets %v, want %d with the EventSub secret", f.secrets, tt.wantCreated)
			}
			if st := m.State(); st.Status != "ok" || st.SubscriptionID != tt.wantIDs[len(tt.wantIDs)-1] {
				t.Errorf("state = %+v", st)
			}
		})
	}
}

func TestForbiddenAsksForSignIn(t *testing.T) {
	f := &fakeHelix{forbid: true}
	m := newManager(t, f)
	if err := m.Reconcile(context.Background()); twitchsubs.StatusOf(err) != http.StatusForbidden {
		t.Fatalf("err = %v, want a 403", err)
	}
	if st := m.State(); st.Status != "needs_sign_in" || st.Detail == "" {
		t.Errorf("state = %+v", st)
	}
}

func TestRevocationRecreatesWhenAllowed(t *testing.T) {
	f := &fakeHelix{}
	m := newManager(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitIDs := func(want ...string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !slices.Equal(f.ids(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("subscriptions = %v, want %v", f.ids(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitIDs("new-1")

	revoke := func(status string) {
		f.mu.Lock()
		f.subs = nil // Twitch drops a revoked subscription
		f.mu.Unlock()
		m.Revoked(context.Background(), eventsub.Subscription{ID: "new-1", Type: twitchsubs.ChatMessageType, Status: status})
	}
	revoke("notification_failures_exceeded")
	waitIDs("new-2")

	revoke("authorization_revoked")
	if st := m.State(); st.Status != "needs_sign_in" || st.LastRevocation != "authorization_revoked" {
		t.Errorf("state = %+v, want needs_sign_in", st)
	}
	time.Sleep(50 * time.Millisecond) // a re-creation would have been kicked at once
	if got := f.ids(); len(got) != 0 {
		t.Errorf("re-created %v after authorization_revoked; it needs a sign-in first", got)
	}
}

func TestJudge(t *testing.T) {
	for status, want := range map[string]twitchsubs.Verdict{
		"authorization_revoked":          {NeedsSignIn: true},
		"user_removed":                   {NeedsSignIn: true},
		"version_removed":                {},
		"notification_failures_exceeded": {Recreate: true},
		"moderator_removed":              {Recreate: true},
	} {
		got := twitchsubs.Judge(status)
		if got.Recreate != want.Recreate || got.NeedsSignIn != want.NeedsSignIn || got.Explain == "" {
			t.Errorf("Judge(%q) = %+v", status, got)
		}
	}
}
