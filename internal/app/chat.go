package app

import (
	"context"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// ChatMessage is a Twitch chat line as far as the game cares.
type ChatMessage struct {
	// DeliveryID is the EventSub message id (the delivery), used to process
	// each delivery once; it falls back to MessageID when absent.
	DeliveryID    string
	MessageID     string
	BroadcasterID string
	Viewer        mgm.Viewer
	Text          string
	IsSubscriber  bool
	// IsModerator: the chatter is the broadcaster or a moderator (their
	// badges), who may use the !mgm control commands.
	IsModerator bool
}

// Outcome says what handling a message did, for logs and metrics. Rejections
// are outcomes, not errors: chat has nobody to report them to.
type Outcome string

const (
	OutcomeDuplicate    Outcome = "duplicate"
	OutcomeIgnored      Outcome = "ignored"
	OutcomeWrongChannel Outcome = "wrong_channel"
	OutcomeEnrolled     Outcome = "enrolled"
)

// Rejected is the outcome of a command the rules turned down.
func Rejected(code mgm.Code) Outcome { return Outcome("rejected_" + string(code)) }

// RecordDelivery marks an EventSub delivery processed without acting on it
// (verification, revocation, other subscription types). It reports false for
// a redelivery.
func (s *Service) RecordDelivery(ctx context.Context, deliveryID, messageType string) (bool, error) {
	if deliveryID == "" {
		return true, nil
	}
	var fresh bool
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		fresh, err = tx.MarkMessageProcessed(ctx, deliveryID, messageType, s.clock())
		return err
	})
	return fresh, err
}

// DeliveryDedupeWindow is how long an EventSub delivery id is remembered.
// Twitch redelivers for up to about a day (ebs.md asks for at least 24 h);
// twice that leaves room for clock skew and a sweep that ran late.
const DeliveryDedupeWindow = 48 * time.Hour

// PruneDeliveries forgets delivery ids older than DeliveryDedupeWindow. Every
// chat line of the channel records one, not only commands, so without this
// the table grows for as long as the channel chats. It returns how many were
// forgotten; replicas pruning at once delete each row once.
func (s *Service) PruneDeliveries(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.PruneMessages(ctx, s.clock().Add(-DeliveryDedupeWindow))
		return err
	})
	if err == nil {
		s.obs.SweepRun("eventsub_dedupe", int(n))
	}
	return n, err
}

// HandleChatMessage applies a chat command exactly once per delivery: the
// delivery id is recorded in the same transaction as the enrollment, so a
// redelivery, even a concurrent one, finds it and does nothing.
//
// Enrollments and plain chat lines are committed in groups (see
// ingestBatcher): a raid's worth of "!twgold" lines costs a few transactions,
// not one each. The answer still comes only after the commit that holds it;
// the roulette snapshot catches up right after (Refresh waits for it).
func (s *Service) HandleChatMessage(ctx context.Context, m ChatMessage) (Outcome, error) {
	if m.DeliveryID == "" {
		m.DeliveryID = m.MessageID
	}
	if !storable(m.DeliveryID, m.MessageID, m.BroadcasterID, m.Viewer.UserID, m.Viewer.DisplayName) {
		return "", errUnstorable("The message's ids and names")
	}
	if s.broadcasterID != "" && m.BroadcasterID != "" && m.BroadcasterID != s.broadcasterID {
		return OutcomeWrongChannel, nil
	}
	c := parseChat(m)
	var outcome Outcome
	var err error
	if c.mod != nil || (c.ok && c.cmd == mgm.CommandTwGift) {
		// Gift and control commands are never grouped: each is its own
		// transaction, like any other change the streamer makes.
		outcome, err = s.handleChatAlone(ctx, c)
	} else {
		outcome, err = s.ingest.submit(ctx, c)
	}
	if err == nil && (outcome == OutcomeEnrolled || IsControlOutcome(outcome)) {
		// Not waited for: a chat line has nobody watching for its effect,
		// and under a burst the refreshes are spaced out (coalescer.duty)
		// while the webhooks must be answered. Viewers see the new member
		// within a few milliseconds, at most maxPause plus one read later.
		s.refresher.Kick(ctx)
	}
	return outcome, err
}

