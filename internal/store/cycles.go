package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const cycleColumns = `id, window_start, candidate_twitch_user_id, candidate_display_name, candidate_character_name,
	drawn_at, outcome, payout_id, decided_at, draw_commitment`

func scanCycle(row scanner) (mgm.SpinCycle, error) {
	var c mgm.SpinCycle
	var start Time
	var drawn, decided NullTime
	var userID, display, name, outcome, payout, commitment sql.NullString
	if err := row.Scan(&c.ID, &start, &userID, &display, &name, &drawn, &outcome, &payout, &decided, &commitment); err != nil {
		return mgm.SpinCycle{}, err
	}
	c.Start, c.DrawnAt, c.DecidedAt, c.Commitment = start.Time, drawn.Ptr(), decided.Ptr(), commitment.String
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
// with newID and its draw seed if it does not exist. Replicas racing here all
// get the one row, and with it one seed.
func (tx *Tx) EnsureCycle(ctx context.Context, newID string, seed drawproof.Seed, start, now time.Time) (mgm.SpinCycle, bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO spin_cycles (id, window_start, created_at, draw_seed, draw_commitment) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (window_start) DO NOTHING`, newID, tx.d.Time(start), tx.d.Time(now), seed.Hex(), drawproof.Commitment(seed))
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

// CycleSeed returns a cycle's secret draw seed; ok is false for a cycle
// created before draws were committed (migration 0010).
func (tx *Tx) CycleSeed(ctx context.Context, cycleID string) (seed drawproof.Seed, ok bool, err error) {
	var h sql.NullString
	if err := tx.queryRow(ctx, `SELECT draw_seed FROM spin_cycles WHERE id = ?`, cycleID).Scan(&h); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return seed, false, ErrNotFound
		}
		return seed, false, err
	}
	if !h.Valid {
		return seed, false, nil
	}
	seed, ok = drawproof.ParseSeed(h.String)
	if !ok {
		return seed, false, fmt.Errorf("cycle %s: stored draw seed is malformed", cycleID)
	}
	return seed, true, nil
}

// DrawRecord is what a draw used, stored with its cycle for the proof.
type DrawRecord struct {
	ListSize int
	ListHash string // hex
	Index    int    // -1 for an empty list
	// ListGzip is the list hash's input (drawproof.Encode), gzip-compressed:
	// the order keys, half of it, are hex of random bytes, and gzip halves
	// them. The draw compresses it before its write transaction.
	ListGzip []byte
	// legacyList is the uncompressed text of a PostgreSQL row drawn before
	// migration 0012 (SQLite's were compressed by the migration).
	legacyList []byte
	// Staged says the list was stored ahead of the draw (StageDrawList):
	// SaveDraw then records a reference to it, or answers ErrListNotStaged.
	Staged bool
	// Expired says the retention sweep removed the list (PruneDrawLists);
	// the rest of the record stays.
	Expired bool
}

// List returns the list hash's input, uncompressed.
func (r DrawRecord) List() ([]byte, error) {
	if r.legacyList != nil {
		return r.legacyList, nil
	}
	return drawproof.Gunzip(r.ListGzip)
}

// SaveDraw stores a cycle's draw record, once.
func (tx *Tx) SaveDraw(ctx context.Context, cycleID string, r DrawRecord) error {
	var index any
	if r.Index >= 0 {
		index = r.Index
	}
	if r.Staged {
		res, err := tx.exec(ctx, `INSERT INTO draw_proofs (cycle_id, list_size, list_hash, winner_index)
			SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM draw_lists WHERE list_hash = ?)`,
			cycleID, r.ListSize, r.ListHash, index, r.ListHash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		return ErrListNotStaged
	}
	_, err := tx.exec(ctx, `INSERT INTO draw_proofs (cycle_id, list_size, list_hash, winner_index, list_gzip) VALUES (?, ?, ?, ?, ?)`,
		cycleID, r.ListSize, r.ListHash, index, r.ListGzip)
	return err
}

// ErrListNotStaged: SaveDraw found no staged list with the record's hash
// (swept since it was staged); nothing was written.
var ErrListNotStaged = errors.New("store: the draw's list is not staged")

// stagedListLife is how long a staged list no draw has used is kept: the
// ticks stage the next draw's list at most ten seconds ahead, so one older
// than this is a list the pool moved on from before its draw.
const stagedListLife = 15 * time.Minute

// StageDrawList stores the list a draw is about to use (drawproof.Gzip of
// its text, by its hex hash), ahead of the draw moment, and sweeps staged
// lists that no draw used. Staging the same list again only refreshes it.
func (tx *Tx) StageDrawList(ctx context.Context, listHash string, listGzip []byte, at time.Time) error {
	res, err := tx.exec(ctx, `UPDATE draw_lists SET staged_at = ? WHERE list_hash = ?`, tx.d.Time(at), listHash)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return err
		}
		// Another replica's tick may stage the same list at the same moment.
		if _, err := tx.exec(ctx, `INSERT INTO draw_lists (list_hash, list_gzip, staged_at) VALUES (?, ?, ?)
			ON CONFLICT (list_hash) DO NOTHING`, listHash, listGzip, tx.d.Time(at)); err != nil {
			return err
		}
	}
	_, err = tx.exec(ctx, `DELETE FROM draw_lists WHERE staged_at < ?
		AND NOT EXISTS (SELECT 1 FROM draw_proofs WHERE draw_proofs.list_hash = draw_lists.list_hash)`,
		tx.d.Time(at.Add(-stagedListLife)))
	return err
}

// Draw returns a cycle's draw record, or ErrNotFound when it has none (not
// drawn yet, closed without a draw, or created before draws were recorded).
func (tx *Tx) Draw(ctx context.Context, cycleID string) (DrawRecord, error) {
	var r DrawRecord
	var index sql.NullInt64
	var legacy sql.NullString
	err := tx.queryRow(ctx, `SELECT p.list_size, p.list_hash, p.winner_index, COALESCE(p.list_gzip, l.list_gzip), p.list
		FROM draw_proofs p LEFT JOIN draw_lists l ON l.list_hash = p.list_hash
		WHERE p.cycle_id = ?`, cycleID).
		Scan(&r.ListSize, &r.ListHash, &index, &r.ListGzip, &legacy)
	if errors.Is(err, sql.ErrNoRows) {
		return DrawRecord{}, ErrNotFound
	}
	r.Index = -1
	if index.Valid {
		r.Index = int(index.Int64)
	}
	if legacy.Valid {
		r.legacyList = []byte(legacy.String)
	}
	r.Expired = r.ListGzip == nil && !legacy.Valid
	return r, err
}

// PruneDrawLists removes the lists of draws whose cycle started before the
// cutoff, keeping the rest of their records, and returns how many it
// removed. A list is most of a cycle's storage (megabytes at 100,000
// members, every five minutes); its hash, size and index still say what
// was drawn. A staged list that a later draw also used stays for it.
func (tx *Tx) PruneDrawLists(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.exec(ctx, `UPDATE draw_proofs SET list_gzip = NULL, list = NULL
		WHERE (list_gzip IS NOT NULL OR list IS NOT NULL)
			AND cycle_id IN (SELECT id FROM spin_cycles WHERE window_start < ?)`, tx.d.Time(before))
	if err != nil {
		return 0, err
	}
	inline, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	res, err = tx.exec(ctx, `DELETE FROM draw_lists WHERE staged_at < ?
		AND NOT EXISTS (SELECT 1 FROM draw_proofs p JOIN spin_cycles c ON c.id = p.cycle_id
			WHERE p.list_hash = draw_lists.list_hash AND c.window_start >= ?)`, tx.d.Time(before), tx.d.Time(before))
	if err != nil {
		return 0, err
	}
	staged, err := res.RowsAffected()
	return inline + staged, err
}

// ForceCandidate replaces a cycle's candidate and reopens it unless it already
// has a winner (test harness only). The draw's record goes: it would prove
// another candidate.
func (tx *Tx) ForceCandidate(ctx context.Context, cycleID string, c mgm.Candidate, at time.Time) (bool, error) {
	if _, err := tx.exec(ctx, `DELETE FROM draw_proofs WHERE cycle_id = ?
		AND EXISTS (SELECT 1 FROM spin_cycles WHERE id = ? AND (outcome IS NULL OR outcome <> 'winner'))`, cycleID, cycleID); err != nil {
		return false, err
	}
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
