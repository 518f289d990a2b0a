package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// Controls reads the streamer's switches (migration 0011's one row).
func (tx *Tx) Controls(ctx context.Context) (mgm.Controls, error) {
	var c mgm.Controls
	var pausedAt, resumedAt, liveAt NullTime
	var by sql.NullString
	var live sql.NullBool
	err := tx.queryRow(ctx, `SELECT paused, paused_at, paused_by, resumed_at, stream_live, stream_live_at
		FROM roulette_controls WHERE id = 1`).Scan(&c.Paused, &pausedAt, &by, &resumedAt, &live, &liveAt)
	c.PausedAt, c.PausedBy, c.ResumedAt, c.LiveAt = pausedAt.Time, by.String, resumedAt.Time, liveAt.Time
	switch {
	case !live.Valid:
		c.Live = mgm.LiveUnknown
	case live.Bool:
		c.Live = mgm.LiveOnline
	default:
		c.Live = mgm.LiveOffline
	}
	return c, err
}

// Pause records a pause; it reports false when the roulette was already paused.
func (tx *Tx) Pause(ctx context.Context, by string, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE roulette_controls SET paused = ?, paused_at = ?, paused_by = ?
		WHERE id = 1 AND paused = ?`, true, tx.d.Time(at), by, false)
	return affectedOne(res, err)
}

// Resume ends a pause; it reports false when the roulette was not paused.
func (tx *Tx) Resume(ctx context.Context, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE roulette_controls SET paused = ?, paused_at = NULL, paused_by = NULL, resumed_at = ?
		WHERE id = 1 AND paused = ?`, false, tx.d.Time(at), true)
	return affectedOne(res, err)
}

// SetLive records what EventSub said of the stream; it reports false when
// the stored status was already that.
func (tx *Tx) SetLive(ctx context.Context, live bool, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE roulette_controls SET stream_live = ?, stream_live_at = ?
		WHERE id = 1 AND (stream_live IS NULL OR stream_live <> ?)`, live, tx.d.Time(at), live)
	return affectedOne(res, err)
}

// GoldCommittedBetween sums the gold of payouts created in [from, to) that
// still count against the daily budget: every status but Cancelled, Failed
// and Expired (gold that will not be given).
func (tx *Tx) GoldCommittedBetween(ctx context.Context, from, to time.Time) (int64, error) {
	var n int64
	err := tx.queryRow(ctx, `SELECT COALESCE(SUM(gold_amount), 0) FROM payouts
		WHERE created_at >= ? AND created_at < ? AND status IN ('Pending', 'InProgress', 'Sent')`,
		tx.d.Time(from), tx.d.Time(to)).Scan(&n)
	return n, err
}

// winColumns read a viewer's latest win from cycles won (joined to their
// payouts) grouped by viewer: wins whose payout was Cancelled or Failed do
// not count (the streamer took the win back), Expired and the rest do.
const winColumns = `SELECT c.candidate_twitch_user_id, MAX(c.window_start), MAX(p.created_at)
		FROM spin_cycles c JOIN payouts p ON p.id = c.payout_id
		WHERE c.outcome = 'winner' AND p.status NOT IN ('Cancelled', 'Failed')`

// PoolWinsSince returns, for each pool member who won a cycle whose window
// started at or after since, their latest win.
func (tx *Tx) PoolWinsSince(ctx context.Context, since time.Time) (map[string]mgm.Win, error) {
	rows, err := tx.query(ctx, winColumns+` AND c.window_start >= ?
			AND c.candidate_twitch_user_id IN (SELECT twitch_user_id FROM pool)
		GROUP BY c.candidate_twitch_user_id`, tx.d.Time(since))
	type uw struct {
		id string
		w  mgm.Win
	}
	ws, err := collect(rows, err, func(row scanner) (uw, error) {
		var x uw
		var start, at Time
		err := row.Scan(&x.id, &start, &at)
		x.w = mgm.Win{WindowStart: start.Time, At: at.Time}
		return x, err
	})
	out := make(map[string]mgm.Win, len(ws))
	for _, x := range ws {
		out[x.id] = x.w
	}
	return out, err
}

// LatestWin returns the viewer's latest counted win; ok is false for none.
func (tx *Tx) LatestWin(ctx context.Context, twitchUserID string) (mgm.Win, bool, error) {
	var id sql.NullString
	var start, at NullTime
	err := tx.queryRow(ctx, winColumns+` AND c.candidate_twitch_user_id = ?
		GROUP BY c.candidate_twitch_user_id`, twitchUserID).Scan(&id, &start, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return mgm.Win{}, false, nil
	}
	return mgm.Win{WindowStart: start.Time, At: at.Time}, err == nil && start.Valid, err
}

// Ban is one banned viewer.
type Ban struct {
	TwitchUserID      string
	TwitchDisplayName string // as far as known when banned ("" when not)
	CharacterName     string // their pool name when banned ("" when not in the pool)
	Reason            string
	BannedBy          string
	BannedAt          time.Time
}

// PutBan records a ban; it reports false when the viewer was already banned
// (the stored ban is kept).
func (tx *Tx) PutBan(ctx context.Context, b Ban) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO bans (twitch_user_id, twitch_display_name, character_name, reason, banned_by, banned_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (twitch_user_id) DO NOTHING`,
		b.TwitchUserID, b.TwitchDisplayName, b.CharacterName, b.Reason, b.BannedBy, tx.d.Time(b.BannedAt))
	return affectedOne(res, err)
}

