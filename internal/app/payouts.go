package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// Payout event types.
const (
	EventPayoutCreated            = "PayoutCreated"
	EventPayoutStatusChanged      = "PayoutStatusChanged"
	EventWinnerAcceptanceRecorded = "WinnerAcceptanceRecorded"
	EventAnnouncementSucceeded    = "HelixRewardSentAnnouncementSucceeded"
	EventAnnouncementFailed       = "HelixRewardSentAnnouncementFailed"
)

// PayoutStream is the event stream of one payout.
func PayoutStream(payoutID string) string { return "payout:" + payoutID }

// Jobs enqueues durable background work inside a use case's transaction, so
// that the job exists exactly when the change that needs it commits.
type Jobs interface {
	EnqueueAnnouncement(ctx context.Context, tx *store.Tx, payoutID string) error
}

// Announcer posts a line in the broadcaster's Twitch chat (Helix Send Chat Message).
type Announcer interface {
	Configured() bool
	SendChatMessage(ctx context.Context, message string) error
}

func payoutCreatedData(p mgm.Payout) map[string]any {
	return map[string]any{
		"id": p.ID, "twitchUserId": p.TwitchUserID, "twitchDisplayName": p.TwitchDisplayName,
		"characterName": p.CharacterName, "goldAmount": p.GoldAmount, "enrollmentRequestId": p.EnrollmentRequestID,
		"status": p.Status, "spinCycleId": p.SpinCycleID,
	}
}

// canonicalID returns the stored (lower-case, dashed) form of a UUID given in
// any letter case, or false when s is not a dashed UUID.
func canonicalID(s string) (string, bool) {
	if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
		return "", false
	}
	return strings.ToLower(s), true
}

func notFound() error { return mgm.Errorf(mgm.CodeNotFound, "Payout not found.") }

// Payout returns one payout.
func (s *Service) Payout(ctx context.Context, id string) (mgm.Payout, error) {
	id, ok := canonicalID(id)
	if !ok {
		return mgm.Payout{}, notFound()
	}
	var p mgm.Payout
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		p, err = tx.Payout(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return mgm.Payout{}, notFound()
	}
	return p, err
}

// PayoutHistory returns a payout's events, oldest first.
func (s *Service) PayoutHistory(ctx context.Context, id string) ([]store.Event, error) {
	p, err := s.Payout(ctx, id)
	if err != nil {
		return nil, err
	}
	id = p.ID
	var evs []store.Event
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		evs, err = tx.Events(ctx, PayoutStream(id))
		return err
	})
	return evs, err
}

// loadForUpdate locks a payout for the rest of the transaction and loads it.
func loadForUpdate(ctx context.Context, tx *store.Tx, id string) (mgm.Payout, error) {
	id, ok := canonicalID(id)
	if !ok {
		return mgm.Payout{}, notFound()
	}
	if err := tx.Lock(ctx, "payout:"+id); err != nil {
		return mgm.Payout{}, err
	}
	p, err := tx.Payout(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return mgm.Payout{}, notFound()
	}
	return p, err
}

// SetPayoutStatus applies a Desktop status change (PATCH …/status). On Sent
// the winner leaves the pool and the reward announcement job is enqueued in
// the same transaction: the answer never waits for Helix, and the job cannot
// be lost between the commit and the post.
func (s *Service) SetPayoutStatus(ctx context.Context, id string, to mgm.PayoutStatus) (mgm.Payout, error) {
	now := s.clock()
	var p mgm.Payout
	var changed bool
	err := s.inTx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = loadForUpdate(ctx, tx, id); err != nil {
			return err
		}
		id = p.ID // the stored form, whatever letter case the caller used
		noop, err := mgm.CheckTransition(p.Status, to)
		if err != nil || noop {
			return err
		}
		if ok, err := tx.SetPayoutStatus(ctx, id, p.Status, to, now); err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("payout %s changed under its lock", id)
			}
			return err
		}
		if err := tx.AppendEvent(ctx, PayoutStream(id), EventPayoutStatusChanged,
			map[string]any{"from": p.Status, "to": to}, now); err != nil {
			return err
		}
		from := p.Status
		p.Status, p.UpdatedAt, changed = to, now, true
		if to == mgm.PayoutSent {
			if err := s.jobs.EnqueueAnnouncement(ctx, tx, id); err != nil {
				return fmt.Errorf("enqueue reward announcement: %w", err)
			}
			left, err := tx.DeletePoolEntry(ctx, p.TwitchUserID)
			if err != nil {
				return err
			}
			if left {
				if err := tx.AppendEvent(ctx, PoolStream(p.TwitchUserID), EventPoolLeft,
					map[string]any{"twitchUserId": p.TwitchUserID, "reason": "payout_sent", "payoutId": id}, now); err != nil {
					return err
				}
			}
		}
		s.obs.PayoutTransition(string(from), string(to))
		return nil
	})
	if err != nil {
		return mgm.Payout{}, err
	}
	if changed {
		s.refreshAfterChange(ctx)
	}
	return p, nil
}

