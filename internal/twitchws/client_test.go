package twitchws_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite/sqlitetest"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
	"github.com/mimirons-goldomatic/mgm/internal/twitchsubs"
	"github.com/mimirons-goldomatic/mgm/internal/twitchws"
)

func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }

// welcomed connects, welcomes and waits for the subscription on session.
func (h *harness) welcomed(t *testing.T, session string, keepalive int) *serverConn {
	t.Helper()
	sc := h.f.next()
	n := len(h.f.subscriptions())
	sc.send(t, welcome(session, keepalive))
	eventually(t, "the client subscribes on "+session, func() bool {
		s := h.f.subscriptions()
		return len(s) > n && s[len(s)-1] == session
	})
	return sc
}

func TestWelcomeSubscribeAndIngestOnce(t *testing.T) {
	f := newFakeTwitch(t)
	in := newIngestion(t, sqlitetest.Open(t))
	f.reject = 1 // set before the client starts; the first token is refused: invalidated, then retried once
	h := start(t, f, in, nil)
	sc := h.welcomed(t, "s1", 10)
	h.tok.mu.Lock()
	invalidated := h.tok.invalidated
	h.tok.mu.Unlock()
	f.mu.Lock()
	tokens := f.tokens
	f.mu.Unlock()
	// The live status subscriptions follow chat's with the refreshed token.
	if invalidated != 1 || len(tokens) < 2 || !slices.Equal(tokens[:2], []string{"Bearer tok-0", "Bearer tok-1"}) ||
		slices.ContainsFunc(tokens[2:], func(s string) bool { return s != "Bearer tok-1" }) {
		t.Errorf("after a 401: invalidated %d, tokens sent %v; want one refresh and one retry", invalidated, tokens)
	}
	sc.send(t, notification("m1", "hello"))
	sc.send(t, keepaliveMsg("k1"))
	sc.send(t, notification("m1", "hello")) // Twitch resends when unsure: same message id
	eventually(t, "both deliveries are ingested", func() bool {
		return in.count(t, "notification", "ignored")+in.count(t, "notification", "duplicate") == 2
	})
	if got := in.count(t, "notification", "ignored"); got != 1 {
		t.Errorf("processed %v times, want once", got)
	}
	st := h.client.State()
	if !st.Connected || st.SessionID != "s1" || st.Status != "subscribed" || st.LastMessage.IsZero() || !st.Holder {
		t.Errorf("state = %+v", st)
	}
}

func TestKeepaliveLossReconnects(t *testing.T) {
	f := newFakeTwitch(t)
	in := newIngestion(t, sqlitetest.Open(t))
	h := start(t, f, in, func(c *twitchws.Config) { c.KeepaliveMargin = 100 * time.Millisecond })
	sc := h.welcomed(t, "s1", 1)
	// Silence: no keepalive within 1 s (+ margin) means the connection is dead.
	<-sc.closed
	h.welcomed(t, "s2", 10)
	if got := reconnects(t, h.client, "keepalive"); got != 1 {
		t.Errorf("keepalive reconnects = %v, want 1", got)
	}
	if s := f.subscriptions(); !slices.Equal(s, []string{"s1", "s2"}) {
		t.Errorf("subscriptions on %v, want a new one on the fresh session", s)
	}
}

