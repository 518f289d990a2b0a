package twitchauth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite/sqlitetest"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/twitchauth/oauthtest"
)

// backends opens, for each engine, a database and a second handle on the
// same one: two "replicas" of the EBS.
var backends = []struct {
	name string
	open func(t *testing.T) (*store.DB, *store.DB)
}{
	{"sqlite", func(t *testing.T) (*store.DB, *store.DB) {
		path := filepath.Join(t.TempDir(), sqlite.FileName)
		open := func() *store.DB {
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db
		}
		a := open()
		return a, open()
	}},
	{"postgres", func(t *testing.T) (*store.DB, *store.DB) {
		dsn := pgtest.NewDatabase(t)
		open := func() *store.DB {
			db, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db
		}
		a := open()
		return a, open()
	}},
}

// oneDB is a single store per engine, for tests without replicas.
func oneDB(t *testing.T, name string) *store.DB {
	if name == "sqlite" {
		return sqlitetest.Open(t)
	}
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

type fixture struct {
	clock *clock
	srv   *oauthtest.Server
	logs  *syncBuffer
	obs   *recorder
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type recorder struct {
	mu       sync.Mutex
	states   []string
	refreshs []string
}

func (r *recorder) TwitchTokenState(s string) {
	r.mu.Lock()
	r.states = append(r.states, s)
	r.mu.Unlock()
}
func (r *recorder) TwitchTokenRefresh(o string) {
	r.mu.Lock()
	r.refreshs = append(r.refreshs, o)
	r.mu.Unlock()
}

func newFixture(t *testing.T) *fixture {
	c := newClock()
	return &fixture{clock: c, srv: newOAuthServer(t, c), logs: &syncBuffer{}, obs: &recorder{}}
}

func (f *fixture) source(db *store.DB, cipher *Cipher) *UserTokenSource {
	return NewUserTokenSource(UserConfig{DB: db, Client: client(f.srv), Cipher: cipher, Now: f.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(f.logs, nil)), Observer: f.obs})
}

// signIn runs the device flow against the test server and saves the grant through src.
func (f *fixture) signIn(t *testing.T, src *UserTokenSource) {
	t.Helper()
	ctx := context.Background()
	f.srv.DevicePolls("")
	c := client(f.srv)
	dc, err := c.StartDevice(ctx, Scopes)
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.PollDevice(ctx, dc, Scopes, func(context.Context, time.Duration) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Validate(ctx, g.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Save(ctx, g, v); err != nil {
		t.Fatal(err)
	}
}

func TestUserTokenRefresh(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t)
			db := oneDB(t, b.name)
			ctx := context.Background()
			src := f.source(db, nil)
			if _, err := src.Token(ctx); !errors.Is(err, ErrNotConnected) {
				t.Fatalf("before sign-in: %v", err)
			}
			f.signIn(t, src)
			st := src.Status()
			if st.State != StateValid || st.Login != "twitchdev" || st.UserID != "141981764" || len(st.MissingScopes) != 0 ||
				!st.HasRefreshToken || !st.ExpiresAt.Equal(f.clock.Now().Add(4*time.Hour)) || len(st.Problems()) != 0 {
				t.Fatalf("status = %+v", st)
			}
			if tok, err := src.Token(ctx); err != nil || tok != "AT-secret-001" {
				t.Fatalf("token %q, %v", tok, err)
			}
			f.clock.Advance(4*time.Hour - 6*time.Minute)
			if tok, _ := src.Token(ctx); tok != "AT-secret-001" || f.srv.RefreshCalls() != 0 {
				t.Fatal("refreshed with more than five minutes left")
			}
			f.clock.Advance(2 * time.Minute)
			tok, err := src.Token(ctx)
			if err != nil || tok != "AT-secret-002" || f.srv.RefreshCalls() != 1 {
				t.Fatalf("before expiry: %q, %v, %d refreshes", tok, err, f.srv.RefreshCalls())
			}
			// The refresh answer had no expires_in: the lifetime came from validate.
			if exp := src.Status().ExpiresAt; !exp.Equal(f.clock.Now().Add(4 * time.Hour)) {
				t.Fatalf("expiry after refresh %v", exp)
			}
			// A fresh source (a restart) reads the rotated refresh token.
			src2 := f.source(db, nil)
			if tok, _ := src2.Token(ctx); tok != "AT-secret-002" {
				t.Fatalf("after restart %q", tok)
			}
			// 401 → Invalidate → exactly one refresh.
			src.Invalidate("AT-secret-002")
			if tok, err := src.Token(ctx); err != nil || tok != "AT-secret-003" || f.srv.RefreshCalls() != 2 {
				t.Fatalf("after 401: %q, %v", tok, err)
			}
			// The other replica's 401 for the old token reuses the new one.
			src2.Invalidate("AT-secret-002")
			if tok, err := src2.Token(ctx); err != nil || tok != "AT-secret-003" || f.srv.RefreshCalls() != 2 {
				t.Fatalf("replica after 401: %q, %v, %d refreshes", tok, err, f.srv.RefreshCalls())
			}
			// Invalidating a token that is no longer current does nothing.
			src.Invalidate("AT-secret-001")
			if tok, _ := src.Token(ctx); tok != "AT-secret-003" || f.srv.RefreshCalls() != 2 {
				t.Fatal("an old token's 401 caused a refresh")
			}
		})
	}
}

