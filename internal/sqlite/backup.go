package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// Backup writes a consistent copy of the database at path to dest while the
// EBS may be running and writing: VACUUM INTO reads the database in one read
// transaction (under WAL, writers go on meanwhile) and writes a compact,
// standalone file. dest must not exist: a backup never overwrites anything.
func Backup(ctx context.Context, path, dest string) error {
	if err := mustExist(path); err != nil {
		return err
	}
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("%s already exists: a backup does not overwrite files; choose a new name", dest)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	db, err := OpenDB(path)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // only read through it
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("back up %s: %w", path, err)
	}
	return nil
}

// Inspection is what a database file holds, read without changing it.
type Inspection struct {
	// Integrity is PRAGMA integrity_check's verdict: "ok", or its first problems.
	Integrity string
	Schema    store.SchemaStatus
	// Pool, Payouts and Events count rows, for people to recognise the data.
	Pool, Payouts, Events int64
}

// Inspect opens the database file at path read-only and reports its
// integrity, its migrations and a few counts. It fails when the file is not
// an SQLite database or holds no mgm schema.
func Inspect(ctx context.Context, path string) (Inspection, error) {
	if err := mustExist(path); err != nil {
		return Inspection{}, err
	}
	// Read-only, so that inspecting a backup leaves it byte for byte as it
	// was (OpenDB would switch it to WAL).
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return Inspection{}, err
	}
	defer func() { _ = db.Close() }() // read-only
	db.SetMaxOpenConns(1)
	var in Inspection
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check(5)`)
	if err != nil {
		return in, fmt.Errorf("%s is not a readable SQLite database: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			_ = rows.Close()
			return in, err
		}
		problems = append(problems, s)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return in, fmt.Errorf("%s: integrity check: %w", path, err)
	}
	in.Integrity = strings.Join(problems, "; ")
	if in.Schema, err = schemaStatus(ctx, db); err != nil {
		return in, fmt.Errorf("%s: %w", path, err)
	}
	if n := len(in.Schema.Migrations); n == 0 || !in.Schema.Migrations[0].Applied() {
		return in, fmt.Errorf("%s is an SQLite database but not an mgm-ebs one (no applied migrations)", path)
	}
	for _, c := range []struct {
		table string
		n     *int64
	}{{"pool", &in.Pool}, {"payouts", &in.Payouts}, {"events", &in.Events}} {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+c.table).Scan(c.n); err != nil {
			return in, fmt.Errorf("%s: count %s: %w", path, c.table, err)
		}
	}
	return in, nil
}

// SchemaStatus reads which migrations the database at path has, applying
// none: unlike Open it may look at a database a running EBS is using, or
// one a newer EBS migrated.
func SchemaStatus(ctx context.Context, path string) (store.SchemaStatus, error) {
	if err := mustExist(path); err != nil {
		return store.SchemaStatus{}, err
	}
	db, err := OpenDB(path)
	if err != nil {
		return store.SchemaStatus{}, err
	}
	defer func() { _ = db.Close() }() // only read through it
	return schemaStatus(ctx, db)
}

func schemaStatus(ctx context.Context, db *sql.DB) (store.SchemaStatus, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return store.SchemaStatus{}, fmt.Errorf("read the schema: %w", err)
	}
	st, err := store.ReadSchemaStatus(ctx, db, dialect{}, n > 0)
	if err != nil {
		return st, err
	}
	m, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		return st, err
	}
	jobs, err := m.ExistingVersions(ctx)
	if err != nil {
		return st, fmt.Errorf("read the job queue's migrations: %w", err)
	}
	st.JobsApplied, st.JobsKnown = len(jobs), len(m.AllVersions())
	return st, nil
}

// mustExist keeps the commands that read a database from creating an empty
// one where the operator mistyped a path.
func mustExist(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no database at %s", path)
	}
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a file", path)
	}
	return nil
}
