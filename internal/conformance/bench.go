package conformance

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// BenchOpener returns a fresh, empty, migrated store for one benchmark.
type BenchOpener func(testing.TB) *store.DB

// PoolSizes are the pool sizes the benchmarks run at (issue 15).
var PoolSizes = []int{1_000, 10_000, 100_000}

// Bench measures what grows with the pool, on one store: chat enrollments
// arriving concurrently, the draw, and the snapshot refresh, each at every
// size in PoolSizes. Backends call it from their own benchmarks:
//
//	go test -run '^$' -bench Store ./internal/sqlite ./internal/postgres
func Bench(b *testing.B, open BenchOpener) {
	for _, size := range PoolSizes {
		b.Run(fmt.Sprintf("Enroll/pool=%d", size), func(b *testing.B) { benchEnroll(b, open, size) })
		b.Run(fmt.Sprintf("Draw/pool=%d", size), func(b *testing.B) { benchDraw(b, open, size, false) })
		b.Run(fmt.Sprintf("DrawPrepared/pool=%d", size), func(b *testing.B) { benchDraw(b, open, size, true) })
		b.Run(fmt.Sprintf("Refresh/pool=%d", size), func(b *testing.B) { benchRefresh(b, open, size) })
		b.Run(fmt.Sprintf("Proof/pool=%d", size), func(b *testing.B) { benchProof(b, open, size) })
	}
}

