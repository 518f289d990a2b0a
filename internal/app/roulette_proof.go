package app

import (
	"context"
	"errors"

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
	list, ok := drawproof.Decode(rec.List)
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
