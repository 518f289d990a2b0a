package conformance

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// Statement is one statement as the store sent it, with its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// PlanPoolSize is the pool the plan tests judge queries at (issue 15: every
// query of the enrollment and state paths, at 100k rows).
const PlanPoolSize = 100_000

// HotStatements fills db with a pool of n members and their history, then
// runs the paths that must not slow down as the pool grows — chat
// enrollments of every outcome, a panel enrollment, the viewer's reads, the
// roulette snapshot and state, and the draw — and returns every distinct
// statement they ran, for the backend's test to EXPLAIN.
func HotStatements(t *testing.T, db *store.DB, n int) []Statement {
	t.Helper()
	FillPool(t, db, n, T0.Add(-time.Hour))
	FillHistory(t, db, n, T0.Add(-time.Hour))

	// The trace runs on every goroutine that uses the store: the test's,
	// the group commit's and the snapshot refresher's. It stays set: the
	// store is this test's, and unsetting it would race with a refresh
	// still under way.
	var mu sync.Mutex
	var stmts []Statement
	seen := map[string]bool{}
	db.TraceStatements(func(q string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		if !seen[q] {
			seen[q] = true
			stmts = append(stmts, Statement{SQL: q, Args: append([]any(nil), args...)})
		}
	})
	traced := func() []Statement {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(stmts)
	}

	clock := NewClock(T0.Add(time.Second))
	svc := app.New(db, app.Options{Now: clock.Now, BroadcasterID: "b1", Seed: testkit.FixedSeed})
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("tick", svc.Tick(ctx))
	chat := func(delivery, user, text string, sub bool, want app.Outcome) {
		t.Helper()
		out, err := svc.HandleChatMessage(ctx, app.ChatMessage{DeliveryID: delivery, BroadcasterID: "b1",
			Viewer: mgm.Viewer{UserID: user, DisplayName: user}, Text: text, IsSubscriber: sub})
		must("chat "+text, err)
		if out != want {
			t.Fatalf("chat %q: %q, want %q", text, out, want)
		}
	}
	chat("plan-1", "plan-viewer", "!twgold Planner", true, app.OutcomeEnrolled)
	chat("plan-1", "plan-viewer", "!twgold Planner", true, app.OutcomeDuplicate)
	chat("plan-2", "plan-viewer", "!twgold Replanner", true, app.OutcomeEnrolled) // a rename
	chat("plan-3", "plan-other", "!twgold Replanner", true, app.Rejected(mgm.CodeCharacterNameTakenInPool))
	chat("plan-4", "plan-free", "!twgold Freebie", false, app.Rejected(mgm.CodeNotSubscriber))
	chat("plan-5", "plan-talker", "gg", true, app.OutcomeIgnored)
	_, err := svc.Claim(ctx, mgm.Viewer{UserID: "plan-panel", DisplayName: "P"}, "Panelist", "plan-claim-1",
		func(context.Context, string) (bool, error) { return true, nil })
	must("claim", err)
	_, err = svc.Standing(ctx, "plan-panel")
	must("pool/me", err)
	must("refresh", svc.Refresh(ctx))
	if st := svc.State(clock.Now()); st.PoolCount != n+2 {
		t.Fatalf("state counts %d members, want %d", st.PoolCount, n+2)
	}
	// The ticks before the draw read its list and, the pool unchanged,
	// stage it (app's drawList); the draw then records a reference.
	clock.Advance(230 * time.Second)
	must("prepare the draw", svc.Tick(ctx))
	clock.Advance(2 * time.Second)
	must("stage the draw's list", svc.Tick(ctx))
	clock.Advance(8 * time.Second) // the draw
	must("draw", svc.Tick(ctx))
	if c := svc.Snapshot().Current; c == nil || c.Candidate == nil {
		t.Fatal("no candidate drawn")
	}
	got := traced()
	if !slices.ContainsFunc(got, WholePoolByDesign) {
		t.Fatal("the draw did not read its list with store.DrawListQuery")
	}
	if !slices.ContainsFunc(got, func(s Statement) bool { return strings.Contains(s.SQL, "INSERT INTO draw_lists") }) {
		t.Fatal("the ticks before the draw did not stage its list")
	}
	return got
}

// CheckPlans EXPLAINs every statement with explain and fails the test for
// each plan line bad reports (a full scan or a sort of a table that grows
// with the pool), naming the statement and its plan.
func CheckPlans(t *testing.T, stmts []Statement, explain func(Statement) ([]string, error), bad func(s Statement, line string) bool) {
	t.Helper()
	checked := 0
	for _, s := range stmts {
		plan, err := explain(s)
		if err != nil {
			t.Errorf("EXPLAIN %s: %v", s.SQL, err)
			continue
		}
		if plan == nil {
			continue // not a statement with a plan (BEGIN, COMMIT, ...)
		}
		checked++
		for _, line := range plan {
			if bad(s, line) {
				t.Errorf("statement reads a table that grows with the pool in full:\n%s\nplan:\n%s", s.SQL, strings.Join(plan, "\n"))
				break
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d statements checked; the trace missed the hot paths", checked)
	}
	t.Logf("%d statements checked at %d pool members", checked, PlanPoolSize)
}

// HasPlan reports whether a statement is one EXPLAIN describes (a query or
// a write), as opposed to BEGIN, COMMIT and the like.
func HasPlan(q string) bool {
	q = strings.ToUpper(strings.TrimSpace(q))
	for _, verb := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"} {
		if strings.HasPrefix(q, verb) {
			return true
		}
	}
	return false
}

// WholePoolByDesign reports the one statement that reads the whole pool on
// purpose: the draw's list (store.DrawListQuery), since the proof lists
// every eligible member. It must still walk the pool_order_key index in
// order: a table scan or a sort of the pool is as wrong for it as for any.
func WholePoolByDesign(s Statement) bool {
	return s.SQL == store.DrawListQuery("sqlite") || s.SQL == store.DrawListQuery("postgres")
}
