package app

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// Cycle event types.
const (
	EventSpinCycleStarted = "SpinCycleStarted"
	EventCandidateDrawn   = "CandidateDrawn"
	EventSpinCycleDecided = "SpinCycleDecided"
)

// CycleStream is the event stream of one spin cycle.
func CycleStream(cycleID string) string { return "cycle:" + cycleID }

// Tick brings the roulette up to date: it creates the current window's cycle,
// draws its candidate when the draw is due, and closes cycles whose report
// window has passed. Every replica calls it often; the database makes sure
// each of those things happens once.
func (s *Service) Tick(ctx context.Context) error {
	now := s.clock()
	start := s.schedule.Start(now)
	cur, err := s.ensureCycle(ctx, start, now)
	if err != nil {
		return fmt.Errorf("ensure cycle: %w", err)
	}
	// The next window's cycle exists ahead of time, so that at the boundary
	// every replica's snapshot already knows its id.
	if _, err := s.ensureCycle(ctx, s.schedule.End(start), now); err != nil {
		return fmt.Errorf("ensure next cycle: %w", err)
	}
	drawAt := s.schedule.DrawAt(start)
	switch undrawn := cur.DrawnAt == nil && !cur.Decided(); {
	case undrawn && !now.Before(drawAt):
		if err := s.draw(ctx, cur.ID, now); err != nil {
			return fmt.Errorf("draw: %w", err)
		}
	case undrawn && !now.Before(drawAt.Add(-s.drawPrepareLead())):
		if _, err := s.drawList(ctx, cur.ID, true); err != nil {
			return fmt.Errorf("prepare the draw: %w", err)
		}
	}
	if err := s.closeOverdue(ctx, now); err != nil {
		return fmt.Errorf("close cycles: %w", err)
	}
	return s.Refresh(ctx)
}

func (s *Service) ensureCycle(ctx context.Context, start, now time.Time) (mgm.SpinCycle, error) {
	var c mgm.SpinCycle
	// Look before writing: the cycle almost always exists already, and on
	// SQLite a write transaction would queue behind every other writer.
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		c, err = tx.CycleAt(ctx, start)
		return err
	})
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	id := s.newID()
	seed, err := s.seed(id)
	if err != nil {
		return c, fmt.Errorf("draw seed: %w", err)
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		var created bool
		var err error
		c, created, err = tx.EnsureCycle(ctx, id, seed, start, now)
		if err != nil || !created {
			return err
		}
		return tx.AppendEvent(ctx, CycleStream(c.ID), EventSpinCycleStarted,
			map[string]any{"windowStart": start, "intervalSeconds": int(s.schedule.Interval / time.Second)}, now)
	})
	return c, err
}

