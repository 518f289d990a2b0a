// Package app holds the EBS's use cases. Each one is a single transaction over
// the store that loads the facts, asks the pure rules in package mgm for a
// decision and writes the result together with its audit event. Because the
// same code runs on SQLite and PostgreSQL, the storage conformance suite tests
// it against both.
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// Service is the EBS's state owner.
type Service struct {
	db    *store.DB
	now   func() time.Time
	newID func() string
	log   *slog.Logger
	// broadcasterID is the one channel this deployment serves ("" = any).
	broadcasterID string
}

// Options configures a Service. Now and NewID are injected so tests are exact.
type Options struct {
	Now           func() time.Time
	NewID         func() string
	Logger        *slog.Logger
	BroadcasterID string
}

// New builds a Service over an open store.
func New(db *store.DB, o Options) *Service {
	s := &Service{db: db, now: o.Now, newID: o.NewID, log: o.Logger, broadcasterID: o.BroadcasterID}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = uuid.NewString
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
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
		}
	}
	return err
}

// inTx runs fn in a transaction and translates constraint races.
func (s *Service) inTx(ctx context.Context, fn func(*store.Tx) error) error {
	return s.translate(s.db.InTx(ctx, fn))
}
