package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// Gift event types.
const (
	EventGiftRequestInitiated    = "GiftRequestInitiated"
	EventGiftRequestStateChanged = "GiftRequestStateChanged"
	EventGiftItemSelected        = "GiftItemSelected"
)

// GiftStream is the event stream of one gift request.
func GiftStream(giftID string) string { return "gift:" + giftID }

// OutcomeGiftRequested: a chat !twgift created a gift request.
const OutcomeGiftRequested Outcome = "gift_requested"

// GiftRejected is the outcome of a chat !twgift the rules turned down.
func GiftRejected(code mgm.Code) Outcome { return Outcome("gift_rejected_" + string(code)) }

// maxGiftReasonRunes bounds the failure reason a Desktop may store.
const maxGiftReasonRunes = 200

// GiftView is a request as the routes show it: with its real place in the
// streamer's queue (1-based; 0 once it has ended) and the estimated wait.
type GiftView struct {
	mgm.GiftRequest
	QueuePosition int
	EstimatedWait time.Duration
}

// giftMove is one state change, reported to the Observer after commit.
type giftMove struct{ from, to mgm.GiftState }

func (s *Service) reportGiftMoves(moves []giftMove) {
	for _, m := range moves {
		s.obs.GiftTransition(string(m.from), string(m.to))
	}
}

// giftLockKey serialises every change to one streamer's queue: creates (the
// sequence number and the one-open-request check), promotions, Desktop
// transitions and the sweep.
func giftLockKey(streamerID string) string { return "gifts:" + streamerID }

func giftNotFound() error { return mgm.Errorf(mgm.CodeNotFound, "Gift request not found.") }

// GiftStreamer resolves the streamer of a gift route: the given id, else the
// configured broadcaster. This deployment serves only its configured
// broadcaster when one is set.
func (s *Service) GiftStreamer(streamerID string) (string, error) {
	id := strings.TrimSpace(streamerID)
	if id == "" {
		id = s.giftStreamerDefault()
	}
	switch {
	case id == "":
		return "", mgm.Errorf(mgm.CodeInvalidPayload, "streamerId is required (no Twitch__BroadcasterUserId is configured).")
	case !storable(id):
		return "", errUnstorable("streamerId")
	case len(id) > 64:
		return "", mgm.Errorf(mgm.CodeInvalidPayload, "streamerId is too long: it is a Twitch user id.")
	case s.broadcasterID != "" && id != s.broadcasterID:
		return "", mgm.Errorf(mgm.CodeInvalidPayload,
			"streamerId must be the broadcaster this EBS serves (Twitch__BroadcasterUserId = %s).", s.broadcasterID)
	}
	return id, nil
}

// giftStreamerDefault is the streamer of a gift that names none.
func (s *Service) giftStreamerDefault() string {
	if s.broadcasterID != "" {
		return s.broadcasterID
	}
	return s.defaultStreamer
}

// giftCreation is one attempt to join a streamer's gift queue.
type giftCreation struct {
	streamerID   string
	viewer       mgm.Viewer
	rawName      string
	isSubscriber bool
	source       string // "chat" or "panel"
	messageID    string
}

