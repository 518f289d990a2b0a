package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// Control event types (issue 17). Pause, resume and the stream's live
// status are on ControlsStream; bans on BanStream of the viewer; removals
// are PoolLeft on the viewer's pool stream.
const (
	EventRoulettePaused    = "RoulettePaused"
	EventRouletteResumed   = "RouletteResumed"
	EventStreamOnline      = "StreamWentOnline"
	EventStreamOffline     = "StreamWentOffline"
	EventViewerBanned      = "ViewerBanned"
	EventViewerUnbanned    = "ViewerUnbanned"
	EventEnrollmentRefused = "EnrollmentRefused"
)

// ControlsStream is the event stream of the roulette's controls.
const ControlsStream = "controls"

// BanStream is the event stream of one viewer's bans.
func BanStream(twitchUserID string) string { return "ban:" + twitchUserID }

// controlsLock serialises changes to the controls row with the events they
// append (the stream's next version is read in the transaction).
const controlsLock = "controls"

// Actor is who changed a control, recorded with its event.
type Actor struct {
	// Source is "desktop" (the API key) or "chat" (a moderator's command).
	Source string
	// ID is "desktop", or the chatter's Twitch user id.
	ID string
	// Name is the chatter's display name ("" for the Desktop).
	Name string
}

// DesktopActor is the Desktop's API key as an actor.
var DesktopActor = Actor{Source: "desktop", ID: "desktop"}

// String is the actor as stored with a pause ("desktop", "chat:<id>").
func (a Actor) String() string {
	if a.Source == "desktop" {
		return "desktop"
	}
	return a.Source + ":" + a.ID
}

type actorData struct {
	Source    string `json:"source"`
	Actor     string `json:"actor"`
	ActorName string `json:"actorName,omitempty"`
}

func (a Actor) data() actorData { return actorData{Source: a.Source, Actor: a.ID, ActorName: a.Name} }

// Policy is the draw and pool settings in use.
func (s *Service) Policy() mgm.Policy { return s.policy }

// ControlsView is the controls as the Desktop shows them.
type ControlsView struct {
	Controls mgm.Controls
	Policy   mgm.Policy
	// GoldToday is what the budget counts for the current UTC day.
	GoldToday int64
	State     RouletteState
}

// ControlsNow reads the controls from the database (not the snapshot: the
// Desktop's answer must reflect its own change at once).
func (s *Service) ControlsNow(ctx context.Context) (ControlsView, error) {
	now := s.clock()
	var v ControlsView
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if v.Controls, err = tx.Controls(ctx); err != nil {
			return err
		}
		day := mgm.BudgetDay(now)
		v.GoldToday, err = tx.GoldCommittedBetween(ctx, day, day.Add(24*time.Hour))
		return err
	})
	v.Policy = s.policy
	v.State = s.State(now)
	return v, err
}

// Pause stops the roulette from drawing, from now on. Pausing again is a
// success that changes nothing.
func (s *Service) Pause(ctx context.Context, a Actor) (ControlsView, error) {
	err := s.inTx(ctx, func(tx *store.Tx) error {
		_, err := s.pauseInTx(ctx, tx, a, s.clock())
		return err
	})
	return s.afterControl(ctx, err)
}

// Resume ends a pause: windows that start from now on draw again (the
// current one does not). Resuming when not paused changes nothing.
func (s *Service) Resume(ctx context.Context, a Actor) (ControlsView, error) {
	err := s.inTx(ctx, func(tx *store.Tx) error {
		_, err := s.resumeInTx(ctx, tx, a, s.clock())
		return err
	})
	return s.afterControl(ctx, err)
}

func (s *Service) afterControl(ctx context.Context, err error) (ControlsView, error) {
	if err != nil {
		return ControlsView{}, err
	}
	s.refreshAfterChange(ctx)
	return s.ControlsNow(ctx)
}

func (s *Service) pauseInTx(ctx context.Context, tx *store.Tx, a Actor, now time.Time) (bool, error) {
	if err := tx.Lock(ctx, controlsLock); err != nil {
		return false, err
	}
	changed, err := tx.Pause(ctx, a.String(), now)
	if err != nil || !changed {
		return false, err
	}
	return true, tx.AppendEvent(ctx, ControlsStream, EventRoulettePaused, a.data(), now)
}