// draw picks the candidate among eligible members, once per cycle, by the
// committed seed (drawproof): the eligible members in canonical order, the
// hash of that list, the index it and the seed give. The list is read
// outside the write transaction, which then only records the result: at
// 100,000 members the read takes milliseconds, and on SQLite every writer
// would wait for it. A member whose eligibility changes in between is
// caught where it matters: verify-candidate checks it again.
func (s *Service) draw(ctx context.Context, cycleID string, now time.Time) error {
	l, err := s.drawList(ctx, cycleID, false)
	if err != nil {
		return err
	}
	seed, committed, list, n, poolSize := l.seed, l.committed, l.list, l.n, l.n+l.dropped
	r := drawproof.DrawHashed(seed, cycleID, l.listHash, n)
	rec := store.DrawRecord{ListSize: n, ListHash: hex.EncodeToString(r.ListHash[:]), Index: r.Index}
	if committed {
		rec.ListGzip, rec.Staged = l.gzip, l.staged
	}
	gzipList := func() []byte { return drawproof.Gzip(list) }
	var drawn drawproof.Entry
	if r.Index >= 0 {
		drawn, _ = drawproof.EntryAt(list, r.Index) // the list was checked
	}
	var outcome mgm.CycleOutcome
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		outcome = ""
		if err := tx.Lock(ctx, "cycle:"+cycleID); err != nil {
			return err
		}
		c, err := tx.Cycle(ctx, cycleID)
		if err != nil {
			return err
		}
		if c.DrawnAt != nil || c.Decided() {
			return nil // another replica drew first
		}
		// The streamer's controls (issue 17): a paused, offline or
		// over-budget window decides "nobody could be drawn", with why.
		if reason, err := s.drawBlock(ctx, tx, c.Start); err != nil || reason != mgm.PauseNone {
			if err != nil {
				return err
			}
			if _, err := tx.DecideCycle(ctx, cycleID, mgm.OutcomeNoParticipants, "", now); err != nil {
				return err
			}
			outcome = mgm.OutcomeNoParticipants
			return tx.AppendEvent(ctx, CycleStream(cycleID), EventSpinCycleDecided,
				map[string]any{"outcome": mgm.OutcomeNoParticipants, "reason": reason}, now)
		}
		if committed {
			err := tx.SaveDraw(ctx, cycleID, rec)
			if errors.Is(err, store.ErrListNotStaged) {
				// Swept since it was staged: the list goes with the record.
				rec.ListGzip, rec.Staged = gzipList(), false
				err = tx.SaveDraw(ctx, cycleID, rec)
			}
			if err != nil {
				return err
			}
		}
		if r.Index < 0 {
			if _, err := tx.DecideCycle(ctx, cycleID, mgm.OutcomeNoParticipants, "", now); err != nil {
				return err
			}
			outcome = mgm.OutcomeNoParticipants
			return tx.AppendEvent(ctx, CycleStream(cycleID), EventSpinCycleDecided,
				map[string]any{"outcome": mgm.OutcomeNoParticipants, "poolSize": poolSize, "listHash": rec.ListHash}, now)
		}
		// The list names members by order key only: the member is found by
		// it now, under the cycle's lock.
		found, err := tx.PoolMembersByOrderKey(ctx, drawn.OrderKey)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return errDrawnMemberLeft
		}
		m := found[0]
		for _, f := range found[1:] { // a 128-bit collision: the name tells them apart
			if f.CharacterName == drawn.CharacterName {
				m = f
			}
		}
		cand := mgm.Candidate{TwitchUserID: m.TwitchUserID, TwitchDisplayName: m.TwitchDisplayName, CharacterName: drawn.CharacterName}
		if _, err := tx.SetCandidate(ctx, cycleID, cand, now); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, CycleStream(cycleID), EventCandidateDrawn, map[string]any{
			"twitchUserId": cand.TwitchUserID, "characterName": cand.CharacterName,
			"eligibleCount": n, "poolSize": poolSize, "listHash": rec.ListHash, "index": r.Index,
		}, now)
	})
	if err == nil {
		// The list is kept for the next draw only while it is being
		// prepared: 10 MB at 100,000 members.
		s.prepared.CompareAndSwap(l.preparedList, nil)
	}
	if err == nil && outcome != "" {
		s.obs.SpinCycleDecided(string(outcome))
	}
	return err
}

// errDrawnMemberLeft: the drawn member left the pool between the list's
// read and the draw's record. Nothing was recorded, and the next tick draws
// again from the pool as it is then.
var errDrawnMemberLeft = errors.New("the drawn member left the pool before the draw was recorded; the next tick draws again")

// drawPrepareLead is how long before the draw moment the ticks start
// reading the draw's list (drawList), so that the moment itself finds it
// ready unless the pool changed in the last second: a thirtieth of the
// interval, 10 s at the default five minutes. (The short intervals of
// Development and the tests would otherwise prepare all window long.)
func (s *Service) drawPrepareLead() time.Duration { return s.schedule.Interval / 30 }

