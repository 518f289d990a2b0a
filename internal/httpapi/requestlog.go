package httpapi

import (
	"context"
	"log/slog"
	"math"
	"sync/atomic"
	"time"
)

// Request log policy. Every viewer's panel polls a few routes every few
// seconds, and Twitch delivers every line of the channel's chat to the
// EventSub webhook; one JSON line per request would make the log (and the
// write to stderr) the largest cost of those requests and bury everything
// else. So the hot routes below are summed up in one "requests" line per
// route per summary interval, while anything worth a look about them — a
// status of 400 or more, a request slower than slowRequest, a panic — still
// gets its own "request" line. (What each EventSub delivery did is counted in
// mgm_eventsub_messages_total, and every enrollment is an audit event.)
// Every other route (writes, the Desktop's routes, admin and anonymous ones)
// logs every request.
const (
	requestSummaryEvery = time.Minute
	slowRequest         = 500 * time.Millisecond
)

// hotRoutes are the mux patterns whose ordinary answers are summarised.
var hotRoutes = []string{
	"POST /api/twitch/eventsub",
	"GET /api/roulette/state",
	"GET /api/pool/me",
	"GET /api/payouts/my-last",
	"GET /api/streamers/{streamerId}/gift-queue",
}

// latencyBoundsMs are the upper bounds of the summary's latency buckets; the
// summary's p50 and p99 are the bound of the bucket they fall in.
var latencyBoundsMs = [...]float64{0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500}

// routeSummary counts one hot route's ordinary requests since the last
// summary line. Counters are atomics: the route is hot, a lock would be the
// next thing every request waits for.
type routeSummary struct {
	route   string
	status  [6]atomic.Int64 // by class: [2] is 2xx, [3] 3xx; 4xx and 5xx are logged one by one
	buckets [len(latencyBoundsMs) + 1]atomic.Int64
	maxUs   atomic.Int64
}

// requestLog decides, for each finished request, between its own line and
// the route's summary.
type requestLog struct {
	log    *slog.Logger
	now    func() time.Time
	routes map[string]*routeSummary // fixed at construction; read-only after

	nextFlush atomic.Int64 // unix nanoseconds of the next summary, by now()
}

func newRequestLog(log *slog.Logger, now func() time.Time) *requestLog {
	l := &requestLog{log: log, now: now, routes: map[string]*routeSummary{}}
	for _, r := range hotRoutes {
		l.routes[r] = &routeSummary{route: r}
	}
	l.nextFlush.Store(now().Add(requestSummaryEvery).UnixNano())
	return l
}

// finished logs one request: on its own line, or counted into its route's
// summary when it is an ordinary answer on a hot route. panicked
// requests are always logged on their own.
func (l *requestLog) finished(ctx context.Context, method, route string, status int, elapsed time.Duration, bytes int, id string, panicked bool) {
	l.maybeFlush()
	if sum, hot := l.routes[route]; hot && !panicked && status < 400 && elapsed < slowRequest {
		sum.add(status, elapsed)
		return
	}
	l.log.InfoContext(ctx, "request", "method", method, "route", route, "status", status,
		"duration_ms", float64(elapsed.Microseconds())/1000, "bytes", bytes, "request_id", id)
}

func (s *routeSummary) add(status int, elapsed time.Duration) {
	if c := status / 100; c >= 0 && c < len(s.status) {
		s.status[c].Add(1)
	}
	ms := float64(elapsed.Microseconds()) / 1000
	i := 0
	for i < len(latencyBoundsMs) && ms > latencyBoundsMs[i] {
		i++
	}
	s.buckets[i].Add(1)
	us := elapsed.Microseconds()
	for {
		old := s.maxUs.Load()
		if us <= old || s.maxUs.CompareAndSwap(old, us) {
			return
		}
	}
}

// maybeFlush writes the summaries once their interval has passed. The
// request that notices it pays for the lines; no goroutine is needed.
func (l *requestLog) maybeFlush() {
	next := l.nextFlush.Load()
	now := l.now()
	if now.UnixNano() < next || !l.nextFlush.CompareAndSwap(next, now.Add(requestSummaryEvery).UnixNano()) {
		return
	}
	l.flush()
}

// flush writes the summary lines of the requests counted so far.
func (l *requestLog) flush() {
	for _, r := range hotRoutes {
		l.routes[r].flush(l.log)
	}
}

func (s *routeSummary) flush(log *slog.Logger) {
	var buckets [len(latencyBoundsMs) + 1]int64
	var total int64
	for i := range s.buckets {
		buckets[i] = s.buckets[i].Swap(0)
		total += buckets[i]
	}
	if total == 0 {
		return
	}
	maxMs := float64(s.maxUs.Swap(0)) / 1000
	quantile := func(q float64) float64 {
		want := int64(math.Ceil(q * float64(total)))
		var seen int64
		for i, n := range buckets {
			seen += n
			if seen >= want {
				if i < len(latencyBoundsMs) {
					return min(latencyBoundsMs[i], maxMs)
				}
				break
			}
		}
		return maxMs
	}
	log.Info("requests", "route", s.route, "count", total,
		"status_2xx", s.status[2].Swap(0), "status_3xx", s.status[3].Swap(0),
		"duration_ms_p50", quantile(0.5), "duration_ms_p99", quantile(0.99), "duration_ms_max", maxMs,
		"interval_s", int(requestSummaryEvery/time.Second))
}
