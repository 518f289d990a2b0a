package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// Migration is one schema migration and whether a database has it.
type Migration struct {
	Version int
	Name    string
	// AppliedAt is when it was applied (TimeFormat), "" while pending.
	AppliedAt string
}

// Applied reports whether the database has the migration.
func (m Migration) Applied() bool { return m.AppliedAt != "" }

// SchemaStatus is what a database has of the migrations a binary carries,
// read without applying any (mgm-ebs migrate --status, restore's check).
type SchemaStatus struct {
	// Migrations are this binary's own, in order, applied or pending.
	Migrations []Migration
	// Unknown are versions the database has that this binary does not
	// carry: a newer mgm-ebs migrated it, and this one must not run on it.
	Unknown []Migration
	// JobsApplied and JobsKnown count the job queue's (River's) migrations
	// the database has and this binary carries.
	JobsApplied, JobsKnown int
}

// Pending lists this binary's migrations the database lacks.
func (s SchemaStatus) Pending() []Migration {
	var out []Migration
	for _, m := range s.Migrations {
		if !m.Applied() {
			out = append(out, m)
		}
	}
	return out
}

// Current reports whether the database has every migration, ours and the
// job queue's, and none this binary does not know.
func (s SchemaStatus) Current() bool {
	return len(s.Pending()) == 0 && len(s.Unknown) == 0 && s.JobsApplied == s.JobsKnown
}

// ReadSchemaStatus compares db's schema_migrations (tableExists says the
// caller found it; a fresh database has none) with d's migrations. The
// dialect's package fills in the job queue's counts.
func ReadSchemaStatus(ctx context.Context, db *sql.DB, d Dialect, tableExists bool) (SchemaStatus, error) {
	ms, err := readMigrations(d.Migrations())
	if err != nil {
		return SchemaStatus{}, err
	}
	applied := map[int]Migration{}
	if tableExists {
		rows, err := db.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			return SchemaStatus{}, fmt.Errorf("read schema_migrations: %w", err)
		}
		defer func() { _ = rows.Close() }() // read-only; Err below reports what matters
		for rows.Next() {
			var m Migration
			if err := rows.Scan(&m.Version, &m.Name, &m.AppliedAt); err != nil {
				return SchemaStatus{}, fmt.Errorf("read schema_migrations: %w", err)
			}
			applied[m.Version] = m
		}
		if err := rows.Err(); err != nil {
			return SchemaStatus{}, fmt.Errorf("read schema_migrations: %w", err)
		}
	}
	var st SchemaStatus
	for _, m := range ms {
		out := Migration{Version: m.version, Name: m.name}
		if a, ok := applied[m.version]; ok {
			out.AppliedAt = a.AppliedAt
			delete(applied, m.version)
		}
		st.Migrations = append(st.Migrations, out)
	}
	for v := range applied {
		st.Unknown = append(st.Unknown, applied[v])
	}
	slices.SortFunc(st.Unknown, func(a, b Migration) int { return a.Version - b.Version })
	return st, nil
}