// preparedList is a draw's list worked out ahead of the draw moment: the
// eligible members' list as read at a change count of the pool, for one set
// of ineligible members. At 100,000 members reading,
// hashing and compressing the list takes 140–210 ms; checking that neither
// the pool nor the ineligible set changed takes a few small reads, so the
// draw itself stays within milliseconds (issue 15) whatever the pool's size.
type preparedList struct {
	changes    int64  // the pool's change count (store PoolChanges) the list was read at
	ineligible string // the order keys set aside, sorted and joined
	list       []byte // the pool's list (store DrawList) without them, in canonical order
	n, dropped int
	listHash   [32]byte
	gzip       []byte // list compressed for the proof (drawproof.Gzip); nil once staged
	// staged: the list is stored ahead of the draw (store StageDrawList),
	// so the draw's transaction writes a reference to it, not megabytes.
	staged bool
}

// drawInputs is what a draw needs from the store: the cycle's seed and the
// eligible list (preparedList's part of it).
type drawInputs struct {
	seed drawproof.Seed
	// committed is false for a cycle created before draws were committed:
	// it is drawn by the same rule from a seed drawn now, and has no proof.
	committed bool
	*preparedList
}

// drawList reads a cycle's seed and the eligible members in canonical
// order, as the list hash's input (drawproof.Encode), reusing the list
// prepared by an earlier call when the pool's change count and the set of
// ineligible members are what they were then, and keeps what it worked out
// for the next call. stage (the ticks ahead of the draw) stores a list that
// has not changed since the previous call ahead of the draw: the pool is
// quiet, and the draw will likely use it.
func (s *Service) drawList(ctx context.Context, cycleID string, stage bool) (drawInputs, error) {
	var in drawInputs
	prev := s.prepared.Load()
	var text []byte
	var changes int64
	var ineligible map[string]bool
	var key string
	reuse := false
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if in.seed, in.committed, err = tx.CycleSeed(ctx, cycleID); err != nil {
			return err
		}
		c, err := tx.Cycle(ctx, cycleID)
		if err != nil {
			return err
		}
		// Only members with payouts can be ineligible: few, read first.
		withPayouts, err := tx.PoolMembersWithPayouts(ctx)
		if err != nil {
			return err
		}
		// Recent winners cooling down (issue 17) are pool members with a
		// payout too, so the ineligible stay few. The list names members by
		// order key, so that is what sets them aside.
		cooling, err := s.coolingDown(ctx, tx, s.schedule.DrawAt(c.Start))
		if err != nil {
			return err
		}
		ineligible = map[string]bool{} // Read may run this twice
		for id := range cooling {
			ineligible[drawproof.OrderKey(id)] = true
		}
		for _, m := range withPayouts {
			if !mgm.Eligible(m.HasActivePayout, m.CommittedGold) {
				ineligible[drawproof.OrderKey(m.TwitchUserID)] = true
			}
		}
		key = strings.Join(slices.Sorted(maps.Keys(ineligible)), ",")
		if prev != nil && prev.ineligible == key {
			if changes, err = tx.PoolChanges(ctx); err != nil || changes == prev.changes {
				reuse = err == nil
				return err
			}
		}
		reuse = false // Read may run this twice
		var t string
		t, changes, err = tx.DrawList(ctx)
		text = []byte(t)
		return err
	})
	if err != nil {
		return in, err
	}
	if !in.committed {
		if in.seed, err = s.seed(cycleID); err != nil {
			return in, fmt.Errorf("draw seed: %w", err)
		}
	}
	if reuse {
		in.preparedList = prev
		if stage && in.committed && !prev.staged {
			err := s.db.InTx(ctx, func(tx *store.Tx) error {
				return tx.StageDrawList(ctx, hex.EncodeToString(prev.listHash[:]), prev.gzip, s.clock())
			})
			if err != nil {
				return in, fmt.Errorf("stage the draw's list: %w", err)
			}
			// The draw refers to the stored list; the compressed copy
			// is not kept (2.4 MB at 100,000 members).
			staged := *prev
			staged.staged, staged.gzip = true, nil
			s.prepared.CompareAndSwap(prev, &staged)
			in.preparedList = &staged
		}
		return in, nil
	}
	p := &preparedList{changes: changes, ineligible: key}
	list, dropped := dropIneligible(text, ineligible)
	n, canonical := drawproof.CheckEncoding(list)
	if !canonical {
		// The database's order was not byte order (an engine that did not
		// keep the subquery's order, or a collation), or two keys were
		// equal, which the database does not order by name: sort here.
		entries, ok := drawproof.Decode(list)
		if !ok {
			return in, errors.New("draw list: the database returned a malformed list")
		}
		drawproof.Sort(entries)
		list, n = drawproof.Encode(entries), len(entries)
	}
	p.list, p.n, p.dropped = list, n, dropped
	p.listHash = drawproof.ListHashEncoded(list)
	p.gzip = drawproof.Gzip(list)
	s.prepared.Store(p)
	in.preparedList = p
	return in, nil
}

