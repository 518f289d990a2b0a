package app

import (
	"context"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// History export bounds: a range of whole UTC days, at most MaxHistoryDays
// long, holding at most MaxHistoryRows payouts and as many events. The rows
// are read a page at a time, each page in a read of its own, so an export
// holds no transaction open while the client downloads.
const (
	MaxHistoryDays = 31
	MaxHistoryRows = 200_000
	historyPage    = 500
)

// HistoryRange is [From, To) in whole UTC days.
type HistoryRange struct{ From, To time.Time }

// NewHistoryRange checks an inclusive range of UTC dates (YYYY-MM-DD).
func NewHistoryRange(from, to string) (HistoryRange, error) {
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	switch {
	case err1 != nil || err2 != nil:
		return HistoryRange{}, mgm.Errorf(mgm.CodeInvalidPayload, "from and to must be UTC dates, YYYY-MM-DD.")
	case t.Before(f):
		return HistoryRange{}, mgm.Errorf(mgm.CodeInvalidPayload, "to must not be before from.")
	case t.Sub(f) >= MaxHistoryDays*24*time.Hour:
		return HistoryRange{}, mgm.Errorf(mgm.CodeInvalidPayload, "The range is at most %d days.", MaxHistoryDays)
	}
	return HistoryRange{From: f, To: t.Add(24 * time.Hour)}, nil
}

// CheckHistorySize refuses a range holding more rows than an export sends,
// before anything is written to the client.
func (s *Service) CheckHistorySize(ctx context.Context, r HistoryRange) error {
	var payouts, events int
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		payouts, events, err = tx.CountHistory(ctx, r.From, r.To)
		return err
	})
	if err == nil && (payouts > MaxHistoryRows || events > MaxHistoryRows) {
		return mgm.Errorf(mgm.CodeInvalidPayload, "The range holds %d payouts and %d events; an export holds at most %d of each: choose fewer days.",
			payouts, events, MaxHistoryRows)
	}
	return err
}

// EachPayout calls fn with every payout created in r, oldest first; an
// error from fn stops it.
func (s *Service) EachPayout(ctx context.Context, r HistoryRange, fn func(mgm.Payout) error) error {
	afterAt, afterID := r.From.Add(-time.Millisecond), ""
	for n := 0; n < MaxHistoryRows; {
		var page []mgm.Payout
		if err := s.db.Read(ctx, func(tx *store.Tx) error {
			var err error
			page, err = tx.PayoutsPage(ctx, r.From, r.To, afterAt, afterID, historyPage)
			return err
		}); err != nil {
			return err
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(page) < historyPage {
			return nil
		}
		n += len(page)
		last := page[len(page)-1]
		afterAt, afterID = last.CreatedAt, last.ID
	}
	return nil
}

// EachEvent calls fn with every event appended in r, in time order.
func (s *Service) EachEvent(ctx context.Context, r HistoryRange, fn func(store.HistoryEvent) error) error {
	afterAt, afterID := r.From.Add(-time.Millisecond), int64(0)
	for n := 0; n < MaxHistoryRows; {
		var page []store.HistoryEvent
		if err := s.db.Read(ctx, func(tx *store.Tx) error {
			var err error
			page, err = tx.EventsPage(ctx, r.From, r.To, afterAt, afterID, historyPage)
			return err
		}); err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < historyPage {
			return nil
		}
		n += len(page)
		last := page[len(page)-1]
		afterAt, afterID = last.At, last.ID
	}
	return nil
}
