package mgm

import (
	"strings"
	"time"
)

// GiftState is where a gift request is in its lifecycle (rules.md § Gift queue).
type GiftState string

const (
	GiftPending             GiftState = "Pending"
	GiftSelectingItem       GiftState = "SelectingItem"
	GiftWaitingConfirmation GiftState = "WaitingConfirmation"
	GiftCompleted           GiftState = "Completed"
	GiftFailed              GiftState = "Failed"
)

var giftStates = []GiftState{GiftPending, GiftSelectingItem, GiftWaitingConfirmation, GiftCompleted, GiftFailed}

// ParseGiftState reads a state case-insensitively ("failed", "SELECTINGITEM").
func ParseGiftState(s string) (GiftState, bool) {
	s = strings.TrimSpace(s)
	for _, st := range giftStates {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

// Terminal reports whether the request has ended (Completed or Failed).
func (s GiftState) Terminal() bool { return s == GiftCompleted || s == GiftFailed }

// Served reports whether the request is the one the streamer is working on
// (SelectingItem or WaitingConfirmation). At most one per streamer is.
func (s GiftState) Served() bool { return s == GiftSelectingItem || s == GiftWaitingConfirmation }

// OpenGiftStates are the non-terminal states, in lifecycle order.
var OpenGiftStates = []GiftState{GiftPending, GiftSelectingItem, GiftWaitingConfirmation}

// The fixed numbers of the gift queue.
const (
	// GiftSelectionTimeout is how long the Desktop has to pick an item once a request is served.
	GiftSelectionTimeout = 60 * time.Second
	// GiftConfirmationTimeout is how long the recipient has to accept the picked item.
	GiftConfirmationTimeout = 5 * time.Minute
	// GiftSlot is the estimated time one request ahead in the queue takes.
	GiftSlot = 65 * time.Second
	// GiftResultVisibility is how long a viewer's ended request stays in their queue view.
	GiftResultVisibility = 10 * time.Minute
)

// Failure reasons the EBS itself writes.
const (
	GiftReasonSelectionTimeout    = "selection_timeout"
	GiftReasonConfirmationTimeout = "confirmation_timeout"
	GiftReasonReceiverDeclined    = "receiver_declined"
	// GiftReasonFailedByDesktop is the reason of a Desktop PATCH that gave none.
	GiftReasonFailedByDesktop = "failed_by_desktop"
)

// GiftItem is the in-game item the Desktop picked for a request, as the addon reported it.
type GiftItem struct {
	Name    string
	ID      int
	Count   int
	Link    string
	Texture string
	BagID   int
	SlotID  int
}

// GiftRequest is one viewer's request for a gift from one streamer.
type GiftRequest struct {
	ID                string
	StreamerID        string
	ViewerID          string
	ViewerDisplayName string
	CharacterName     string
	State             GiftState
	SelectedItem      *GiftItem
	// Seq orders the streamer's requests by creation: 1, 2, 3, … per streamer.
	Seq           int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	TimeoutAt     *time.Time
	FailureReason string
}

// giftTransitions is the state machine. Failed is reachable from every
// non-terminal state; terminal states lead nowhere.
var giftTransitions = map[GiftState][]GiftState{
	GiftPending:             {GiftSelectingItem, GiftFailed},
	GiftSelectingItem:       {GiftWaitingConfirmation, GiftFailed},
	GiftWaitingConfirmation: {GiftCompleted, GiftFailed},
}

// CanGiftTransition reports whether the state machine allows from → to.
func CanGiftTransition(from, to GiftState) bool {
	for _, ok := range giftTransitions[from] {
		if ok == to {
			return true
		}
	}
	return false
}

// GiftDeadline is when a request entering state at now times out, or nil for
// states without a deadline.
func GiftDeadline(state GiftState, now time.Time) *time.Time {
	var d time.Duration
	switch state {
	case GiftSelectingItem:
		d = GiftSelectionTimeout
	case GiftWaitingConfirmation:
		d = GiftConfirmationTimeout
	default:
		return nil
	}
	t := now.Add(d)
	return &t
}

// Moved returns the request after the transition to `to` at now: the new
// state, its deadline, and the failure reason (only for Failed). A transition
// the state machine does not allow is refused with CodeInvalidState.
func (g GiftRequest) Moved(to GiftState, reason string, now time.Time) (GiftRequest, error) {
	if !CanGiftTransition(g.State, to) {
		return g, Errorf(CodeInvalidState, "A gift request cannot go from %s to %s.", g.State, to)
	}
	g.State, g.UpdatedAt, g.TimeoutAt, g.FailureReason = to, now, GiftDeadline(to, now), ""
	if to == GiftFailed {
		if reason == "" {
			reason = GiftReasonFailedByDesktop
		}
		g.FailureReason = reason
	}
	return g, nil
}

// TimedOut reports whether a served request's deadline has come at now (the
// deadline itself included) and the failure reason it then gets.
func (g GiftRequest) TimedOut(now time.Time) (reason string, due bool) {
	if !g.State.Served() || g.TimeoutAt == nil || now.Before(*g.TimeoutAt) {
		return "", false
	}
	if g.State == GiftSelectingItem {
		return GiftReasonSelectionTimeout, true
	}
	return GiftReasonConfirmationTimeout, true
}

// GiftFacts is what storage knew, inside the creating transaction, about a
// viewer's gift requests to one streamer.
type GiftFacts struct {
	IsSubscriber bool
	// HasCompleted: the viewer already received a gift from this streamer.
	HasCompleted bool
	// HasOpen: the viewer has a non-terminal request for this streamer.
	HasOpen bool
}

// DecideGiftCreate applies the create checks of rules.md in their order
// (after deduplication, which storage does): name, subscriber, one gift ever,
// one open request. It returns the trimmed name to store.
func DecideGiftCreate(rawName string, f GiftFacts) (string, error) {
	name, err := ValidateCharacterName(rawName)
	if err != nil {
		return "", err
	}
	if !f.IsSubscriber {
		return "", Errorf(CodeNotSubscriber, "Only subscribers can use !twgift.")
	}
	if f.HasCompleted {
		return "", Errorf(CodeGiftAlreadyUsed, "!twgift can be used once per streamer, and you already received your gift.")
	}
	if f.HasOpen {
		return "", Errorf(CodeGiftRequestActive, "You already have a gift request in the queue.")
	}
	return name, nil
}

// NextToPromote picks the request to serve from a streamer's open requests
// (oldest first): none while one is served, else the oldest Pending.
func NextToPromote(open []GiftRequest) (int, bool) {
	for _, g := range open {
		if g.State.Served() {
			return 0, false
		}
	}
	for i, g := range open {
		if g.State == GiftPending {
			return i, true
		}
	}
	return 0, false
}

// DecideGiftPatch decides a Desktop PATCH: only Failed may be asked for, from
// a non-terminal state; Failed again is a no-op (log replays are harmless).
func DecideGiftPatch(from, to GiftState) (noop bool, err error) {
	if to != GiftFailed {
		return false, Errorf(CodeInvalidState, "The Desktop may only set a gift request to Failed, not %s.", to)
	}
	if from == GiftFailed {
		return true, nil
	}
	if !CanGiftTransition(from, to) {
		return false, Errorf(CodeInvalidState, "The gift request is %s; it can no longer fail.", from)
	}
	return false, nil
}

// DecideGiftSelect allows select-item only while the item is being selected.
func DecideGiftSelect(from GiftState) error {
	if from != GiftSelectingItem {
		return Errorf(CodeInvalidState, "Gift request is not in SelectingItem state (it is %s).", from)
	}
	return nil
}

// DecideGiftConfirm allows confirm only while waiting for the recipient:
// accepted → Completed, declined → Failed receiver_declined.
func DecideGiftConfirm(from GiftState, confirmed bool) (GiftState, string, error) {
	if from != GiftWaitingConfirmation {
		// The state in the details too: a Desktop retrying a confirm whose
		// answer it lost (or a restart) learns whether it got through.
		e := Errorf(CodeInvalidState, "Gift request is not waiting for confirmation (it is %s).", from)
		e.Details = map[string]any{"state": string(from)}
		return "", "", e
	}
	if confirmed {
		return GiftCompleted, "", nil
	}
	return GiftFailed, GiftReasonReceiverDeclined, nil
}

// GiftETA is the estimated wait at a 1-based queue position:
// max(0, position − 1) × 65 s. Position 0 (not queued) waits nothing.
func GiftETA(position int) time.Duration {
	return time.Duration(max(0, position-1)) * GiftSlot
}

// GiftVisibleTo decides the viewer's filter of a streamer's queue: their own
// open requests and the one being served. viewerID "" is a viewer who has not
// shared their identity: they see only the served request. (A viewer's recent
// ended request is added separately; see GiftResultVisible.)
func GiftVisibleTo(g GiftRequest, viewerID string) bool {
	return g.State.Served() || (viewerID != "" && g.ViewerID == viewerID)
}

// GiftResultVisible reports whether an ended request is still shown to its
// viewer at now: for GiftResultVisibility after it ended (exclusive).
func GiftResultVisible(g GiftRequest, now time.Time) bool {
	return g.State.Terminal() && now.Sub(g.UpdatedAt) < GiftResultVisibility
}