// Two replicas, each with goroutines asking at once for an expired token:
// exactly one refresh reaches Twitch and everyone gets its token.
func TestSingleFlightRefresh(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t)
			dbA, dbB := b.open(t)
			a, bb := f.source(dbA, nil), f.source(dbB, nil)
			f.signIn(t, a)
			ctx := context.Background()
			if _, err := bb.Token(ctx); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(4 * time.Hour)
			entered, release := f.srv.HoldRefreshes()
			var wg sync.WaitGroup
			got := make(chan string, 8)
			for i := range 8 {
				src := a
				if i%2 == 1 {
					src = bb
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					tok, err := src.Token(ctx)
					if err != nil {
						t.Errorf("token: %v", err)
					}
					got <- tok
				}()
			}
			<-entered
			// Let the others reach their locks; the assertion below does
			// not depend on how many got there.
			time.Sleep(200 * time.Millisecond)
			release()
			wg.Wait()
			close(got)
			for tok := range got {
				if tok != "AT-secret-002" {
					t.Errorf("got %q, want the one refreshed token", tok)
				}
			}
			if n := f.srv.RefreshCalls(); n != 1 {
				t.Fatalf("%d refresh requests reached Twitch, want 1", n)
			}
		})
	}
}

func TestRevokedGrant(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t)
			dbA, dbB := b.open(t)
			src := f.source(dbA, nil)
			f.signIn(t, src)
			// Other sources below report to a recorder of their own: a
			// process has one source, and the metric follows it.
			srcObs := f.obs
			f.obs = &recorder{}
			ctx := context.Background()
			f.clock.Advance(time.Hour) // the hourly validation is due
			f.srv.Revoke(true)
			if err := src.Check(ctx); err != nil {
				t.Fatalf("check: %v", err)
			}
			st := src.Status()
			if st.State != StateInvalid || !strings.Contains(st.Reason, "Invalid refresh token") || src.Connected() {
				t.Fatalf("status = %+v", st)
			}
			if p := st.Problems(); len(p) != 1 || !strings.Contains(p[0], "mgm-ebs twitch login again") {
				t.Fatalf("problems = %v", p)
			}
			for range 5 {
				if _, err := src.Token(ctx); !errors.Is(err, ErrGrantInvalid) {
					t.Fatalf("token: %v", err)
				}
			}
			if n := strings.Count(f.logs.String(), "twitch sign-in unusable"); n != 1 {
				t.Fatalf("logged %d times, want once:\n%s", n, f.logs.String())
			}
			if n := f.srv.RefreshCalls(); n != 1 {
				t.Fatalf("%d refresh attempts for a revoked grant, want 1", n)
			}
			// The other replica learns it from the database.
			other := f.source(dbB, nil)
			if _, err := other.Token(ctx); !errors.Is(err, ErrGrantInvalid) || other.Status().State != StateInvalid {
				t.Fatalf("replica: %v", err)
			}
			// A new sign-in heals both, without a restart.
			f.srv.Revoke(false)
			f.signIn(t, f.source(dbB, nil))
			if tok, err := src.Token(ctx); err != nil || tok != "AT-secret-002" || !src.Connected() {
				t.Fatalf("after a new sign-in: %q, %v", tok, err)
			}
			srcObs.mu.Lock()
			defer srcObs.mu.Unlock()
			if strings.Join(srcObs.states, ",") != "valid,invalid,valid" || strings.Join(srcObs.refreshs, ",") != "invalid" {
				t.Fatalf("observed states %v, refreshes %v", srcObs.states, srcObs.refreshs)
			}
		})
	}
}

