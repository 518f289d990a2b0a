package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// TestInTxStepsPipelined: the two-round-trip transaction (RunPipelined)
// commits everything or nothing, tells a failure at COMMIT from one before
// it, leaves no connection inside a transaction, and reads after its locks.
func TestInTxStepsPipelined(t *testing.T) {
	pgtest.Available(t)
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	raw, err := postgres.OpenDB(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	for _, q := range []string{
		`CREATE TABLE t (k TEXT PRIMARY KEY)`,
		// Checked at COMMIT, not at the INSERT: a COMMIT that fails.
		`CREATE TABLE d (k TEXT, CONSTRAINT d_k UNIQUE (k) DEFERRABLE INITIALLY DEFERRED)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	count := func(t *testing.T, table, k string) int {
		t.Helper()
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE k = $1`, k).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(table, k string) store.Statement {
		return store.Statement{Query: `INSERT INTO ` + table + ` (k) VALUES (?)`, Args: []any{k}}
	}
	countInto := func(k string, n *int) store.Statement {
		return store.Statement{Query: `SELECT COUNT(*) FROM t WHERE k = ?`, Args: []any{k}, Rows: func(r store.Rows) error {
			for r.Next() {
				if err := r.Scan(n); err != nil {
					return err
				}
			}
			return nil
		}}
	}
	// Every failure must leave the pool's connections outside any transaction.
	noneInTx := func(t *testing.T) {
		t.Helper()
		var n int
		if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d connections were left inside a transaction", n)
		}
	}

	t.Run("both steps commit, and then sees what first read", func(t *testing.T) {
		seen := -1
		err := db.InTxSteps(ctx, []string{"viewer:1"}, func() []store.Statement {
			return []store.Statement{insert("t", "a"), countInto("a", &seen), {}}
		}, func() ([]store.Statement, error) {
			if seen != 1 {
				return nil, errors.New("first's read did not see first's insert")
			}
			return []store.Statement{insert("t", "b")}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if count(t, "t", "a") != 1 || count(t, "t", "b") != 1 {
			t.Fatal("the transaction's rows are missing")
		}
		noneInTx(t)
	})

	t.Run("a statement refused in the second step undoes the first", func(t *testing.T) {
		err := db.InTxSteps(ctx, nil, func() []store.Statement {
			return []store.Statement{insert("t", "c")}
		}, func() ([]store.Statement, error) {
			return []store.Statement{insert("t", "a")}, nil // already there
		})
		if err == nil || store.IsCommitFailure(err) {
			t.Fatalf("err = %v (commit failure: %v); want a plain failure: COMMIT never ran", err, store.IsCommitFailure(err))
		}
		if count(t, "t", "c") != 0 {
			t.Fatal("the first step's row was committed")
		}
		noneInTx(t)
	})

	t.Run("a statement refused in the first step stops there", func(t *testing.T) {
		thenRan := false
		err := db.InTxSteps(ctx, nil, func() []store.Statement {
			return []store.Statement{insert("t", "d"), insert("t", "a")}
		}, func() ([]store.Statement, error) {
			thenRan = true
			return nil, nil
		})
		if err == nil || thenRan || store.IsCommitFailure(err) {
			t.Fatalf("err = %v, then ran: %v", err, thenRan)
		}
		if count(t, "t", "d") != 0 {
			t.Fatal("a row of the failed step was committed")
		}
		noneInTx(t)
	})

	t.Run("then's error rolls back", func(t *testing.T) {
		boom := errors.New("the rules refused the group")
		err := db.InTxSteps(ctx, nil, func() []store.Statement {
			return []store.Statement{insert("t", "e")}
		}, func() ([]store.Statement, error) { return nil, boom })
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want then's", err)
		}
		if count(t, "t", "e") != 0 {
			t.Fatal("the first step's row was committed")
		}
		noneInTx(t)
	})

	t.Run("a failure at COMMIT is a commit failure", func(t *testing.T) {
		err := db.InTxSteps(ctx, nil, func() []store.Statement {
			return []store.Statement{insert("d", "z")}
		}, func() ([]store.Statement, error) {
			return []store.Statement{insert("d", "z")}, nil // refused only at COMMIT
		})
		if !store.IsCommitFailure(err) {
			t.Fatalf("err = %v; want a commit failure", err)
		}
		if count(t, "d", "z") != 0 {
			t.Fatal("a failed COMMIT wrote rows")
		}
		noneInTx(t)
	})

	t.Run("the first step reads after its locks are granted", func(t *testing.T) {
		holding := make(chan struct{})
		release := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- db.InTxSteps(ctx, []string{"name:locked"}, func() []store.Statement { return nil },
				func() ([]store.Statement, error) {
					close(holding)
					<-release // holds the lock until the other transaction waits on it
					return []store.Statement{insert("t", "locked")}, nil
				})
		}()
		<-holding
		seen := -1
		second := make(chan error, 1)
		go func() {
			second <- db.InTxSteps(ctx, []string{"name:locked"}, func() []store.Statement {
				return []store.Statement{countInto("locked", &seen)}
			}, func() ([]store.Statement, error) { return nil, nil })
		}()
		waitForLockWaiter(t, raw)
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := <-second; err != nil {
			t.Fatal(err)
		}
		if seen != 1 {
			t.Fatalf("the second transaction read %d rows; it must read after the first committed", seen)
		}
	})
}

// waitForLockWaiter returns once a session waits for an advisory lock.
func waitForLockWaiter(t *testing.T, raw *sql.DB) {
	t.Helper()
	for range 500 {
		var n int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no transaction came to wait for the lock")
}
