package metrics

import (
	"fmt"
	"testing"
	"time"
)

func series(t *testing.T, m *Metrics, name string) int {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}

// Every label is drawn from a closed set: whatever a caller passes, the
// number of series has a fixed bound.
func TestLabelsAreClosedSets(t *testing.T) {
	m := New()
	for i := range 5000 {
		junk := fmt.Sprintf("junk%d", i)
		m.ObserveRequest(junk, junk, 1000+i, time.Millisecond)
		m.EventSubMessage(junk, junk)
		m.Enrollment(junk, junk)
		m.RateLimit(junk)
		m.SpinCycleDecided(junk)
		m.PayoutTransition(junk, junk)
		m.GiftTransition(junk, junk)
		m.HelixCall(junk)
		m.SweepRun(junk, 1)
	}
	for name, max := range map[string]int{
		"mgm_http_requests_total":      129, // 128 admitted routes + other, one method, one status
		"mgm_eventsub_messages_total":  129,
		"mgm_enrollments_total":        129,
		"mgm_rate_limited_total":       17,
		"mgm_payout_transitions_total": 33,
		"mgm_sweep_runs_total":         17,
	} {
		if got := series(t, m, name); got > max {
			t.Errorf("%s: %d series after 5,000 distinct values, want at most %d", name, got, max)
		}
	}
	for in, want := range map[string]string{"GET": "GET", "PATCH": "PATCH", "get": Other, "Q0000001": Other, "": Other} {
		if got := Method(in); got != want {
			t.Errorf("Method(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int]string{200: "200", 431: "431", 599: Other, 1000: Other, -1: Other} {
		if got := Status(in); got != want {
			t.Errorf("Status(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"notification": "notification", "unknown": "unknown", "x": Other} {
		if got := EventSubType(in); got != want {
			t.Errorf("EventSubType(%q) = %q, want %q", in, got, want)
		}
	}
}
