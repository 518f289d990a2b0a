package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// SchemaStatus reads which migrations the database has, applying none: it
// may look at a database running replicas use, or one a newer EBS migrated.
func SchemaStatus(ctx context.Context, dsn string) (store.SchemaStatus, error) {
	db, err := OpenDB(ctx, dsn)
	if err != nil {
		return store.SchemaStatus{}, err
	}
	defer func() { _ = db.Close() }() // only read through it
	return schemaStatus(ctx, db)
}

func schemaStatus(ctx context.Context, db *sql.DB) (store.SchemaStatus, error) {
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return store.SchemaStatus{}, fmt.Errorf("read the schema: %w", redact(err))
	}
	st, err := store.ReadSchemaStatus(ctx, db, dialect{}, exists)
	if err != nil {
		return st, err
	}
	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		return st, err
	}
	jobs, err := m.ExistingVersions(ctx)
	if err != nil {
		return st, fmt.Errorf("read the job queue's migrations: %w", redact(err))
	}
	st.JobsApplied, st.JobsKnown = len(jobs), len(m.AllVersions())
	return st, nil
}
