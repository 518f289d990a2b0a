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
//
// Every request of every route passes here, so the buckets are spread over
// shards by key: one mutex for all of them was the lock every viewer's poll
// waited on.
type limiter struct {
	perMinute map[string]int // read-only after newLimiter
	now       func() time.Time
	shards    [limiterShards]limiterShard
}

const limiterShards = 64

type limiterShard struct {
	mu        sync.Mutex
	buckets   map[bucketKey]*bucket
	lastSweep time.Time
	_         [64]byte // keeps neighbouring shards' mutexes off one cache line
}

type bucketKey struct{ class, key string }

type bucket struct {
	lim  *rate.Limiter // safe for concurrent use: taken outside the shard's lock
	seen time.Time
}

func newLimiter(perMinute map[string]int, now func() time.Time) *limiter {
	l := &limiter{perMinute: perMinute, now: now}
	for i := range l.shards {
		l.shards[i].buckets = map[bucketKey]*bucket{}
	}
	return l
}

// allow takes one token; when none is left it reports how long until one is.
func (l *limiter) allow(class, key string) (bool, time.Duration) {
	n := l.perMinute[class]
	if n <= 0 {
		return true, 0
	}
	now := l.now()
	sh := &l.shards[shardOf(key)]
	k := bucketKey{class, key}
	sh.mu.Lock()
	sh.sweep(now)
	b, ok := sh.buckets[k]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(n)/60), n)}
		sh.buckets[k] = b
	}
	b.seen = now
	sh.mu.Unlock()
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// shardOf spreads keys over the shards (FNV-1a).
func shardOf(key string) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return int(h % limiterShards)
}

// sweep drops buckets idle for longer than a full refill. A request racing
// the sweep at worst gets a fresh, full bucket, which is what an idle one is.
func (sh *limiterShard) sweep(now time.Time) {
	if now.Sub(sh.lastSweep) < time.Minute {
		return
	}
	sh.lastSweep = now
	for k, b := range sh.buckets {
		if now.Sub(b.seen) > 2*time.Minute {
			delete(sh.buckets, k)
		}
	}
}
