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
	const perStatement = 500
	ctx := context.Background()
	for from := 0; from < n; from += perStatement {
		rows := min(perStatement, n-from)
		var q strings.Builder
		q.WriteString(`INSERT INTO pool (twitch_user_id, twitch_display_name, character_name, name_key, enrolled_at) VALUES `)
		args := make([]any, 0, rows*5)
		for i := from; i < from+rows; i++ {
			if i > from {
				q.WriteString(", ")
			}
			k := len(args)
			if db.Dialect() == "postgres" {
				fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d)", k+1, k+2, k+3, k+4, k+5)
			} else {
				q.WriteString("(?, ?, ?, ?, ?)")
			}
			name := "Pool" + spell(i)
			var when any = at.Add(time.Duration(i) * time.Millisecond).UTC()
			if db.Dialect() != "postgres" {
				when = when.(time.Time).Format(store.TimeFormat)
			}
			args = append(args, fmt.Sprintf("pool-%d", i), "P", name, mgm.NameKey(name), when)
		}
		if _, err := db.SQL().ExecContext(ctx, q.String(), args...); err != nil {
			tb.Fatalf("fill pool: %v", err)
		}
	}
	if db.Dialect() == "postgres" {
		if _, err := db.SQL().ExecContext(ctx, `VACUUM ANALYZE pool`); err != nil {
			tb.Fatal(err)
		}
	} else if _, err := db.SQL().ExecContext(ctx, `ANALYZE`); err != nil {
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