func TestSessionReconnectLosesNothingAndRepeatsNothing(t *testing.T) {
	f := newFakeTwitch(t)
	in := newIngestion(t, sqlitetest.Open(t))
	h := start(t, f, in, nil)
	old := h.welcomed(t, "s1", 10)
	old.send(t, notification("m1", "one"))
	old.send(t, reconnectMsg("s1", f.wsURL()+"?reconnect_id=abc"))
	moved := f.next()
	if moved.query.Get("reconnect_id") != "abc" {
		t.Fatalf("the client did not follow the reconnect URL: query %v", moved.query)
	}
	// Until the new server welcomes it, the old connection still delivers.
	old.send(t, notification("m2", "two"))
	eventually(t, "m2 from the old connection is ingested", func() bool { return in.count(t, "notification", "ignored") == 2 })
	select {
	case code := <-old.closed:
		t.Fatalf("the old connection was closed (%d) before the new one's welcome", code)
	default:
	}
	moved.send(t, welcome("s1", 10))
	select {
	case code := <-old.closed:
		if code != websocket.StatusNormalClosure {
			t.Errorf("old connection closed with %d, want 1000", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the old connection was not closed after the move")
	}
	moved.send(t, notification("m2", "two")) // the new server resends what it is unsure of
	moved.send(t, notification("m3", "three"))
	eventually(t, "m3 is ingested", func() bool { return in.count(t, "notification", "ignored") == 3 })
	if got := in.count(t, "notification", "duplicate"); got != 1 {
		t.Errorf("duplicates = %v, want 1 (m2 resent)", got)
	}
	if s := f.subscriptions(); len(s) != 1 {
		t.Errorf("subscriptions %v: a reconnect must not subscribe again", s)
	}
	if got := reconnects(t, h.client, "session_reconnect"); got != 1 {
		t.Errorf("session_reconnect count = %v", got)
	}
	f.noConnection(200 * time.Millisecond)
}

func TestCloseCodesReconnectAfresh(t *testing.T) {
	for code := twitchws.CloseInternalServerError; code <= twitchws.CloseInvalidReconnect; code++ {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			f := newFakeTwitch(t)
			in := newIngestion(t, sqlitetest.Open(t))
			h := start(t, f, in, nil)
			sc := h.welcomed(t, "s1", 10)
			if code == twitchws.CloseInvalidReconnect {
				// 4007 comes from the server at the reconnect URL.
				sc.send(t, reconnectMsg("s1", f.wsURL()+"?reconnect_id=stale"))
				sc = f.next()
			}
			_ = sc.ws.Close(websocket.StatusCode(code), "closing")
			fresh := f.next()
			if fresh.query.Has("reconnect_id") {
				t.Errorf("after %d the client reconnected to %v, want the configured URL", code, fresh.query)
			}
			fresh.send(t, welcome("s2", 10))
			eventually(t, "the fresh session subscribes", func() bool { return slices.Contains(f.subscriptions(), "s2") })
			if got := reconnects(t, h.client, fmt.Sprintf("close_%d", code)); got != 1 {
				t.Errorf("close_%d count = %v", code, got)
			}
		})
	}
}

func TestRevocation(t *testing.T) {
	f := newFakeTwitch(t)
	in := newIngestion(t, sqlitetest.Open(t))
	h := start(t, f, in, func(c *twitchws.Config) { c.BackoffMax = 300 * time.Millisecond })
	sc := h.welcomed(t, "s1", 10)

	// A reason that allows it: subscribed again on the same session.
	sc.send(t, revocation("rv1", "notification_failures_exceeded"))
	eventually(t, "re-subscribed", func() bool { return slices.Equal(f.subscriptions(), []string{"s1", "s1"}) })

	// The broadcaster withdrew the authorization: a new sign-in is needed.
	sc.send(t, revocation("rv2", "authorization_revoked"))
	eventually(t, "the state asks for a sign-in", func() bool {
		st := h.client.State()
		return st.Status == "needs_sign_in" && st.LastRevocation == "authorization_revoked"
	})
	if got := in.count(t, "revocation", "revoked"); got != 2 {
		t.Errorf("revocations ingested = %v, want 2", got)
	}
	// It keeps trying at the longest backoff, so a new sign-in heals it.
	h.welcomed(t, "s2", 10)
}

