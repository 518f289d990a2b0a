// Package postgres opens the shared store on PostgreSQL through pgx. Several
// EBS processes may use one database: the constraints, transactions and
// advisory locks here are what make them behave as one.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/mimirons-goldomatic/mgm/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects with a pgx connection string (URL or keyword/value) and migrates.
func Open(ctx context.Context, dsn string) (*store.DB, error) {
	db, err := OpenDB(ctx, dsn)
	if err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, db, dialect{})
	if err != nil {
		_ = db.Close() // the migration error is the one worth reporting
		return nil, err
	}
	return s, nil
}

// maxOpenConns bounds one EBS's connections to PostgreSQL (its default
// max_connections is 100: room for a few replicas and the operator).
const maxOpenConns = 20

// OpenDB connects exactly as the store does — driver, timeouts, pool size —
// and pings, but neither migrates nor wraps the database: a measurement of
// PostgreSQL's own speed (mgm-sim load baseline) must meet the same client
// the EBS's writes go through.
func OpenDB(ctx context.Context, dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx errors may quote the connection string; never echo a password.
		return nil, errors.New("invalid PostgreSQL connection string")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	db := stdlib.OpenDB(*cfg)
	// As many kept idle as may be open: with fewer, a burst of reads (a
	// raid opening the panel) closed every connection above the idle count
	// as soon as it was released and opened another for the next request,
	// a new server process each (about 110 a second in mgm-sim load's check
	// at 16 connections). Five idle minutes still close what a burst opened.
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close() // nothing was opened through it; the ping error says why
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, redact(err))
	}
	return db, nil
}

// redact drops everything but the PostgreSQL error code and message.
func redact(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return errors.New("connection refused or unreachable")
	}
	return err
}

type dialect struct{}

func (dialect) Name() string { return "postgres" }

func (dialect) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}

func (dialect) Time(t time.Time) any { return t.UTC().Truncate(time.Millisecond) }

// Rebind turns '?' placeholders into PostgreSQL's $1, $2, …
func (dialect) Rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// LockKeys takes transaction-scoped advisory locks, in a fixed order so that
// two transactions locking overlapping keys cannot deadlock, in one round
// trip however many keys a group commit brings.
func (dialect) LockKeys(ctx context.Context, tx *sql.Tx, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	sorted := sortedKeys(keys)
	if _, err := tx.ExecContext(ctx, lockKeysSQL, sorted); err != nil {
		return fmt.Errorf("lock %s: %w", strings.Join(sorted, ", "), err)
	}
	return nil
}

// lockKeysSQL locks the keys of its one argument, a sorted text array.
// unnest WITH ORDINALITY yields the array in order and the ORDER BY keeps
// it so: since PostgreSQL 9.6 volatile target-list functions are evaluated
// after the sort.
const lockKeysSQL = `SELECT pg_advisory_xact_lock(hashtextextended(k, 0))
		FROM unnest($1::text[]) WITH ORDINALITY AS t(k, i) ORDER BY i`

// sortedKeys is the order every transaction takes its locks in.
func sortedKeys(keys []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(keys)))
}

// migrationLockID is an arbitrary constant naming the "migrating" advisory lock.
const migrationLockID = 0x4d474d2d6d6967 // "MGM-mig"

func (dialect) LockMigrations(ctx context.Context, conn *sql.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockID)); err != nil {
		return nil, err
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(migrationLockID))
	}, nil
}

func (dialect) UniqueViolation(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName, true
	}
	return "", false
}

// MigrateJobs applies River's own migrations: the job queue (internal/jobs)
// lives in the same database, so that a job commits with the change that
// needs it. River runs each migration in its own transaction, as some of its
// PostgreSQL ones require.
func (dialect) MigrateJobs(ctx context.Context, db *sql.DB) error {
	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// Transient: serialization failures and deadlocks (40001, 40P01) certainly
// rolled the transaction back; connection exceptions (class 08), a server
// shutting down or terminating the backend (57P01–57P03) and a broken socket
// did too when they came before COMMIT.
func (dialect) Transient(err error, atCommit bool) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "40001" || pe.Code == "40P01":
			return true
		case atCommit:
			return false
		default:
			return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
		}
	}
	if atCommit {
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &ne) || errors.As(err, &ce) || pgconn.SafeToRetry(err)
}
