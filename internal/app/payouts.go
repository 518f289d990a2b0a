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
// the winner leaves the pool in the same transaction; then the reward line is
// announced in chat at most once, and the payout as it stands after that
// attempt is returned. An announcement failure never fails the request.
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
	if p.Status == mgm.PayoutSent && !p.IsRewardSentAnnouncedToChat {
		s.announce(context.WithoutCancel(ctx), p)
		return s.Payout(ctx, p.ID)
	}
	return p, nil
}

// announce posts the reward line once per payout: the claim makes concurrent
// requests and other replicas skip it; up to len(backoff)+1 attempts.
func (s *Service) announce(ctx context.Context, p mgm.Payout) {
	now := s.clock()
	var claimed bool
	if err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		claimed, err = tx.ClaimAnnouncement(ctx, p.ID, now)
		return err
	}); err != nil || !claimed {
		if err != nil {
			s.log.ErrorContext(ctx, "claim reward announcement", "payout_id", p.ID, "error", err)
		}
		return
	}
	attempts, lastErr := 0, error(nil)
	if s.announcer == nil || !s.announcer.Configured() {
		lastErr = errors.New("helix not configured (Twitch__BroadcasterAccessToken / Twitch__BroadcasterUserId)")
		s.log.WarnContext(ctx, "reward line not announced: Helix not configured", "payout_id", p.ID)
		s.obs.HelixCall("skipped")
	} else {
		for attempts < len(s.backoff)+1 {
			if attempts > 0 {
				if err := s.sleep(ctx, s.backoff[attempts-1]); err != nil {
					break
				}
			}
			attempts++
			if lastErr = s.announcer.SendChatMessage(ctx, mgm.RewardLine(p.CharacterName)); lastErr == nil {
				s.obs.HelixCall("success")
				break
			}
			s.obs.HelixCall("failure")
			s.log.WarnContext(ctx, "reward announcement attempt failed", "payout_id", p.ID, "attempt", attempts, "error", lastErr)
		}
	}
	done := s.clock()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		if lastErr == nil {
			if err := tx.SetAnnounced(ctx, p.ID, done); err != nil {
				return err
			}
			return tx.AppendEvent(ctx, PayoutStream(p.ID), EventAnnouncementSucceeded, map[string]any{"attempts": attempts}, done)
		}
		return tx.AppendEvent(ctx, PayoutStream(p.ID), EventAnnouncementFailed,
			map[string]any{"attempts": attempts, "lastError": lastErr.Error()}, done)
	})
	if err != nil {
		s.log.ErrorContext(ctx, "record reward announcement", "payout_id", p.ID, "error", err)
	}
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
		c, _, err := tx.EnsureCycle(ctx, s.newID(), start, now)
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
