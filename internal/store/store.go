// Package store is the database layer shared by the SQLite and PostgreSQL
// backends: plain SQL over database/sql, with the few differences between the
// two engines behind a Dialect. Keeping one copy of every query means both
// backends cannot drift apart; the conformance suite in storetest holds them to it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"
)

// Dialect is what differs between database engines.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Rebind rewrites the '?' placeholders the queries are written with.
	Rebind(query string) string
	// Time converts a timestamp into the value the engine stores.
	Time(t time.Time) any
	// LockKeys serialises transactions that touch the same logical keys (a
	// viewer, a character name) until the transaction ends. Engines that
	// already serialise all writers may do nothing.
	LockKeys(ctx context.Context, tx *sql.Tx, keys ...string) error
	// UniqueViolation reports the name of the unique constraint or index that
	// err violated, if it is such an error.
	UniqueViolation(err error) (constraint string, ok bool)
	// Migrations holds NNNN_name.sql files applied in order.
	Migrations() fs.FS
	// LockMigrations keeps concurrent processes from migrating at once; the
	// returned func releases the lock.
	LockMigrations(ctx context.Context, conn *sql.Conn) (func(), error)
	// MigrateJobs brings the job queue's own tables (River's) up to date,
	// after ours and while the migration lock is held.
	MigrateJobs(ctx context.Context, db *sql.DB) error
	// Transient reports whether err is a failure that running the whole
	// transaction again may not meet: a lost connection or a serialization
	// failure. atCommit says err came from COMMIT, where a lost connection
	// leaves unknown whether the transaction committed, so only failures that
	// certainly rolled it back count.
	Transient(err error, atCommit bool) bool
}

// DB is an open store.
type DB struct {
	sql *sql.DB
	d   Dialect
	// stmts, when the dialect asks for it, keeps every query prepared (see
	// StatementPreparer); nil otherwise.
	stmts *stmtCache
	// trace, when set, sees every statement (TraceStatements).
	trace func(query string, args []any)
}

// TraceStatements has fn called with every statement the store runs, as
// sent to the database, and its arguments: the plan tests EXPLAIN what the
// hot paths really run. Set it before the store is used, from one goroutine.
func (db *DB) TraceStatements(fn func(query string, args []any)) { db.trace = fn }

// StatementPreparer is implemented by dialects whose driver parses every
// query it is given anew: the store then prepares each query once per
// connection and reuses it. SQLite's parser was a fifth of an enrollment's
// CPU (pgx caches prepared statements itself).
type StatementPreparer interface {
	PrepareStatements() bool
}

// Open wraps an open database handle and applies pending migrations.
func Open(ctx context.Context, db *sql.DB, d Dialect) (*DB, error) {
	s := &DB{sql: db, d: d}
	if p, ok := d.(StatementPreparer); ok && p.PrepareStatements() {
		s.stmts = &stmtCache{db: db, m: map[string]*sql.Stmt{}}
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Dialect names the engine ("sqlite", "postgres").
func (db *DB) Dialect() string { return db.d.Name() }

// SQL exposes the handle for engine-specific extras (LISTEN/NOTIFY) and tests.
func (db *DB) SQL() *sql.DB { return db.sql }

// Close closes the database.
func (db *DB) Close() error {
	db.stmts.close()
	return db.sql.Close()
}

// Ready reports whether the database answers and the schema is current. One
// dropped connection is not unreadiness: the check reads through Read, which
// tries once more on a fresh connection, so /readyz reports the pool's
// health rather than the luck of the connection it happened to draw.
func (db *DB) Ready(ctx context.Context) error {
	var v int
	err := db.Read(ctx, func(tx *Tx) error {
		return tx.queryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	})
	if err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	want, err := latestMigration(db.d.Migrations())
	if err != nil {
		return err
	}
	if v < want {
		return fmt.Errorf("schema at version %d, want %d", v, want)
	}
	return nil
}

// InTx runs fn in one transaction: committed when fn returns nil, rolled back
// otherwise. Every state change and its audit event go through here together.
//
// A transient failure (a connection PostgreSQL dropped, a serialization
// failure) runs the whole transaction once more before the error is
// returned, so that a database restart or failover is not a client's 5xx.
// fn must therefore be safe to run twice: it is, as long as it keeps its
// effects inside tx. The exception is COMMIT losing its connection: whether
// the transaction committed is unknown, and it is not run again.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	return db.againAfterTransient(ctx, db.inTx(ctx, db.sql, fn), func(conn *sql.Conn) error {
		return db.inTx(ctx, conn, fn)
	})
}

