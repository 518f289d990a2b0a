package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// Pool event types.
const (
	EventPoolEntered     = "PoolEntered"
	EventPoolNameChanged = "PoolNameChanged"
	EventPoolLeft        = "PoolLeft"
)

// PoolStream is the event stream of one viewer's pool membership.
func PoolStream(twitchUserID string) string { return "pool:" + twitchUserID }

type poolEventData struct {
	TwitchUserID      string `json:"twitchUserId"`
	TwitchDisplayName string `json:"twitchDisplayName"`
	CharacterName     string `json:"characterName"`
	PreviousName      string `json:"previousName,omitempty"`
	Source            string `json:"source"`
	Reason            string `json:"reason,omitempty"`
	MessageID         string `json:"messageId,omitempty"`
	EnrollmentID      string `json:"enrollmentRequestId,omitempty"`
	// Actor and ActorName say who removed the viewer (the Desktop, or a
	// moderator's Twitch user id and name) when they did not leave themselves.
	Actor     string `json:"actor,omitempty"`
	ActorName string `json:"actorName,omitempty"`
}

// enrollment is one accepted-or-rejected attempt to join the pool.
type enrollment struct {
	viewer       mgm.Viewer
	rawName      string
	isSubscriber bool
	source       string // "chat" or "claim"
	messageID    string
	enrollmentID string
}

// enrollInTx decides and applies an enrollment inside tx. A rule rejection is
// returned as a domain error and nothing is written.
func (s *Service) enrollInTx(ctx context.Context, tx *store.Tx, e enrollment, now time.Time) (string, error) {
	name, nameErr := mgm.ValidateCharacterName(e.rawName)
	// Serialise with other enrollments of this viewer and of this name, so the
	// checks below still hold when the row is written.
	if err := tx.Lock(ctx, enrollmentKeys(e.viewer.UserID, e.rawName)...); err != nil {
		return "", err
	}
	nameKey := ""
	if nameErr == nil {
		nameKey = mgm.NameKey(name)
	}
	facts, err := tx.EnrollmentFacts(ctx, e.viewer.UserID, nameKey)
	if err != nil {
		return "", err
	}
	name, w, err := decideEnrollment(e, s.policy.Entry, facts, now)
	if err != nil || w == nil {
		return name, err
	}
	if err := tx.PutPoolEntry(ctx, w.entry); err != nil {
		return "", err
	}
	return name, tx.AppendEvent(ctx, w.event.StreamID, w.event.Type, w.event.Data, now)
}

// enrollmentWrite is what an accepted enrollment writes: the viewer's pool
// row and its event.
type enrollmentWrite struct {
	entry mgm.PoolEntry
	event store.NewEvent
}

// decideEnrollment applies the rules to the facts read under the
// enrollment's locks. It returns the name and, unless the viewer is already
// in under that name, the writes; a rejection is a domain error.
func decideEnrollment(e enrollment, entry mgm.EntryRule, facts mgm.EnrollmentFacts, now time.Time) (string, *enrollmentWrite, error) {
	facts.IsSubscriber, facts.Entry = e.isSubscriber, entry
	name, action, err := mgm.DecideEnrollment(e.viewer.UserID, e.rawName, facts)
	if err != nil || action == mgm.EnrollUnchanged {
		return name, nil, err
	}
	display := e.viewer.DisplayName
	if display == "" {
		display = e.viewer.UserID
	}
	ev := poolEventData{TwitchUserID: e.viewer.UserID, TwitchDisplayName: display, CharacterName: name,
		Source: e.source, MessageID: e.messageID, EnrollmentID: e.enrollmentID}
	evType := EventPoolEntered
	if action == mgm.EnrollRename {
		evType, ev.PreviousName = EventPoolNameChanged, facts.CurrentName
	}
	return name, &enrollmentWrite{
		entry: mgm.PoolEntry{TwitchUserID: e.viewer.UserID, TwitchDisplayName: display, CharacterName: name, EnrolledAt: now},
		event: store.NewEvent{StreamID: PoolStream(e.viewer.UserID), Type: evType, Data: ev, At: now},
	}, nil
}

