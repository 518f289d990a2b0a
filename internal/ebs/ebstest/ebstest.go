// Package ebstest runs a real EBS in-process on a free loopback port for
// other packages' tests (the Desktop client, the stand-ins, the end-to-end tiers).
package ebstest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/ebs"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// EBS is a running backend.
type EBS struct {
	// URL is http://host:port, or https://host:port with built-in HTTPS
	// (Mgm__TlsDomain; a client must then name the domain, see HTTPAddr).
	URL string
	// HTTPAddr is the plain-HTTP listener's host:port with built-in HTTPS
	// (ACME challenges, redirect); "" without.
	HTTPAddr string
	out      *testkit.Buffer
}

// Output is what the EBS printed at start.
func (e *EBS) Output() string { return e.out.String() }

// Store selects the database of a started EBS.
type Store string

const (
	SQLite   Store = "sqlite"
	Postgres Store = "postgres"
)

// Stores are both backends, for tests that run on each.
var Stores = [...]Store{SQLite, Postgres}

// Option adjusts what Start passes to ebs.Run.
type Option func(*ebs.Options)

// WithSeeds makes the roulette's draws follow the seeds seed gives (see
// ebs.Options.Seed).
func WithSeeds(seed func(cycleID string) (drawproof.Seed, error)) Option {
	return func(o *ebs.Options) { o.Seed = seed }
}

// WithLogger sends the EBS's log to l instead of to t.Log as it comes (see
// testkit.TailLogger).
func WithLogger(l *slog.Logger) Option {
	return func(o *ebs.Options) { o.Logger = l }
}

// Start runs an EBS configured by env (environment-variable names as in the
// README) on the given store, in Development unless env says otherwise, and
// stops it when the test ends. On Postgres it gets a fresh database (the test
// skips, or fails under MGM_REQUIRE_POSTGRES=1, without a server), unless env
// names one: a test that prepares the database before the start (mgm-ebs
// twitch login) passes the one it prepared. With Mgm__TlsDomain both of
// its listeners default to free loopback ports.
func Start(t testing.TB, store Store, env map[string]string, opts ...Option) *EBS {
	t.Helper()
	full := map[string]string{"Mgm__Environment": "Development", "Mgm__Listen": "127.0.0.1:0", "Mgm__DataDir": t.TempDir()}
	scheme := "http://"
	if env["Mgm__TlsDomain"] != "" {
		// With built-in HTTPS the EBS refuses Mgm__Listen.
		delete(full, "Mgm__Listen")
		full["Mgm__TlsListen"], full["Mgm__HttpListen"], scheme = "127.0.0.1:0", "127.0.0.1:0", "https://"
	}
	for k, v := range env {
		full[k] = v
	}
	if store == Postgres && full["ConnectionStrings__PostgreSQL"] == "" {
		full["ConnectionStrings__PostgreSQL"] = pgtest.NewDatabase(t)
	}
	cfg, err := config.Load(func(k string) string { return full[k] }, nil)
	if err != nil {
		t.Fatalf("EBS configuration: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &EBS{out: &testkit.Buffer{}}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	o := ebs.Options{Out: e.out, Logger: testkit.Logger(t), Version: "0.0.0-test", Ready: func(a string) { ready <- a },
		ChallengeReady: func(a string) { e.HTTPAddr = a }}
	for _, opt := range opts {
		opt(&o)
	}
	go func() { done <- ebs.Run(ctx, cfg, o) }()
	select {
	case addr := <-ready:
		e.URL = scheme + addr
	case err := <-done:
		cancel()
		t.Fatalf("EBS did not start: %v\n%s", err, e.out)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("EBS did not start within 30 s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("EBS stopped with %v", err)
		}
	})
	return e
}