// dropIneligible removes the lines whose order key is in ineligible, in
// place, and counts them. A member's order key stands for their user id:
// two members share one only in a 128-bit collision.
func dropIneligible(list []byte, ineligible map[string]bool) ([]byte, int) {
	if len(ineligible) == 0 {
		return list, 0
	}
	out, dropped := list[:0], 0
	for rest := list; len(rest) > 0; {
		end := bytes.IndexByte(rest, '\n') + 1
		if end == 0 {
			end = len(rest)
		}
		line := rest[:end]
		rest = rest[end:]
		if len(line) > drawproof.OrderKeyLen && ineligible[string(line[:drawproof.OrderKeyLen])] {
			dropped++
			continue
		}
		out = append(out, line...)
	}
	return out, dropped
}

// closeOverdue decides every cycle whose report window has closed without an
// outcome: the candidate was not reported online in time.
func (s *Service) closeOverdue(ctx context.Context, now time.Time) error {
	// Cycles that started at or before this have no report window left.
	cutoff := now.Add(-s.schedule.ReportWindow())
	var overdue []mgm.SpinCycle
	if err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		overdue, err = tx.UndecidedCycles(ctx, cutoff)
		return err
	}); err != nil {
		return err
	}
	for _, c := range overdue {
		if now.Before(s.schedule.ReportDeadline(c.Start)) {
			continue
		}
		reason := "no_report"
		if c.Candidate == nil {
			reason = "draw_missed" // no process was running at the draw moment
		}
		var decided bool
		err := s.db.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.Lock(ctx, "cycle:"+c.ID); err != nil {
				return err
			}
			var err error
			if decided, err = tx.DecideCycle(ctx, c.ID, mgm.OutcomeNoWinner, "", now); err != nil || !decided {
				return err
			}
			return tx.AppendEvent(ctx, CycleStream(c.ID), EventSpinCycleDecided,
				map[string]any{"outcome": mgm.OutcomeNoWinner, "reason": reason}, now)
		})
		if err != nil {
			return err
		}
		if decided {
			s.obs.SpinCycleDecided(string(mgm.OutcomeNoWinner))
		}
	}
	return nil
}

// VerifyResult is the answer to a /who report.
type VerifyResult struct {
	Outcome  mgm.CycleOutcome
	PayoutID string
}

