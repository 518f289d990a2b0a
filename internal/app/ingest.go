package app

import (
	"context"
	"sync"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// ingestBatcher commits concurrent chat lines together: whoever arrives while
// a group is being written waits for the next group, and the next group takes
// everything that waited. Every caller is answered only after the COMMIT
// holding its line, with exactly the outcome it would have had alone. When
// no two lines share a lock key, their facts are read in one statement and
// their rows written in one statement per table (writeBatch); otherwise the
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
	// workers is how many groups may be written at once (ingestWorkers).
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

// ingestWorkers is the number of groups written at once. One on SQLite,
// which has one writer anyway; one on PostgreSQL too, since a group costs
// two round trips there (store.InTxSteps): a second worker measured slower
// (scripts/perf: 0.19 of pgbench's rate against 0.21 with one), its groups
// smaller and its processes competing for the same two cores. With seven
// round trips a group, two had been better.
const ingestWorkers = 1

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
	// A delivery id met earlier in the group is a redelivery, whatever the
	// first one turns out to be.
	var lines []*pendingLine
	seen := map[string]bool{}
	for _, p := range group {
		p.outcome, p.err, p.alone = "", nil, false
		if id := p.line.m.DeliveryID; id != "" {
			if seen[id] {
				p.outcome = OutcomeDuplicate
				continue
			}
			seen[id] = true
		}
		lines = append(lines, p)
	}
	var err error
	if batchable(lines) {
		err = b.s.writeBatch(ctx, lines)
	} else {
		err = b.s.writeInTurn(ctx, lines)
	}
	if err == nil {
		b.s.obs.IngestGroup(len(group))
		return
	}
	// The redeliveries within the group too: theirs is the outcome of a
	// first line that did not commit.
	atCommit := store.IsCommitFailure(err)
	for _, p := range group {
		if atCommit {
			p.err = err
		} else {
			p.alone = true
		}
	}
}

// writeInTurn commits lines that share a lock key (a viewer typing twice,
// two viewers wanting one name) one after the other in one transaction,
// each seeing the ones before.
func (s *Service) writeInTurn(ctx context.Context, lines []*pendingLine) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var keys []string
		for _, p := range lines {
			p.outcome = "" // InTx may run this twice
			keys = append(keys, p.line.lockKeys()...)
		}
		if err := tx.Lock(ctx, keys...); err != nil {
			return err
		}
		now := s.clock()
		// Every line's delivery id in one statement: a round trip per line
		// less, which on PostgreSQL is a quarter of a line's cost.
		fresh, err := tx.MarkMessagesProcessed(ctx, deliveryIDs(lines), "notification", now)
		if err != nil {
			return err
		}
		for _, p := range lines {
			if id := p.line.m.DeliveryID; id != "" && !fresh[id] {
				p.outcome = OutcomeDuplicate
				continue
			}
			var err error
			var noGifts []giftMove // gift commands are never grouped
			if p.outcome, err = s.applyInTx(ctx, tx, p.line, now, &noGifts); err != nil {
				return err
			}
		}
		return nil
	})
}

func deliveryIDs(lines []*pendingLine) []string {
	var ids []string
	for _, p := range lines {
		if id := p.line.m.DeliveryID; id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// batchable reports whether lines can be decided together from one read of
// their facts, with their writes made in one statement each (writeBatch):
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

// writeBatch commits batchable lines in a few statements whatever their
// number, in two steps (store.InTxSteps, two round trips on PostgreSQL):
// first the locks, the delivery ids and one read of every enrollment's
// facts; then one write of the pool rows and one of the events. Each line's
// outcome is the one applyInTx would give it alone.
func (s *Service) writeBatch(ctx context.Context, lines []*pendingLine) error {
	type ask struct {
		p *pendingLine
		e enrollment
	}
	now := s.clock()
	var keys []string
	var asks []ask
	var queries []store.FactsQuery
	for _, p := range lines {
		keys = append(keys, p.line.lockKeys()...)
		c := p.line
		if !c.ok {
			continue
		}
		name, err := mgm.ValidateCharacterName(c.arg)
		if err != nil || !s.policy.Entry.Admits(c.m.IsSubscriber) {
			continue // refused without facts, in then
		}
		asks = append(asks, ask{p, chatEnrollment(c)})
		queries = append(queries, store.FactsQuery{TwitchUserID: c.m.Viewer.UserID, NameKey: mgm.NameKey(name)})
	}
	var fresh map[string]bool
	var facts map[string]mgm.EnrollmentFacts
	first := func() []store.Statement {
		fresh, facts = map[string]bool{}, map[string]mgm.EnrollmentFacts{}
		return []store.Statement{
			s.db.MarkMessagesStatement(deliveryIDs(lines), "notification", now, fresh),
			// Read for every enrollment, also those that turn out to be
			// redeliveries: the read is one statement either way.
			s.db.EnrollmentFactsStatement(queries, facts),
		}
	}
	then := func() ([]store.Statement, error) {
		isNew := func(p *pendingLine) bool { id := p.line.m.DeliveryID; return id == "" || fresh[id] }
		asked := map[*pendingLine]bool{}
		var entries []mgm.PoolEntry
		var events []store.NewEvent
		for _, a := range asks {
			asked[a.p] = true
			if !isNew(a.p) {
				continue
			}
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
				return nil, err
			}
		}
		for _, p := range lines {
			switch c := p.line; {
			case !isNew(p):
				p.outcome = OutcomeDuplicate
			case asked[p]:
			case !c.ok:
				p.outcome = OutcomeIgnored
			default:
				// The rules' first two checks need no facts.
				_, _, err := decideEnrollment(chatEnrollment(c), s.policy.Entry, mgm.EnrollmentFacts{}, now)
				p.outcome = Rejected(mgm.ErrorCode(err))
			}
		}
		appendEvents, err := s.db.AppendEventsStatement(events)
		return []store.Statement{s.db.PutPoolEntriesStatement(entries), appendEvents}, err
	}
	return s.db.InTxSteps(ctx, keys, first, then)
}

// chatEnrollment is the enrollment a "!twgold" line asks for.
func chatEnrollment(c chatLine) enrollment {
	return enrollment{viewer: c.m.Viewer, rawName: c.arg, isSubscriber: c.m.IsSubscriber, source: "chat", messageID: c.m.MessageID}
}
