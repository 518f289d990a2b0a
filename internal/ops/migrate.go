package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebs"
	"github.com/mimirons-goldomatic/mgm/internal/lockfile"
	"github.com/mimirons-goldomatic/mgm/internal/pgdsn"
	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// runMigrate applies the migrations the server applies at start — useful
// before rolling out replicas — or, with --status, lists them without
// applying any.
func runMigrate(ctx context.Context, raw []string, o Options) int {
	a, err := splitArgs(raw, false, nil, []string{"status"})
	if err != nil {
		fmt.Fprintf(o.Stderr, "mgm-ebs migrate: %v\n", err)
		return 2
	}
	cfg, status, ok := load("migrate", a.settings, o)
	if !ok {
		return status
	}
	where := storeName(cfg)
	if a.flags["status"] == "" {
		if err := migrate(ctx, cfg); err != nil {
			fmt.Fprintf(o.Stderr, "mgm-ebs migrate: %v\n", err)
			return 1
		}
	}
	st, err := schemaStatus(ctx, cfg)
	if err != nil {
		fmt.Fprintf(o.Stderr, "mgm-ebs migrate: %s: %v\n", where, err)
		return 1
	}
	fmt.Fprintf(o.Stdout, "Store: %s\n", where)
	for _, m := range st.Migrations {
		if m.Applied() {
			fmt.Fprintf(o.Stdout, "  applied  %-28s %s\n", m.Name, m.AppliedAt)
		} else {
			fmt.Fprintf(o.Stdout, "  pending  %s\n", m.Name)
		}
	}
	for _, m := range st.Unknown {
		fmt.Fprintf(o.Stdout, "  unknown  %-28s %s  (applied by a newer mgm-ebs)\n", m.Name, m.AppliedAt)
	}
	fmt.Fprintf(o.Stdout, "Job queue (River): %d of %d migrations applied\n", st.JobsApplied, st.JobsKnown)
	switch {
	case len(st.Unknown) > 0:
		fmt.Fprintln(o.Stdout, "A newer mgm-ebs migrated this database: run that version (or newer), not this one.")
		return 1
	case st.Current():
		fmt.Fprintln(o.Stdout, "Schema is current.")
	default:
		fmt.Fprintf(o.Stdout, "%s: mgm-ebs migrate applies them, and so does the EBS at start.\n", schemaSummary(st))
	}
	return 0
}

// migrate opens the store as the server does, which applies what is
// pending; on SQLite it takes the data folder, as a second process must not
// migrate beside a running EBS.
func migrate(ctx context.Context, cfg config.Config) error {
	if cfg.PostgresDSN != "" {
		db, err := postgres.Open(ctx, cfg.PostgresDSN)
		if err != nil {
			return err
		}
		return db.Close()
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, sqlite.FileName))
	if err != nil {
		return err
	}
	return db.Close()
}

func schemaStatus(ctx context.Context, cfg config.Config) (store.SchemaStatus, error) {
	if cfg.PostgresDSN != "" {
		return postgres.SchemaStatus(ctx, cfg.PostgresDSN)
	}
	return sqlite.SchemaStatus(ctx, filepath.Join(cfg.DataDir, sqlite.FileName))
}

// schemaSummary is "schema 7 of 7" with what is pending, for one line.
func schemaSummary(st store.SchemaStatus) string {
	applied := len(st.Migrations) - len(st.Pending())
	s := fmt.Sprintf("schema %d of %d migrations", applied, len(st.Migrations))
	if p := len(st.Pending()); p > 0 {
		s += fmt.Sprintf(" (%d pending)", p)
	}
	if st.JobsApplied != st.JobsKnown {
		s += fmt.Sprintf(", job queue %d of %d", st.JobsApplied, st.JobsKnown)
	}
	return s
}

func storeName(cfg config.Config) string {
	if cfg.PostgresDSN != "" {
		return "PostgreSQL " + pgdsn.Redact(cfg.PostgresDSN)
	}
	return "SQLite " + abs(filepath.Join(cfg.DataDir, sqlite.FileName))
}

// lockDataDir takes the data folder's lock, the one the EBS holds while it
// runs, so that the EBS cannot start while work that cannot share the
// folder with it (a restore, a migration) goes on.
func lockDataDir(dir string) (*lockfile.Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	path := filepath.Join(dir, ebs.LockFile)
	lock, err := lockfile.Acquire(path)
	if errors.Is(err, lockfile.ErrLocked) {
		holder := lockfile.Read(path)
		if holder == "" {
			holder = "unknown"
		}
		return nil, fmt.Errorf("an mgm-ebs is running on %s (pid %s): stop it first", abs(dir), holder)
	}
	if err != nil {
		return nil, fmt.Errorf("lock the data folder: %w", err)
	}
	// The pid alone, as the EBS writes it: an EBS refused meanwhile names it.
	if err := lock.Write(strconv.Itoa(os.Getpid())); err != nil {
		lock.Release()
		return nil, err
	}
	return lock, nil
}
