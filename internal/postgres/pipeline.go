package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// RunPipelined runs a transaction of two steps in two round trips, through
// the extended query protocol's pipelining: BEGIN, the advisory locks and
// first's statements are sent together and then Sync; then's statements and
// COMMIT likewise. The server runs a pipeline's statements in order and,
// after an error, skips the rest up to the Sync, so a statement never runs
// after one that failed (PostgreSQL documentation, "Pipelining" in the
// frontend/backend protocol's message flow). BEGIN makes the transaction
// outlive the first Sync; without it each pipeline would be an implicit
// transaction of its own. A group commit of enrollments spent seven round
// trips; its lines wait for every one (issue 15).
func (d dialect) RunPipelined(ctx context.Context, conn *sql.Conn, keys []string, first []store.Statement,
	then func() ([]store.Statement, error)) (atCommit bool, err error) {
	rawErr := conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: the pool holds a %T, not a pgx connection", dc)
		}
		pc := sc.Conn()
		atCommit, err = d.runPipelined(ctx, pc, keys, first, then)
		if err != nil && pc.PgConn().TxStatus() != 'I' && !pc.IsClosed() {
			// Nothing of it must outlive the failure; a connection that
			// cannot even roll back is closed, and the pool drops it
			// (stdlib discards any connection left in a transaction).
			if _, rerr := pc.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				_ = pc.Close(context.WithoutCancel(ctx))
			}
		}
		if pc.IsClosed() {
			// A connection the server terminated: database/sql drops it
			// now rather than handing it to the next caller.
			return driver.ErrBadConn
		}
		return nil
	})
	if rawErr != nil && err == nil {
		return false, rawErr
	}
	return atCommit, err
}

func (dialect) runPipelined(ctx context.Context, pc *pgx.Conn, keys []string, first []store.Statement,
	then func() ([]store.Statement, error)) (atCommit bool, err error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	lead := 1
	if len(keys) > 0 {
		b.Queue(lockKeysSQL, sortedKeys(keys))
		lead++
	}
	for _, s := range first {
		b.Queue(s.Query, s.Args...)
	}
	if err := readBatch(pc.SendBatch(ctx, b), lead, first); err != nil {
		return false, err
	}
	more, err := then()
	if err != nil {
		return false, err
	}
	b = &pgx.Batch{}
	for _, s := range more {
		b.Queue(s.Query, s.Args...)
	}
	b.Queue("COMMIT")
	err = readBatch(pc.SendBatch(ctx, b), 0, more)
	if err == nil && pc.PgConn().TxStatus() != 'I' {
		// COMMIT in a failed transaction answers ROLLBACK, not an error.
		err = errors.New("postgres: the transaction did not commit")
	}
	if err == nil {
		return false, nil
	}
	// A statement that the server refused certainly kept the COMMIT behind
	// it from running, and so did a failure pgx reports as having happened
	// before anything was sent (pgconn.SafeToRetry: a connection found dead
	// when the batch was written); anything else — a connection lost once
	// the COMMIT was sent, or the COMMIT's own error — leaves the outcome
	// unknown.
	var se stmtError
	return !errors.As(err, &se) && !pgconn.SafeToRetry(err), err
}

// stmtError is a statement before COMMIT that the server refused.
type stmtError struct{ err error }

func (e stmtError) Error() string { return e.err.Error() }
func (e stmtError) Unwrap() error { return e.err }

// readBatch reads a pipeline's results: lead statements whose result is only
// their error, then one per statement of stmts, then (when there is one) a
// trailing COMMIT's. It always closes br.
func readBatch(br pgx.BatchResults, lead int, stmts []store.Statement) (err error) {
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	refused := func(err error) error {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return stmtError{err}
		}
		return err
	}
	for range lead {
		if _, err := br.Exec(); err != nil {
			return refused(err)
		}
	}
	for _, s := range stmts {
		if s.Rows == nil {
			if _, err := br.Exec(); err != nil {
				return refused(err)
			}
			continue
		}
		rows, err := br.Query()
		if err != nil {
			return refused(err)
		}
		err = s.Rows(rows)
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return refused(err)
		}
	}
	return nil
}
