// Package jobs runs the EBS's durable background work on River
// (github.com/riverqueue/river): a job is a row in the same database as the
// state it acts on, inserted in the transaction that makes it necessary,
// claimed by one worker at a time in any replica, retried with backoff and,
// when its process dies, rescued by another replica once its time is up.
//
// River reaches PostgreSQL through riverdatabasesql and SQLite through
// riversqlite, both over the store's own *sql.DB, so a job joins the store's
// *sql.Tx. River's tables are migrated with ours (store.Dialect.MigrateJobs).
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/retry"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// AnnounceArgs is the reward announcement job: post one Sent payout's line.
// Unique by payout: a second enqueue of the same payout is skipped.
type AnnounceArgs struct {
	PayoutID string `json:"payoutId" river:"unique"`
}

// Kind implements river.JobArgs.
func (AnnounceArgs) Kind() string { return "reward_announcement" }

// Config tunes the queue; the zero value is the production setting.
type Config struct {
	// Attempts is how many times Helix is tried (default 5); the last
	// failure is recorded as final.
	Attempts int
	// AttemptTimeout bounds one attempt (default 15 s): the Desktop never
	// waits for it, but a hanging Helix must not hold a worker forever.
	AttemptTimeout time.Duration
	// Backoff is the wait before retry n (1-based; default 1 s doubling, at
	// most 30 s). With the defaults an announcement ends within about
	// 5 × 15 s + 15 s of backoff.
	Backoff func(n int) time.Duration
	// MaxAge makes an attempt final once the job is this old (default 5 min),
	// so that a line is never posted long after the payout was sent.
	MaxAge time.Duration
	// RescueAfter is how long a job may stay running before another replica
	// takes it over, assuming its process died (default AttemptTimeout + 15 s).
	// River's rescuer looks every 30 s (not configurable), on the elected
	// leader, so the takeover comes up to 30 s later than this.
	RescueAfter time.Duration
	// PollInterval is how often idle workers look for jobs (default 1 s).
	PollInterval time.Duration
	Logger       *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Attempts <= 0 {
		c.Attempts = 5
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 15 * time.Second
	}
	if c.Backoff == nil {
		c.Backoff = func(n int) time.Duration { return min(time.Second<<min(n-1, 5), 30*time.Second) }
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 5 * time.Minute
	}
	if c.RescueAfter <= c.AttemptTimeout {
		c.RescueAfter = c.AttemptTimeout + 15*time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Queue enqueues jobs and, from Run, works them.
type Queue struct {
	db  *store.DB
	cfg Config
	// inserter is an insert-only River client: use cases enqueue through it
	// before the service that works the jobs exists.
	inserter *river.Client[*sql.Tx]
}

// New builds a queue over an open, migrated store.
func New(db *store.DB, cfg Config) (*Queue, error) {
	cfg = cfg.withDefaults()
	c, err := river.NewClient(driver(db), &river.Config{Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{db: db, cfg: cfg, inserter: c}, nil
}

func driver(db *store.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect() == "postgres" {
		return riverdatabasesql.New(db.SQL())
	}
	return riversqlite.New(db.SQL())
}

// EnqueueAnnouncement implements app.Jobs: the job commits with tx.
func (q *Queue) EnqueueAnnouncement(ctx context.Context, tx *store.Tx, payoutID string) error {
	sqlTx, ok := tx.SQLTx()
	if !ok {
		return errors.New("jobs: enqueue outside a transaction")
	}
	// River gives up after Attempts+2: the two spare runs are for an attempt
	// that failed to record its final outcome because the database was away.
	_, err := q.inserter.InsertTx(ctx, sqlTx, AnnounceArgs{PayoutID: payoutID}, &river.InsertOpts{
		MaxAttempts: q.cfg.Attempts + 2,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	})
	return err
}

// Run works jobs until ctx ends, then stops taking new ones and gives the
// running ones a few seconds; an attempt cut short is rescued later.
func (q *Queue) Run(ctx context.Context, svc *app.Service) error {
	workers := river.NewWorkers()
	river.AddWorker(workers, &announceWorker{svc: svc, cfg: q.cfg})
	// A queue that cannot start (the database unreachable at that moment)
	// would leave every Sent payout without its reward line, silently: it
	// is tried again with backoff until it starts or the EBS stops.
	var c *river.Client[*sql.Tx]
	for attempt := 1; ; attempt++ {
		var err error
		c, err = river.NewClient(driver(q.db), &river.Config{
			Logger:               q.cfg.Logger,
			Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
			Workers:              workers,
			JobTimeout:           q.cfg.AttemptTimeout,
			RescueStuckJobsAfter: q.cfg.RescueAfter,
			FetchPollInterval:    q.cfg.PollInterval,
			FetchCooldown:        min(q.cfg.PollInterval, 100*time.Millisecond),
		})
		if err != nil {
			return fmt.Errorf("job queue: %w", err) // a configuration error: retrying cannot help
		}
		err = c.Start(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil // stopped while starting: nothing ran
		}
		wait := min(time.Second<<min(attempt-1, 5), 30*time.Second)
		if q.cfg.Logger != nil {
			q.cfg.Logger.Error("the job queue could not start; reward lines wait until it does", "error", err, "attempt", attempt, "retryIn", wait)
		}
		if retry.Sleep(ctx, wait) != nil {
			return nil
		}
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.Stop(stopCtx); err != nil {
		return c.StopAndCancel(context.WithoutCancel(ctx))
	}
	return nil
}

type announceWorker struct {
	river.WorkerDefaults[AnnounceArgs]
	svc *app.Service
	cfg Config
}

func (w *announceWorker) Timeout(*river.Job[AnnounceArgs]) time.Duration { return w.cfg.AttemptTimeout }

func (w *announceWorker) NextRetry(j *river.Job[AnnounceArgs]) time.Time {
	return time.Now().Add(w.cfg.Backoff(j.Attempt))
}

func (w *announceWorker) Work(ctx context.Context, j *river.Job[AnnounceArgs]) error {
	final := j.Attempt >= w.cfg.Attempts || time.Since(j.CreatedAt) >= w.cfg.MaxAge
	return w.svc.AnnounceReward(ctx, j.Args.PayoutID, app.Attempt{Number: j.Attempt, Final: final})
}