// createGiftInTx decides and applies a create inside tx, then promotes the
// oldest Pending request if none is being served (which may be this one). A
// rule rejection is returned as a domain error and nothing is written.
func (s *Service) createGiftInTx(ctx context.Context, tx *store.Tx, c giftCreation, now time.Time, moves *[]giftMove) (mgm.GiftRequest, error) {
	if err := tx.Lock(ctx, giftLockKey(c.streamerID)); err != nil {
		return mgm.GiftRequest{}, err
	}
	facts := mgm.GiftFacts{IsSubscriber: c.isSubscriber}
	var err error
	if facts.HasCompleted, facts.HasOpen, err = tx.GiftViewerFacts(ctx, c.streamerID, c.viewer.UserID); err != nil {
		return mgm.GiftRequest{}, err
	}
	name, err := mgm.DecideGiftCreate(c.rawName, facts)
	if err != nil {
		return mgm.GiftRequest{}, err
	}
	display := c.viewer.DisplayName
	if display == "" {
		display = c.viewer.UserID
	}
	g := mgm.GiftRequest{
		ID: s.newID(), StreamerID: c.streamerID, ViewerID: c.viewer.UserID, ViewerDisplayName: display,
		CharacterName: name, State: mgm.GiftPending, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.InsertGiftRequest(ctx, &g, store.GiftOrigin{Source: c.source, MessageID: c.messageID}); err != nil {
		return mgm.GiftRequest{}, err
	}
	ev := map[string]any{
		"id": g.ID, "streamerId": g.StreamerID, "viewerId": g.ViewerID, "viewerDisplayName": g.ViewerDisplayName,
		"characterName": g.CharacterName, "source": c.source,
	}
	if c.messageID != "" {
		ev["messageId"] = c.messageID
	}
	if err := tx.AppendEvent(ctx, GiftStream(g.ID), EventGiftRequestInitiated, ev, now); err != nil {
		return mgm.GiftRequest{}, err
	}
	*moves = append(*moves, giftMove{"", mgm.GiftPending})
	promoted, err := s.promoteGiftInTx(ctx, tx, c.streamerID, now, moves)
	if err != nil {
		return mgm.GiftRequest{}, err
	}
	if promoted != nil && promoted.ID == g.ID {
		g = *promoted
	}
	return g, nil
}

// promoteGiftInTx serves the streamer's oldest Pending request when none is
// being served. The caller holds the streamer's lock; the partial unique
// index on served requests backs it.
func (s *Service) promoteGiftInTx(ctx context.Context, tx *store.Tx, streamerID string, now time.Time, moves *[]giftMove) (*mgm.GiftRequest, error) {
	open, err := tx.OpenGiftRequests(ctx, streamerID)
	if err != nil {
		return nil, err
	}
	i, ok := mgm.NextToPromote(open)
	if !ok {
		return nil, nil
	}
	g, err := s.moveGiftInTx(ctx, tx, open[i], mgm.GiftSelectingItem, "", nil, now, moves)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// moveGiftInTx applies one transition the state machine allows, with its
// events; after a request ends, the next one is promoted.
func (s *Service) moveGiftInTx(ctx context.Context, tx *store.Tx, g mgm.GiftRequest, to mgm.GiftState, reason string,
	item *mgm.GiftItem, now time.Time, moves *[]giftMove) (mgm.GiftRequest, error) {
	from := g.State
	next, err := g.Moved(to, reason, now)
	if err != nil {
		return g, err
	}
	if item != nil {
		it := *item
		next.SelectedItem = &it
	}
	ok, err := tx.UpdateGiftRequest(ctx, next, from)
	if err != nil {
		return g, err
	}
	if !ok {
		return g, fmt.Errorf("gift request %s changed under its lock", g.ID)
	}
	if item != nil {
		if err := tx.AppendEvent(ctx, GiftStream(g.ID), EventGiftItemSelected, map[string]any{"item": map[string]any{
			"name": item.Name, "id": item.ID, "count": item.Count, "link": item.Link, "texture": item.Texture,
			"bagId": item.BagID, "slotId": item.SlotID,
		}}, now); err != nil {
			return g, err
		}
	}
	var why any
	if next.FailureReason != "" {
		why = next.FailureReason
	}
	if err := tx.AppendEvent(ctx, GiftStream(g.ID), EventGiftRequestStateChanged,
		map[string]any{"from": from, "to": to, "reason": why}, now); err != nil {
		return g, err
	}
	*moves = append(*moves, giftMove{from, to})
	if to.Terminal() {
		if _, err := s.promoteGiftInTx(ctx, tx, g.StreamerID, now, moves); err != nil {
			return g, err
		}
	}
	return next, nil
}

// giftViewInTx places a request in its streamer's queue.
func giftViewInTx(ctx context.Context, tx *store.Tx, g mgm.GiftRequest) (GiftView, error) {
	v := GiftView{GiftRequest: g}
	if g.State.Terminal() {
		return v, nil
	}
	open, err := tx.OpenGiftRequests(ctx, g.StreamerID)
	if err != nil {
		return v, err
	}
	for i, o := range open {
		if o.ID == g.ID {
			v.QueuePosition = i + 1
			v.EstimatedWait = mgm.GiftETA(v.QueuePosition)
		}
	}
	return v, nil
}

// CreateGift is POST /api/gift-requests: a viewer asks for a gift from the
// panel. The checks run in the rules' order; the name is checked before the
// subscriber check, which may call Twitch.
func (s *Service) CreateGift(ctx context.Context, streamerID string, viewer mgm.Viewer, rawName string, isSubscriber SubscriberCheck) (GiftView, error) {
	streamer, err := s.GiftStreamer(streamerID)
	if err != nil {
		return GiftView{}, err
	}
	if _, err := mgm.ValidateCharacterName(rawName); err != nil {
		return GiftView{}, err
	}
	if !storable(viewer.UserID, viewer.DisplayName) {
		return GiftView{}, errUnstorable("The viewer's token")
	}
	sub, err := isSubscriber(ctx, viewer.UserID)
	if err != nil {
		return GiftView{}, err
	}
	now := s.clock()
	var view GiftView
	var moves []giftMove
	err = s.inTx(ctx, func(tx *store.Tx) error {
		moves = nil
		g, err := s.createGiftInTx(ctx, tx, giftCreation{
			streamerID: streamer, viewer: viewer, rawName: rawName, isSubscriber: sub, source: "panel",
		}, now, &moves)
		if err != nil {
			return err
		}
		view, err = giftViewInTx(ctx, tx, g)
		return err
	})
	if err != nil {
		return GiftView{}, err
	}
	s.reportGiftMoves(moves)
	return view, nil
}

// chatGiftInTx handles a chat !twgift inside the delivery's transaction. The
// streamer is the message's broadcaster, else the configured one. Rejections
// are outcomes (chat has nobody to tell); only our own failures are errors.
func (s *Service) chatGiftInTx(ctx context.Context, tx *store.Tx, m ChatMessage, arg string, now time.Time, moves *[]giftMove) (Outcome, error) {
	streamer := m.BroadcasterID
	if streamer == "" {
		streamer = s.giftStreamerDefault()
	}
	if streamer == "" {
		return GiftRejected(mgm.CodeInvalidPayload), nil
	}
	_, err := s.createGiftInTx(ctx, tx, giftCreation{
		streamerID: streamer, viewer: m.Viewer, rawName: arg, isSubscriber: m.IsSubscriber, source: "chat", messageID: m.MessageID,
	}, now, moves)
	if err == nil {
		return OutcomeGiftRequested, nil
	}
	if code := mgm.ErrorCode(err); code != mgm.CodeInternal {
		*moves = nil
		return GiftRejected(code), nil
	}
	return "", err
}

// giftChange is what a Desktop route decided to do with a request.
type giftChange struct {
	noop   bool
	to     mgm.GiftState
	reason string
	item   *mgm.GiftItem
}

// changeGift runs one guarded Desktop transition. A request whose deadline
// has passed is failed first, as the sweep would (so a deadline holds to the
// millisecond, whenever the sweep runs); the decision then sees it Failed.
func (s *Service) changeGift(ctx context.Context, id string, decide func(mgm.GiftState) (giftChange, error)) (GiftView, error) {
	now := s.clock()
	var view GiftView
	var moves []giftMove
	var refusal error
	err := s.inTx(ctx, func(tx *store.Tx) error {
		moves, refusal = nil, nil
		g, err := loadGiftForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		timedOut, due := g.TimedOut(now)
		if due {
			if g, err = s.moveGiftInTx(ctx, tx, g, mgm.GiftFailed, timedOut, nil, now, &moves); err != nil {
				return err
			}
		}
		c, err := decide(g.State)
		if err != nil {
			if due && mgm.ErrorCode(err) != mgm.CodeInternal {
				// Keep the timeout; refuse the request after commit.
				refusal = mgm.Errorf(mgm.CodeInvalidState, "Gift request is Failed: its deadline passed (%s).", timedOut)
				return nil
			}
			return err
		}
		if !c.noop {
			if g, err = s.moveGiftInTx(ctx, tx, g, c.to, c.reason, c.item, now, &moves); err != nil {
				return err
			}
		}
		view, err = giftViewInTx(ctx, tx, g)
		return err
	})
	if err != nil {
		return GiftView{}, err
	}
	s.reportGiftMoves(moves)
	if refusal != nil {
		return GiftView{}, refusal
	}
	return view, nil
}

// loadGiftForUpdate locks the request's queue for the rest of the
// transaction and loads the request as it stands under that lock.
func loadGiftForUpdate(ctx context.Context, tx *store.Tx, id string) (mgm.GiftRequest, error) {
	id, ok := canonicalID(id)
	if !ok {
		return mgm.GiftRequest{}, giftNotFound()
	}
	g, err := tx.GiftRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return mgm.GiftRequest{}, giftNotFound()
	}
	if err != nil {
		return mgm.GiftRequest{}, err
	}
	// A request never changes streamer, so its lock key is known before locking.
	if err := tx.Lock(ctx, giftLockKey(g.StreamerID)); err != nil {
		return mgm.GiftRequest{}, err
	}
	return tx.GiftRequest(ctx, id)
}

// FailGift is the Desktop's PATCH: only to Failed, with a reason (default
// failed_by_desktop); Failed again is a no-op.
func (s *Service) FailGift(ctx context.Context, id string, to mgm.GiftState, reason string) (GiftView, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > maxGiftReasonRunes {
		return GiftView{}, mgm.Errorf(mgm.CodeInvalidPayload, "reason is longer than %d characters.", maxGiftReasonRunes)
	}
	if !storable(reason) {
		return GiftView{}, errUnstorable("reason")
	}
	if reason == "" {
		reason = mgm.GiftReasonFailedByDesktop
	}
	return s.changeGift(ctx, id, func(from mgm.GiftState) (giftChange, error) {
		noop, err := mgm.DecideGiftPatch(from, to)
		return giftChange{noop: noop, to: to, reason: reason}, err
	})
}

// SelectGiftItem records the item the Desktop picked: SelectingItem →
// WaitingConfirmation with the 5-minute deadline.
func (s *Service) SelectGiftItem(ctx context.Context, id string, item mgm.GiftItem) (GiftView, error) {
	if !storable(item.Name, item.Link, item.Texture) {
		return GiftView{}, errUnstorable("The item's name, link and texture")
	}
	return s.changeGift(ctx, id, func(from mgm.GiftState) (giftChange, error) {
		return giftChange{to: mgm.GiftWaitingConfirmation, item: &item}, mgm.DecideGiftSelect(from)
	})
}

// ConfirmGift records the recipient's answer: accepted → Completed (the
// viewer's one gift from this streamer), declined → Failed receiver_declined.
func (s *Service) ConfirmGift(ctx context.Context, id string, confirmed bool) (GiftView, error) {
	return s.changeGift(ctx, id, func(from mgm.GiftState) (giftChange, error) {
		to, reason, err := mgm.DecideGiftConfirm(from, confirmed)
		return giftChange{to: to, reason: reason}, err
	})
}

// GiftQueue is the Desktop's view: the streamer's open requests in queue order.
func (s *Service) GiftQueue(ctx context.Context, streamerID string) ([]GiftView, error) {
	streamer, err := s.GiftStreamer(streamerID)
	if err != nil {
		return nil, err
	}
	var out []GiftView
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		open, err := tx.OpenGiftRequests(ctx, streamer)
		out = queueViews(open)
		return err
	})
	return out, err
}

