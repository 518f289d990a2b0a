package httpapi

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate-limit classes (ebs.md § Rate limits).
const (
	classViewerRead  = "viewer_read"
	classViewerWrite = "viewer_write"
	classDesktop     = "desktop"
	classAnonymous   = "anonymous"
)

// limiter keeps one token bucket per (class, key): a minute's allowance as
// the burst, refilled evenly. Idle buckets are full again, so they are dropped.
type limiter struct {
	perMinute map[string]int
	now       func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perMinute map[string]int, now func() time.Time) *limiter {
	return &limiter{perMinute: perMinute, now: now, buckets: map[string]*bucket{}}
}

// allow takes one token; when none is left it reports how long until one is.
func (l *limiter) allow(class, key string) (bool, time.Duration) {
	n := l.perMinute[class]
	if n <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	k := class + "\x00" + key
	b, ok := l.buckets[k]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(n)/60), n)}
		l.buckets[k] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops buckets idle for longer than a full refill.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) > 2*time.Minute {
			delete(l.buckets, k)
		}
	}
}
