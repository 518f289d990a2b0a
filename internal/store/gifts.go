package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const giftColumns = `id, streamer_id, seq, viewer_id, viewer_display_name, character_name, state, selected_item,
	created_at, updated_at, timeout_at, failure_reason`

// The states as SQL literals, for the queries below.
const (
	giftOpenStates   = `('Pending', 'SelectingItem', 'WaitingConfirmation')`
	giftServedStates = `('SelectingItem', 'WaitingConfirmation')`
)

// giftItemJSON is how a selected item is stored (its JSON column).
type giftItemJSON struct {
	Name    string `json:"name"`
	ID      int    `json:"id"`
	Count   int    `json:"count"`
	Link    string `json:"link"`
	Texture string `json:"texture"`
	BagID   int    `json:"bagId"`
	SlotID  int    `json:"slotId"`
}

func encodeGiftItem(it *mgm.GiftItem) (any, error) {
	if it == nil {
		return nil, nil
	}
	b, err := json.Marshal(giftItemJSON(*it))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func scanGift(row scanner) (mgm.GiftRequest, error) {
	var g mgm.GiftRequest
	var state string
	var item, reason sql.NullString
	var created, updated Time
	var timeout NullTime
	err := row.Scan(&g.ID, &g.StreamerID, &g.Seq, &g.ViewerID, &g.ViewerDisplayName, &g.CharacterName, &state, &item,
		&created, &updated, &timeout, &reason)
	if err != nil {
		return mgm.GiftRequest{}, err
	}
	g.State, g.FailureReason = mgm.GiftState(state), reason.String
	g.CreatedAt, g.UpdatedAt, g.TimeoutAt = created.Time, updated.Time, timeout.Ptr()
	if item.Valid {
		var it giftItemJSON
		if err := json.Unmarshal([]byte(item.String), &it); err != nil {
			return mgm.GiftRequest{}, fmt.Errorf("gift request %s: stored item: %w", g.ID, err)
		}
		gi := mgm.GiftItem(it)
		g.SelectedItem = &gi
	}
	return g, nil
}

func (tx *Tx) gifts(ctx context.Context, where string, args ...any) ([]mgm.GiftRequest, error) {
	rows, err := tx.query(ctx, `SELECT `+giftColumns+` FROM gift_requests WHERE `+where, args...)
	return collect(rows, err, scanGift)
}

// GiftOrigin says where a request came from, for the record.
type GiftOrigin struct {
	Source    string // "chat" or "panel"
	MessageID string // the chat message id, for chat
}

// InsertGiftRequest stores a new request as the streamer's next in line: its
// seq is one more than the streamer's highest. The caller holds the
// streamer's lock, so the unique (streamer, seq) index is only a safety net;
// the partial unique indexes refuse a second open request of one viewer and
// a second request served at once. g.Seq is set from the database.
func (tx *Tx) InsertGiftRequest(ctx context.Context, g *mgm.GiftRequest, o GiftOrigin) error {
	err := tx.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM gift_requests WHERE streamer_id = ?`, g.StreamerID).Scan(&g.Seq)
	if err != nil {
		return err
	}
	item, err := encodeGiftItem(g.SelectedItem)
	if err != nil {
		return err
	}
	var msg, reason any
	if o.MessageID != "" {
		msg = o.MessageID
	}
	if g.FailureReason != "" {
		reason = g.FailureReason
	}
	_, err = tx.exec(ctx, `INSERT INTO gift_requests (id, streamer_id, seq, viewer_id, viewer_display_name, character_name,
			state, selected_item, created_at, updated_at, timeout_at, failure_reason, source, message_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.StreamerID, g.Seq, g.ViewerID, g.ViewerDisplayName, g.CharacterName, string(g.State), item,
		tx.d.Time(g.CreatedAt), tx.d.Time(g.UpdatedAt), tx.nullTime(g.TimeoutAt), reason, o.Source, msg)
	return err
}

// GiftRequest returns one request by its (canonical) id, or ErrNotFound.
func (tx *Tx) GiftRequest(ctx context.Context, id string) (mgm.GiftRequest, error) {
	g, err := scanGift(tx.queryRow(ctx, `SELECT `+giftColumns+` FROM gift_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return mgm.GiftRequest{}, ErrNotFound
	}
	return g, err
}

// OpenGiftRequests lists a streamer's non-terminal requests in queue order.
func (tx *Tx) OpenGiftRequests(ctx context.Context, streamerID string) ([]mgm.GiftRequest, error) {
	return tx.gifts(ctx, `streamer_id = ? AND state IN `+giftOpenStates+` ORDER BY seq`, streamerID)
}

// GiftViewerFacts says whether a viewer already completed a gift from the
// streamer and whether they have an open request there.
func (tx *Tx) GiftViewerFacts(ctx context.Context, streamerID, viewerID string) (hasCompleted, hasOpen bool, err error) {
	var completed, open int
	err = tx.queryRow(ctx, `SELECT
			COUNT(CASE WHEN state = 'Completed' THEN 1 END),
			COUNT(CASE WHEN state IN `+giftOpenStates+` THEN 1 END)
		FROM gift_requests WHERE streamer_id = ? AND viewer_id = ?`, streamerID, viewerID).Scan(&completed, &open)
	return completed > 0, open > 0, err
}

// LatestEndedGiftRequest returns the viewer's newest Completed or Failed
// request for the streamer that ended after since, or ErrNotFound.
func (tx *Tx) LatestEndedGiftRequest(ctx context.Context, streamerID, viewerID string, since time.Time) (mgm.GiftRequest, error) {
	gs, err := tx.gifts(ctx, `streamer_id = ? AND viewer_id = ? AND state IN ('Completed', 'Failed') AND updated_at > ?
		ORDER BY updated_at DESC, seq DESC LIMIT 1`, streamerID, viewerID, tx.d.Time(since))
	if err != nil {
		return mgm.GiftRequest{}, err
	}
	if len(gs) == 0 {
		return mgm.GiftRequest{}, ErrNotFound
	}
	return gs[0], nil
}

// UpdateGiftRequest writes g's state, item, deadline, reason and update time,
// provided the stored request is still in from. It reports false when it was
// not (a concurrent change won).
func (tx *Tx) UpdateGiftRequest(ctx context.Context, g mgm.GiftRequest, from mgm.GiftState) (bool, error) {
	item, err := encodeGiftItem(g.SelectedItem)
	if err != nil {
		return false, err
	}
	var reason any
	if g.FailureReason != "" {
		reason = g.FailureReason
	}
	res, err := tx.exec(ctx, `UPDATE gift_requests SET state = ?, selected_item = ?, updated_at = ?, timeout_at = ?,
			failure_reason = ?
		WHERE id = ? AND state = ?`,
		string(g.State), item, tx.d.Time(g.UpdatedAt), tx.nullTime(g.TimeoutAt), reason, g.ID, string(from))
	return affectedOne(res, err)
}

// DueGiftRequests lists served requests whose deadline is at or before now,
// earliest deadline first.
func (tx *Tx) DueGiftRequests(ctx context.Context, now time.Time) ([]mgm.GiftRequest, error) {
	return tx.gifts(ctx, `state IN `+giftServedStates+` AND timeout_at <= ? ORDER BY timeout_at, streamer_id, seq`, tx.d.Time(now))
}

// GiftStreamersAwaitingPromotion lists streamers with a Pending request and
// none served: a state the use cases never leave behind, which the sweep
// repairs should it ever happen.
func (tx *Tx) GiftStreamersAwaitingPromotion(ctx context.Context) ([]string, error) {
	rows, err := tx.query(ctx, `SELECT DISTINCT p.streamer_id FROM gift_requests p
		WHERE p.state = 'Pending' AND NOT EXISTS (
			SELECT 1 FROM gift_requests s WHERE s.streamer_id = p.streamer_id AND s.state IN `+giftServedStates+`)
		ORDER BY p.streamer_id`)
	return collect(rows, err, scanString)
}
