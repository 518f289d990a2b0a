// Package app holds the EBS's use cases. Each one is a single transaction over
// the store that loads the facts, asks the pure rules in package mgm for a
// decision and writes the result together with its audit event. Because the
// same code runs on SQLite and PostgreSQL, the storage conformance suite tests
// it against both.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// Service is the EBS's state owner.
type Service struct {
	db    *store.DB
	now   func() time.Time
	newID func() string
	seed  func(cycleID string) (drawproof.Seed, error)
	log   *slog.Logger
	obs   Observer
	// broadcasterID is the one channel this deployment serves ("" = any).
	broadcasterID string
	schedule      mgm.Schedule
	policy        mgm.Policy
	announcer     Announcer
	jobs          Jobs

	snapshot  atomic.Pointer[RouletteSnapshot]
	refresher coalescer
	ingest    ingestBatcher
	// refreshes numbers Refresh calls in the order they start reading, so a
	// slow older read never replaces a newer snapshot.
	refreshes atomic.Uint64
	// changed is closed and replaced when a snapshot is stored (SnapshotChanged).
	changed atomic.Pointer[chan struct{}]
	// prepared is the next draw's list, read ahead of the draw moment (drawList).
	prepared atomic.Pointer[preparedList]

	// defaultStreamer stands in for broadcasterID where a gift needs a
	// streamer and none is named, without refusing other channels.
	defaultStreamer string
	// proofRetention is Options.DrawProofRetention, defaulted.
	proofRetention time.Duration
}

// Options configures a Service. Now, NewID and Seed are injected so tests are exact.
type Options struct {
	Now   func() time.Time
	NewID func() string
	// Seed draws a new cycle's secret draw seed (drawproof); default
	// crypto/rand. It is told the cycle's id so that a test can choose seeds
	// that draw the candidates it needs.
	Seed   func(cycleID string) (drawproof.Seed, error)
	Logger *slog.Logger
	// Observer receives metrics events; nil discards them.
	Observer      Observer
	BroadcasterID string
	// DefaultStreamerID is the gift queue's streamer when neither the
	// request nor BroadcasterID names one (Development's stand-in id).
	DefaultStreamerID string
	// SpinInterval is the cycle length (default 300 s).
	SpinInterval time.Duration
	// Announcer posts the reward line in chat; nil records announcements as failed.
	Announcer Announcer
	// Jobs takes the reward announcement job when a payout becomes Sent
	// (internal/jobs); required by SetPayoutStatus.
	Jobs Jobs
	// Policy is the streamer's settings for who enters and when the
	// roulette draws (issue 17); the zero Policy is the MVP's behaviour.
	Policy mgm.Policy
	// DrawProofRetention is how long a draw's list is kept for its proof
	// (PruneDrawProofs); 0 means DefaultDrawProofRetention, a negative
	// value forever.
	DrawProofRetention time.Duration
}

// New builds a Service over an open store.
func New(db *store.DB, o Options) *Service {
	s := &Service{db: db, now: o.Now, newID: o.NewID, seed: o.Seed, log: o.Logger, obs: o.Observer,
		broadcasterID: o.BroadcasterID, schedule: mgm.Schedule{Interval: o.SpinInterval},
		announcer: o.Announcer, jobs: o.Jobs, policy: o.Policy}
	s.defaultStreamer = o.DefaultStreamerID
	s.proofRetention = o.DrawProofRetention
	if s.proofRetention == 0 {
		s.proofRetention = DefaultDrawProofRetention
	}
	first := make(chan struct{})
	s.changed.Store(&first)
	s.refresher.run = s.refreshNow
	// Refreshes may take a tenth of the time: under a burst of enrollments
	// they would otherwise run back to back and cost a quarter of the CPU.
	s.refresher.duty = 0.1
	s.ingest = ingestBatcher{s: s, maxBatch: maxIngestBatch, workers: ingestWorkers}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = uuid.NewString
	}
	if s.seed == nil {
		s.seed = cryptoSeed
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.obs == nil {
		s.obs = nopObserver{}
	}
	if s.schedule.Interval <= 0 {
		s.schedule.Interval = mgm.SpinInterval
	}
	if s.jobs == nil {
		s.jobs = noJobs{}
	}
	return s
}

// noJobs refuses: a Service built without a queue cannot mark a payout Sent,
// since its announcement would be lost.
type noJobs struct{}

func (noJobs) EnqueueAnnouncement(context.Context, *store.Tx, string) error {
	return errors.New("no job queue configured")
}

// Schedule is the cycle schedule in use.
func (s *Service) Schedule() mgm.Schedule { return s.schedule }

// cryptoSeed draws a seed from the operating system's CSPRNG.
func cryptoSeed(string) (drawproof.Seed, error) {
	var s drawproof.Seed
	_, err := rand.Read(s[:]) // crypto/rand.Read never fails on supported systems; the error is kept for the injected kind
	return s, err
}

// DB exposes the store (readiness checks, tests).
func (s *Service) DB() *store.DB { return s.db }

func (s *Service) clock() time.Time { return store.Truncate(s.now()) }

// translate turns a constraint violation that slipped past the checks (a race
// the advisory locks did not cover) into the domain error the losing client
// should see. Anything else passes through unchanged.
func (s *Service) translate(err error) error {
	if err == nil {
		return nil
	}
	var de *mgm.Error
	if errors.As(err, &de) {
		return err
	}
	if name, ok := s.db.UniqueViolation(err); ok {
		switch name {
		case store.UniquePoolName:
			return mgm.Errorf(mgm.CodeCharacterNameTakenInPool, "Character name is taken by another viewer.")
		case store.UniqueActivePayout:
			return mgm.Errorf(mgm.CodeActivePayoutExists, "The viewer already has an active payout.")
		case store.UniqueGiftOpenPerViewer:
			return mgm.Errorf(mgm.CodeGiftRequestActive, "You already have a gift request in the queue.")
		case store.UniqueGiftCompleted:
			return mgm.Errorf(mgm.CodeGiftAlreadyUsed, "!twgift can be used once per streamer, and you already received your gift.")
		}
	}
	if store.IsBanViolation(err) {
		return mgm.Errorf(mgm.CodeBanned, "The streamer has banned you from the giveaway.")
	}
	if store.IsLifetimeCapViolation(err) {
		return mgm.Errorf(mgm.CodeLifetimeCapReached, "Lifetime cap of %d gold reached.", mgm.LifetimeCapGold)
	}
	return err
}

// storable reports whether every s can be stored as text on both engines.
// PostgreSQL refuses NUL bytes and invalid UTF-8 in text (and \u0000 in
// jsonb) where SQLite keeps them, so such input must be refused up front as
// the client's mistake: otherwise it is a 500 on one store only, and for
// EventSub a failure Twitch keeps redelivering.
func storable(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return false
		}
	}
	return true
}

func errUnstorable(what string) error {
	return mgm.Errorf(mgm.CodeInvalidPayload, "%s must be valid UTF-8 text without NUL characters.", what)
}

// inTx runs fn in a transaction and translates constraint races.
func (s *Service) inTx(ctx context.Context, fn func(*store.Tx) error) error {
	return s.translate(s.db.InTx(ctx, fn))
}