// Attempt is one run of the reward announcement job.
type Attempt struct {
	Number int  // 1 for the first
	Final  bool // no retry follows: a failure now is recorded as final
}

// AnnounceReward is the reward announcement job: it posts the payout's reward
// line in chat at most once and records the outcome once. It returns an error
// when the attempt failed and a later one should retry (the claim is given
// back first); nil when the outcome is recorded or nothing is left to do.
//
// At most once: each attempt claims the payout before calling Helix and keeps
// the claim unless Helix definitely answered with an error. A claim found
// still held belongs to an attempt that stopped mid-call (its process died
// or its time ran out), which may or may not have posted; that is recorded as
// a failure rather than risking a second line.
func (s *Service) AnnounceReward(ctx context.Context, payoutID string, a Attempt) error {
	// The outcome must be written even when the attempt's time is up.
	rec := context.WithoutCancel(ctx)
	claimedAt := s.clock()
	var claimed, held bool
	var outcome string
	var p mgm.Payout
	if err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = tx.Payout(ctx, payoutID); err != nil {
			return err
		}
		if claimed, err = tx.ClaimAnnouncement(ctx, payoutID, claimedAt); err != nil || claimed {
			return err
		}
		held, outcome, err = tx.AnnouncementState(ctx, payoutID)
		return err
	}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil // nothing to announce for a payout that does not exist
		}
		return err
	}
	switch {
	case claimed:
	case outcome != "" || p.Status != mgm.PayoutSent || p.IsRewardSentAnnouncedToChat:
		return nil
	case held:
		return s.finishAnnouncement(rec, payoutID, a.Number,
			errors.New("an earlier attempt stopped while posting (process stopped or timed out); not retried so that the line is posted at most once"))
	default:
		return nil
	}
	if s.announcer == nil || !s.announcer.Configured() {
		s.log.WarnContext(ctx, "reward line not announced: Helix not configured", "payout_id", payoutID)
		s.obs.HelixCall("skipped")
		return s.finishAnnouncement(rec, payoutID, a.Number,
			errors.New("helix not configured or the Twitch sign-in is not usable (mgm-ebs twitch status tells why; or Twitch__BroadcasterAccessToken / Twitch__BroadcasterUserId)"))
	}
	sendErr := s.announcer.SendChatMessage(ctx, mgm.RewardLine(p.CharacterName))
	if sendErr == nil {
		s.obs.HelixCall("success")
		return s.finishAnnouncement(rec, payoutID, a.Number, nil)
	}
	s.obs.HelixCall("failure")
	s.log.WarnContext(ctx, "reward announcement attempt failed", "payout_id", payoutID, "attempt", a.Number, "error", sendErr)
	if a.Final {
		return s.finishAnnouncement(rec, payoutID, a.Number, sendErr)
	}
	if err := s.db.InTx(rec, func(tx *store.Tx) error {
		_, err := tx.ReleaseAnnouncement(rec, payoutID, claimedAt)
		return err
	}); err != nil {
		return errors.Join(sendErr, err)
	}
	return sendErr
}

// finishAnnouncement records the outcome (success when failure is nil) and
// its event, unless an outcome is already recorded.
func (s *Service) finishAnnouncement(ctx context.Context, payoutID string, attempts int, failure error) error {
	done := s.clock()
	outcome := store.AnnouncementSent
	if failure != nil {
		outcome = store.AnnouncementFailed
	}
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.FinishAnnouncement(ctx, payoutID, outcome, done)
		if err != nil || !ok {
			return err
		}
		if failure == nil {
			return tx.AppendEvent(ctx, PayoutStream(payoutID), EventAnnouncementSucceeded, map[string]any{"attempts": attempts}, done)
		}
		return tx.AppendEvent(ctx, PayoutStream(payoutID), EventAnnouncementFailed,
			map[string]any{"attempts": attempts, "lastError": failure.Error()}, done)
	})
	if err != nil {
		s.log.ErrorContext(ctx, "record reward announcement", "payout_id", payoutID, "error", err)
		return fmt.Errorf("record reward announcement: %w", err)
	}
	return nil
}

