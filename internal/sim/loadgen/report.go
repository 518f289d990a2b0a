package loadgen

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// earlyLateWindow caps the early and late windows: with a large run the
// first 1000 enrollments are the empty pool, which 10 % of 100,000 is not.
const earlyLateWindow = 1000

// DefaultCheckpoints are the pool sizes whose rate is reported by default.
var DefaultCheckpoints = []int{1000, 10000, 50000, 100000}

// Summary is what a run measured. Rates are acknowledged enrollments per
// second; a rate that could not be measured (a window with no duration) is 0.
type Summary struct {
	EBS          string `json:"ebs"`
	Viewers      int    `json:"viewers"`
	Start        int    `json:"start"`
	Connections  int    `json:"connections"`
	Acknowledged int    `json:"acknowledged"`
	// NotAcknowledged counts answers other than 2xx by status.
	NotAcknowledged map[string]int `json:"notAcknowledged"`
	TransportErrors int            `json:"transportErrors"`
	// FirstError is the first transport error's text, for a hint at why.
	FirstError     string       `json:"firstError,omitempty"`
	ElapsedSeconds float64      `json:"elapsedSeconds"`
	TotalRate      float64      `json:"totalRate"`
	Window         int          `json:"window"`
	EarlyRate      float64      `json:"earlyRate"`
	LateRate       float64      `json:"lateRate"`
	LateEarlyRatio float64      `json:"lateEarlyRatio"`
	Checkpoints    []Checkpoint `json:"checkpoints"`
	P50Ms          float64      `json:"p50Ms"`
	P99Ms          float64      `json:"p99Ms"`
}

// Checkpoint is the rate over the last 10 % of enrollments before the pool
// reached PoolSize (counting Start viewers as already in it).
type Checkpoint struct {
	PoolSize int     `json:"poolSize"`
	Reached  bool    `json:"reached"`
	Window   int     `json:"window,omitempty"`
	Rate     float64 `json:"rate,omitempty"`
}

// Summarize computes the rates and latencies of a run.
func Summarize(r *Run, checkpoints []int) Summary {
	o := r.Options
	s := Summary{
		EBS: o.EBS, Viewers: o.Viewers, Start: o.Start, Connections: o.Connections,
		NotAcknowledged: map[string]int{}, ElapsedSeconds: r.Elapsed.Seconds(),
	}
	var done []time.Duration // completion times of acknowledged enrollments
	var lat []time.Duration
	for _, x := range r.Samples {
		switch {
		case x.Acknowledged():
			done = append(done, x.Done)
		case x.Status != 0:
			s.NotAcknowledged[strconv.Itoa(x.Status)]++
		default:
			s.TransportErrors++
			if s.FirstError == "" {
				s.FirstError = x.Err
			}
		}
		if x.Status != 0 {
			lat = append(lat, x.Latency)
		}
	}
	slices.Sort(done)
	slices.Sort(lat)
	n := len(done)
	s.Acknowledged = n
	if n > 0 {
		s.TotalRate = rate(n, done[n-1])
	}
	// rateBetween is the rate of the i+1-th to j-th acknowledgements (1-based
	// j), timed from the i-th (or the start).
	rateBetween := func(i, j int) float64 {
		from := time.Duration(0)
		if i > 0 {
			from = done[i-1]
		}
		return rate(j-i, done[j-1]-from)
	}
	s.Window = min(earlyLateWindow, max(1, n/10))
	if n > 0 {
		s.EarlyRate = rateBetween(0, s.Window)
		s.LateRate = rateBetween(n-s.Window, n)
		if s.EarlyRate > 0 {
			s.LateEarlyRatio = s.LateRate / s.EarlyRate
		}
	}
	cps := slices.Clone(checkpoints)
	sort.Ints(cps)
	for _, p := range cps {
		c := Checkpoint{PoolSize: p}
		j := p - o.Start            // the acknowledgement that makes the pool p
		i := max(0, p-p/10-o.Start) // where its window begins
		if p > 0 && j >= 1 && j <= n && j > i {
			c.Reached, c.Window, c.Rate = true, j-i, rateBetween(i, j)
		}
		s.Checkpoints = append(s.Checkpoints, c)
	}
	s.P50Ms, s.P99Ms = percentileMs(lat, 0.50), percentileMs(lat, 0.99)
	return s
}

func rate(count int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(count) / d.Seconds()
}

// percentileMs is the nearest-rank percentile of sorted latencies.
func percentileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(q*float64(len(sorted)))) - 1
	k = min(max(k, 0), len(sorted)-1)
	return float64(sorted[k]) / float64(time.Millisecond)
}

// WriteText prints the summary and the check (nil when not run) for people.
func WriteText(w io.Writer, s Summary, c *CheckResult) {
	last := s.Start + s.Viewers - 1
	fmt.Fprintf(w, "mgm-sim load: %d viewers (#%d–#%d) over %d connections to %s\n", s.Viewers, s.Start, last, s.Connections, s.EBS)
	row := func(k, v string) { fmt.Fprintf(w, "  %-22s %s\n", k, v) }
	row("acknowledged (2xx)", fmt.Sprintf("%d of %d", s.Acknowledged, s.Viewers))
	if len(s.NotAcknowledged) > 0 {
		var parts []string
		for _, st := range slices.Sorted(maps.Keys(s.NotAcknowledged)) {
			parts = append(parts, fmt.Sprintf("%s ×%d", st, s.NotAcknowledged[st]))
		}
		row("other answers", strings.Join(parts, ", "))
	}
	if s.TransportErrors > 0 {
		row("transport errors", fmt.Sprintf("%d (first: %s)", s.TransportErrors, s.FirstError))
	}
	row("elapsed", fmt.Sprintf("%.2f s", s.ElapsedSeconds))
	row("total rate", fmt.Sprintf("%.0f enrollments/s", s.TotalRate))
	row("early rate", fmt.Sprintf("%.0f /s (first %d)", s.EarlyRate, s.Window))
	row("late rate", fmt.Sprintf("%.0f /s (last %d)", s.LateRate, s.Window))
	row("late/early", fmt.Sprintf("%.2f", s.LateEarlyRatio))
	for _, c := range s.Checkpoints {
		k := fmt.Sprintf("rate at pool %d", c.PoolSize)
		if !c.Reached {
			row(k, "not reached")
			continue
		}
		row(k, fmt.Sprintf("%.0f /s (last %d before it)", c.Rate, c.Window))
	}
	row("latency", fmt.Sprintf("p50 %.1f ms, p99 %.1f ms", s.P50Ms, s.P99Ms))
	if c != nil {
		WriteCheckText(w, *c)
	}
}
