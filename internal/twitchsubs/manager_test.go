package twitchsubs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
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
	secrets map[string][]string // by type
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
		var match []twitchsubs.Subscription
		for _, s := range f.subs {
			if typ := r.URL.Query().Get("type"); typ == "" || s.Type == typ {
				match = append(match, s)
			}
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("after"))
		start = min(start, len(match))
		end := min(start+2, len(match))
		body := map[string]any{"data": match[start:end], "total": len(f.subs), "total_cost": 1, "max_total_cost": 10000, "pagination": map[string]any{}}
		if end < len(match) {
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
		if f.secrets == nil {
			f.secrets = map[string][]string{}
		}
		f.secrets[body.Type] = append(f.secrets[body.Type], body.Transport.Secret)
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

// ids lists the subscriptions of typ ("" = all).
func (f *fakeHelix) ids(typ string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.subs {
		if typ == "" || s.Type == typ {
			out = append(out, s.ID)
		}
	}
	return out
}

func chatSub(id, status, broadcasterID, cb string) twitchsubs.Subscription {
	return twitchsubs.Subscription{ID: id, Status: status, Type: twitchsubs.ChatMessageType, Version: "1",
		Condition: twitchsubs.ChatCondition(broadcasterID), Transport: twitchsubs.Transport{Method: "webhook", Callback: cb}}
}

func streamSub(id, typ, status, broadcasterID, cb string) twitchsubs.Subscription {
	return twitchsubs.Subscription{ID: id, Status: status, Type: typ, Version: "1",
		Condition: twitchsubs.StreamCondition(broadcasterID), Transport: twitchsubs.Transport{Method: "webhook", Callback: cb}}
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
			if got := f.ids(twitchsubs.ChatMessageType); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("subscriptions = %v, want %v", got, tt.wantIDs)
			}
			if !slices.Equal(f.deleted, tt.wantDeleted) {
				t.Errorf("deleted = %v, want %v", f.deleted, tt.wantDeleted)
			}
			if sec := f.secrets[twitchsubs.ChatMessageType]; len(sec) != tt.wantCreated || (tt.wantCreated > 0 && sec[0] != "s3cre7") {
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
	waitIDs := func(typ string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !slices.Equal(f.ids(typ), want) {
			if time.Now().After(deadline) {
				t.Fatalf("%s subscriptions = %v, want %v", typ, f.ids(typ), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Chat first, then the live status.
	waitIDs("", "new-1", "new-2", "new-3")

	revoke := func(id, typ, status string) {
		f.mu.Lock()
		f.subs = slices.DeleteFunc(f.subs, func(s twitchsubs.Subscription) bool { return s.ID == id }) // Twitch drops a revoked subscription
		f.mu.Unlock()
		m.Revoked(context.Background(), eventsub.Subscription{ID: id, Type: typ, Status: status})
	}
	revoke("new-1", twitchsubs.ChatMessageType, "notification_failures_exceeded")
	waitIDs(twitchsubs.ChatMessageType, "new-4")
	revoke("new-3", twitchsubs.StreamOfflineType, "notification_failures_exceeded")
	waitIDs(twitchsubs.StreamOfflineType, "new-5")
	if got := f.ids(""); !slices.Equal(got, []string{"new-2", "new-4", "new-5"}) {
		t.Errorf("subscriptions = %v: each revocation must re-create only its own type", got)
	}

	revoke("new-4", twitchsubs.ChatMessageType, "authorization_revoked")
	if st := m.State(); st.Status != "needs_sign_in" || st.LastRevocation != "authorization_revoked" {
		t.Errorf("state = %+v, want needs_sign_in", st)
	}
	time.Sleep(50 * time.Millisecond) // a re-creation would have been kicked at once
	if got := f.ids(twitchsubs.ChatMessageType); len(got) != 0 {
		t.Errorf("re-created %v after authorization_revoked; it needs a sign-in first", got)
	}
}

// TestReconcileKeepsTheLiveStatusSubscriptions: stream.online and
// stream.offline are kept like chat, with their own condition (the
// broadcaster alone: they need no user's authorization).
func TestReconcileKeepsTheLiveStatusSubscriptions(t *testing.T) {
	f := &fakeHelix{subs: []twitchsubs.Subscription{
		streamSub("on-old-host", twitchsubs.StreamOnlineType, "enabled", broadcaster, "https://old.example.com/api/twitch/eventsub"),
		streamSub("off-ours", twitchsubs.StreamOfflineType, "enabled", broadcaster, callback),
		streamSub("off-dup", twitchsubs.StreamOfflineType, "enabled", broadcaster, callback),
		streamSub("on-other", twitchsubs.StreamOnlineType, "enabled", "9999", callback),
	}}
	m := newManager(t, f)
	for range 2 {
		if err := m.Reconcile(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := f.ids(""), []string{"off-ours", "on-other", "new-1", "new-2"}; !slices.Equal(got, want) {
		t.Errorf("subscriptions = %v, want %v", got, want)
	}
	if want := []string{"on-old-host", "off-dup"}; !slices.Equal(f.deleted, want) {
		t.Errorf("deleted = %v, want %v", f.deleted, want)
	}
	f.mu.Lock()
	for _, s := range f.subs {
		if s.ID == "new-2" && (s.Type != twitchsubs.StreamOnlineType || s.Version != "1" ||
			!maps.Equal(s.Condition, map[string]string{"broadcaster_user_id": broadcaster}) || s.Transport.Callback != callback) {
			t.Errorf("stream.online created as %+v", s)
		}
	}
	if sec := f.secrets[twitchsubs.StreamOnlineType]; !slices.Equal(sec, []string{"s3cre7"}) {
		t.Errorf("stream.online created with secrets %v, want once with the EventSub secret", sec)
	}
	f.mu.Unlock()
	want := map[string]string{twitchsubs.ChatMessageType: "new-1", twitchsubs.StreamOnlineType: "new-2", twitchsubs.StreamOfflineType: "off-ours"}
	if st := m.State(); st.Status != "ok" || st.SubscriptionID != "new-1" || !maps.Equal(st.Subscriptions, want) {
		t.Errorf("state = %+v, want subscriptions %v", st, want)
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