// VerifyCandidate applies the Desktop's /who report for a cycle's candidate.
func (s *Service) VerifyCandidate(ctx context.Context, r mgm.WhoReport) (VerifyResult, error) {
	now := s.clock()
	var res VerifyResult
	var decidedNow mgm.CycleOutcome
	err := s.inTx(ctx, func(tx *store.Tx) error {
		decidedNow = ""
		var cycle *mgm.SpinCycle
		if id, ok := canonicalID(r.SpinCycleID); ok {
			if err := tx.Lock(ctx, "cycle:"+id); err != nil {
				return err
			}
			c, err := tx.Cycle(ctx, id)
			if err == nil {
				cycle = &c
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		action, err := s.schedule.DecideVerify(now, r, cycle)
		if err != nil {
			return err
		}
		switch action {
		case mgm.VerifyRepeat:
			res = VerifyResult{Outcome: cycle.Outcome, PayoutID: cycle.PayoutID}
			return nil
		case mgm.VerifyNoWinner:
			if _, err := tx.DecideCycle(ctx, cycle.ID, mgm.OutcomeNoWinner, "", now); err != nil {
				return err
			}
			res, decidedNow = VerifyResult{Outcome: mgm.OutcomeNoWinner}, mgm.OutcomeNoWinner
			return tx.AppendEvent(ctx, CycleStream(cycle.ID), EventSpinCycleDecided,
				map[string]any{"outcome": mgm.OutcomeNoWinner, "reason": "offline"}, now)
		}
		p, err := s.createWinnerPayout(ctx, tx, cycle, now)
		if err != nil {
			return err
		}
		res, decidedNow = VerifyResult{Outcome: mgm.OutcomeWinner, PayoutID: p.ID}, mgm.OutcomeWinner
		return nil
	})
	if err != nil {
		return VerifyResult{}, err
	}
	if decidedNow != "" {
		s.obs.SpinCycleDecided(string(decidedNow))
	}
	if decidedNow == mgm.OutcomeWinner {
		s.obs.PayoutTransition("", string(mgm.PayoutPending))
	}
	s.refreshAfterChange(ctx)
	return res, nil
}

// createWinnerPayout creates the candidate's Pending payout and decides the cycle.
func (s *Service) createWinnerPayout(ctx context.Context, tx *store.Tx, cycle *mgm.SpinCycle, now time.Time) (mgm.Payout, error) {
	cand := cycle.Candidate
	if err := tx.Lock(ctx, "viewer:"+cand.TwitchUserID); err != nil {
		return mgm.Payout{}, err
	}
	active, committed, err := tx.ViewerGold(ctx, cand.TwitchUserID)
	if err != nil {
		return mgm.Payout{}, err
	}
	if active {
		return mgm.Payout{}, mgm.Errorf(mgm.CodeActivePayoutExists, "The candidate already has an active payout.")
	}
	if !mgm.Eligible(false, committed) {
		return mgm.Payout{}, mgm.Errorf(mgm.CodeLifetimeCapReached, "The candidate has reached the lifetime cap.")
	}
	display := cand.TwitchDisplayName
	if e, err := tx.PoolEntry(ctx, cand.TwitchUserID); err == nil {
		display = e.TwitchDisplayName
	}
	p := mgm.Payout{
		ID: s.newID(), TwitchUserID: cand.TwitchUserID, TwitchDisplayName: display, CharacterName: cand.CharacterName,
		GoldAmount: mgm.PayoutGold, EnrollmentRequestID: mgm.SpinEnrollmentID(cycle.ID), Status: mgm.PayoutPending,
		CreatedAt: now, UpdatedAt: now, SpinCycleID: cycle.ID,
	}
	if err := tx.InsertPayout(ctx, p); err != nil {
		return mgm.Payout{}, err
	}
	if err := tx.AppendEvent(ctx, PayoutStream(p.ID), EventPayoutCreated, payoutCreatedData(p), now); err != nil {
		return mgm.Payout{}, err
	}
	if _, err := tx.DecideCycle(ctx, cycle.ID, mgm.OutcomeWinner, p.ID, now); err != nil {
		return mgm.Payout{}, err
	}
	return p, tx.AppendEvent(ctx, CycleStream(cycle.ID), EventSpinCycleDecided,
		map[string]any{"outcome": mgm.OutcomeWinner, "payoutId": p.ID, "characterName": p.CharacterName}, now)
}

// PendingCandidate is the name the Desktop must /who now.
type PendingCandidate struct {
	SpinCycleID    string
	CharacterName  string
	Phase          mgm.Phase
	VerifyDeadline time.Time
}

// Candidate returns the candidate awaiting a /who report, if any: the
// previous cycle's while it is in its grace, else the current cycle's.
func (s *Service) Candidate(now time.Time) (PendingCandidate, bool) {
	snap := s.Snapshot()
	for _, c := range []*mgm.SpinCycle{snap.Previous, snap.Current, snap.Next} {
		if c == nil || c.Candidate == nil || c.Decided() {
			continue
		}
		deadline := s.schedule.ReportDeadline(c.Start)
		if now.Before(c.Start) || !now.Before(deadline) {
			continue
		}
		phase := mgm.PhaseVerification
		if now.Before(s.schedule.VerifyAt(c.Start)) {
			phase = mgm.PhaseSpinning
		}
		return PendingCandidate{SpinCycleID: c.ID, CharacterName: c.Candidate.CharacterName, Phase: phase, VerifyDeadline: deadline}, true
	}
	return PendingCandidate{}, false
}

// RouletteSnapshot is the roulette as last read from the database; viewers'
// state requests are answered from it without a query.
type RouletteSnapshot struct {
	Current   *mgm.SpinCycle // the cycle of the window containing TakenAt
	Previous  *mgm.SpinCycle // the window before it
	Next      *mgm.SpinCycle // the window after it (created ahead of time)
	Last      *mgm.SpinCycle // the newest decided cycle
	PoolCount int
	// PoolNames are the pool's character names in enrollment order (at most
	// MaxPoolNames), so the panel's wheel shows real names.
	PoolNames []string
	// RecentWinners are the newest cycles won (at most MaxRecentWinners),
	// newest first.
	RecentWinners []Winner
	// Controls are the streamer's switches; GoldToday is what the daily
	// budget counted for the UTC day GoldDay (read only with a budget).
	Controls  mgm.Controls
	GoldToday int64
	GoldDay   time.Time
	TakenAt   time.Time
	seq       uint64 // Refresh's start order; see Service.refreshes
}

// Winner is one won cycle as viewers see it.
type Winner struct {
	CharacterName string
	At            time.Time // when the cycle was decided
}

// MaxPoolNames bounds the names the roulette state carries.
const MaxPoolNames = 100

// MaxRecentWinners bounds the recent winners the roulette state carries.
const MaxRecentWinners = 5

// Snapshot returns the latest snapshot (never nil).
func (s *Service) Snapshot() *RouletteSnapshot {
	if p := s.snapshot.Load(); p != nil {
		return p
	}
	return &RouletteSnapshot{}
}

// Refresh re-reads the snapshot and returns once a read that started after
// the call has been taken. It runs after every local change and on every
// tick, which also picks up other replicas' changes. Concurrent calls share
// reads (see coalescer): a thousand enrollments in a second cost a handful
// of refreshes, whatever the pool's size.
func (s *Service) Refresh(ctx context.Context) error { return s.refresher.Do(ctx) }

// refreshNow reads the snapshot; only the coalescer calls it.
func (s *Service) refreshNow(ctx context.Context) error {
	now := s.clock()
	start := s.schedule.Start(now)
	snap := &RouletteSnapshot{TakenAt: now, seq: s.refreshes.Add(1)}
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if snap.PoolCount, err = tx.PoolCount(ctx); err != nil {
			return err
		}
		if snap.PoolNames, err = tx.PoolNames(ctx, MaxPoolNames); err != nil {
			return err
		}
		if snap.Controls, err = tx.Controls(ctx); err != nil {
			return err
		}
		if s.policy.DailyBudgetGold > 0 {
			snap.GoldDay = mgm.BudgetDay(now)
			if snap.GoldToday, err = tx.GoldCommittedBetween(ctx, snap.GoldDay, snap.GoldDay.Add(24*time.Hour)); err != nil {
				return err
			}
		}
		won, err := tx.RecentWinners(ctx, MaxRecentWinners)
		if err != nil {
			return err
		}
		for _, c := range won {
			if c.Candidate != nil && c.DecidedAt != nil {
				snap.RecentWinners = append(snap.RecentWinners, Winner{CharacterName: c.Candidate.CharacterName, At: *c.DecidedAt})
			}
		}
		for _, x := range []struct {
			dst   **mgm.SpinCycle
			fetch func() (mgm.SpinCycle, error)
		}{
			{&snap.Current, func() (mgm.SpinCycle, error) { return tx.CycleAt(ctx, start) }},
			{&snap.Previous, func() (mgm.SpinCycle, error) { return tx.CycleAt(ctx, start.Add(-s.schedule.Interval)) }},
			{&snap.Next, func() (mgm.SpinCycle, error) { return tx.CycleAt(ctx, start.Add(s.schedule.Interval)) }},
			{&snap.Last, func() (mgm.SpinCycle, error) { return tx.LastDecidedCycle(ctx) }},
		} {
			c, err := x.fetch()
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			*x.dst = &c
		}
		return nil
	})
	if err != nil {
		return err
	}
	// A read that started later saw at least as much as this one: keep it.
	for {
		old := s.snapshot.Load()
		if old != nil && old.seq > snap.seq {
			return nil
		}
		if s.snapshot.CompareAndSwap(old, snap) {
			s.announceSnapshot()
			return nil
		}
	}
}