// enrollmentKeys are the lock keys of an enrollment: the viewer, and the
// character name when it is a valid one.
func enrollmentKeys(twitchUserID, rawName string) []string {
	keys := []string{"viewer:" + twitchUserID}
	if name, err := mgm.ValidateCharacterName(rawName); err == nil {
		keys = append(keys, "name:"+mgm.NameKey(name))
	}
	return keys
}

// ClaimResult is the answer to a panel enrollment.
type ClaimResult struct {
	CharacterName       string
	EnrollmentRequestID string
	// Created is false when the same viewer repeated a request id that had
	// already succeeded: the stored result is returned and nothing changes.
	Created bool
}

// SubscriberCheck tells whether a viewer subscribes to the channel. It is
// consulted outside any transaction because it may call Twitch.
type SubscriberCheck func(ctx context.Context, twitchUserID string) (bool, error)

// Claim enrolls a viewer from the panel (POST /api/payouts/claim), with the
// rules' checks in order and their errors reported.
func (s *Service) Claim(ctx context.Context, viewer mgm.Viewer, rawName, enrollmentRequestID string, isSubscriber SubscriberCheck) (ClaimResult, error) {
	if enrollmentRequestID == "" || len(enrollmentRequestID) > 128 {
		return ClaimResult{}, mgm.Errorf(mgm.CodeInvalidPayload, "enrollmentRequestId is required (at most 128 characters).")
	}
	if !storable(enrollmentRequestID) {
		return ClaimResult{}, errUnstorable("enrollmentRequestId")
	}
	if !storable(viewer.UserID, viewer.DisplayName) {
		return ClaimResult{}, errUnstorable("The viewer's token")
	}
	// Check 1 (a repeated request id) must win over the subscriber check,
	// which may call Twitch; look before asking, and claim the id for real in
	// the transaction below.
	var prior *store.EnrollmentRecord
	if err := s.db.Read(ctx, func(tx *store.Tx) error {
		rec, err := tx.EnrollmentRequest(ctx, enrollmentRequestID)
		if err == nil {
			prior = &rec
			return nil
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}); err != nil {
		return ClaimResult{}, err
	}
	if prior != nil {
		return s.repeatedClaim(viewer, *prior)
	}
	// Everyone may enter: the subscriber check, a call to Twitch, is moot.
	sub := s.policy.Entry == mgm.EntryEveryone
	if !sub {
		var err error
		if sub, err = isSubscriber(ctx, viewer.UserID); err != nil {
			return ClaimResult{}, err
		}
	}
	now := s.clock()
	var res ClaimResult
	err := s.inTx(ctx, func(tx *store.Tx) error {
		fresh, stored, err := tx.ClaimEnrollmentRequest(ctx, store.EnrollmentRecord{
			EnrollmentRequestID: enrollmentRequestID, TwitchUserID: viewer.UserID, CreatedAt: now,
		})
		if err != nil {
			return err
		}
		if !fresh {
			res, err = s.repeatedClaim(viewer, stored)
			return err
		}
		name, err := s.enrollInTx(ctx, tx, enrollment{
			viewer: viewer, rawName: rawName, isSubscriber: sub, source: "claim", enrollmentID: enrollmentRequestID,
		}, now)
		if err != nil {
			return err // rolls back the request id too, so a corrected retry is evaluated afresh
		}
		res = ClaimResult{CharacterName: name, EnrollmentRequestID: enrollmentRequestID, Created: true}
		return tx.SetEnrollmentRequestName(ctx, enrollmentRequestID, name)
	})
	if err == nil && res.Created {
		s.refreshAfterChange(ctx)
	}
	if mgm.IsCode(err, mgm.CodeBanned) {
		// The refusal rolled the claim back; its record is written apart.
		e := enrollment{viewer: viewer, rawName: rawName, source: "claim", enrollmentID: enrollmentRequestID}
		if rerr := s.db.InTx(ctx, func(tx *store.Tx) error { return recordBannedAttempt(ctx, tx, e, now) }); rerr != nil {
			s.log.WarnContext(ctx, "record a banned viewer's claim", "error", rerr)
		}
	}
	return res, err
}

func (s *Service) repeatedClaim(viewer mgm.Viewer, rec store.EnrollmentRecord) (ClaimResult, error) {
	if rec.TwitchUserID != viewer.UserID {
		return ClaimResult{}, mgm.Errorf(mgm.CodeDuplicateEnrollment, "This enrollmentRequestId belongs to another viewer.")
	}
	return ClaimResult{CharacterName: rec.CharacterName, EnrollmentRequestID: rec.EnrollmentRequestID}, nil
}

// PoolMembership answers GET /api/pool/me.
func (s *Service) PoolMembership(ctx context.Context, twitchUserID string) (mgm.PoolEntry, bool, error) {
	var e mgm.PoolEntry
	var found bool
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		e, err = tx.PoolEntry(ctx, twitchUserID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	return e, found, err
}

// ViewerStanding is GET /api/pool/me: the viewer's pool membership and the
// gold counted against their lifetime cap.
type ViewerStanding struct {
	Entry    mgm.PoolEntry
	Enrolled bool
	// CommittedGold is the viewer's Sent and active payouts' gold, as the
	// lifetime cap counts it.
	CommittedGold int64
	// EligibleAgainAt is when the winner cooldown lets the viewer be drawn
	// again; nil when no cooldown holds them back.
	EligibleAgainAt *time.Time
}

// Standing reads the viewer's membership and committed gold in one read.
func (s *Service) Standing(ctx context.Context, twitchUserID string) (ViewerStanding, error) {
	var v ViewerStanding
	now := s.clock()
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		v = ViewerStanding{}
		e, err := tx.PoolEntry(ctx, twitchUserID)
		switch {
		case err == nil:
			v.Entry, v.Enrolled = e, true
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if _, v.CommittedGold, err = tx.ViewerGold(ctx, twitchUserID); err != nil {
			return err
		}
		v.EligibleAgainAt, err = s.eligibleAgainAt(ctx, tx, twitchUserID, now)
		return err
	})
	return v, err
}

// LeavePool takes the viewer out of the pool at their own request (DELETE
// /api/pool/me). A payout already created for them goes on; a cycle that
// already drew them keeps them as its candidate, as it would after any
// other change to the pool.
func (s *Service) LeavePool(ctx context.Context, twitchUserID, source string) error {
	now := s.clock()
	err := s.inTx(ctx, func(tx *store.Tx) error {
		if err := tx.Lock(ctx, "viewer:"+twitchUserID); err != nil {
			return err
		}
		e, err := tx.PoolEntry(ctx, twitchUserID)
		if errors.Is(err, store.ErrNotFound) {
			return mgm.Errorf(mgm.CodeNotInPool, "You are not in the pool.")
		}
		if err != nil {
			return err
		}
		left, err := tx.DeletePoolEntry(ctx, twitchUserID)
		if err != nil {
			return err
		}
		if !left {
			return fmt.Errorf("pool entry of %s vanished under its lock", twitchUserID)
		}
		return tx.AppendEvent(ctx, PoolStream(twitchUserID), EventPoolLeft, poolEventData{
			TwitchUserID: twitchUserID, TwitchDisplayName: e.TwitchDisplayName, CharacterName: e.CharacterName,
			Source: source, Reason: "viewer_left",
		}, now)
	})
	if err == nil {
		s.refreshAfterChange(ctx)
	}
	return err
}

// PoolCount counts pool members.
func (s *Service) PoolCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.PoolCount(ctx)
		return err
	})
	return n, err
}

// LatestPayout returns the viewer's newest payout, or store.ErrNotFound.
func (s *Service) LatestPayout(ctx context.Context, twitchUserID string) (mgm.Payout, error) {
	var p mgm.Payout
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		p, err = tx.LatestPayout(ctx, twitchUserID)
		return err
	})
	return p, err
}

// PayoutsByStatus lists payouts with the given statuses, oldest first.
func (s *Service) PayoutsByStatus(ctx context.Context, statuses ...mgm.PayoutStatus) ([]mgm.Payout, error) {
	var ps []mgm.Payout
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		ps, err = tx.PayoutsByStatus(ctx, statuses...)
		return err
	})
	return ps, err
}
