package ops

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebs"
	"github.com/mimirons-goldomatic/mgm/internal/lockfile"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// Goroutines started by this package's tests must end with them.
func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }

// run runs one subcommand with only env as the environment.
func run(t *testing.T, env map[string]string, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	status, ok := Run(context.Background(), args[0], args[1:], Options{
		Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }, Version: "1.2.3", Revision: "abc123",
	})
	if !ok {
		t.Fatalf("%q is not a subcommand", args[0])
	}
	return status, out.String(), errOut.String()
}

func TestRunKnowsItsSubcommands(t *testing.T) {
	if _, ok := Run(context.Background(), "serve", nil, Options{}); ok {
		t.Fatal("an unknown word was taken for a subcommand")
	}
	for _, name := range []string{"version", "--version"} {
		status, out, _ := run(t, nil, name)
		if status != 0 || !strings.HasPrefix(out, "mgm-ebs 1.2.3 (") || !strings.Contains(out, "revision abc123") {
			t.Errorf("%s: %d %q", name, status, out)
		}
	}
}

func TestHealthURL(t *testing.T) {
	for in, want := range map[string]string{
		":8080":            "http://127.0.0.1:8080/healthz",
		"0.0.0.0:8080":     "http://127.0.0.1:8080/healthz",
		"[::]:9000":        "http://[::1]:9000/healthz",
		"127.0.0.1:8080":   "http://127.0.0.1:8080/healthz",
		"10.1.2.3:80":      "http://10.1.2.3:80/healthz",
		"ebs.internal:808": "http://ebs.internal:808/healthz",
	} {
		if got := HealthURL(in); got != want {
			t.Errorf("HealthURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusServiceUnavailable) })
	mux.HandleFunc("GET /moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/healthz", http.StatusPermanentRedirect)
	})
	slow := make(chan struct{})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-slow:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(slow)
	addr := strings.TrimPrefix(srv.URL, "http://")

	// No flags: the address comes from the server's own setting, here from
	// the environment as in the container image.
	status, out, errOut := run(t, map[string]string{"Mgm__Listen": addr}, "healthcheck")
	if status != 0 || out != "healthy: "+srv.URL+"/healthz answered 200\n" || errOut != "" {
		t.Errorf("healthy server: %d %q %q", status, out, errOut)
	}
	if status, _, _ := run(t, nil, "healthcheck", "--listen", addr); status != 0 {
		t.Errorf("--listen: %d", status)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--url", srv.URL + "/down"}, "answered 503 Service Unavailable"},
		{[]string{"--url=" + srv.URL + "/moved"}, "answered 308 Permanent Redirect"},
		{[]string{"--url", srv.URL + "/slow", "--timeout", "200ms"}, "no answer within the timeout"},
		{[]string{"--url", "http://127.0.0.1:1/healthz"}, "connection refused"},
	} {
		started := time.Now()
		status, out, errOut := run(t, nil, append([]string{"healthcheck"}, c.args...)...)
		if status != 1 || out != "" || !strings.HasPrefix(errOut, "unhealthy: ") || !strings.Contains(errOut, c.want) ||
			strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: %d %q %q, want one line with %q", c.args, status, out, errOut, c.want)
		}
		if time.Since(started) > 2*time.Second {
			t.Errorf("%v took %v", c.args, time.Since(started))
		}
	}
	if status, _, errOut := run(t, nil, "healthcheck", "--timeout", "soon"); status != 2 || !strings.Contains(errOut, "--timeout") {
		t.Errorf("bad timeout: %d %q", status, errOut)
	}
}

// sqliteEnv is a Development EBS's settings on dir.
func sqliteEnv(dir string) map[string]string { return map[string]string{"Mgm__DataDir": dir} }