// SnapshotChanged returns a channel that is closed once a newer snapshot
// than the current one is stored. Every tick stores one, so a listener
// wakes at the tick's pace at most, and at once after a local change.
func (s *Service) SnapshotChanged() <-chan struct{} { return *s.changed.Load() }

// announceSnapshot wakes the listeners of SnapshotChanged. Each channel is
// swapped out exactly once, so each is closed exactly once, however many
// refreshes finish together.
func (s *Service) announceSnapshot() {
	next := make(chan struct{})
	close(*s.changed.Swap(&next))
}

// refreshAfterChange refreshes the snapshot after a local change. A failure
// only delays what viewers see until the next tick, so it is logged, not returned.
func (s *Service) refreshAfterChange(ctx context.Context) {
	if err := s.Refresh(ctx); err != nil {
		s.log.WarnContext(ctx, "refresh roulette snapshot", "error", err)
	}
}

// RouletteState is GET /api/roulette/state, computed from the snapshot.
type RouletteState struct {
	NextSpinAt      time.Time
	ServerNow       time.Time
	IntervalSeconds int
	PoolCount       int
	PoolNames       []string
	RecentWinners   []Winner
	Phase           mgm.Phase
	CycleID         string // "" exactly when Phase is idle
	// Commitment is the current cycle's draw commitment (drawproof), ""
	// with CycleID or for a cycle created before draws were committed.
	Commitment    string
	CandidateName string // during spinning and verification only
	Last          *mgm.SpinCycle
	// PausedReason says why, exactly when Phase is paused.
	PausedReason mgm.PauseReason
}

