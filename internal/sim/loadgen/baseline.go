package loadgen

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/pgdsn"
	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
)

// BaselineOptions describe a baseline measurement.
type BaselineOptions struct {
	// Store is "sqlite" or "postgres".
	Store string
	// Dir is where the scratch SQLite file is made (and removed).
	Dir string
	// DSN is the PostgreSQL database, any form the EBS accepts.
	DSN         string
	Connections int
	Count       int
	// Suffix names the scratch table (and file); nil means random text, so
	// that runs side by side do not meet.
	Suffix func() string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// BaselineResult is the database's own single-row insert rate.
type BaselineResult struct {
	Store            string  `json:"store"`
	Connections      int     `json:"connections"`
	Count            int     `json:"count"`
	Failed           int     `json:"failed"`
	FirstError       string  `json:"firstError,omitempty"`
	ElapsedSeconds   float64 `json:"elapsedSeconds"`
	InsertsPerSecond float64 `json:"insertsPerSecond"`
}

// Baseline measures what the store can do without the EBS: Connections
// workers each run autocommit INSERTs of one small row into a scratch table
// until Count rows are in, like pgbench with a one-INSERT script. It opens
// the database exactly as the EBS does (sqlite.OpenDB, postgres.OpenDB), so
// the pragmas, driver and pool are the ones enrollments meet; on SQLite that
// includes the EBS's pool of 4 connections, which is part of its ceiling.
func Baseline(ctx context.Context, o BaselineOptions) (BaselineResult, error) {
	if o.Connections < 1 || o.Count < 1 {
		return BaselineResult{}, errors.New("--connections and --count must be at least 1")
	}
	suffix := o.Suffix
	if suffix == nil {
		suffix = func() string { return strings.ToLower(rand.Text()[:12]) }
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	table := "mgm_load_baseline_" + suffix()
	var db *sql.DB
	var create, insert string
	cleanup := func() {}
	switch o.Store {
	case "sqlite":
		if o.Dir == "" {
			return BaselineResult{}, errors.New("--dir is required with --store sqlite")
		}
		path := filepath.Join(o.Dir, table+".db")
		d, err := sqlite.OpenDB(path)
		if err != nil {
			return BaselineResult{}, fmt.Errorf("opening the scratch database %s: %w", path, err)
		}
		db = d
		create = "CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"
		insert = "INSERT INTO " + table + " (name) VALUES (?)"
		cleanup = func() {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				_ = os.Remove(p) // scratch files; one left behind is harmless
			}
		}
	case "postgres":
		if o.DSN == "" {
			return BaselineResult{}, errors.New("--dsn is required with --store postgres")
		}
		dsn, err := pgdsn.Normalize(o.DSN)
		if err != nil {
			return BaselineResult{}, err
		}
		d, err := postgres.OpenDB(ctx, dsn)
		if err != nil {
			return BaselineResult{}, err
		}
		db = d
		create = "CREATE TABLE " + table + " (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL)"
		insert = "INSERT INTO " + table + " (name) VALUES ($1)"
	default:
		return BaselineResult{}, fmt.Errorf("--store must be sqlite or postgres, not %q", o.Store)
	}
	defer cleanup()
	defer func() { _ = db.Close() }() // the scratch table is dropped (or the file removed) either way
	if _, err := db.ExecContext(ctx, create); err != nil {
		return BaselineResult{}, fmt.Errorf("creating the scratch table: %w", err)
	}
	defer func() {
		// A fresh context: the table must go even when ctx ended the run.
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = db.ExecContext(dctx, "DROP TABLE "+table) // a leftover scratch table is harmless and named as such
	}()

	res := BaselineResult{Store: o.Store, Connections: o.Connections, Count: o.Count}
	var next, failed atomic.Int64
	var firstErr sync.Once
	start := now()
	var wg sync.WaitGroup
	for range o.Connections {
		wg.Go(func() {
			for ctx.Err() == nil {
				if next.Add(1) > int64(o.Count) {
					return
				}
				if _, err := db.ExecContext(ctx, insert, "Ldbaseline"); err != nil {
					failed.Add(1)
					firstErr.Do(func() { res.FirstError = err.Error() })
				}
			}
		})
	}
	wg.Wait()
	elapsed := now().Sub(start)
	if err := ctx.Err(); err != nil {
		return BaselineResult{}, err
	}
	res.Failed = int(failed.Load())
	res.ElapsedSeconds = elapsed.Seconds()
	res.InsertsPerSecond = rate(o.Count-res.Failed, elapsed)
	return res, nil
}

// WriteBaselineText prints a baseline for people.
func WriteBaselineText(w io.Writer, r BaselineResult) {
	fmt.Fprintf(w, "mgm-sim load baseline: %s, %d single-row autocommit INSERTs over %d connections\n", r.Store, r.Count, r.Connections)
	fmt.Fprintf(w, "  %-22s %.2f s\n", "elapsed", r.ElapsedSeconds)
	fmt.Fprintf(w, "  %-22s %.0f inserts/s\n", "rate", r.InsertsPerSecond)
	if r.Failed > 0 {
		fmt.Fprintf(w, "  %-22s %d (first: %s)\n", "failed", r.Failed, r.FirstError)
	}
}