// chatLine is a chat message with its command parsed.
type chatLine struct {
	m   ChatMessage
	cmd mgm.ChatCommand
	arg string
	ok  bool // a command from a known viewer
	// mod is a !mgm control command from a known viewer (ok is false then).
	mod *mgm.ModCommand
}

func parseChat(m ChatMessage) chatLine {
	if mc, ok := mgm.ParseModCommand(m.Text); ok && m.Viewer.UserID != "" {
		return chatLine{m: m, mod: &mc}
	}
	cmd, arg, ok := mgm.ParseChatCommand(m.Text)
	return chatLine{m: m, cmd: cmd, arg: arg, ok: ok && m.Viewer.UserID != ""}
}

// lockKeys are the keys handling the line locks; a group commit takes all of
// its lines' keys at once, in the dialect's fixed order, so that groups
// cannot deadlock with each other or with single transactions.
func (c chatLine) lockKeys() []string {
	if !c.ok || c.cmd != mgm.CommandTwGold {
		return nil
	}
	return enrollmentKeys(c.m.Viewer.UserID, c.arg)
}

// handleInTx records the delivery and applies the command inside tx. Rules
// that turn the command down are outcomes, not errors; an error means the
// transaction (or the savepoint around this line) must be rolled back.
func (s *Service) handleInTx(ctx context.Context, tx *store.Tx, c chatLine, now time.Time, giftMoves *[]giftMove) (Outcome, error) {
	if c.m.DeliveryID != "" {
		fresh, err := tx.MarkMessageProcessed(ctx, c.m.DeliveryID, "notification", now)
		if err != nil {
			return "", err
		}
		if !fresh {
			return OutcomeDuplicate, nil
		}
	}
	return s.applyInTx(ctx, tx, c, now, giftMoves)
}

// applyInTx applies a line whose delivery was just recorded as new.
func (s *Service) applyInTx(ctx context.Context, tx *store.Tx, c chatLine, now time.Time, giftMoves *[]giftMove) (Outcome, error) {
	if c.mod != nil {
		return s.controlInTx(ctx, tx, c, now)
	}
	if !c.ok {
		return OutcomeIgnored, nil
	}
	if c.cmd == mgm.CommandTwGift {
		// !twgift: the gift request is created in this same transaction.
		return s.chatGiftInTx(ctx, tx, c.m, c.arg, now, giftMoves)
	}
	e := chatEnrollment(c)
	_, err := s.enrollInTx(ctx, tx, e, now)
	if err == nil {
		return OutcomeEnrolled, nil
	}
	if code := mgm.ErrorCode(err); code == mgm.CodeBanned {
		return Rejected(code), recordBannedAttempt(ctx, tx, e, now)
	} else if code != mgm.CodeInternal {
		// A rejection still consumes the delivery; nothing else is written.
		return Rejected(code), nil
	}
	return "", err
}

// handleChatAlone handles one line in a transaction of its own.
func (s *Service) handleChatAlone(ctx context.Context, c chatLine) (Outcome, error) {
	var outcome Outcome
	var giftMoves []giftMove
	attempt := func(tx *store.Tx) error {
		giftMoves = nil
		var err error
		outcome, err = s.handleInTx(ctx, tx, c, s.clock(), &giftMoves)
		return err
	}
	// A constraint can still refuse the write when a concurrent transaction
	// got there first (translate turns that into a domain error). Run again:
	// the checks then see the winner, reject cleanly and record the delivery.
	var err error
	for range 3 {
		if err = s.inTx(ctx, attempt); mgm.ErrorCode(err) == mgm.CodeInternal {
			break
		}
	}
	if err != nil && mgm.ErrorCode(err) != mgm.CodeInternal {
		if c.cmd == mgm.CommandTwGift {
			return GiftRejected(mgm.ErrorCode(err)), nil
		}
		return Rejected(mgm.ErrorCode(err)), nil
	}
	if err != nil {
		return "", err
	}
	s.reportGiftMoves(giftMoves)
	return outcome, nil
}
