package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// TestRequestLogAlwaysLogsWhatMatters: on a hot read route, errors, slow
// answers and panics get their own line, ordinary answers only count; the
// summary's numbers add up.
func TestRequestLogAlwaysLogsWhatMatters(t *testing.T) {
	var out testkit.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newRequestLog(slog.New(slog.NewJSONHandler(&out, nil)), func() time.Time { return now })
	ctx := context.Background()
	const hot = "GET /api/roulette/state"

	l.finished(ctx, "GET", hot, 200, 2*time.Millisecond, 10, "ok-1", false)
	l.finished(ctx, "GET", hot, 304, 3*time.Millisecond, 0, "ok-2", false)
	l.finished(ctx, "GET", hot, 200, 40*time.Millisecond, 10, "ok-3", false)
	l.finished(ctx, "GET", hot, 401, time.Millisecond, 10, "unauthorized", false)
	l.finished(ctx, "GET", hot, 429, time.Millisecond, 10, "limited", false)
	l.finished(ctx, "GET", hot, 503, time.Millisecond, 10, "unavailable", false)
	l.finished(ctx, "GET", hot, 200, slowRequest, 10, "slow", false)
	l.finished(ctx, "GET", hot, 500, time.Millisecond, 10, "panicked", true)
	l.finished(ctx, "POST", "POST /api/payouts/claim", 201, time.Millisecond, 10, "write", false)
	l.flush()

	var ids []string
	var sum map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		switch m["msg"] {
		case "request":
			ids = append(ids, m["request_id"].(string))
		case "requests":
			sum = m
		}
	}
	if got, want := strings.Join(ids, " "), "unauthorized limited unavailable slow panicked write"; got != want {
		t.Errorf("own lines for %q, want %q", got, want)
	}
	if sum == nil {
		t.Fatalf("no summary:\n%s", out.String())
	}
	want := map[string]any{"route": hot, "count": 3.0, "status_2xx": 2.0, "status_3xx": 1.0,
		"duration_ms_p50": 5.0, "duration_ms_p99": 40.0, "duration_ms_max": 40.0}
	for k, v := range want {
		if sum[k] != v {
			t.Errorf("summary %s = %v, want %v", k, sum[k], v)
		}
	}

	// Counted requests are summed up once: a flush with nothing new is silent.
	before := out.String()
	l.flush()
	if out.String() != before {
		t.Errorf("an empty summary was written: %s", strings.TrimPrefix(out.String(), before))
	}
	// The first request after the minute writes the summary on its own.
	l.finished(ctx, "GET", hot, 200, time.Millisecond, 10, "next", false)
	now = now.Add(requestSummaryEvery)
	l.finished(ctx, "GET", "GET /api/version", 200, time.Millisecond, 10, "version", false)
	if after := strings.TrimPrefix(out.String(), before); !strings.Contains(after, `"msg":"requests"`) || !strings.Contains(after, `"count":1`) {
		t.Errorf("no summary after the minute: %s", after)
	}
}
