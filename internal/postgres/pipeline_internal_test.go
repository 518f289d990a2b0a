package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// A connection whose socket is gone before the second batch (the writes and
// COMMIT) is sent fails that batch without a byte reaching the server
// (pgconn.SafeToRetry): the COMMIT certainly did not run, so RunPipelined
// must not report the outcome as unknown, and nothing was written.
func TestPipelineLostBeforeCommitIsNotACommitFailure(t *testing.T) {
	pgtest.Available(t)
	ctx := context.Background()
	db, err := OpenDB(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pc *pgx.Conn
	if err := conn.Raw(func(dc any) error { pc = dc.(*stdlib.Conn).Conn(); return nil }); err != nil {
		t.Fatal(err)
	}
	atCommit, err := dialect{}.RunPipelined(ctx, conn, []string{"viewer:1"},
		[]store.Statement{{Query: `INSERT INTO t (k) VALUES ($1)`, Args: []any{"first"}}},
		func() ([]store.Statement, error) {
			// The first batch ran; the socket goes away behind pgx's back.
			if err := pc.PgConn().Conn().Close(); err != nil {
				return nil, err
			}
			return []store.Statement{{Query: `INSERT INTO t (k) VALUES ($1)`, Args: []any{"second"}}}, nil
		})
	if err == nil || atCommit || !pgconn.SafeToRetry(err) {
		t.Fatalf("err = %v, atCommit = %v, SafeToRetry = %v; want a failure known to precede COMMIT",
			err, atCommit, err != nil && pgconn.SafeToRetry(err))
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows committed by a transaction whose COMMIT was never sent", n)
	}
	if !pc.IsClosed() {
		t.Fatal("the broken connection was not closed, so the pool could hand it out again")
	}
}