func (s *Service) resumeInTx(ctx context.Context, tx *store.Tx, a Actor, now time.Time) (bool, error) {
	if err := tx.Lock(ctx, controlsLock); err != nil {
		return false, err
	}
	changed, err := tx.Resume(ctx, now)
	if err != nil || !changed {
		return false, err
	}
	return true, tx.AppendEvent(ctx, ControlsStream, EventRouletteResumed, struct {
		actorData
		// DrawsFrom is the first window that may draw again.
		DrawsFrom time.Time `json:"drawsFrom"`
	}{a.data(), s.firstWindowFrom(now)}, now)
}

// firstWindowFrom is the start of the first window starting at or after t.
func (s *Service) firstWindowFrom(t time.Time) time.Time {
	if st := s.schedule.Start(t); st.Equal(t) {
		return st
	}
	return mgm.NextBoundary(t, s.schedule.Interval)
}

// Target names a viewer by Twitch user id or by their pool character name.
type Target struct {
	TwitchUserID  string
	CharacterName string
}

func (t Target) check() error {
	if (t.TwitchUserID == "") == (t.CharacterName == "") {
		return mgm.Errorf(mgm.CodeInvalidPayload, "Give exactly one of twitchUserId and characterName.")
	}
	if !storable(t.TwitchUserID, t.CharacterName) || len(t.TwitchUserID) > 64 || len(t.CharacterName) > 64 {
		return mgm.Errorf(mgm.CodeInvalidPayload, "twitchUserId and characterName must be short UTF-8 text without NUL characters.")
	}
	return nil
}

// resolveMember finds the pool member a target names and locks them as an
// enrollment would (viewer and name), re-reading under the locks.
func (s *Service) resolveMember(ctx context.Context, tx *store.Tx, t Target) (mgm.PoolEntry, bool, error) {
	id := t.TwitchUserID
	if id == "" {
		e, err := tx.PoolEntryByName(ctx, t.CharacterName)
		if errors.Is(err, store.ErrNotFound) {
			return mgm.PoolEntry{}, false, nil
		}
		if err != nil {
			return mgm.PoolEntry{}, false, err
		}
		id = e.TwitchUserID
	}
	keys := []string{"viewer:" + id}
	if t.CharacterName != "" {
		keys = append(keys, "name:"+mgm.NameKey(t.CharacterName))
	}
	if err := tx.Lock(ctx, keys...); err != nil {
		return mgm.PoolEntry{}, false, err
	}
	e, err := tx.PoolEntry(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return mgm.PoolEntry{}, false, nil
	}
	if err != nil {
		return mgm.PoolEntry{}, false, err
	}
	if t.CharacterName != "" && !mgm.SameCharacterName(e.CharacterName, t.CharacterName) {
		return mgm.PoolEntry{}, false, nil // renamed between the two reads
	}
	return e, true, nil
}

// RemoveEntrant takes a viewer out of the pool on the streamer's word. As
// when a viewer leaves, a payout already created goes on and a cycle that
// already drew them keeps them as its candidate.
func (s *Service) RemoveEntrant(ctx context.Context, a Actor, t Target) (mgm.PoolEntry, error) {
	if err := t.check(); err != nil {
		return mgm.PoolEntry{}, err
	}
	var removed mgm.PoolEntry
	err := s.inTx(ctx, func(tx *store.Tx) error {
		var err error
		removed, err = s.removeInTx(ctx, tx, a, t, "removed", s.clock())
		return err
	})
	if err == nil {
		s.refreshAfterChange(ctx)
	}
	return removed, err
}

func (s *Service) removeInTx(ctx context.Context, tx *store.Tx, a Actor, t Target, reason string, now time.Time) (mgm.PoolEntry, error) {
	e, ok, err := s.resolveMember(ctx, tx, t)
	if err != nil {
		return mgm.PoolEntry{}, err
	}
	if !ok {
		return mgm.PoolEntry{}, mgm.Errorf(mgm.CodeNotInPool, "Nobody in the pool matches.")
	}
	left, err := tx.DeletePoolEntry(ctx, e.TwitchUserID)
	if err != nil {
		return mgm.PoolEntry{}, err
	}
	if !left {
		return mgm.PoolEntry{}, fmt.Errorf("pool entry of %s vanished under its lock", e.TwitchUserID)
	}
	return e, tx.AppendEvent(ctx, PoolStream(e.TwitchUserID), EventPoolLeft, poolEventData{
		TwitchUserID: e.TwitchUserID, TwitchDisplayName: e.TwitchDisplayName, CharacterName: e.CharacterName,
		Source: a.Source, Reason: reason, Actor: a.ID, ActorName: a.Name,
	}, now)
}