func TestHourlyValidation(t *testing.T) {
	f := newFixture(t)
	db := oneDB(t, "sqlite")
	src := f.source(db, nil)
	f.signIn(t, src)
	ctx := context.Background()
	base := f.srv.ValidateCalls()
	f.clock.Advance(30 * time.Minute)
	if err := src.Check(ctx); err != nil || f.srv.ValidateCalls() != base {
		t.Fatalf("validated again within the hour: %v", err)
	}
	f.clock.Advance(31 * time.Minute)
	if err := src.Check(ctx); err != nil || f.srv.ValidateCalls() != base+1 {
		t.Fatalf("not validated after an hour: %v", err)
	}
	if v := src.Status().ValidatedAt; v == nil || !v.Equal(f.clock.Now()) {
		t.Fatalf("validated at %v", v)
	}
	// Another replica finds the validation recorded and does not repeat it.
	if err := f.source(db, nil).Check(ctx); err != nil || f.srv.ValidateCalls() != base+1 {
		t.Fatalf("second replica validated again: %v", err)
	}
	// Expired while unused: validate answers 401, a refresh renews it.
	f.clock.Advance(5 * time.Hour)
	if err := src.Check(ctx); err != nil || src.Status().State != StateValid || f.srv.RefreshCalls() != 1 {
		t.Fatalf("expired token: %v, %+v", err, src.Status())
	}
}

func TestEncryptionAtRest(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{8}, 32)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t)
			db := oneDB(t, b.name)
			ctx := context.Background()
			c, _ := NewCipher(key)
			f.signIn(t, f.source(db, c))
			var row store.TwitchToken
			read := func() {
				if err := db.Read(ctx, func(tx *store.Tx) error {
					var err error
					row, err = tx.TwitchToken(ctx, GrantName)
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			read()
			if !row.Encrypted || strings.Contains(row.AccessToken+row.RefreshToken, "secret") || row.KeyID != c.KeyID() {
				t.Fatalf("row not encrypted: %+v", row)
			}
			c2, _ := NewCipher(key)
			if tok, err := f.source(db, c2).Token(ctx); err != nil || tok != "AT-secret-001" {
				t.Fatalf("same key: %q, %v", tok, err)
			}
			wrong, _ := NewCipher(other)
			for _, tc := range []struct {
				name   string
				cipher *Cipher
				want   string
			}{{"no key", nil, "Twitch__TokenEncryptionKey is not set"}, {"another key", wrong, "another Twitch__TokenEncryptionKey"}} {
				src := f.source(db, tc.cipher)
				_, err := src.Token(ctx)
				if !errors.Is(err, ErrTokenUnreadable) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret-") {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if st := src.Status(); st.State != StateUnreadable || len(st.Problems()) != 1 {
					t.Fatalf("%s: status %+v", tc.name, st)
				}
			}
			// A ciphertext moved to the other column does not open.
			if _, err := db.SQL().ExecContext(ctx, `UPDATE twitch_tokens SET access_token = refresh_token`); err != nil {
				t.Fatal(err)
			}
			if _, err := f.source(db, c).Token(ctx); !errors.Is(err, ErrTokenUnreadable) {
				t.Fatalf("swapped columns: %v", err)
			}
			// Without a key, tokens are stored as given (and say so).
			f.signIn(t, f.source(db, nil))
			read()
			if row.Encrypted || !strings.HasPrefix(row.AccessToken, "AT-secret-") {
				t.Fatalf("plain row: %+v", row)
			}
			// A key added later still reads the plain row; the next write seals it.
			src := f.source(db, c)
			f.clock.Advance(4 * time.Hour)
			if tok, err := src.Token(ctx); err != nil || tok != "AT-secret-003" {
				t.Fatalf("plain row with a key: %q, %v", tok, err)
			}
			read()
			if !row.Encrypted {
				t.Fatal("refresh with a key stored plain text")
			}
		})
	}
	if _, err := NewCipher([]byte("short")); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}
