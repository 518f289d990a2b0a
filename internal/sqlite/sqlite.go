// Package sqlite opens the embedded store: a single SQLite file through the
// pure-Go modernc.org/sqlite driver, so the EBS needs no cgo and no server.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// init registers mgm_order_key(user id), the draw's order key
// (drawproof.OrderKey), and mgm_gzip(text), the draw list's stored form
// (drawproof.Gzip), with the driver: migrations 0010 and 0012 convert
// existing rows with them, and SQLite has neither SHA-256 nor gzip of its
// own. The driver keeps its functions process-wide, so registering happens
// once here.
func init() {
	err := sqlite.RegisterDeterministicScalarFunction("mgm_order_key", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch id := args[0].(type) {
			case string:
				return drawproof.OrderKey(id), nil
			case []byte:
				return drawproof.OrderKey(string(id)), nil
			}
			return nil, fmt.Errorf("mgm_order_key: a user id is text, not %T", args[0])
		})
	if err == nil {
		err = sqlite.RegisterDeterministicScalarFunction("mgm_gzip", 1,
			func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
				switch t := args[0].(type) {
				case string:
					return drawproof.Gzip([]byte(t)), nil
				case []byte:
					return drawproof.Gzip(t), nil
				case nil:
					return nil, nil
				}
				return nil, fmt.Errorf("mgm_gzip: a draw list is text, not %T", args[0])
			})
	}
	if err != nil {
		panic(err) // only a second registration fails, and init runs once
	}
}

// FileName is the database file inside the data folder.
const FileName = "mgm.db"

// Open opens (creating if needed) the database at path and migrates it.
//
// Every transaction starts with BEGIN IMMEDIATE, taking SQLite's single write
// lock up front: concurrent requests queue on busy_timeout instead of failing
// with SQLITE_BUSY half-way, and each transaction sees a stable database, which
// is what makes check-then-write sequences safe on this engine.
func Open(ctx context.Context, path string) (*store.DB, error) {
	db, err := OpenDB(path)
	if err != nil {
		return nil, err
	}
	s, err := store.Open(ctx, db, dialect{})
	if err != nil {
		_ = db.Close() // the open error is the one worth reporting
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// OpenDB opens (creating if needed) the SQLite file at path exactly as the
// store does — driver, pragmas, transaction mode and pool size — but neither
// migrates nor wraps it: a measurement of SQLite's own speed (mgm-sim load
// baseline) must meet the same settings the EBS's writes meet.
func OpenDB(path string) (*sql.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	// One writer at a time is SQLite's model; a small pool still lets reads
	// overlap with a write under WAL.
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

type dialect struct{}

func (dialect) Name() string                                       { return "sqlite" }
func (dialect) Rebind(q string) string                             { return q }
func (dialect) Migrations() fs.FS                                  { sub, _ := fs.Sub(migrations, "migrations"); return sub }
func (dialect) Time(t time.Time) any                               { return t.UTC().Format(store.TimeFormat) }
func (dialect) LockKeys(context.Context, *sql.Tx, ...string) error { return nil }

// PrepareStatements: the driver parses every query it is given anew; the
// store keeps them prepared (store.StatementPreparer).
func (dialect) PrepareStatements() bool { return true }

// LockMigrations: BEGIN IMMEDIATE in each migration already excludes other
// writers, and one SQLite file has one EBS process.
func (dialect) LockMigrations(context.Context, *sql.Conn) (func(), error) { return func() {}, nil }

func (dialect) UniqueViolation(err error) (string, bool) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return "", false
	}
	if se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && se.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return "", false
	}
	// SQLite names the columns ("UNIQUE constraint failed: pool.name_key"),
	// not the index, so translate to the index names the store uses.
	msg := se.Error()
	if i := strings.LastIndex(msg, "failed: "); i >= 0 {
		cols := strings.TrimSpace(msg[i+len("failed: "):])
		if j := strings.LastIndex(cols, " ("); j >= 0 { // the driver appends " (2067)"
			cols = cols[:j]
		}
		if name, ok := uniqueIndexByColumns[cols]; ok {
			return name, true
		}
		return cols, true
	}
	return msg, true
}

var uniqueIndexByColumns = map[string]string{
	"pool.name_key":                    store.UniquePoolName,
	"payouts.twitch_user_id":           store.UniqueActivePayout,
	"payouts.spin_cycle_id":            store.UniquePayoutSpinCycle,
	"payouts.enrollment_request_id":    store.UniquePayoutEnrollmentID,
	"events.stream_id, events.version": store.UniqueEventVersion,
	// The gift queue. The two viewer indexes list their columns in opposite
	// orders so that SQLite's column lists tell them apart.
	"gift_requests.streamer_id, gift_requests.seq":       store.UniqueGiftSeq,
	"gift_requests.streamer_id":                          store.UniqueGiftServed,
	"gift_requests.streamer_id, gift_requests.viewer_id": store.UniqueGiftOpenPerViewer,
	"gift_requests.viewer_id, gift_requests.streamer_id": store.UniqueGiftCompleted,
}

// MigrateJobs applies River's own migrations: the job queue (internal/jobs)
// lives in the same database, so that a job commits with the change that
// needs it. River runs each migration in its own transaction, as some of its
// PostgreSQL ones require.
func (dialect) MigrateJobs(ctx context.Context, db *sql.DB) error {
	m, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// Transient: SQLITE_BUSY means the write lock was not had within
// busy_timeout, and a statement or COMMIT that met it changed nothing.
func (dialect) Transient(err error, _ bool) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