// MaxBanReason bounds a ban's reason.
const MaxBanReason = 200

// BanResult is a ban and whether this call made it.
type BanResult struct {
	Ban     store.Ban
	Created bool
	// Removed is the pool row the ban took out, if the viewer was in.
	Removed *mgm.PoolEntry
}

// Ban bans a viewer (by user id, or by their pool name): they leave the
// pool, and their enrollments are refused with code banned until unbanned.
// Banning a banned viewer keeps the first ban and changes nothing.
func (s *Service) Ban(ctx context.Context, a Actor, t Target, reason string) (BanResult, error) {
	if err := t.check(); err != nil {
		return BanResult{}, err
	}
	if !storable(reason) || len([]rune(reason)) > MaxBanReason {
		return BanResult{}, mgm.Errorf(mgm.CodeInvalidPayload, "reason must be UTF-8 text of at most %d characters.", MaxBanReason)
	}
	var res BanResult
	err := s.inTx(ctx, func(tx *store.Tx) error {
		var err error
		res, err = s.banInTx(ctx, tx, a, t, strings.TrimSpace(reason), s.clock())
		return err
	})
	if err == nil && res.Removed != nil {
		s.refreshAfterChange(ctx)
	}
	return res, err
}

func (s *Service) banInTx(ctx context.Context, tx *store.Tx, a Actor, t Target, reason string, now time.Time) (BanResult, error) {
	e, inPool, err := s.resolveMember(ctx, tx, t)
	if err != nil {
		return BanResult{}, err
	}
	id := t.TwitchUserID
	switch {
	case inPool:
		id = e.TwitchUserID
	case id == "":
		return BanResult{}, mgm.Errorf(mgm.CodeNotInPool, "Nobody in the pool has that name; ban by Twitch user id instead.")
	}
	b := store.Ban{TwitchUserID: id, Reason: reason, BannedBy: a.String(), BannedAt: now}
	var res BanResult
	if inPool {
		b.TwitchDisplayName, b.CharacterName = e.TwitchDisplayName, e.CharacterName
		removed, err := s.removeInTx(ctx, tx, a, Target{TwitchUserID: id}, "banned", now)
		if err != nil {
			return BanResult{}, err
		}
		res.Removed = &removed
	}
	if res.Created, err = tx.PutBan(ctx, b); err != nil {
		return BanResult{}, err
	}
	if !res.Created {
		res.Ban, err = tx.BanOf(ctx, id)
		return res, err
	}
	res.Ban = b
	return res, tx.AppendEvent(ctx, BanStream(id), EventViewerBanned, struct {
		TwitchUserID      string `json:"twitchUserId"`
		TwitchDisplayName string `json:"twitchDisplayName,omitempty"`
		CharacterName     string `json:"characterName,omitempty"`
		Reason            string `json:"reason,omitempty"`
		actorData
	}{id, b.TwitchDisplayName, b.CharacterName, reason, a.data()}, now)
}

// Unban lifts a ban, by user id or by the character name recorded with it.
func (s *Service) Unban(ctx context.Context, a Actor, t Target) (store.Ban, error) {
	if err := t.check(); err != nil {
		return store.Ban{}, err
	}
	var b store.Ban
	err := s.inTx(ctx, func(tx *store.Tx) error {
		var err error
		b, err = s.unbanInTx(ctx, tx, a, t, s.clock())
		return err
	})
	return b, err
}