// againAfterTransient is the rule of InTx and InTxSteps for a transaction
// that failed with err: a transient failure other than an unknown COMMIT
// outcome runs it once more, on a connection that answers.
func (db *DB) againAfterTransient(ctx context.Context, err error, run func(*sql.Conn) error) error {
	var ce commitError
	if err == nil || ctx.Err() != nil || !db.d.Transient(err, errors.As(err, &ce)) {
		return err
	}
	conn, cerr := db.freshConn(ctx)
	if cerr != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, errors.Join(err, cerr))
	}
	defer func() { _ = conn.Close() }() // returns it to the pool
	return db.unavailable(run(conn))
}

// ErrUnavailable marks a database failure that outlived the retry: the
// server is down, restarting or unreachable. Nothing the client did caused
// it, and trying again later may work (HTTP 503, not 500).
var ErrUnavailable = errors.New("the database is unavailable")

// unavailable wraps a transient failure that the retry did not get over.
func (db *DB) unavailable(err error) error {
	var ce commitError
	if err == nil || errors.As(err, &ce) || !db.d.Transient(err, false) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// commitError marks a failure of COMMIT itself.
type commitError struct{ err error }

func (e commitError) Error() string { return "commit: " + e.err.Error() }
func (e commitError) Unwrap() error { return e.err }

func (db *DB) inTx(ctx context.Context, on interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, fn func(*Tx) error) error {
	sqlTx, err := on.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, d: db.d, stmts: db.stmts, trace: db.trace}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return commitError{err}
	}
	return nil
}

// freshConn returns a pooled connection that answers a ping. A lost
// connection rarely comes alone (the server restarted, failed over, or an
// operator terminated the backends), so the retry must not draw another dead
// one: each that fails its ping is dropped from the pool.
func (db *DB) freshConn(ctx context.Context) (*sql.Conn, error) {
	var last error
	for range 64 { // more than any pool here holds
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if last = conn.PingContext(ctx); last == nil {
			return conn, nil
		}
		_ = conn.Close() // the driver marked it broken: the pool discards it
		if !db.d.Transient(last, false) {
			break
		}
	}
	return nil, last
}

// Read runs fn outside a transaction: each query stands alone. Reads that
// need no consistency across queries use it so that, on SQLite, they do not
// queue behind the single writer. Like InTx it runs fn again after a
// transient failure, on a connection that answers; reading again is safe,
// so it does so up to readRetries times: a connection that answered the
// ping can still be one the server is terminating with the rest (a
// restart or an operator's pg_terminate_backend reaches every backend, not
// all in the same millisecond).
func (db *DB) Read(ctx context.Context, fn func(*Tx) error) error {
	err := fn(&Tx{tx: db.sql, d: db.d, stmts: db.stmts, trace: db.trace})
	for range readRetries {
		if err == nil || ctx.Err() != nil || !db.d.Transient(err, false) {
			return err
		}
		conn, cerr := db.freshConn(ctx)
		if cerr != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, errors.Join(err, cerr))
		}
		err = fn(&Tx{tx: conn, d: db.d, trace: db.trace})
		_ = conn.Close() // returns it to the pool
	}
	return db.unavailable(err)
}

// readRetries is how many times Read runs fn again after a transient failure.
const readRetries = 3

// querier is what a Tx runs its queries on: a transaction, or for Read the pool.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is one open transaction (or, from Read, a series of standalone queries).
type Tx struct {
	tx    querier
	d     Dialect
	stmts *stmtCache
	trace func(query string, args []any)
	// held are the keys this transaction has locked: locks last until it
	// ends, so locking one again needs no statement (a group commit locks
	// all its lines' keys first, and each line asks again).
	held map[string]bool
}

func (tx *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = tx.d.Rebind(q)
	return tx.on(ctx, q, args).ExecContext(ctx, q, args...)
}

func (tx *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = tx.d.Rebind(q)
	return tx.on(ctx, q, args).QueryContext(ctx, q, args...)
}

func (tx *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = tx.d.Rebind(q)
	return tx.on(ctx, q, args).QueryRowContext(ctx, q, args...)
}

// on is what runs q: its prepared statement when the store keeps them
// (bound to the transaction, which reuses the statement already prepared on
// the transaction's connection), else the transaction or pool itself.
func (tx *Tx) on(ctx context.Context, q string, args []any) querier {
	if tx.trace != nil {
		tx.trace(q, args)
	}
	st := tx.stmts.get(q)
	if st == nil {
		return tx.tx
	}
	switch t := tx.tx.(type) {
	case *sql.Tx:
		return preparedQuerier{t.StmtContext(ctx, st)}
	case *sql.DB:
		return preparedQuerier{st}
	}
	return tx.tx // a single connection (Read's retry): not worth a statement
}

// preparedQuerier runs a prepared statement; the query text it is handed is
// the statement's own.
type preparedQuerier struct{ st *sql.Stmt }

func (p preparedQuerier) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	return p.st.ExecContext(ctx, args...)
}

func (p preparedQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return p.st.QueryContext(ctx, args...)
}

