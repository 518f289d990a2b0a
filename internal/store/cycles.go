package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const cycleColumns = `id, window_start, candidate_twitch_user_id, candidate_display_name, candidate_character_name,
	drawn_at, outcome, payout_id, decided_at`

func scanCycle(row scanner) (mgm.SpinCycle, error) {
	var c mgm.SpinCycle
	var start Time
	var drawn, decided NullTime
	var userID, display, name, outcome, payout sql.NullString
	if err := row.Scan(&c.ID, &start, &userID, &display, &name, &drawn, &outcome, &payout, &decided); err != nil {
		return mgm.SpinCycle{}, err
	}
	c.Start, c.DrawnAt, c.DecidedAt = start.Time, drawn.Ptr(), decided.Ptr()
	c.Outcome, c.PayoutID = mgm.CycleOutcome(outcome.String), payout.String
	if userID.Valid {
		c.Candidate = &mgm.Candidate{TwitchUserID: userID.String, TwitchDisplayName: display.String, CharacterName: name.String}
	}
	return c, nil
}

func (tx *Tx) oneCycle(ctx context.Context, where string, args ...any) (mgm.SpinCycle, error) {
	c, err := scanCycle(tx.queryRow(ctx, `SELECT `+cycleColumns+` FROM spin_cycles WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return mgm.SpinCycle{}, ErrNotFound
	}
	return c, err
}

// EnsureCycle returns the cycle of the window starting at start, creating it
// with newID if it does not exist. Replicas racing here all get the one row.
func (tx *Tx) EnsureCycle(ctx context.Context, newID string, start, now time.Time) (mgm.SpinCycle, bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO spin_cycles (id, window_start, created_at) VALUES (?, ?, ?)
		ON CONFLICT (window_start) DO NOTHING`, newID, tx.d.Time(start), tx.d.Time(now))
	if err != nil {
		return mgm.SpinCycle{}, false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return mgm.SpinCycle{}, false, err
	}
	c, err := tx.CycleAt(ctx, start)
	return c, n == 1, err
}

// CycleAt returns the cycle of the window starting at start, or ErrNotFound.
func (tx *Tx) CycleAt(ctx context.Context, start time.Time) (mgm.SpinCycle, error) {
	return tx.oneCycle(ctx, `window_start = ?`, tx.d.Time(start))
}

// Cycle returns a cycle by id, or ErrNotFound.
func (tx *Tx) Cycle(ctx context.Context, id string) (mgm.SpinCycle, error) {
	return tx.oneCycle(ctx, `id = ?`, id)
}

// LastDecidedCycle returns the newest cycle with an outcome, or ErrNotFound.
func (tx *Tx) LastDecidedCycle(ctx context.Context) (mgm.SpinCycle, error) {
	return tx.oneCycle(ctx, `outcome IS NOT NULL ORDER BY window_start DESC LIMIT 1`)
}

// RecentWinners returns the newest cycles won, newest first, at most limit
// (the partial index spin_cycles_winners keeps it from reading cycles
// without a winner).
func (tx *Tx) RecentWinners(ctx context.Context, limit int) ([]mgm.SpinCycle, error) {
	rows, err := tx.query(ctx, `SELECT `+cycleColumns+` FROM spin_cycles
		WHERE outcome = 'winner' ORDER BY window_start DESC LIMIT ?`, limit)
	return collect(rows, err, scanCycle)
}

// UndecidedCycles lists cycles without an outcome that started at or before
// the given time, oldest first.
func (tx *Tx) UndecidedCycles(ctx context.Context, startedBy time.Time) ([]mgm.SpinCycle, error) {
	rows, err := tx.query(ctx, `SELECT `+cycleColumns+` FROM spin_cycles
		WHERE outcome IS NULL AND window_start <= ? ORDER BY window_start`, tx.d.Time(startedBy))
	return collect(rows, err, scanCycle)
}

// SetCandidate records the draw. It changes nothing (and reports false) when
// the cycle was already drawn or decided: the draw happens once.
func (tx *Tx) SetCandidate(ctx context.Context, cycleID string, c mgm.Candidate, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE spin_cycles SET candidate_twitch_user_id = ?, candidate_display_name = ?,
			candidate_character_name = ?, drawn_at = ?
		WHERE id = ? AND drawn_at IS NULL AND outcome IS NULL`,
		c.TwitchUserID, c.TwitchDisplayName, c.CharacterName, tx.d.Time(at), cycleID)
	return affectedOne(res, err)
}

// DecideCycle records a cycle's outcome once; it reports false when it was
// already decided.
func (tx *Tx) DecideCycle(ctx context.Context, cycleID string, outcome mgm.CycleOutcome, payoutID string, at time.Time) (bool, error) {
	var payout any
	if payoutID != "" {
		payout = payoutID
	}
	res, err := tx.exec(ctx, `UPDATE spin_cycles SET outcome = ?, payout_id = ?, decided_at = ?
		WHERE id = ? AND outcome IS NULL`, string(outcome), payout, tx.d.Time(at), cycleID)
	return affectedOne(res, err)
}

// ForceCandidate replaces a cycle's candidate and reopens it unless it already
// has a winner (test harness only).
func (tx *Tx) ForceCandidate(ctx context.Context, cycleID string, c mgm.Candidate, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE spin_cycles SET candidate_twitch_user_id = ?, candidate_display_name = ?,
			candidate_character_name = ?, drawn_at = ?, outcome = NULL, decided_at = NULL
		WHERE id = ? AND (outcome IS NULL OR outcome <> 'winner')`,
		c.TwitchUserID, c.TwitchDisplayName, c.CharacterName, tx.d.Time(at), cycleID)
	return affectedOne(res, err)
}

