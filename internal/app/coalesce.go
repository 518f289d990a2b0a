package app

import (
	"context"
	"sync"
	"time"
)

// coalescer runs a job at most once at a time, and lets every caller that
// asks while a run is under way share the next run instead of starting its
// own. A caller is answered by a run that started after it asked, so it sees
// whatever it changed before asking; yet a burst of N callers costs two runs,
// not N. The roulette snapshot refresh reads the whole pool's count, and one
// run per enrollment made each enrollment's cost grow with the pool (issue 15).
type coalescer struct {
	run func(context.Context) error
	// duty, when above zero, is the largest share of time runs may take
	// back to back: when callers asked during a run that took d, the next
	// run waits until d/duty has passed since that one started (at most
	// maxPause). Under a steady stream of callers runs would otherwise
	// follow each other without a break, each answering a handful; spaced
	// out, each answers many more, at the price of a few milliseconds' wait.
	// A caller that comes after a quiet spell is not held up.
	duty float64

	mu      sync.Mutex
	running bool
	next    *flight // the run that starts when the current one ends; nil if nobody asked
}

type flight struct {
	done chan struct{}
	err  error
}

// Do asks for a run that starts after this call and waits for it, or for ctx
// to end. The run itself is not cancelled when ctx ends: other callers share it.
func (c *coalescer) Do(ctx context.Context) error {
	c.mu.Lock()
	if c.next == nil {
		c.next = &flight{done: make(chan struct{})}
	}
	f := c.next
	if !c.running {
		c.running = true
		go c.loop(context.WithoutCancel(ctx))
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxPause bounds the wait duty imposes between runs.
const maxPause = 100 * time.Millisecond

// Kick asks for a run that starts after this call, without waiting for it.
func (c *coalescer) Kick(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.next == nil {
		c.next = &flight{done: make(chan struct{})}
	}
	if !c.running {
		c.running = true
		go c.loop(context.WithoutCancel(ctx))
	}
}

// loop runs flights until nobody asked for another.
func (c *coalescer) loop(ctx context.Context) {
	for {
		c.mu.Lock()
		f := c.next
		c.next = nil
		if f == nil {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		runCtx, cancel := context.WithTimeout(ctx, jobTimeout)
		start := time.Now()
		f.err = c.run(runCtx)
		took := time.Since(start)
		cancel()
		close(f.done)
		// Somebody asked during the run: demand is steady, so keep to the
		// duty share and let more callers join the next run. Nobody asked:
		// the loop ends, and the next caller is served at once.
		c.mu.Lock()
		waiting := c.next != nil
		c.mu.Unlock()
		if waiting && c.duty > 0 {
			time.Sleep(min(time.Duration(float64(took)/c.duty)-took, maxPause))
		}
	}
}
