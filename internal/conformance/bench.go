package conformance

import (
	"context"
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
		b.Run(fmt.Sprintf("Draw/pool=%d", size), func(b *testing.B) { benchDraw(b, open, size) })
		b.Run(fmt.Sprintf("Refresh/pool=%d", size), func(b *testing.B) { benchRefresh(b, open, size) })
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
// the EBS runs: the tick before creates them).
func benchDraw(b *testing.B, open BenchOpener, size int) {
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
		clock.Advance(239 * time.Second) // the draw moment
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

// FillPool inserts n subscribers into the pool, enrolled a millisecond apart
// from at, many rows per statement: the rules are not the point here.
func FillPool(tb testing.TB, db *store.DB, n int, at time.Time) {
	tb.Helper()
	bulkInsert(tb, db, "pool", []string{"twitch_user_id", "twitch_display_name", "character_name", "name_key", "enrolled_at"}, n,
		func(i int) []any {
			name := "Pool" + spell(i)
			return []any{fmt.Sprintf("pool-%d", i), "P", name, mgm.NameKey(name), dbTime(db, at.Add(time.Duration(i)*time.Millisecond))}
		})
	analyze(tb, db)
}

// FillHistory adds what n enrollments leave besides their pool rows: an
// audit event, a remembered EventSub delivery and a panel request id each,
// so that plans are judged on tables of a live channel's size.
func FillHistory(tb testing.TB, db *store.DB, n int, at time.Time) {
	tb.Helper()
	bulkInsert(tb, db, "events", []string{"stream_id", "version", "type", "data", "at"}, n, func(i int) []any {
		return []any{app.PoolStream(fmt.Sprintf("pool-%d", i)), 1, app.EventPoolEntered, "{}", dbTime(db, at)}
	})
	bulkInsert(tb, db, "eventsub_messages", []string{"message_id", "message_type", "processed_at"}, n, func(i int) []any {
		return []any{fmt.Sprintf("history-%d", i), "notification", dbTime(db, at.Add(time.Duration(i)*time.Millisecond))}
	})
	bulkInsert(tb, db, "enrollment_requests", []string{"enrollment_request_id", "twitch_user_id", "character_name", "created_at"}, n,
		func(i int) []any {
			return []any{fmt.Sprintf("history-claim-%d", i), fmt.Sprintf("pool-%d", i), "Pool" + spell(i), dbTime(db, at)}
		})
	analyze(tb, db)
}

func dbTime(db *store.DB, t time.Time) any {
	if db.Dialect() == "postgres" {
		return t.UTC()
	}
	return t.UTC().Format(store.TimeFormat)
}

// bulkInsert writes n rows, 500 to a statement.
func bulkInsert(tb testing.TB, db *store.DB, table string, cols []string, n int, row func(int) []any) {
	tb.Helper()
	const perStatement = 500
	for from := 0; from < n; from += perStatement {
		var q strings.Builder
		fmt.Fprintf(&q, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
		var args []any
		for i := from; i < min(from+perStatement, n); i++ {
			if i > from {
				q.WriteString(", ")
			}
			q.WriteString("(")
			for c := range cols {
				if c > 0 {
					q.WriteString(", ")
				}
				if db.Dialect() == "postgres" {
					fmt.Fprintf(&q, "$%d", len(args)+c+1)
				} else {
					q.WriteString("?")
				}
			}
			q.WriteString(")")
			args = append(args, row(i)...)
		}
		if _, err := db.SQL().ExecContext(context.Background(), q.String(), args...); err != nil {
			tb.Fatalf("fill %s: %v", table, err)
		}
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
