package app

import (
	"context"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// ingestBatcher commits concurrent chat lines together: whoever arrives while
// a group is being written waits for the next group, and the next group takes
// everything that waited. Every caller is answered only after the COMMIT
// holding its line, with exactly the outcome it would have had alone. When
// no two lines share a lock key, their facts are read in one statement and
// their rows written in one statement per table (applyBatch); otherwise the
// lines run one after the other in the group's transaction, each seeing the
// ones before. A line the rules refuse writes nothing but its delivery id,
// and if any line fails outright the group is undone and every line is
// handled alone (savepoints per line would isolate a failure too, but cost
// two more round trips per line on PostgreSQL for a case that the locks
// make all but impossible).
//
// Why: one transaction per line made ingestion cost one commit, one BEGIN
// IMMEDIATE queue on SQLite and a full round of advisory locks each; a raid's
// burst of "!twgold" then outran the store (issue 15).
type ingestBatcher struct {
	s *Service
	// maxBatch bounds a group, and so the latency a line can add to the
	// others and the work redone when a group fails.
	maxBatch int
	// workers is how many groups may be written at once: one on SQLite,
	// which has one writer anyway; several on PostgreSQL, where a group's
	// statements are round trips and its commit a flush that other groups
	// can overlap.
	workers int

	mu      sync.Mutex
	queue   []*pendingLine
	running int
}

type pendingLine struct {
	line    chatLine
	outcome Outcome
	err     error
	// alone: the group failed before its commit, so nothing of it was
	// written; the caller handles its line in a transaction of its own.
	alone bool
	done  chan struct{}
}

const maxIngestBatch = 32

// ingestWorkers is the number of groups written at once on each store. On
// PostgreSQL a second group fills the round trips and the commit flush of
// the first; on a 2-core server more were within the noise of the
// measurement (BenchmarkStore/Enroll, scripts/perf).
func ingestWorkers(dialect string) int {
	if dialect == "postgres" {
		return 2
	}
	return 1
}

// submit queues a line and waits for the group that commits it.
func (b *ingestBatcher) submit(ctx context.Context, c chatLine) (Outcome, error) {
	p := &pendingLine{line: c, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.running < b.workers {
		b.running++
		go b.loop(context.WithoutCancel(ctx))
	}
	b.mu.Unlock()
	select {
	case <-p.done:
	case <-ctx.Done():
		// The group may still commit the line; a redelivery then finds it.
		return "", ctx.Err()
	}
	if p.alone {
		return b.s.handleChatAlone(ctx, c)
	}
	return p.outcome, p.err
}

// loop writes groups until the queue is empty.
func (b *ingestBatcher) loop(ctx context.Context) {
	for {
		b.mu.Lock()
		n := min(len(b.queue), b.maxBatch)
		if n == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		group := b.queue[:n:n]
		b.queue = append([]*pendingLine(nil), b.queue[n:]...)
		b.mu.Unlock()

		runCtx, cancel := context.WithTimeout(ctx, jobTimeout)
		b.write(runCtx, group)
		cancel()
		for _, p := range group {
			close(p.done)
		}
	}
}

// write commits one group. When the group's transaction fails before its
// COMMIT, nothing of it was written, and every line is handled alone: one bad
// line (or a deadlock with another replica's group) must not fail the rest.
// A failed COMMIT is different: whether it committed is unknown, so every
// caller gets the error, and Twitch's redelivery settles it through the dedupe.
func (b *ingestBatcher) write(ctx context.Context, group []*pendingLine) {
	err := b.s.db.InTx(ctx, func(tx *store.Tx) error {
		var keys []string
		for _, p := range group {
			p.outcome, p.err, p.alone = "", nil, false // InTx may run this twice
			keys = append(keys, p.line.lockKeys()...)
		}
		if err := tx.Lock(ctx, keys...); err != nil {
			return err
		}
		now := b.s.clock()
		// Every line's delivery id in one statement: a round trip per line
		// less, which on PostgreSQL is a quarter of a line's cost.
		var ids []string
		for _, p := range group {
			if p.line.m.DeliveryID != "" {
				ids = append(ids, p.line.m.DeliveryID)
			}
		}
		fresh, err := tx.MarkMessagesProcessed(ctx, ids, "notification", now)
		if err != nil {
			return err
		}
		var lines []*pendingLine
		for _, p := range group {
			if id := p.line.m.DeliveryID; id != "" {
				if !fresh[id] {
					p.outcome = OutcomeDuplicate
					continue
				}
				delete(fresh, id) // a second line with this id is a redelivery
			}
			lines = append(lines, p)
		}
		if batchable(lines) {
			return b.s.applyBatch(ctx, tx, lines, now)
		}
		for _, p := range lines {
			var err error
			var noGifts []giftMove // gift commands are never grouped
			if p.outcome, err = b.s.applyInTx(ctx, tx, p.line, now, &noGifts); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		b.s.obs.IngestGroup(len(group))
		return
	}
	atCommit := store.IsCommitFailure(err)
	for _, p := range group {
		if atCommit {
			p.err = err
		} else {
			p.alone = true
		}
	}
}

// batchable reports whether lines can be decided together from one read of
// their facts, with their writes made in one statement each (applyBatch):
// they are enrollments or plain chat, and no two of them share a lock key,
// so none reads what another writes — but for one case, which still orders
// them: a line wanting the name another line renames away from reads it as
// taken, as it would have had it come first. Otherwise the lines run one
// after the other, each seeing the ones before.
func batchable(lines []*pendingLine) bool {
	seen := map[string]bool{}
	for _, p := range lines {
		if p.line.mod != nil || (p.line.ok && p.line.cmd != mgm.CommandTwGold) {
			return false
		}
		for _, k := range p.line.lockKeys() {
			if seen[k] {
				return false
			}
			seen[k] = true
		}
	}
	return true
}

// applyBatch applies batchable lines, recorded as new deliveries, in a few
// statements whatever their number: one read of every enrollment's facts,
// then one write of the pool rows and one of the events. Each line's outcome
// is the one applyInTx would give it.
func (s *Service) applyBatch(ctx context.Context, tx *store.Tx, lines []*pendingLine, now time.Time) error {
	type pending struct {
		p *pendingLine
		e enrollment
	}
	var asks []pending
	var queries []store.FactsQuery
	for _, p := range lines {
		c := p.line
		if !c.ok {
			p.outcome = OutcomeIgnored
			continue
		}
		e := enrollment{viewer: c.m.Viewer, rawName: c.arg, isSubscriber: c.m.IsSubscriber, source: "chat", messageID: c.m.MessageID}
		name, nameErr := mgm.ValidateCharacterName(c.arg)
		if !s.policy.Entry.Admits(c.m.IsSubscriber) || nameErr != nil {
			// The rules' first two checks need no facts.
			_, _, err := decideEnrollment(e, s.policy.Entry, mgm.EnrollmentFacts{}, now)
			p.outcome = Rejected(mgm.ErrorCode(err))
			continue
		}
		asks = append(asks, pending{p, e})
		queries = append(queries, store.FactsQuery{TwitchUserID: c.m.Viewer.UserID, NameKey: mgm.NameKey(name)})
	}
	facts, err := tx.EnrollmentFactsMany(ctx, queries)
	if err != nil {
		return err
	}
	var entries []mgm.PoolEntry
	var events []store.NewEvent
	for _, a := range asks {
		_, w, err := decideEnrollment(a.e, s.policy.Entry, facts[a.e.viewer.UserID], now)
		switch code := mgm.ErrorCode(err); {
		case err == nil:
			a.p.outcome = OutcomeEnrolled
			if w != nil {
				entries = append(entries, w.entry)
				events = append(events, w.event)
			}
		case code == mgm.CodeBanned:
			a.p.outcome = Rejected(code)
			events = append(events, bannedAttemptEvent(a.e, now))
		case code != mgm.CodeInternal:
			a.p.outcome = Rejected(code)
		default:
			return err
		}
	}
	if err := tx.PutPoolEntries(ctx, entries); err != nil {
		return err
	}
	return tx.AppendEvents(ctx, events)
}