// PoolMember is a pool row with what decides whether it may be drawn.
type PoolMember struct {
	mgm.PoolEntry
	HasActivePayout bool
	CommittedGold   int64
}

// PoolMembers lists the pool in enrollment order with each member's payouts
// summed. It reads the whole pool: the draw uses it only when random slots
// keep missing (see app's draw).
func (tx *Tx) PoolMembers(ctx context.Context) ([]PoolMember, error) {
	rows, err := tx.query(ctx, `SELECT p.twitch_user_id, p.twitch_display_name, p.character_name, p.enrolled_at,
			COALESCE(g.active, 0), COALESCE(g.committed, 0)
		FROM pool p LEFT JOIN (`+payoutTotals+`) g ON g.twitch_user_id = p.twitch_user_id
		ORDER BY p.enrolled_at, p.twitch_user_id`)
	return collect(rows, err, scanPoolMember)
}

// PoolMembersWithPayouts lists the members that have any payout, with their
// payouts summed: the only members the rules may find ineligible. It reads
// the payouts, which grow by at most one per cycle, not the pool.
func (tx *Tx) PoolMembersWithPayouts(ctx context.Context) ([]PoolMember, error) {
	rows, err := tx.query(ctx, `SELECT p.twitch_user_id, p.twitch_display_name, p.character_name, p.enrolled_at,
			g.active, g.committed
		FROM (`+payoutTotals+`) g JOIN pool p ON p.twitch_user_id = g.twitch_user_id`)
	return collect(rows, err, scanPoolMember)
}

// payoutTotals sums each viewer's payouts as ViewerGold does.
const payoutTotals = `SELECT twitch_user_id,
			COUNT(CASE WHEN status IN ('Pending', 'InProgress') THEN 1 END) AS active,
			COALESCE(SUM(CASE WHEN status IN ('Pending', 'InProgress', 'Sent') THEN gold_amount ELSE 0 END), 0) AS committed
		FROM payouts GROUP BY twitch_user_id`

func scanPoolMember(row scanner) (PoolMember, error) {
	var m PoolMember
	var at Time
	var active int
	err := row.Scan(&m.TwitchUserID, &m.TwitchDisplayName, &m.CharacterName, &at, &active, &m.CommittedGold)
	m.EnrolledAt, m.HasActivePayout = at.Time, active > 0
	return m, err
}

func affectedOne(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// IsLifetimeCapViolation reports whether err is the database refusing a
// payout over the lifetime cap (the payouts_lifetime_cap trigger).
func IsLifetimeCapViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "payouts_lifetime_cap")
}
