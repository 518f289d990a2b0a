package conformance

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

var ingestTests = []struct {
	name string
	fn   func(*testing.T, *env)
}{
	{"BurstGroupedWithExactOutcomes", testBurstGrouped},
	{"PoolCountKeptByTriggers", testPoolCountTriggers},
}

// groupRecorder is an app.Observer that keeps the size of each group commit.
type groupRecorder struct {
	recorder
	mu     sync.Mutex
	groups []int
}

func (r *groupRecorder) IngestGroup(lines int) {
	r.mu.Lock()
	r.groups = append(r.groups, lines)
	r.mu.Unlock()
}

// A raid-sized burst of chat lines of every kind at once: lines are
// committed in groups, yet each gets exactly the outcome it would get alone,
// and every acknowledged enrollment is in the pool with its one event.
func testBurstGrouped(t *testing.T, e *env) {
	rec := &groupRecorder{}
	svc := app.New(e.db, app.Options{Now: e.clock.Now, Observer: rec, BroadcasterID: "b1", Jobs: e.jobs})

	type line struct {
		delivery, user, text string
		subscriber           bool
		want                 []app.Outcome // any of these; "contested" lines are checked below
	}
	var lines []line
	enrolled := map[string]string{} // viewer -> name
	for i := range 60 {
		user, name := fmt.Sprintf("burst-%d", i), "Burst"+letters(i)
		enrolled[user] = name
		lines = append(lines, line{fmt.Sprintf("d-enroll-%d", i), user, "!twgold " + name, true, nil})
		if i < 20 { // Twitch redelivering while the first delivery is in flight
			lines = append(lines, line{fmt.Sprintf("d-enroll-%d", i), user, "!twgold " + name, true, nil})
		}
	}
	for i := range 10 {
		lines = append(lines, line{fmt.Sprintf("d-contest-%d", i), fmt.Sprintf("contest-%d", i), "!twgold Contested", true, nil})
	}
	for i := range 10 {
		lines = append(lines, line{fmt.Sprintf("d-nosub-%d", i), fmt.Sprintf("nosub-%d", i), "!twgold Free" + letters(i), false,
			[]app.Outcome{app.Rejected(mgm.CodeNotSubscriber)}})
	}
	for i := range 5 {
		lines = append(lines, line{fmt.Sprintf("d-badname-%d", i), fmt.Sprintf("bad-%d", i), "!twgold x1", true,
			[]app.Outcome{app.Rejected(mgm.CodeInvalidCharacterName)}})
	}
	for i := range 20 {
		lines = append(lines, line{fmt.Sprintf("d-talk-%d", i), fmt.Sprintf("talker-%d", i), "gg wp", true,
			[]app.Outcome{app.OutcomeIgnored}})
	}

	outcomes := make([]app.Outcome, len(lines))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, l := range lines {
		wg.Go(func() {
			<-start
			out, err := svc.HandleChatMessage(e.ctx, app.ChatMessage{DeliveryID: l.delivery, MessageID: "m-" + l.delivery,
				BroadcasterID: "b1", Viewer: sub(l.user, "D"+l.user), Text: l.text, IsSubscriber: l.subscriber})
			if err != nil {
				t.Errorf("line %d (%s): %v", i, l.delivery, err)
			}
			outcomes[i] = out
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	byDelivery := map[string][]app.Outcome{}
	contestWins := 0
	for i, l := range lines {
		byDelivery[l.delivery] = append(byDelivery[l.delivery], outcomes[i])
		switch {
		case l.want != nil:
			if !slices.Contains(l.want, outcomes[i]) {
				t.Errorf("%s: outcome %q, want %q", l.delivery, outcomes[i], l.want)
			}
		case l.text == "!twgold Contested":
			switch outcomes[i] {
			case app.OutcomeEnrolled:
				contestWins++
				enrolled[l.user] = "Contested"
			case app.Rejected(mgm.CodeCharacterNameTakenInPool):
			default:
				t.Errorf("%s: outcome %q", l.delivery, outcomes[i])
			}
		}
	}
	if contestWins != 1 {
		t.Errorf("%d viewers won the contested name; want 1", contestWins)
	}
	for i := range 60 {
		got := byDelivery[fmt.Sprintf("d-enroll-%d", i)]
		slices.Sort(got)
		want := []app.Outcome{app.OutcomeEnrolled}
		if i < 20 {
			want = []app.Outcome{app.OutcomeDuplicate, app.OutcomeEnrolled}
		}
		if !slices.Equal(got, want) {
			t.Errorf("delivery d-enroll-%d: outcomes %q, want %q", i, got, want)
		}
	}

	if n := e.poolCount(t); n != len(enrolled) {
		t.Errorf("pool holds %d members, %d were acknowledged", n, len(enrolled))
	}
	for user, name := range enrolled {
		if got, ok := e.member(t, user); !ok || got != name {
			t.Errorf("%s: in pool %v as %q, want %q", user, ok, got, name)
		}
		if evs := e.events(t, app.PoolStream(user)); len(evs) != 1 || evs[0].Type != app.EventPoolEntered {
			t.Errorf("%s: events %v, want one %s", user, evs, app.EventPoolEntered)
		}
	}
	// The snapshot (its count kept by the pool's triggers) catches up by
	// itself: the enrollments asked for a refresh without waiting for it.
	deadline := time.Now().Add(10 * time.Second)
	for svc.Snapshot().PoolCount != len(enrolled) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := svc.Snapshot().PoolCount; got != len(enrolled) {
		t.Errorf("snapshot counts %d members, want %d", got, len(enrolled))
	}
	// Every delivery was recorded with its group: a redelivery of any is a duplicate.
	for d := range byDelivery {
		out, err := svc.HandleChatMessage(e.ctx, app.ChatMessage{DeliveryID: d, BroadcasterID: "b1",
			Viewer: sub("late", "Late"), Text: "!twgold Latecomer", IsSubscriber: true})
		if err != nil || out != app.OutcomeDuplicate {
			t.Errorf("redelivery of %s: %q, %v; want duplicate", d, out, err)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	total := 0
	for _, g := range rec.groups {
		total += g
	}
	if total < len(lines) || slices.Max(rec.groups) < 2 {
		t.Errorf("group commits %v: want every line committed in a group and some groups of several lines", rec.groups)
	}
}

// letters spells i with capital-then-lowercase letters only, as names need.
func letters(i int) string {
	return string(rune('a'+i/26%26)) + string(rune('a'+i%26))
}

// The pool's size comes from pool_stats, kept by triggers: enrollments,
// renames (an upsert that updates), leaving and a bulk insert all keep it
// equal to COUNT(*).
func testPoolCountTriggers(t *testing.T, e *env) {
	check := func(when string, want int) {
		t.Helper()
		var actual int
		if err := e.db.SQL().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM pool`).Scan(&actual); err != nil {
			t.Fatal(err)
		}
		if got := e.poolCount(t); got != want || actual != want {
			t.Fatalf("%s: kept count %d, COUNT(*) %d, want %d", when, got, actual, want)
		}
	}
	check("empty", 0)
	e.chat(t, "c-1", "u1", "!twgold Alpha", true)
	e.chat(t, "c-2", "u2", "!twgold Beta", true)
	check("two enrolled", 2)
	e.chat(t, "c-3", "u1", "!twgold Gamma", true) // a rename updates the row
	check("after a rename", 2)
	e.chat(t, "c-4", "u2", "!twgold Beta", true) // the same name again: unchanged
	check("after a repeat", 2)
	if err := e.db.InTx(e.ctx, func(tx *store.Tx) error {
		_, err := tx.DeletePoolEntry(e.ctx, "u2")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	check("after one left", 1)
	FillPool(t, e.db, 500, T0)
	check("after a bulk insert", 501)
}
