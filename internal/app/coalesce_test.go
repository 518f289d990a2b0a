package app

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCoalescerSharesRuns: callers that ask while a run is under way share
// the next run, and every caller is answered by a run that started after it asked.
func TestCoalescerSharesRuns(t *testing.T) {
	var runs, started atomic.Int64
	release := make(chan struct{})
	first := make(chan struct{})
	c := coalescer{run: func(context.Context) error {
		n := runs.Add(1)
		started.Store(n)
		if n == 1 {
			close(first)
			<-release // hold the first run while the others ask
		}
		return nil
	}}
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- c.Do(ctx) }()
	<-first

	const callers = 50
	var wg sync.WaitGroup
	asked := make(chan struct{}, callers)
	for range callers {
		wg.Go(func() {
			asked <- struct{}{}
			askedDuring := runs.Load()
			if err := c.Do(ctx); err != nil {
				t.Error(err)
			}
			if got := started.Load(); got <= askedDuring {
				t.Errorf("answered by run %d, which started before the caller asked (during run %d)", got, askedDuring)
			}
		})
	}
	for range callers {
		<-asked
	}
	close(release)
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The 50 late callers shared one run (two if some asked only after it began).
	if n := runs.Load(); n > 3 {
		t.Fatalf("%d runs for 51 callers; want at most 3", n)
	}
}

// TestCoalescerReportsTheRunsError: a failed run fails every caller that shared it,
// and the next call runs again.
func TestCoalescerReportsTheRunsError(t *testing.T) {
	boom := errors.New("database down")
	var fail atomic.Bool
	fail.Store(true)
	c := coalescer{run: func(context.Context) error {
		if fail.Load() {
			return boom
		}
		return nil
	}}
	if err := c.Do(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the run's error", err)
	}
	fail.Store(false)
	if err := c.Do(context.Background()); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// TestCoalescerCallerLeavesEarly: a caller whose context ends stops waiting,
// and the run it asked for still completes for the others.
func TestCoalescerCallerLeavesEarly(t *testing.T) {
	release := make(chan struct{})
	var runs atomic.Int64
	c := coalescer{run: func(context.Context) error {
		runs.Add(1)
		<-release
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Do(ctx) }()
	for runs.Load() == 0 {
		runtime.Gosched() // until the run has started
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	other := make(chan error, 1)
	go func() { other <- c.Do(context.Background()) }()
	close(release)
	if err := <-other; err != nil {
		t.Fatal(err)
	}
}

// TestCoalescerKickDoesNotWait: Kick returns at once and its run happens;
// a Do after it is answered by a run that started after the Do.
func TestCoalescerKickDoesNotWait(t *testing.T) {
	release := make(chan struct{})
	var runs atomic.Int64
	c := coalescer{run: func(context.Context) error {
		if runs.Add(1) == 1 {
			<-release
		}
		return nil
	}}
	c.Kick(context.Background()) // would hang here if Kick waited
	for runs.Load() == 0 {
		runtime.Gosched()
	}
	done := make(chan error, 1)
	go func() { done <- c.Do(context.Background()) }()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := runs.Load(); n != 2 {
		t.Fatalf("%d runs; want the kicked one and one for the Do that came during it", n)
	}
}

// TestCoalescerDutySpacesRuns: with a duty share, callers arriving while a
// pause is kept join the one run after it.
func TestCoalescerDutySpacesRuns(t *testing.T) {
	var runs atomic.Int64
	c := coalescer{duty: 0.01, run: func(context.Context) error {
		runs.Add(1)
		time.Sleep(2 * time.Millisecond) // so the pause is about 200 ms, capped at maxPause
		return nil
	}}
	if err := c.Do(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if err := c.Do(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := runs.Load(); n > 3 {
		t.Fatalf("%d runs for 21 callers; want the callers to share runs", n)
	}
}
