package app

import (
	"context"
	"sync"

	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// ingestBatcher commits concurrent chat lines together: whoever arrives while
// a group is being written waits for the next group, and the next group takes
// everything that waited. Every caller is answered only after the COMMIT
// holding its line, with exactly the outcome it would have had alone: the
// lines run one after the other in the group's transaction, each seeing the
// ones before, a line the rules refuse writes nothing but its delivery id,
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
		for _, p := range group {
			if id := p.line.m.DeliveryID; id != "" {
				if !fresh[id] {
					p.outcome = OutcomeDuplicate
					continue
				}
				delete(fresh, id) // a second line with this id is a redelivery
			}
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
