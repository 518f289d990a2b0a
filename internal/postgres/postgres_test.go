package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/conformance"
	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

func open(t *testing.T) *store.DB {
	db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) { conformance.Run(t, open) }

func BenchmarkStore(b *testing.B) {
	conformance.Bench(b, func(tb testing.TB) *store.DB {
		db, err := postgres.Open(context.Background(), pgtest.NewDatabase(tb))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	})
}

// Replicas start together and migrate one database: the migration lock makes
// them take turns, and the schema ends up applied exactly once.
func TestConcurrentMigrations(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			db, err := postgres.Open(context.Background(), dsn)
			if err == nil {
				err = db.Ready(context.Background())
				db.Close()
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
}

func TestBadConnectionStringDoesNotLeakPassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:s3cr3t-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=1")
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	if strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

// Bursts of concurrent reads reuse the pool's connections instead of
// opening a server process per request once the burst exceeds the idle
// count: every burst is served by the same few backends.
func TestConnectionsOutliveABurst(t *testing.T) {
	db, err := postgres.OpenDB(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const width, bursts = 16, 10
	var mu sync.Mutex
	backends := map[int]bool{}
	for range bursts {
		var wg sync.WaitGroup
		for range width {
			wg.Go(func() {
				var pid int
				if err := db.QueryRow("SELECT pg_backend_pid() FROM pg_sleep(0.01)").Scan(&pid); err != nil {
					t.Error(err)
				}
				mu.Lock()
				backends[pid] = true
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	if len(backends) > width {
		t.Fatalf("%d bursts of %d reads ran on %d server processes: connections were closed and opened again", bursts, width, len(backends))
	}
}
