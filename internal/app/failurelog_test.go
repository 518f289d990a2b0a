package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestFailureLogDoesNotFlood(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var f failureLog
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	down := errors.New("database unreachable")
	for i := 0; i < 120; i++ { // a minute of failing ticks, twice a second
		f.record(context.Background(), log, t0.Add(time.Duration(i)*500*time.Millisecond), "roulette tick", down)
	}
	f.record(context.Background(), log, t0.Add(time.Minute), "roulette tick", nil)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "failures=1") || !strings.Contains(lines[1], "failures=61") ||
		!strings.Contains(lines[2], "recovered") || !strings.Contains(lines[2], "failures=120") {
		t.Fatalf("log:\n%s", buf.String())
	}
}