// ConfirmAcceptance records the winner's in-game consent, once.
func (s *Service) ConfirmAcceptance(ctx context.Context, id, characterName string) (mgm.Payout, error) {
	now := s.clock()
	var p mgm.Payout
	err := s.inTx(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = loadForUpdate(ctx, tx, id); err != nil {
			return err
		}
		id = p.ID // the stored form, whatever letter case the caller used
		if !mgm.SameCharacterName(p.CharacterName, characterName) {
			return mgm.Errorf(mgm.CodeInvalidCharacterName, "characterName does not match the payout.")
		}
		if p.Status.Terminal() {
			return mgm.Errorf(mgm.CodeTerminalStatusChange, "The payout is %s; acceptance is no longer recorded.", p.Status)
		}
		ok, err := tx.SetAccepted(ctx, id, now)
		if err != nil || !ok {
			return err
		}
		p.AcceptedAt, p.UpdatedAt = &now, now
		return tx.AppendEvent(ctx, PayoutStream(id), EventWinnerAcceptanceRecorded, map[string]any{"characterName": p.CharacterName}, now)
	})
	return p, err
}

// ExpirePayouts moves active payouts older than 24 h to Expired. Each payout
// expires once even with several replicas sweeping at the same moment.
func (s *Service) ExpirePayouts(ctx context.Context) (int, error) {
	now := s.clock()
	var stale []mgm.Payout
	if err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		stale, err = tx.StaleActivePayouts(ctx, now.Add(-mgm.PayoutExpiry))
		return err
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range stale {
		var expired bool
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			cur, err := loadForUpdate(ctx, tx, p.ID)
			if err != nil || !cur.Status.Active() {
				return err
			}
			if expired, err = tx.SetPayoutStatus(ctx, p.ID, cur.Status, mgm.PayoutExpired, now); err != nil || !expired {
				return err
			}
			s.obs.PayoutTransition(string(cur.Status), string(mgm.PayoutExpired))
			return tx.AppendEvent(ctx, PayoutStream(p.ID), EventPayoutStatusChanged,
				map[string]any{"from": cur.Status, "to": mgm.PayoutExpired, "reason": "expired_after_24h"}, now)
		})
		if err != nil {
			return n, err
		}
		if expired {
			n++
		}
	}
	s.obs.SweepRun("payout_expiry", n)
	return n, nil
}

// PreparePendingPayout is the end-to-end test harness: it makes a pool member
// the current cycle's candidate and reports them online, so that a Pending
// payout exists without waiting for a draw.
func (s *Service) PreparePendingPayout(ctx context.Context, twitchUserID string) (mgm.Payout, error) {
	if !storable(twitchUserID) {
		return mgm.Payout{}, errUnstorable("twitchUserId")
	}
	now := s.clock()
	start := s.schedule.Start(now)
	var cycleID, name string
	err := s.inTx(ctx, func(tx *store.Tx) error {
		e, err := tx.PoolEntry(ctx, twitchUserID)
		if errors.Is(err, store.ErrNotFound) {
			return mgm.Errorf(mgm.CodeInvalidPayload, "Viewer is not in the pool; enroll them first.")
		}
		if err != nil {
			return err
		}
		id := s.newID()
		seed, err := s.seed(id)
		if err != nil {
			return err
		}
		c, _, err := tx.EnsureCycle(ctx, id, seed, start, now)
		if err != nil {
			return err
		}
		if err := tx.Lock(ctx, "cycle:"+c.ID); err != nil {
			return err
		}
		ok, err := tx.ForceCandidate(ctx, c.ID, mgm.Candidate{TwitchUserID: e.TwitchUserID, TwitchDisplayName: e.TwitchDisplayName, CharacterName: e.CharacterName}, now)
		if err != nil {
			return err
		}
		if !ok {
			return mgm.Errorf(mgm.CodeOutOfSequence, "The current cycle already has a winner; try again after %s.",
				s.schedule.End(start).Format(time.RFC3339))
		}
		cycleID, name = c.ID, e.CharacterName
		return tx.AppendEvent(ctx, CycleStream(c.ID), EventCandidateDrawn,
			map[string]any{"twitchUserId": e.TwitchUserID, "characterName": e.CharacterName, "forcedBy": "e2e-harness"}, now)
	})
	if err != nil {
		return mgm.Payout{}, err
	}
	res, err := s.VerifyCandidate(ctx, mgm.WhoReport{SchemaVersion: 1, SpinCycleID: cycleID, CharacterName: name, Online: true})
	if err != nil {
		return mgm.Payout{}, err
	}
	if res.Outcome != mgm.OutcomeWinner {
		return mgm.Payout{}, mgm.Errorf(mgm.CodeOutOfSequence, "The current cycle was decided without a winner.")
	}
	return s.Payout(ctx, res.PayoutID)
}