// DeleteBan lifts a ban; it reports whether there was one.
func (tx *Tx) DeleteBan(ctx context.Context, twitchUserID string) (bool, error) {
	res, err := tx.exec(ctx, `DELETE FROM bans WHERE twitch_user_id = ?`, twitchUserID)
	return affectedOne(res, err)
}

const banColumns = `twitch_user_id, twitch_display_name, character_name, reason, banned_by, banned_at`

func scanBan(row scanner) (Ban, error) {
	var b Ban
	var at Time
	err := row.Scan(&b.TwitchUserID, &b.TwitchDisplayName, &b.CharacterName, &b.Reason, &b.BannedBy, &at)
	b.BannedAt = at.Time
	return b, err
}

// BanOf returns the viewer's ban, or ErrNotFound.
func (tx *Tx) BanOf(ctx context.Context, twitchUserID string) (Ban, error) {
	b, err := scanBan(tx.queryRow(ctx, `SELECT `+banColumns+` FROM bans WHERE twitch_user_id = ?`, twitchUserID))
	if errors.Is(err, sql.ErrNoRows) {
		return Ban{}, ErrNotFound
	}
	return b, err
}

// BanByName returns the ban recorded with a character name (by its
// case-folded key compared in Go: bans are few), or ErrNotFound.
func (tx *Tx) BanByName(ctx context.Context, name string) (Ban, error) {
	bans, err := tx.Bans(ctx)
	if err != nil {
		return Ban{}, err
	}
	for _, b := range bans {
		if b.CharacterName != "" && mgm.SameCharacterName(b.CharacterName, name) {
			return b, nil
		}
	}
	return Ban{}, ErrNotFound
}

// Bans lists every ban, newest first.
func (tx *Tx) Bans(ctx context.Context) ([]Ban, error) {
	rows, err := tx.query(ctx, `SELECT `+banColumns+` FROM bans ORDER BY banned_at DESC, twitch_user_id`)
	return collect(rows, err, scanBan)
}

// PoolEntryByName returns the member holding a character name
// (case-insensitively), or ErrNotFound.
func (tx *Tx) PoolEntryByName(ctx context.Context, name string) (mgm.PoolEntry, error) {
	e, err := scanPoolEntry(tx.queryRow(ctx, `SELECT `+poolColumns+` FROM pool WHERE name_key = ?`, mgm.NameKey(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return mgm.PoolEntry{}, ErrNotFound
	}
	return e, err
}

// IsBanViolation reports whether err is the database refusing a banned
// viewer's pool row (the pool_not_banned trigger).
func IsBanViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "pool_not_banned")
}

// HistoryEvent is an event with its position in the whole log.
type HistoryEvent struct {
	ID int64
	Event
}

// EventsPage returns up to limit events with at in [from, to), after the
// position (at, id) of the last one read (afterID 0: from the start), in
// time order.
func (tx *Tx) EventsPage(ctx context.Context, from, to time.Time, afterAt time.Time, afterID int64, limit int) ([]HistoryEvent, error) {
	rows, err := tx.query(ctx, `SELECT id, stream_id, version, type, data, at FROM events
		WHERE at >= ? AND at < ? AND (at > ? OR (at = ? AND id > ?))
		ORDER BY at, id LIMIT ?`,
		tx.d.Time(from), tx.d.Time(to), tx.d.Time(afterAt), tx.d.Time(afterAt), afterID, limit)
	return collect(rows, err, func(row scanner) (HistoryEvent, error) {
		var e HistoryEvent
		var data string
		var at Time
		err := row.Scan(&e.ID, &e.StreamID, &e.Version, &e.Type, &data, &at)
		e.Data, e.At = json.RawMessage(data), at.Time
		return e, err
	})
}

// PayoutsPage returns up to limit payouts created in [from, to), after the
// position (created_at, id) of the last one read, oldest first.
func (tx *Tx) PayoutsPage(ctx context.Context, from, to time.Time, afterAt time.Time, afterID string, limit int) ([]mgm.Payout, error) {
	// id is compared as text: a uuid on PostgreSQL, text on SQLite.
	rows, err := tx.query(ctx, `SELECT `+payoutColumns+` FROM payouts
		WHERE created_at >= ? AND created_at < ? AND (created_at > ? OR (created_at = ? AND CAST(id AS TEXT) > ?))
		ORDER BY created_at, CAST(id AS TEXT) LIMIT ?`,
		tx.d.Time(from), tx.d.Time(to), tx.d.Time(afterAt), tx.d.Time(afterAt), afterID, limit)
	return collect(rows, err, scanPayout)
}

// CountHistory counts the payouts created and the events appended in [from, to).
func (tx *Tx) CountHistory(ctx context.Context, from, to time.Time) (payouts, events int, err error) {
	err = tx.queryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM payouts WHERE created_at >= ? AND created_at < ?),
			(SELECT COUNT(*) FROM events WHERE at >= ? AND at < ?)`,
		tx.d.Time(from), tx.d.Time(to), tx.d.Time(from), tx.d.Time(to)).Scan(&payouts, &events)
	return payouts, events, err
}
