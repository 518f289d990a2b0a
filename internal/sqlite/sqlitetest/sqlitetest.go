// Package sqlitetest opens migrated SQLite stores for other packages' tests.
//
// Migrating a fresh database (ours, then River's) is most of what opening one
// costs, and under the race detector it takes the better part of a second, so
// a suite of parallel tests each on its own database would spend its time
// migrating. The first Open of a test process migrates a template once; every
// Open copies the template's bytes into the test's own folder, so each test
// still gets a database of its own, and sqlite.Open then finds every
// migration applied.
package sqlitetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

var template struct {
	once  sync.Once
	bytes []byte
	err   error
}

// Open returns a migrated, empty store in t's temporary folder, closed when
// the test ends.
func Open(t testing.TB) *store.DB {
	t.Helper()
	template.once.Do(func() { template.bytes, template.err = migratedTemplate() })
	if template.err != nil {
		t.Fatalf("SQLite template: %v", template.err)
	}
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	if err := os.WriteFile(path, template.bytes, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open SQLite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// migratedTemplate migrates a database in a scratch folder and returns its
// file, with the write-ahead log folded in.
func migratedTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "mgm-sqlite-template-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	path := filepath.Join(dir, sqlite.FileName)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := db.SQL().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}