// benchEnroll: distinct subscribers enrolling by chat from 16 goroutines per
// core, as a busy channel's webhooks arrive; ns/op is per enrollment.
func benchEnroll(b *testing.B, open BenchOpener, size int) {
	db := open(b)
	FillPool(b, db, size, T0)
	svc := app.New(db, app.Options{Now: time.Now, BroadcasterID: "b1"})
	var next atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			out, err := svc.HandleChatMessage(context.Background(), app.ChatMessage{
				DeliveryID: fmt.Sprintf("bench-%d", i), BroadcasterID: "b1",
				Viewer: mgm.Viewer{UserID: fmt.Sprintf("bench-%d", i), DisplayName: "B"}, IsSubscriber: true,
				Text: "!twgold Zz" + spell(int(i)),
			})
			if err != nil || out != app.OutcomeEnrolled {
				b.Fatalf("enrollment %d: %q, %v", i, out, err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enrollments/s")
}

// benchDraw: the tick at a window's draw moment, which draws the candidate
// among the whole pool (the window's cycles already exist, as they do when
// the EBS runs: the tick before creates them). prepared: the tick a second
// before read the list ahead, as the EBS's ticks do when the pool is quiet;
// otherwise the draw reads, hashes and compresses the list itself, as when
// the pool changed in the last second.
func benchDraw(b *testing.B, open BenchOpener, size int, prepared bool) {
	db := open(b)
	FillPool(b, db, size, T0)
	clock := NewClock(T0)
	svc := app.New(db, app.Options{Now: clock.Now, BroadcasterID: "b1"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		next := svc.Schedule().End(svc.Schedule().Start(clock.Now()))
		clock.Advance(next.Sub(clock.Now()) + time.Second) // a second into the next window
		if err := svc.Tick(ctx); err != nil {
			b.Fatal(err)
		}
		clock.Advance(237 * time.Second)
		if prepared { // two ticks: the second finds the pool unchanged and stages the list
			for range 2 {
				if err := svc.Tick(ctx); err != nil {
					b.Fatal(err)
				}
				clock.Advance(time.Second / 2)
			}
		} else {
			clock.Advance(time.Second)
		}
		clock.Advance(time.Second) // the draw moment
		b.StartTimer()
		if err := svc.Tick(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if c := svc.Snapshot().Current; c == nil || c.Candidate == nil {
			b.Fatal("no candidate drawn")
		}
		b.StartTimer()
	}
}

// benchProof: what GET /api/roulette/cycles/{id}/proof does for a drawn
// cycle: read and decompress the stored list, rebuild the proof, write it as
// JSON gzip-compressed as the route does for a client that accepts it. It
// reports the stored list's size and the response's, plain and compressed.
func benchProof(b *testing.B, open BenchOpener, size int) {
	db := open(b)
	FillPool(b, db, size, T0)
	clock := NewClock(T0)
	svc := app.New(db, app.Options{Now: clock.Now, BroadcasterID: "b1"})
	ctx := context.Background()
	if err := svc.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	clock.Advance(240 * time.Second)
	if err := svc.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	id := svc.Snapshot().Current.ID
	var stored int
	if err := db.SQL().QueryRowContext(ctx, `SELECT length(list_gzip) FROM draw_proofs`).Scan(&stored); err != nil {
		b.Fatal(err)
	}
	var plain, compressed int
	b.ReportAllocs()
	for b.Loop() {
		p, err := svc.DrawProof(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		body, err := json.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		var zb bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&zb, gzip.HuffmanOnly)
		_, _ = zw.Write(body)
		_ = zw.Close()
		plain, compressed = len(body), zb.Len()
	}
	b.ReportMetric(float64(stored), "stored-B")
	b.ReportMetric(float64(plain), "json-B")
	b.ReportMetric(float64(compressed), "gzip-B")
}

// benchRefresh: one read of the roulette snapshot.
func benchRefresh(b *testing.B, open BenchOpener, size int) {
	db := open(b)
	FillPool(b, db, size, T0)
	svc := app.New(db, app.Options{Now: time.Now, BroadcasterID: "b1"})
	b.ReportAllocs()
	for b.Loop() {
		if err := svc.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// FillPool inserts n subscribers into the pool (user ids pool-0…, names
// Pool0…, all enrolled at at), generated by the database itself: the rules
// are not the point here, and 100,000 rows bound one by one take the race
// detector most of a minute.
func FillPool(tb testing.TB, db *store.DB, n int, at time.Time) {
	tb.Helper()
	// The pool's triggers count the rows once per statement (migration 0013).
	// mgm_order_key is drawproof.OrderKey in SQL (migration 0010).
	generate(tb, db, n, at, "pool", "twitch_user_id, twitch_display_name, character_name, name_key, enrolled_at, order_key",
		"'pool-' || n, 'P', 'Pool' || n, 'pool' || n, @at, mgm_order_key('pool-' || n)")
	analyze(tb, db)
}

// FillHistory adds what n enrollments leave besides their pool rows: an
// audit event, a remembered EventSub delivery and a panel request id each,
// so that plans are judged on tables of a live channel's size.
func FillHistory(tb testing.TB, db *store.DB, n int, at time.Time) {
	tb.Helper()
	generate(tb, db, n, at, "events", "stream_id, version, type, data, at", "'pool:pool-' || n, 1, 'PoolEntered', '{}', @at")
	generate(tb, db, n, at, "eventsub_messages", "message_id, message_type, processed_at", "'history-' || n, 'notification', @at")
	generate(tb, db, n, at, "enrollment_requests", "enrollment_request_id, twitch_user_id, character_name, created_at",
		"'history-claim-' || n, 'pool-' || n, 'Pool' || n, @at")
	analyze(tb, db)
}

// generate inserts n rows into table, computed by exprs from n = 0…n-1 and
// @at, in one statement.
func generate(tb testing.TB, db *store.DB, n int, at time.Time, table, cols, exprs string) {
	tb.Helper()
	var q string
	var when any
	if db.Dialect() == "postgres" {
		q = fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM generate_series(0, $1 - 1) AS g(n)`,
			table, cols, strings.ReplaceAll(exprs, "@at", "$2::timestamptz"))
		when = at.UTC()
	} else {
		q = fmt.Sprintf(`WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n + 1 < ?1)
			INSERT INTO %s (%s) SELECT %s FROM g`, table, cols, strings.ReplaceAll(exprs, "@at", "?2"))
		when = at.UTC().Format(store.TimeFormat)
	}
	if n == 0 {
		return
	}
	if _, err := db.SQL().ExecContext(context.Background(), q, n, when); err != nil {
		tb.Fatalf("fill %s: %v", table, err)
	}
}

// analyze refreshes the planner's statistics, as autovacuum or the
// operator's ANALYZE would have by the time a pool is this big.
func analyze(tb testing.TB, db *store.DB) {
	tb.Helper()
	q := `ANALYZE`
	if db.Dialect() == "postgres" {
		q = `VACUUM ANALYZE`
	}
	if _, err := db.SQL().ExecContext(context.Background(), q); err != nil {
		tb.Fatal(err)
	}
}

// spell writes i in base 26 with lowercase letters, so that every index
// makes a distinct valid character name.
func spell(i int) string {
	var b []byte
	for {
		b = append(b, byte('a'+i%26))
		i /= 26
		if i == 0 {
			return string(b)
		}
	}
}
