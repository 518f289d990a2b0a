package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
)

// runRestore puts a backup in place of the data folder's SQLite database.
// It holds the data folder's lock throughout, so it refuses while the EBS
// runs and no EBS can start half-way; it checks the backup before touching
// anything, and keeps a database it replaces (--force) beside it.
func runRestore(ctx context.Context, raw []string, o Options) int {
	a, err := splitArgs(raw, true, nil, []string{"force"})
	if err != nil || a.path == "" {
		fmt.Fprintln(o.Stderr, "usage: mgm-ebs restore PATH [--force] [--Section:Key=value ...]")
		return 2
	}
	cfg, status, ok := load("restore", a.settings, o)
	if !ok {
		return status
	}
	if cfg.PostgresDSN != "" {
		fmt.Fprintf(o.Stdout, "The store is PostgreSQL: restore a pg_dump backup with pg_restore into an empty database, the EBS stopped:\n\n  %s\n\n%s",
			pgCommand("pg_restore --no-owner --exit-on-error", cfg.PostgresDSN)+" "+shellQuote(a.path), pgPasswordNote)
		return 0
	}
	msg, err := restore(ctx, a.path, cfg.DataDir, a.flags["force"] != "", time.Now)
	if err != nil {
		fmt.Fprintf(o.Stderr, "mgm-ebs restore: %v\n", err)
		return 1
	}
	fmt.Fprint(o.Stdout, msg)
	return 0
}

// restore copies the backup at src into dataDir as its database and says
// what it did.
func restore(ctx context.Context, src, dataDir string, force bool, now func() time.Time) (string, error) {
	src = abs(src)
	in, err := sqlite.Inspect(ctx, src)
	if err != nil {
		return "", err
	}
	switch {
	case in.Integrity != "ok":
		return "", fmt.Errorf("%s failed its integrity check (%s); nothing was changed", src, in.Integrity)
	case len(in.Schema.Unknown) > 0:
		return "", fmt.Errorf("%s was migrated by a newer mgm-ebs (migration %s); restore it with that version", src, in.Schema.Unknown[0].Name)
	}
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return "", err
	}
	defer lock.Release()

	dbPath := abs(filepath.Join(dataDir, sqlite.FileName))
	if same, err := sameFile(src, dbPath); err != nil {
		return "", err
	} else if same {
		return "", fmt.Errorf("%s is the data folder's own database", src)
	}
	kept := ""
	if exists(dbPath) || exists(dbPath+"-wal") {
		if !force {
			return "", fmt.Errorf("%s already has a database (%s): add --force to replace it (it is kept beside, renamed)", abs(dataDir), dbPath)
		}
		// The write-ahead log and its index move with the file they belong
		// to (SQLite finds them by name), so the kept database stays whole.
		kept = dbPath + ".before-restore-" + now().UTC().Format("20060102T150405Z")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Rename(dbPath+suffix, kept+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("keep the current database: %w", err)
			}
		}
	}
	tmp := filepath.Join(dataDir, "."+sqlite.FileName+".restoring")
	if err := copyFile(src, tmp); err != nil {
		_ = os.Remove(tmp) // a partial copy is worth nothing
		return "", err
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	if err := syncDir(dataDir); err != nil {
		return "", err
	}
	msg := fmt.Sprintf("Restored %s into %s: integrity ok, %s; pool %d, payouts %d, events %d.\n",
		src, dbPath, schemaSummary(in.Schema), in.Pool, in.Payouts, in.Events)
	if len(in.Schema.Pending()) > 0 || in.Schema.JobsApplied != in.Schema.JobsKnown {
		msg += "The EBS applies the pending migrations when it starts.\n"
	}
	if kept != "" {
		msg += fmt.Sprintf("The database it replaced is kept as %s.\n", kept)
	}
	return msg, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// copyFile writes src to dst (owner-only, as the EBS keeps its data) and
// flushes it to disk before the caller renames it into place.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // read-only
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close() // the copy error is the one worth reporting
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
