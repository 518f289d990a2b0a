package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// DrawProof returns a cycle's draw proof once the draw has happened: the
// seed it committed to, the eligible list, its hash and the index
// (drawproof). Before the draw it refuses with the commitment, so the
// viewer can keep it and check the seed later.
func (s *Service) DrawProof(ctx context.Context, cycleID string) (drawproof.Proof, error) {
	var c mgm.SpinCycle
	var seed drawproof.Seed
	var committed bool
	var rec store.DrawRecord
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = tx.Cycle(ctx, cycleID); err != nil {
			return err
		}
		if seed, committed, err = tx.CycleSeed(ctx, cycleID); err != nil || !committed {
			return err
		}
		rec, err = tx.Draw(ctx, cycleID)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound) && c.ID == "":
		return drawproof.Proof{}, mgm.Errorf(mgm.CodeNotFound, "No spin cycle has this id.")
	case err == nil && !committed:
		return drawproof.Proof{}, mgm.Errorf(mgm.CodeNoDrawProof,
			"No proof for this cycle: it was created before draws were committed and revealed.")
	case errors.Is(err, store.ErrNotFound) && c.DrawnAt == nil && !c.Decided():
		return drawproof.Proof{}, mgm.Errorf(mgm.CodeDrawNotRevealed,
			"The draw has not happened yet; the commitment is %s. Keep it: after the draw, SHA-256 of the revealed seed must equal it.",
			c.Commitment)
	case errors.Is(err, store.ErrNotFound):
		return drawproof.Proof{}, mgm.Errorf(mgm.CodeNoDrawProof,
			"No proof for this cycle: it was closed without a draw (no EBS was running at its draw time), or its candidate was set by the Development test harness.")
	case err != nil:
		return drawproof.Proof{}, err
	}
	if rec.Expired {
		var index any
		if rec.Index >= 0 {
			index = rec.Index
		}
		e := mgm.Errorf(mgm.CodeDrawProofExpired,
			"This draw's list is no longer kept (proofs are kept %d days); the details still give its commitment, list hash, size and index.",
			int(s.proofRetention/(24*time.Hour)))
		e.Details = map[string]any{"cycleId": c.ID, "commitment": c.Commitment, "listHash": rec.ListHash,
			"listSize": rec.ListSize, "index": index}
		return drawproof.Proof{}, e
	}
	text, err := rec.List()
	if err != nil {
		return drawproof.Proof{}, fmt.Errorf("draw proof: the stored list does not decompress: %w", err)
	}
	list, ok := drawproof.Decode(text)
	if !ok || len(list) != rec.ListSize {
		return drawproof.Proof{}, errors.New("draw proof: the stored list is malformed")
	}
	p := drawproof.NewProof(seed, c.ID, list)
	// The proof is rebuilt from the seed and the list; what the draw
	// recorded must agree, or the store was changed behind our back.
	if p.ListHash != rec.ListHash || (p.Index == nil) != (rec.Index < 0) || (p.Index != nil && *p.Index != rec.Index) {
		return drawproof.Proof{}, errors.New("draw proof: the stored list hash or index disagrees with the stored list")
	}
	return p, nil
}

// DefaultDrawProofRetention is how long a draw's list is kept for its proof.
const DefaultDrawProofRetention = 30 * 24 * time.Hour

// PruneDrawProofs removes the lists of draws older than the retention
// (Options.DrawProofRetention; none when it is negative), keeping the rest
// of their records, and returns how many it removed. At 100,000 members a
// list is megabytes, every cycle. Replicas pruning at once remove each once.
func (s *Service) PruneDrawProofs(ctx context.Context) (int64, error) {
	if s.proofRetention < 0 {
		return 0, nil
	}
	var n int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.PruneDrawLists(ctx, s.clock().Add(-s.proofRetention))
		return err
	})
	if err == nil {
		s.obs.SweepRun("draw_proofs", int(n))
	}
	return n, err
}