func (s *Service) unbanInTx(ctx context.Context, tx *store.Tx, a Actor, t Target, now time.Time) (store.Ban, error) {
	var b store.Ban
	var err error
	if t.TwitchUserID != "" {
		b, err = tx.BanOf(ctx, t.TwitchUserID)
	} else {
		b, err = tx.BanByName(ctx, t.CharacterName)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Ban{}, mgm.Errorf(mgm.CodeNotFound, "That viewer is not banned.")
	}
	if err != nil {
		return store.Ban{}, err
	}
	if err := tx.Lock(ctx, "viewer:"+b.TwitchUserID); err != nil {
		return store.Ban{}, err
	}
	gone, err := tx.DeleteBan(ctx, b.TwitchUserID)
	if err != nil {
		return store.Ban{}, err
	}
	if !gone {
		return store.Ban{}, mgm.Errorf(mgm.CodeNotFound, "That viewer is not banned.")
	}
	return b, tx.AppendEvent(ctx, BanStream(b.TwitchUserID), EventViewerUnbanned, struct {
		TwitchUserID string `json:"twitchUserId"`
		actorData
	}{b.TwitchUserID, a.data()}, now)
}

// Bans lists the banned viewers, newest first.
func (s *Service) Bans(ctx context.Context) ([]store.Ban, error) {
	var bs []store.Ban
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		bs, err = tx.Bans(ctx)
		return err
	})
	return bs, err
}

// recordBannedAttempt appends the refusal of a banned viewer's enrollment.
func recordBannedAttempt(ctx context.Context, tx *store.Tx, e enrollment, now time.Time) error {
	ev := bannedAttemptEvent(e, now)
	return tx.AppendEvent(ctx, ev.StreamID, ev.Type, ev.Data, now)
}

// bannedAttemptEvent is the record of a banned viewer's refused enrollment.
func bannedAttemptEvent(e enrollment, now time.Time) store.NewEvent {
	return store.NewEvent{StreamID: BanStream(e.viewer.UserID), Type: EventEnrollmentRefused, At: now, Data: struct {
		Reason        mgm.Code `json:"reason"`
		Source        string   `json:"source"`
		CharacterName string   `json:"characterName"`
		MessageID     string   `json:"messageId,omitempty"`
		EnrollmentID  string   `json:"enrollmentRequestId,omitempty"`
	}{mgm.CodeBanned, e.source, e.rawName, e.messageID, e.enrollmentID}}
}

// SetStreamLive records EventSub's stream.online / stream.offline for the
// broadcaster, once per delivery (the same dedupe as chat). Another
// channel's notification is ignored.
func (s *Service) SetStreamLive(ctx context.Context, deliveryID, broadcasterID string, live bool) (Outcome, error) {
	if !storable(deliveryID, broadcasterID) {
		return "", errUnstorable("The notification's ids")
	}
	if s.broadcasterID != "" && broadcasterID != s.broadcasterID {
		return OutcomeWrongChannel, nil
	}
	outcome := OutcomeLiveUnchanged
	err := s.inTx(ctx, func(tx *store.Tx) error {
		now := s.clock()
		if deliveryID != "" {
			fresh, err := tx.MarkMessageProcessed(ctx, deliveryID, "notification", now)
			if err != nil || !fresh {
				outcome = OutcomeDuplicate
				return err
			}
		}
		if err := tx.Lock(ctx, controlsLock); err != nil {
			return err
		}
		changed, err := tx.SetLive(ctx, live, now)
		if err != nil || !changed {
			return err
		}
		outcome = OutcomeLiveChanged
		typ := EventStreamOffline
		if live {
			typ = EventStreamOnline
		}
		return tx.AppendEvent(ctx, ControlsStream, typ, map[string]any{"broadcasterUserId": broadcasterID}, now)
	})
	if err == nil && outcome == OutcomeLiveChanged {
		s.refreshAfterChange(ctx)
	}
	return outcome, err
}

// Outcomes of stream.online / stream.offline.
const (
	OutcomeLiveChanged   Outcome = "live_changed"
	OutcomeLiveUnchanged Outcome = "live_unchanged"
)

// drawBlock reads what DrawBlock needs for the window starting at start.
func (s *Service) drawBlock(ctx context.Context, tx *store.Tx, start time.Time) (mgm.PauseReason, error) {
	c, err := tx.Controls(ctx)
	if err != nil {
		return "", err
	}
	var gold int64
	if s.policy.DailyBudgetGold > 0 {
		day := mgm.BudgetDay(s.schedule.DrawAt(start))
		if gold, err = tx.GoldCommittedBetween(ctx, day, day.Add(24*time.Hour)); err != nil {
			return "", err
		}
	}
	return s.schedule.DrawBlock(s.policy, c, start, gold), nil
}

