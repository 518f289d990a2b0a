package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Statement is one statement of a transaction run in steps (InTxSteps),
// written with '?' placeholders like every query of the store.
type Statement struct {
	Query string
	Args  []any
	// Rows, when set, reads the statement's result rows; without it the
	// statement's result is only its error.
	Rows func(Rows) error
}

// Rows is what a Statement's Rows reads: the same calls whether the rows
// came through database/sql or from a pipeline.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Pipeliner is a dialect whose driver can send a transaction's statements
// several at a time, each batch in one round trip.
type Pipeliner interface {
	// RunPipelined begins a transaction on conn, locks keys (LockKeys' locks),
	// runs first, calls then, runs what it returns and commits: the
	// beginning, the locks and first in one round trip, then's statements
	// and the COMMIT in a second. The statements are already rebound.
	// atCommit reports that err left unknown whether the transaction
	// committed: it came from the COMMIT, or from a connection lost once
	// the COMMIT was sent.
	RunPipelined(ctx context.Context, conn *sql.Conn, keys []string, first []Statement, then func() ([]Statement, error)) (atCommit bool, err error)
}

// InTxSteps runs a transaction in two steps: it locks keys (as Tx.Lock),
// runs the statements first returns, calls then — which sees what first's
// statements read — runs the statements then returns, and commits. A
// statement with an empty Query is skipped.
//
// Why steps: on PostgreSQL each statement of a transaction is a round trip
// that everyone waiting on its locks or its group commit waits for too. With
// the statements known up front, a dialect that can pipeline (Pipeliner)
// sends the BEGIN, the locks and first's statements in one round trip, and
// then's statements and the COMMIT in one more; elsewhere (SQLite, in
// process) they run one by one in InTx. The statements run in order either
// way, each seeing the ones before: a read after the locks sees everything
// committed before they were granted.
//
// Like InTx it runs the transaction once more after a transient failure
// before its COMMIT, so first and then must start from nothing each time
// they are called; and a failure that leaves unknown whether the
// transaction committed is a commit failure (IsCommitFailure).
func (db *DB) InTxSteps(ctx context.Context, keys []string, first func() []Statement, then func() ([]Statement, error)) error {
	p, ok := db.d.(Pipeliner)
	if !ok {
		return db.InTx(ctx, func(tx *Tx) error {
			if err := tx.Lock(ctx, keys...); err != nil {
				return err
			}
			if err := tx.runAll(ctx, first()); err != nil {
				return err
			}
			more, err := then()
			if err != nil {
				return err
			}
			return tx.runAll(ctx, more)
		})
	}
	run := func(conn *sql.Conn) error {
		atCommit, err := p.RunPipelined(ctx, conn, keys, db.rebindAll(first()), func() ([]Statement, error) {
			more, err := then()
			return db.rebindAll(more), err
		})
		if err != nil && atCommit {
			return commitError{err}
		}
		return err
	}
	conn, err := db.sql.Conn(ctx)
	if err == nil {
		err = run(conn)
		_ = conn.Close() // returns it to the pool
	}
	return db.againAfterTransient(ctx, err, run)
}

// rebindAll drops the empty statements and rebinds the rest for the
// dialect, showing each to the trace as InTx's statements are.
func (db *DB) rebindAll(stmts []Statement) []Statement {
	out := make([]Statement, 0, len(stmts))
	for _, s := range stmts {
		if s.Query == "" {
			continue
		}
		s.Query = db.d.Rebind(s.Query)
		if db.trace != nil {
			db.trace(s.Query, s.Args)
		}
		out = append(out, s)
	}
	return out
}

// runAll runs statements one by one in the transaction.
func (tx *Tx) runAll(ctx context.Context, stmts []Statement) error {
	for _, s := range stmts {
		if s.Query == "" {
			continue
		}
		if err := tx.run(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// run runs one statement, reading its rows when it has a reader.
func (tx *Tx) run(ctx context.Context, s Statement) error {
	if s.Rows == nil {
		_, err := tx.exec(ctx, s.Query, s.Args...)
		return err
	}
	rows, err := tx.query(ctx, s.Query, s.Args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }() // the error that matters is rows.Err()
	if err := s.Rows(rows); err != nil {
		return fmt.Errorf("read the rows of %.40q…: %w", s.Query, err)
	}
	return rows.Err()
}
