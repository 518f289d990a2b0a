package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/conformance"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite/sqlitetest"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

func open(t *testing.T) *store.DB { return sqlitetest.Open(t) }

func TestConformance(t *testing.T) { conformance.Run(t, open) }

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", sqlite.FileName)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.AppendEvent(ctx, "s", "T", nil, conformance.T0) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if err := db.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("events after reopen: %d %v", n, err)
	}
}

func BenchmarkStore(b *testing.B) {
	conformance.Bench(b, func(tb testing.TB) *store.DB { return sqlitetest.Open(tb) })
}