// coolingDown returns the pool members whose last win keeps them out of a
// draw at drawAt (none without a cooldown).
func (s *Service) coolingDown(ctx context.Context, tx *store.Tx, drawAt time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	c := s.policy.Cooldown
	if c == (mgm.Cooldown{}) {
		return out, nil
	}
	wins, err := tx.PoolWinsSince(ctx, s.schedule.CooldownHorizon(c, drawAt))
	for id, w := range wins {
		if s.schedule.CoolingDown(c, w, drawAt) {
			out[id] = true
		}
	}
	return out, err
}

// eligibleAgainAt is when the viewer's cooldown ends, if it has not yet.
func (s *Service) eligibleAgainAt(ctx context.Context, tx *store.Tx, twitchUserID string, now time.Time) (*time.Time, error) {
	if s.policy.Cooldown == (mgm.Cooldown{}) {
		return nil, nil
	}
	w, ok, err := tx.LatestWin(ctx, twitchUserID)
	if err != nil || !ok {
		return nil, err
	}
	t := s.schedule.EligibleAgainAt(s.policy.Cooldown, w)
	if !t.After(now) {
		return nil, nil
	}
	return &t, nil
}

// Chat control outcomes.
const (
	OutcomeNotModerator   Outcome = "ignored_not_moderator"
	OutcomePaused         Outcome = "control_paused"
	OutcomeAlreadyPaused  Outcome = "control_already_paused"
	OutcomeResumed        Outcome = "control_resumed"
	OutcomeNotPaused      Outcome = "control_not_paused"
	OutcomeRemoved        Outcome = "control_removed"
	OutcomeBanned         Outcome = "control_banned"
	OutcomeAlreadyBanned  Outcome = "control_already_banned"
	OutcomeUnbanned       Outcome = "control_unbanned"
	outcomeControlRefused         = "control_rejected_"
)

// IsControlOutcome reports whether an outcome is a !mgm command's.
func IsControlOutcome(o Outcome) bool {
	return o == OutcomeNotModerator || strings.HasPrefix(string(o), "control_")
}

// controlInTx applies a moderator's !mgm command inside the transaction
// that recorded its delivery. Only the broadcaster and moderators (their
// chat badges) may; from anyone else it is ignored. A refusal (nobody of
// that name) is an outcome: it still consumes the delivery.
func (s *Service) controlInTx(ctx context.Context, tx *store.Tx, c chatLine, now time.Time) (Outcome, error) {
	if !c.m.IsModerator {
		return OutcomeNotModerator, nil
	}
	a := Actor{Source: "chat", ID: c.m.Viewer.UserID, Name: c.m.Viewer.DisplayName}
	var err error
	var changed bool
	var outcome Outcome
	switch c.mod.Action {
	case mgm.ModPause:
		changed, err = s.pauseInTx(ctx, tx, a, now)
		outcome = pick(changed, OutcomePaused, OutcomeAlreadyPaused)
	case mgm.ModResume:
		changed, err = s.resumeInTx(ctx, tx, a, now)
		outcome = pick(changed, OutcomeResumed, OutcomeNotPaused)
	case mgm.ModRemove:
		_, err = s.removeInTx(ctx, tx, a, Target{CharacterName: c.mod.Arg}, "removed", now)
		outcome = OutcomeRemoved
	case mgm.ModBan:
		var res BanResult
		res, err = s.banInTx(ctx, tx, a, Target{CharacterName: c.mod.Arg}, "", now)
		outcome = pick(res.Created, OutcomeBanned, OutcomeAlreadyBanned)
	case mgm.ModUnban:
		_, err = s.unbanInTx(ctx, tx, a, Target{CharacterName: c.mod.Arg}, now)
		outcome = OutcomeUnbanned
	default:
		return OutcomeIgnored, nil
	}
	if code := mgm.ErrorCode(err); err != nil && code != mgm.CodeInternal {
		// Nothing was written before the refusal: every refusal is decided
		// before the first write.
		return Outcome(outcomeControlRefused + string(code)), nil
	}
	return outcome, err
}

func pick(cond bool, yes, no Outcome) Outcome {
	if cond {
		return yes
	}
	return no
}