// State answers the viewers' roulette state at now.
func (s *Service) State(now time.Time) RouletteState {
	return s.StateAt(s.Snapshot(), now)
}

// StateAt is State from a snapshot the caller already holds: the answer is
// a function of the snapshot and the time alone, so a caller may keep what
// it made of them.
func (s *Service) StateAt(snap *RouletteSnapshot, now time.Time) RouletteState {
	var cur *mgm.SpinCycle
	for _, c := range []*mgm.SpinCycle{snap.Current, snap.Next, snap.Previous} {
		if c != nil && c.Start.Equal(s.schedule.Start(now)) {
			cur = c // the snapshot may predate this window's start
		}
	}
	st := RouletteState{
		NextSpinAt: mgm.NextBoundary(now, s.schedule.Interval), ServerNow: now,
		IntervalSeconds: int(s.schedule.Interval / time.Second), PoolCount: snap.PoolCount, PoolNames: snap.PoolNames,
		RecentWinners: snap.RecentWinners, Last: snap.Last,
	}
	st.Phase, st.PausedReason = s.schedule.PhaseWithControls(now, cur, snap.PoolCount, s.blockAt(snap, now))
	if st.Phase != mgm.PhaseIdle && cur != nil {
		st.CycleID, st.Commitment = cur.ID, cur.Commitment
	}
	if (st.Phase == mgm.PhaseSpinning || st.Phase == mgm.PhaseVerification) && cur.Candidate != nil {
		st.CandidateName = cur.Candidate.CharacterName
	}
	return st
}