func (p preparedQuerier) QueryRowContext(ctx context.Context, _ string, args ...any) *sql.Row {
	return p.st.QueryRowContext(ctx, args...)
}

// stmtCache holds one prepared statement per query text. The queries are
// the store's own constants, so it stays small; maxCachedStatements bounds
// it anyway, beyond which queries simply run unprepared.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt // nil value: being prepared, or failed to
	closed bool
}

const maxCachedStatements = 256

// get returns q's prepared statement, or nil when there is none yet (the
// caller then runs q unprepared). A missing one is prepared in the
// background: preparing takes a connection of the pool, and a caller that
// holds one for its transaction must not wait for another (on SQLite the
// others may be queued behind that very transaction's write lock).
func (c *stmtCache) get(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, seen := c.m[q]
	if !seen && !c.closed && len(c.m) < maxCachedStatements {
		c.m[q] = nil
		go c.prepare(q)
	}
	return st
}

func (c *stmtCache) prepare(q string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.db.PrepareContext(ctx, q)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		return // stays nil: the query runs unprepared, and meets its error there if it has one
	}
	if c.closed {
		_ = st.Close()
		return
	}
	c.m[q] = st
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, st := range c.m {
		if st != nil {
			_ = st.Close() // closing the pool next releases everything anyway
		}
	}
}

// Lock serialises this transaction with any other that locks one of the same
// keys. Keys are namespaced strings such as "viewer:123" or "name:norinn".
func (tx *Tx) Lock(ctx context.Context, keys ...string) error {
	sqlTx, ok := tx.tx.(*sql.Tx)
	if !ok {
		return errors.New("store: Lock outside a transaction")
	}
	var fresh []string
	for _, k := range keys {
		if !tx.held[k] {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	if err := tx.d.LockKeys(ctx, sqlTx, fresh...); err != nil {
		return err
	}
	if tx.held == nil {
		tx.held = map[string]bool{}
	}
	for _, k := range fresh {
		tx.held[k] = true
	}
	return nil
}

// IsCommitFailure reports whether err came from COMMIT, after which whether
// the transaction committed is unknown.
func IsCommitFailure(err error) bool {
	var ce commitError
	return errors.As(err, &ce)
}

// SQLTx is the transaction underneath, for work that must commit or roll back
// with it (enqueuing a job); false from Read, which has none.
func (tx *Tx) SQLTx() (*sql.Tx, bool) {
	sqlTx, ok := tx.tx.(*sql.Tx)
	return sqlTx, ok
}

// UniqueViolation reports which unique constraint err violated, if any.
func (db *DB) UniqueViolation(err error) (string, bool) { return db.d.UniqueViolation(err) }

// ErrNotFound is returned by lookups that find nothing.
var ErrNotFound = errors.New("not found")

// Time is a timestamp column: the engines return time.Time (PostgreSQL) or
// text (SQLite), and this reads either.
type Time struct{ time.Time }

// TimeFormat is how timestamps are stored as text: fixed width, UTC and
// millisecond precision, so that text order is time order.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Scan implements sql.Scanner.
func (t *Time) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		t.Time = v.UTC()
		return nil
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("store: cannot scan %T into a time", v)
	}
}

func (t *Time) parse(s string) error {
	p, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("store: bad timestamp %q: %w", s, err)
	}
	t.Time = p.UTC()
	return nil
}

// NullTime is a nullable timestamp column.
type NullTime struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *NullTime) Scan(v any) error {
	if v == nil {
		t.Time, t.Valid = time.Time{}, false
		return nil
	}
	var x Time
	if err := x.Scan(v); err != nil {
		return err
	}
	t.Time, t.Valid = x.Time, true
	return nil
}

// Ptr returns the time or nil.
func (t NullTime) Ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	tt := t.Time
	return &tt
}

// Truncate rounds a timestamp to what the store keeps: UTC milliseconds.
func Truncate(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func (tx *Tx) nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return tx.d.Time(*t)
}

// The unique indexes the application reacts to, by their PostgreSQL names;
// each dialect reports violations under these names.
const (
	UniquePoolName           = "pool_name_key"
	UniqueActivePayout       = "payouts_one_active_per_viewer"
	UniquePayoutSpinCycle    = "payouts_spin_cycle_id"
	UniquePayoutEnrollmentID = "payouts_enrollment_request_id"
	UniqueEventVersion       = "events_stream_id_version_key"
	UniqueGiftSeq            = "gift_requests_streamer_seq"
	UniqueGiftServed         = "gift_requests_one_served_per_streamer"
	UniqueGiftOpenPerViewer  = "gift_requests_one_open_per_viewer"
	UniqueGiftCompleted      = "gift_requests_one_completed_per_viewer"
)

// scanner is a row being read: *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect reads every row a query returned with scan; it takes the query's
// own error so that call sites stay one expression.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }() // rows.Err below reports what went wrong while reading
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanString reads a one-column string row.
func scanString(row scanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}
