package jobs_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/jobs"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite/sqlitetest"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// TestRunRetriesAQueueThatCannotStart: with the database unreachable the
// queue does not give up (which would leave reward lines unposted without a
// word): it logs why and tries again until it starts or the EBS stops.
func TestRunRetriesAQueueThatCannotStart(t *testing.T) {
	db := sqlitetest.Open(t)
	var out testkit.Buffer
	q, err := jobs.New(db, jobs.Config{Logger: slog.New(slog.NewTextHandler(&out, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SQL().Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "the job queue could not start") < 2 {
		select {
		case err := <-done:
			t.Fatalf("Run returned while the database was unreachable: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retries logged:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after ctx ended: %v", err)
	}
}
