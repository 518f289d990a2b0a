package ops

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/pgdsn"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
)

// runBackup copies the SQLite database while the EBS may be running (no
// data-folder lock: the copy is one read transaction beside the server's
// writes). PostgreSQL has its own tool for this, so it prints that command.
func runBackup(ctx context.Context, raw []string, o Options) int {
	a, err := splitArgs(raw, true, nil, nil)
	if err != nil || a.path == "" {
		fmt.Fprintln(o.Stderr, "usage: mgm-ebs backup PATH [--Section:Key=value ...]")
		return 2
	}
	cfg, status, ok := load("backup", a.settings, o)
	if !ok {
		return status
	}
	if cfg.PostgresDSN != "" {
		fmt.Fprintf(o.Stdout, "The store is PostgreSQL: back it up with pg_dump, which takes a consistent snapshot while the EBS runs:\n\n"+
			"  %s\n\n%s\nRestore it into an empty database (the EBS stopped) with:\n\n  %s\n",
			pgCommand("pg_dump --format=custom --no-owner --file="+shellQuote(a.path), cfg.PostgresDSN), pgPasswordNote,
			pgCommand("pg_restore --no-owner --exit-on-error", cfg.PostgresDSN)+" "+shellQuote(a.path))
		return 0
	}
	dest, err := filepath.Abs(a.path)
	if err != nil {
		fmt.Fprintf(o.Stderr, "mgm-ebs backup: %v\n", err)
		return 1
	}
	src := filepath.Join(cfg.DataDir, sqlite.FileName)
	started := time.Now()
	if err := sqlite.Backup(ctx, src, dest); err != nil {
		fmt.Fprintf(o.Stderr, "mgm-ebs backup: %v\n", err)
		return 1
	}
	in, err := sqlite.Inspect(ctx, dest)
	if err == nil && in.Integrity != "ok" {
		err = fmt.Errorf("the copy failed its integrity check: %s", in.Integrity)
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "mgm-ebs backup: %v\n", err)
		return 1
	}
	size := int64(0)
	if fi, err := os.Stat(dest); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(o.Stdout, "Backed up %s to %s in %d ms: %d bytes, integrity ok, %s; pool %d, payouts %d, events %d.\n",
		abs(src), dest, time.Since(started).Milliseconds(), size, schemaSummary(in.Schema), in.Pool, in.Payouts, in.Events)
	return 0
}

// pgCommand is cmd for the configured database, without its password: a
// command line is visible to every user of the machine (ps) and lands in
// shell histories.
func pgCommand(cmd, dsn string) string {
	if conn, ok := pgdsn.WithoutPassword(dsn); ok {
		return cmd + " --dbname=" + shellQuote(conn)
	}
	return cmd + ` --dbname="$DATABASE_URL"   (your ConnectionStrings__PostgreSQL as a postgres:// URL without the password)`
}

const pgPasswordNote = "The password is not shown: give it in PGPASSWORD or ~/.pgpass (the tools ask for it otherwise).\n"

func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