// newDataDir is a data folder with a migrated database holding one pool member.
func newDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.PutPoolEntry(context.Background(), mgm.PoolEntry{TwitchUserID: "42", TwitchDisplayName: "Fan",
			CharacterName: "Norinn", EnrolledAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// migrationCount is how many migrations the SQLite store has.
func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := os.ReadDir(filepath.Join("..", "sqlite", "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

func exec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func poolNames(t *testing.T, path string) string {
	t.Helper()
	db, err := sqlite.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names string
	if err := db.QueryRow(`SELECT COALESCE(group_concat(character_name, ','), '') FROM (SELECT character_name FROM pool ORDER BY 1)`).Scan(&names); err != nil {
		t.Fatal(err)
	}
	return names
}

func TestBackupAndRestoreSQLite(t *testing.T) {
	src := newDataDir(t)
	backup := filepath.Join(t.TempDir(), "mgm-backup.db")
	status, out, errOut := run(t, sqliteEnv(src), "backup", backup)
	if status != 0 || !strings.Contains(out, fmt.Sprintf("integrity ok, schema %[1]d of %[1]d migrations; pool 1,", migrationCount(t))) {
		t.Fatalf("backup: %d %q %q", status, out, errOut)
	}
	// Never over an existing file, the backup just made included.
	before, _ := os.ReadFile(backup)
	if status, _, errOut := run(t, sqliteEnv(src), "backup", backup); status != 1 || !strings.Contains(errOut, "already exists") {
		t.Errorf("backup over a file: %d %q", status, errOut)
	}
	if after, _ := os.ReadFile(backup); !bytes.Equal(before, after) {
		t.Error("the existing backup was changed")
	}
	// Nothing to back up: no empty database is made where the path was mistyped.
	empty := t.TempDir()
	if status, _, errOut := run(t, sqliteEnv(empty), "backup", filepath.Join(empty, "x.db")); status != 1 || !strings.Contains(errOut, "no database at") {
		t.Errorf("backup of nothing: %d %q", status, errOut)
	}
	if _, err := os.Stat(filepath.Join(empty, sqlite.FileName)); err == nil {
		t.Error("backup created a database")
	}

	// Into a fresh folder.
	dst := filepath.Join(t.TempDir(), "data")
	status, out, errOut = run(t, sqliteEnv(dst), "restore", backup)
	if status != 0 || !strings.Contains(out, "Restored "+backup) || poolNames(t, filepath.Join(dst, sqlite.FileName)) != "Norinn" {
		t.Fatalf("restore: %d %q %q", status, out, errOut)
	}
	if after, _ := os.ReadFile(backup); !bytes.Equal(before, after) {
		t.Error("restoring changed the backup")
	}

	// A folder that has a database keeps it unless --force, and --force
	// keeps it beside, with its write-ahead log.
	other := newDataDir(t)
	otherDB := filepath.Join(other, sqlite.FileName)
	db, err := sqlite.OpenDB(otherDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec(t, db, `PRAGMA wal_autocheckpoint = 0`)
	exec(t, db, `UPDATE pool SET character_name = 'Other', name_key = 'other'`)
	if status, _, errOut := run(t, sqliteEnv(other), "restore", backup); status != 1 || !strings.Contains(errOut, "add --force") {
		t.Errorf("restore over a database: %d %q", status, errOut)
	}
	if poolNames(t, otherDB) != "Other" {
		t.Error("the database was replaced without --force")
	}
	// The EBS running on the folder: refused, even with --force.
	lock, err := lockfile.Acquire(filepath.Join(other, ebs.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.Write("4242"); err != nil {
		t.Fatal(err)
	}
	status, _, errOut = run(t, sqliteEnv(other), "restore", backup, "--force")
	lock.Release()
	if status != 1 || !strings.Contains(errOut, "is running on "+other+" (pid 4242): stop it first") {
		t.Errorf("restore beside a running EBS: %d %q", status, errOut)
	}
	if poolNames(t, otherDB) != "Other" {
		t.Error("the database was replaced while the EBS ran")
	}
	db.Close()
	status, out, errOut = run(t, sqliteEnv(other), "restore", backup, "--force")
	if status != 0 || poolNames(t, otherDB) != "Norinn" {
		t.Fatalf("restore --force: %d %q %q", status, out, errOut)
	}
	kept, _ := filepath.Glob(otherDB + ".before-restore-*Z")
	if len(kept) != 1 || poolNames(t, kept[0]) != "Other" || !strings.Contains(out, "kept as "+kept[0]) {
		t.Errorf("the replaced database was not kept whole: %v %q", kept, out)
	}
}

func TestRestoreRefusesWhatIsNotABackup(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign.db")
	fdb, err := sqlite.OpenDB(foreign)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, fdb, `CREATE TABLE t (x)`)
	fdb.Close()
	newer := filepath.Join(newDataDir(t), sqlite.FileName)
	ndb, err := sqlite.OpenDB(newer)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, ndb, `INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', '2030-01-01T00:00:00.000Z')`)
	ndb.Close()
	for path, want := range map[string]string{
		notDB:                      "is not a readable SQLite database",
		foreign:                    "not an mgm-ebs one",
		newer:                      "migrated by a newer mgm-ebs (migration 9999_future.sql)",
		filepath.Join(dir, "gone"): "no database at",
	} {
		target := filepath.Join(t.TempDir(), "data")
		status, _, errOut := run(t, sqliteEnv(target), "restore", path)
		if status != 1 || !strings.Contains(errOut, want) {
			t.Errorf("restore %s: %d %q, want %q", filepath.Base(path), status, errOut, want)
		}
		if _, err := os.Stat(filepath.Join(target, sqlite.FileName)); err == nil {
			t.Errorf("restore %s wrote a database", filepath.Base(path))
		}
	}
}

func TestMigrateStatusSQLite(t *testing.T) {
	dir := t.TempDir()
	if status, _, errOut := run(t, sqliteEnv(dir), "migrate", "--status"); status != 1 || !strings.Contains(errOut, "no database at") {
		t.Errorf("status of nothing: %d %q", status, errOut)
	}
	status, out, errOut := run(t, sqliteEnv(dir), "migrate")
	if status != 0 || !strings.Contains(out, "  applied  0001_foundation.sql") || !strings.HasSuffix(out, "Schema is current.\n") {
		t.Fatalf("migrate: %d %q %q", status, out, errOut)
	}
	db, err := sqlite.OpenDB(filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec(t, db, `DELETE FROM schema_migrations WHERE version = 7`)
	status, out, _ = run(t, sqliteEnv(dir), "migrate", "--status")
	if status != 0 || !strings.Contains(out, "  pending  0007_pool_stats.sql\n") ||
		!strings.Contains(out, fmt.Sprintf("schema %d of %d migrations (1 pending): mgm-ebs migrate applies them", migrationCount(t)-1, migrationCount(t))) {
		t.Errorf("status with one pending: %d %q", status, out)
	}
	exec(t, db, `INSERT INTO schema_migrations VALUES (7, '0007_pool_stats.sql', 'x'), (9999, '9999_future.sql', 'y')`)
	status, out, _ = run(t, sqliteEnv(dir), "migrate", "--status")
	if status != 1 || !strings.Contains(out, "  unknown  9999_future.sql") || !strings.Contains(out, "A newer mgm-ebs migrated this database") {
		t.Errorf("status with an unknown migration: %d %q", status, out)
	}
	// migrate refuses beside a running EBS.
	lock, err := lockfile.Acquire(filepath.Join(dir, ebs.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	if status, _, errOut := run(t, sqliteEnv(dir), "migrate"); status != 1 || !strings.Contains(errOut, "stop it first") {
		t.Errorf("migrate beside a running EBS: %d %q", status, errOut)
	}
}

func TestPostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	// With a password, as deployments have one: it must never be printed.
	withPassword := strings.Replace(dsn, "postgres://postgres@", "postgres://postgres:hunter2hunter2@", 1)
	env := map[string]string{"Mgm__Environment": "Development", "ConnectionStrings__PostgreSQL": withPassword}
	status, out, errOut := run(t, env, "backup", "/backups/mgm 1.dump")
	want := "pg_dump --format=custom --no-owner --file='/backups/mgm 1.dump' --dbname=" + shellQuote(dsn)
	if status != 0 || !strings.Contains(out, want) || !strings.Contains(out, "pg_restore --no-owner --exit-on-error --dbname=") ||
		strings.Contains(out+errOut, "hunter2") {
		t.Errorf("backup on PostgreSQL: %d %q %q, want %q", status, out, errOut, want)
	}
	if status, out, errOut := run(t, env, "restore", "/backups/x.dump"); status != 0 || !strings.Contains(out, "pg_restore") || strings.Contains(out+errOut, "hunter2") {
		t.Errorf("restore on PostgreSQL: %d %q %q", status, out, errOut)
	}

	env["ConnectionStrings__PostgreSQL"] = dsn
	status, out, _ = run(t, env, "migrate", "--status")
	if status != 0 || !strings.Contains(out, "  pending  0001_foundation.sql") || !strings.Contains(out, "Job queue (River): 0 of ") {
		t.Errorf("status of an empty database: %d %q", status, out)
	}
	st, err := postgres.SchemaStatus(context.Background(), dsn)
	if err != nil || len(st.Pending()) != len(st.Migrations) {
		t.Errorf("migrate --status applied something: %+v %v", st, err)
	}
	status, out, _ = run(t, env, "migrate")
	if status != 0 || !strings.Contains(out, "  applied  0007_pool_stats.sql") || !strings.HasSuffix(out, "Schema is current.\n") {
		t.Errorf("migrate: %d %q", status, out)
	}
}