// blockAt is DrawBlock for the window containing now, from the snapshot.
func (s *Service) blockAt(snap *RouletteSnapshot, now time.Time) mgm.PauseReason {
	gold := snap.GoldToday
	if !snap.GoldDay.Equal(mgm.BudgetDay(now)) {
		// The snapshot predates midnight: the new day has spent nothing yet.
		gold = 0
	}
	return s.schedule.DrawBlock(s.policy, snap.Controls, s.schedule.Start(now), gold)
}

// RunBackground ticks the roulette, runs the expiry sweep (at start, then
// hourly) and the gift timeout sweep (at start, then every 5 s) until ctx
// ends. Errors are logged and retried on the next tick: a database blip must
// not stop the clock.
func (s *Service) RunBackground(ctx context.Context, tickEvery time.Duration) {
	if tickEvery <= 0 {
		tickEvery = 500 * time.Millisecond
	}
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	sweep := time.NewTicker(time.Hour)
	defer sweep.Stop()
	giftSweep := time.NewTicker(5 * time.Second)
	defer giftSweep.Stop()
	var tickFailures failureLog
	s.runSweep(ctx)
	s.runGiftSweep(ctx)
	s.runTick(ctx, &tickFailures)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.runTick(ctx, &tickFailures)
		case <-sweep.C:
			s.runSweep(ctx)
		case <-giftSweep.C:
			s.runGiftSweep(ctx)
		}
	}
}

// jobTimeout bounds one background job, so that a connection that hangs
// instead of failing cannot stop this replica's clock.
const jobTimeout = 15 * time.Second

func (s *Service) runTick(ctx context.Context, fl *failureLog) {
	jobCtx, cancel := context.WithTimeout(ctx, jobTimeout)
	defer cancel()
	err := s.Tick(jobCtx)
	if ctx.Err() != nil {
		return
	}
	fl.record(ctx, s.log, s.now(), "roulette tick", err)
}

// failureLog keeps a repeating failure (the database is down and the clock
// ticks twice a second) from flooding the log: the first failure is logged,
// then one line every 30 s with the count, then the recovery.
type failureLog struct {
	failing    int
	lastLogged time.Time
}

func (f *failureLog) record(ctx context.Context, log *slog.Logger, now time.Time, what string, err error) {
	switch {
	case err == nil && f.failing > 0:
		log.InfoContext(ctx, what+" recovered", "failures", f.failing)
		f.failing = 0
	case err != nil:
		f.failing++
		if f.failing == 1 || now.Sub(f.lastLogged) >= 30*time.Second {
			log.WarnContext(ctx, what+" failed", "error", err, "failures", f.failing)
			f.lastLogged = now
		}
	}
}

func (s *Service) runSweep(ctx context.Context) {
	jobCtx, cancel := context.WithTimeout(ctx, 4*jobTimeout)
	defer cancel()
	n, err := s.ExpirePayouts(jobCtx)
	if err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "expiry sweep failed", "error", err)
	}
	if n > 0 {
		s.log.InfoContext(ctx, "expired stale payouts", "count", n)
	}
	if _, err := s.PruneDeliveries(jobCtx); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "eventsub dedupe prune failed", "error", err)
	}
	if _, err := s.PruneDrawProofs(jobCtx); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "draw proof prune failed", "error", err)
	}
}