func queueViews(open []mgm.GiftRequest) []GiftView {
	out := make([]GiftView, 0, len(open))
	for i, g := range open {
		out = append(out, GiftView{GiftRequest: g, QueuePosition: i + 1, EstimatedWait: mgm.GiftETA(i + 1)})
	}
	return out
}

// ViewerGiftQueue is the panel's view of a streamer's queue: the viewer's own
// open request and the one being served, with positions over the whole
// queue, plus the viewer's newest ended request of the last 10 minutes so the
// panel can show the result. viewerID "" (identity not shared) sees only the
// request being served.
func (s *Service) ViewerGiftQueue(ctx context.Context, streamerID, viewerID string) ([]GiftView, error) {
	streamer, err := s.GiftStreamer(streamerID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	out := []GiftView{}
	err = s.db.Read(ctx, func(tx *store.Tx) error {
		open, err := tx.OpenGiftRequests(ctx, streamer)
		if err != nil {
			return err
		}
		for _, v := range queueViews(open) {
			if mgm.GiftVisibleTo(v.GiftRequest, viewerID) {
				out = append(out, v)
			}
		}
		if viewerID == "" {
			return nil
		}
		ended, err := tx.LatestEndedGiftRequest(ctx, streamer, viewerID, now.Add(-mgm.GiftResultVisibility))
		if errors.Is(err, store.ErrNotFound) || (err == nil && !mgm.GiftResultVisible(ended, now)) {
			return nil
		}
		if err != nil {
			return err
		}
		// The request may have ended between the two queries: the ended
		// record is the newer fact and replaces the open one.
		kept := out[:0]
		for _, v := range out {
			if v.ID != ended.ID {
				kept = append(kept, v)
			}
		}
		out = append(kept, GiftView{GiftRequest: ended})
		sortBySeq(out)
		return nil
	})
	return out, err
}

// sortBySeq orders views by creation (queue order); the lists are tiny.
func sortBySeq(vs []GiftView) {
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && vs[j].Seq < vs[j-1].Seq; j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

// SweepGiftTimeouts fails served requests whose deadline has come
// (selection_timeout after 60 s, confirmation_timeout after 5 minutes) and
// promotes the next request of each queue. Every replica runs it every 5 s;
// the streamer's lock and the guarded update make each timeout happen once.
// It returns how many requests it failed.
func (s *Service) SweepGiftTimeouts(ctx context.Context) (int, error) {
	now := s.clock()
	var due []mgm.GiftRequest
	var stalled []string
	if err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if due, err = tx.DueGiftRequests(ctx, now); err != nil {
			return err
		}
		stalled, err = tx.GiftStreamersAwaitingPromotion(ctx)
		return err
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range due {
		var moves []giftMove
		var reason string
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			moves, reason = nil, ""
			if err := tx.Lock(ctx, giftLockKey(d.StreamerID)); err != nil {
				return err
			}
			g, err := tx.GiftRequest(ctx, d.ID)
			if err != nil {
				return err
			}
			r, isDue := g.TimedOut(now)
			if !isDue {
				return nil // another replica or a Desktop route got there first
			}
			if _, err := s.moveGiftInTx(ctx, tx, g, mgm.GiftFailed, r, nil, now, &moves); err != nil {
				return err
			}
			reason = r
			return nil
		})
		if err != nil {
			return n, err
		}
		s.reportGiftMoves(moves)
		if reason != "" {
			n++
			s.log.WarnContext(ctx, "gift request timed out", "gift_id", d.ID, "streamer_id", d.StreamerID, "reason", reason)
		}
	}
	// A queue with Pending requests and none served is never left behind by
	// the use cases; should one appear anyway, serve it.
	for _, streamer := range stalled {
		var moves []giftMove
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			moves = nil
			if err := tx.Lock(ctx, giftLockKey(streamer)); err != nil {
				return err
			}
			_, err := s.promoteGiftInTx(ctx, tx, streamer, now, &moves)
			return err
		})
		if err != nil {
			return n, err
		}
		s.reportGiftMoves(moves)
	}
	s.obs.SweepRun("gift_timeouts", n)
	return n, nil
}

func (s *Service) runGiftSweep(ctx context.Context) {
	jobCtx, cancel := context.WithTimeout(ctx, jobTimeout)
	defer cancel()
	if _, err := s.SweepGiftTimeouts(jobCtx); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "gift timeout sweep failed", "error", err)
	}
}
