package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const payoutColumns = `id, twitch_user_id, twitch_display_name, character_name, gold_amount, enrollment_request_id,
	status, created_at, updated_at, accepted_at, spin_cycle_id, reward_announced`

func scanPayout(row scanner) (mgm.Payout, error) {
	var p mgm.Payout
	var created, updated Time
	var accepted NullTime
	var cycle sql.NullString
	var status string
	err := row.Scan(&p.ID, &p.TwitchUserID, &p.TwitchDisplayName, &p.CharacterName, &p.GoldAmount,
		&p.EnrollmentRequestID, &status, &created, &updated, &accepted, &cycle, &p.IsRewardSentAnnouncedToChat)
	if err != nil {
		return mgm.Payout{}, err
	}
	p.Status = mgm.PayoutStatus(status)
	p.CreatedAt, p.UpdatedAt, p.AcceptedAt = created.Time, updated.Time, accepted.Ptr()
	p.SpinCycleID = cycle.String
	return p, nil
}

// InsertPayout stores a new payout. The database refuses a second active
// payout for one viewer, a reused enrollment request id and a second payout
// for one spin cycle.
func (tx *Tx) InsertPayout(ctx context.Context, p mgm.Payout) error {
	var cycle any
	if p.SpinCycleID != "" {
		cycle = p.SpinCycleID
	}
	_, err := tx.exec(ctx, `INSERT INTO payouts (id, twitch_user_id, twitch_display_name, character_name, gold_amount,
		enrollment_request_id, status, created_at, updated_at, accepted_at, spin_cycle_id, reward_announced)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.TwitchUserID, p.TwitchDisplayName, p.CharacterName, p.GoldAmount, p.EnrollmentRequestID,
		string(p.Status), tx.d.Time(p.CreatedAt), tx.d.Time(p.UpdatedAt), tx.nullTime(p.AcceptedAt), cycle,
		p.IsRewardSentAnnouncedToChat)
	return err
}

// Payout returns one payout, or ErrNotFound.
func (tx *Tx) Payout(ctx context.Context, id string) (mgm.Payout, error) {
	p, err := scanPayout(tx.queryRow(ctx, `SELECT `+payoutColumns+` FROM payouts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return mgm.Payout{}, ErrNotFound
	}
	return p, err
}

// ViewerGold sums a viewer's payouts that count against the lifetime cap (Sent
// and active) and says whether one of them is active.
func (tx *Tx) ViewerGold(ctx context.Context, twitchUserID string) (hasActive bool, committed int64, err error) {
	var active int
	err = tx.queryRow(ctx, `SELECT
			COUNT(CASE WHEN status IN ('Pending', 'InProgress') THEN 1 END),
			COALESCE(SUM(CASE WHEN status IN ('Pending', 'InProgress', 'Sent') THEN gold_amount ELSE 0 END), 0)
		FROM payouts WHERE twitch_user_id = ?`, twitchUserID).Scan(&active, &committed)
	return active > 0, committed, err
}

// LatestPayout returns the viewer's newest payout whatever its status, or ErrNotFound.
func (tx *Tx) LatestPayout(ctx context.Context, twitchUserID string) (mgm.Payout, error) {
	p, err := scanPayout(tx.queryRow(ctx, `SELECT `+payoutColumns+` FROM payouts
		WHERE twitch_user_id = ? ORDER BY created_at DESC, id DESC LIMIT 1`, twitchUserID))
	if errors.Is(err, sql.ErrNoRows) {
		return mgm.Payout{}, ErrNotFound
	}
	return p, err
}

// PayoutsByStatus lists payouts with any of the statuses, oldest first.
func (tx *Tx) PayoutsByStatus(ctx context.Context, statuses ...mgm.PayoutStatus) ([]mgm.Payout, error) {
	if len(statuses) == 0 {
		return nil, nil
	}
	args := make([]any, len(statuses))
	for i, s := range statuses {
		args[i] = string(s)
	}
	rows, err := tx.query(ctx, `SELECT `+payoutColumns+` FROM payouts
		WHERE status IN (`+placeholders(len(statuses))+`) ORDER BY created_at, id`, args...)
	return collect(rows, err, scanPayout)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// SetPayoutStatus moves a payout from one status to another. It reports
// false when the payout was no longer in from (a concurrent change won).
func (tx *Tx) SetPayoutStatus(ctx context.Context, id string, from, to mgm.PayoutStatus, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE payouts SET status = ?, updated_at = ? WHERE id = ? AND status = ?`,
		string(to), tx.d.Time(at), id, string(from))
	return affectedOne(res, err)
}

// SetAccepted records the winner's consent once.
func (tx *Tx) SetAccepted(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE payouts SET accepted_at = ?, updated_at = ? WHERE id = ? AND accepted_at IS NULL`,
		tx.d.Time(at), tx.d.Time(at), id)
	return affectedOne(res, err)
}

// ClaimAnnouncement takes the right to post a Sent payout's reward line now:
// one attempt at a time, and none once an outcome is recorded. The claim time
// is the attempt's token for ReleaseAnnouncement.
func (tx *Tx) ClaimAnnouncement(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE payouts SET announce_claimed_at = ?
		WHERE id = ? AND status = 'Sent' AND announce_claimed_at IS NULL AND announce_outcome IS NULL AND reward_announced = ?`,
		tx.d.Time(at), id, false)
	return affectedOne(res, err)
}

// ReleaseAnnouncement gives the claim taken at claimedAt back after an attempt
// that Helix refused, so that a later attempt may post.
func (tx *Tx) ReleaseAnnouncement(ctx context.Context, id string, claimedAt time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE payouts SET announce_claimed_at = NULL
		WHERE id = ? AND announce_claimed_at = ? AND announce_outcome IS NULL`, id, tx.d.Time(claimedAt))
	return affectedOne(res, err)
}

// Announcement outcomes.
const (
	AnnouncementSent   = "sent"
	AnnouncementFailed = "failed"
)

// FinishAnnouncement records the announcement's outcome once; it reports
// false when one was already recorded. "sent" also sets reward_announced.
func (tx *Tx) FinishAnnouncement(ctx context.Context, id, outcome string, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE payouts SET announce_outcome = ?, reward_announced = ?, updated_at = ?
		WHERE id = ? AND announce_outcome IS NULL`, outcome, outcome == AnnouncementSent, tx.d.Time(at), id)
	return affectedOne(res, err)
}

// AnnouncementState reports whether an attempt holds the claim and which
// outcome is recorded ("" for none yet).
func (tx *Tx) AnnouncementState(ctx context.Context, id string) (claimed bool, outcome string, err error) {
	var at, out sql.NullString
	err = tx.queryRow(ctx, `SELECT CAST(announce_claimed_at AS TEXT), announce_outcome FROM payouts WHERE id = ?`, id).Scan(&at, &out)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", ErrNotFound
	}
	return at.Valid, out.String, err
}

// StaleActivePayouts lists active payouts created before the cutoff.
func (tx *Tx) StaleActivePayouts(ctx context.Context, createdBefore time.Time) ([]mgm.Payout, error) {
	rows, err := tx.query(ctx, `SELECT `+payoutColumns+` FROM payouts
		WHERE status IN ('Pending', 'InProgress') AND created_at < ? ORDER BY created_at, id`, tx.d.Time(createdBefore))
	return collect(rows, err, scanPayout)
}
