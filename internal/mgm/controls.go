package mgm

import (
	"strings"
	"time"
)

// PhasePaused is shown while the current window will not draw because of
// one of the streamer's controls (PauseReason says which).
const PhasePaused Phase = "paused"

// PauseReason says why a window does not draw.
type PauseReason string

const (
	PauseNone PauseReason = ""
	// PauseStreamer: the streamer (Desktop or a moderator in chat) paused.
	PauseStreamer PauseReason = "streamer"
	// PauseBudget: today's (UTC) gold budget has no room for one more payout.
	PauseBudget PauseReason = "budget"
	// PauseOffline: draws happen only while live, and the stream is not
	// known to be live.
	PauseOffline PauseReason = "offline"
)

// EntryRule says who may join the pool.
type EntryRule string

const (
	// EntrySubscribers admits subscribers only (the default).
	EntrySubscribers EntryRule = "subscribers"
	// EntryEveryone admits every viewer, so that a channel can offer a free
	// way to enter where its local rules require one.
	EntryEveryone EntryRule = "everyone"
)

// ParseEntryRule reads a rule case-insensitively.
func ParseEntryRule(s string) (EntryRule, bool) {
	switch r := EntryRule(strings.ToLower(strings.TrimSpace(s))); r {
	case EntrySubscribers, EntryEveryone:
		return r, true
	}
	return "", false
}

// Admits reports whether a viewer may enter under the rule; the zero rule
// is subscribers only.
func (r EntryRule) Admits(isSubscriber bool) bool { return r == EntryEveryone || isSubscriber }

// Cooldown keeps a recent winner out of the draw, though still in the pool:
// for Cycles cycles after the cycle they won, and for Duration after the
// moment they won. Zero in both is no cooldown.
type Cooldown struct {
	Cycles   int
	Duration time.Duration
}

// Win is a viewer's latest won cycle: when its window started and when the
// payout was created (the /who report).
type Win struct {
	WindowStart time.Time
	At          time.Time
}

// EligibleAgainAt is the moment from which a draw may pick the winner of w
// again (a draw moment at or after it); the zero time when there is no
// cooldown. For cycles it is the draw moment of the (Cycles+1)-th window
// after the won one, for a duration the win plus the duration; with both,
// the later.
func (s Schedule) EligibleAgainAt(c Cooldown, w Win) time.Time {
	var t time.Time
	if c.Cycles > 0 {
		t = s.DrawAt(w.WindowStart.Add(time.Duration(c.Cycles+1) * s.Interval))
	}
	if c.Duration > 0 {
		if d := w.At.Add(c.Duration); d.After(t) {
			t = d
		}
	}
	return t
}

// CoolingDown reports whether the winner of w may not be drawn at drawAt.
func (s Schedule) CoolingDown(c Cooldown, w Win, drawAt time.Time) bool {
	return drawAt.Before(s.EligibleAgainAt(c, w))
}

// CooldownHorizon is how far back a win can still keep its winner out of a
// draw at drawAt: wins of windows that started earlier are over.
func (s Schedule) CooldownHorizon(c Cooldown, drawAt time.Time) time.Time {
	// A window's report may come up to 1.1 intervals after its start, so a
	// duration counts from up to that much later than the window.
	back := time.Duration(c.Cycles+2)*s.Interval + c.Duration
	return s.Start(drawAt).Add(-back)
}

// DrawEligible is Eligible with the streamer's cooldown: a member may be
// drawn at drawAt when they have no active payout, room under the lifetime
// cap, and no win (lastWin, nil for none) still cooling down.
func (s Schedule) DrawEligible(hasActivePayout bool, committedGold int64, lastWin *Win, c Cooldown, drawAt time.Time) bool {
	return Eligible(hasActivePayout, committedGold) && (lastWin == nil || !s.CoolingDown(c, *lastWin, drawAt))
}

// LiveStatus is what the EBS last heard of the stream (EventSub
// stream.online / stream.offline).
type LiveStatus string

const (
	LiveUnknown LiveStatus = ""
	LiveOnline  LiveStatus = "online"
	LiveOffline LiveStatus = "offline"
)

// Controls are the streamer's switches as stored (one row, shared by every
// replica).
type Controls struct {
	Paused   bool
	PausedAt time.Time // zero unless Paused
	PausedBy string
	// ResumedAt is the last resume; windows that started before it do not draw.
	ResumedAt time.Time
	Live      LiveStatus
	LiveAt    time.Time
}

// Policy is the deployment's settings for the draw and the pool.
type Policy struct {
	Entry    EntryRule
	Cooldown Cooldown
	// DailyBudgetGold caps the gold of payouts created per UTC day; 0 is
	// no cap.
	DailyBudgetGold int64
	// DrawOnlyWhileLive: windows draw only while the stream is known to be
	// online.
	DrawOnlyWhileLive bool
}

// BudgetDay is the UTC day containing t (its midnight).
func BudgetDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// DrawBlock says why the window starting at start may not draw at now,
// PauseNone when it may. goldToday is the gold the budget counts for the UTC
// day of the window's draw moment.
//
// A pause stops every draw not yet made, and a resume lets only windows that
// start at or after it draw: the window in progress stays without a draw, so
// that nobody is drawn from a window the viewers were told was paused. Live
// status and budget are read as they are at the draw.
func (s Schedule) DrawBlock(p Policy, c Controls, start time.Time, goldToday int64) PauseReason {
	switch {
	case c.Paused || start.Before(c.ResumedAt):
		return PauseStreamer
	case p.DrawOnlyWhileLive && c.Live != LiveOnline:
		return PauseOffline
	case p.DailyBudgetGold > 0 && goldToday+PayoutGold > p.DailyBudgetGold:
		return PauseBudget
	}
	return PauseNone
}

// PhaseWithControls is Phase with the streamer's controls: a window that
// has no candidate and may not draw (block) shows PhasePaused with its
// reason. A candidate drawn before a pause is still verified, and its
// cycle shows its own phase until the window ends.
func (s Schedule) PhaseWithControls(now time.Time, current *SpinCycle, poolCount int, block PauseReason) (Phase, PauseReason) {
	if current != nil && !current.Start.Equal(s.Start(now)) {
		current = nil
	}
	if block != PauseNone && (current == nil || current.Candidate == nil) {
		return PhasePaused, block
	}
	return s.Phase(now, current, poolCount), PauseNone
}