// TestLiveStatusSubscriptions: every fresh session subscribes to
// stream.online and stream.offline beside chat; their notifications reach
// the ingestion; a revoked one is re-created alone on the same session.
func TestLiveStatusSubscriptions(t *testing.T) {
	f := newFakeTwitch(t)
	in := newIngestion(t, sqlitetest.Open(t))
	h := start(t, f, in, nil)
	sc := h.welcomed(t, "s1", 10)
	want := []string{"stream.online@s1", "stream.offline@s1"}
	eventually(t, "the live status subscriptions on s1", func() bool { return slices.Equal(f.streamSubscriptions(), want) })
	eventually(t, "the state says subscribed", func() bool { return h.client.State().Status == "subscribed" })

	sc.send(t, streamNotification("on1", true))
	eventually(t, "stream.online is ingested", func() bool { return in.count(t, "notification", "live_changed") == 1 })
	sc.send(t, streamNotification("off1", false))
	eventually(t, "stream.offline is ingested", func() bool { return in.count(t, "notification", "live_changed") == 2 })

	sc.send(t, streamRevocation("rv1", "stream.offline", "notification_failures_exceeded"))
	want = append(want, "stream.offline@s1")
	eventually(t, "stream.offline re-created", func() bool { return slices.Equal(f.streamSubscriptions(), want) })
	if s := f.subscriptions(); !slices.Equal(s, []string{"s1"}) {
		t.Errorf("chat subscriptions %v: a stream.offline revocation must not subscribe to chat again", s)
	}
	sc.send(t, streamNotification("on2", true))
	eventually(t, "stream.online after the re-creation", func() bool { return in.count(t, "notification", "live_changed") == 3 })
	if st := h.client.State(); st.Status != "subscribed" || st.SessionID != "s1" || st.LastRevocation != "notification_failures_exceeded" {
		t.Errorf("state = %+v", st)
	}

	// A fresh session subscribes to all three again.
	_ = sc.ws.Close(websocket.StatusCode(twitchws.CloseNetworkTimeout), "closing")
	h.welcomed(t, "s2", 10)
	eventually(t, "the live status subscriptions on s2", func() bool {
		s := f.streamSubscriptions()
		return len(s) == 5 && slices.Equal(s[3:], []string{"stream.online@s2", "stream.offline@s2"})
	})
}

// TestLeaseOneHolderAndTakeover runs two replicas over one database: one
// connects, the other waits; when the holder dies without giving the lease
// up, the other takes over once it expires.
func TestLeaseOneHolderAndTakeover(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) func() *store.DB
	}{
		{"sqlite", func(t *testing.T) func() *store.DB {
			path := filepath.Join(t.TempDir(), sqlite.FileName)
			return func() *store.DB {
				db, err := sqlite.Open(context.Background(), path)
				if err != nil {
					t.Fatal(err)
				}
				return db
			}
		}},
		{"postgres", func(t *testing.T) func() *store.DB {
			dsn := pgtest.NewDatabase(t)
			return func() *store.DB {
				db, err := postgres.Open(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				return db
			}
		}},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			open := s.open(t)
			f := newFakeTwitch(t)
			type replica struct {
				db     *store.DB
				client *twitchws.Client
				stop   context.CancelFunc
				done   chan struct{}
			}
			var rs []*replica
			for i := range 2 {
				db := open()
				in := newIngestion(t, db)
				r := &replica{db: db, done: make(chan struct{})}
				r.client = twitchws.New(twitchws.Config{
					URL: f.wsURL(), Helix: &twitchsubs.Helix{BaseURL: f.srv.URL, ClientID: clientID, Token: &rotatingToken{}}, BroadcasterID: broadcaster, Ingest: in.api,
					Lease: db, Holder: fmt.Sprintf("replica-%d", i), LeaseTTL: 600 * time.Millisecond,
					BackoffMin: 10 * time.Millisecond, Logger: testkit.Logger(t),
				})
				ctx, cancel := context.WithCancel(context.Background())
				r.stop = cancel
				go func() {
					defer close(r.done)
					r.client.Run(ctx)
				}()
				rs = append(rs, r)
			}
			t.Cleanup(func() {
				for _, r := range rs {
					r.stop()
					<-r.done
					_ = r.db.Close()
				}
			})
			sc := f.next()
			sc.send(t, welcome("s1", 10))
			var holder, standby *replica
			eventually(t, "one replica holds the connection", func() bool {
				a, b := rs[0].client.State(), rs[1].client.State()
				switch {
				case a.Holder && !b.Holder && b.Status == "standby":
					holder, standby = rs[0], rs[1]
				case b.Holder && !a.Holder && a.Status == "standby":
					holder, standby = rs[1], rs[0]
				}
				return holder != nil
			})
			f.noConnection(time.Second) // several lease periods: the standby never connects

			// The holder dies: its database is gone, so it can neither renew
			// nor release, and its connection drops.
			_ = holder.db.Close()
			holder.stop()
			<-holder.done
			taken := f.next()
			taken.send(t, welcome("s2", 10))
			eventually(t, "the standby took the lease over", func() bool {
				st := standby.client.State()
				return st.Holder && st.Status == "subscribed"
			})
		})
	}
}
