package postgres_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/conformance"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// growingTable names the tables that grow with the pool.
const growingTable = `(pool|events|eventsub_messages|enrollment_requests)\b`

var (
	seqScan   = regexp.MustCompile(`Seq Scan on ` + growingTable)
	fromGrows = regexp.MustCompile(`(?i)(FROM|JOIN) ` + growingTable)
	indexScan = regexp.MustCompile(`Index (Only )?Scan( Backward)? using \w+ on ` + growingTable)
	sortNode  = regexp.MustCompile(`(^|->  )Sort\b`)
)

// reads reports a plan node that reads a growing table in full: a
// sequential scan, a sort, or an index scan with no condition that is not
// stopped by a LIMIT (a node comes with its detail lines, see explain).
func reads(s conformance.Statement, node string) bool {
	switch {
	case seqScan.MatchString(node):
		return true
	case sortNode.MatchString(node):
		return fromGrows.MatchString(s.SQL) // sorting spin_cycles' few rows is fine
	case indexScan.MatchString(node):
		limited := strings.Contains(strings.ToUpper(s.SQL), " LIMIT ") || strings.Contains(node, "Limit")
		// The draw's list reads the whole pool by design, in index order.
		return !strings.Contains(node, "Index Cond:") && !limited && !conformance.WholePoolByDesign(s)
	}
	return false
}

// TestHotPathPlans: every statement of the enrollment, state and draw
// paths, run at 100,000 members, uses an index (issue 15).
func TestHotPathPlans(t *testing.T) {
	t.Parallel() // most of it is filling 100,000 rows: let the rest of the package run meanwhile
	db := open(t)
	stmts := conformance.HotStatements(t, db, conformance.PlanPoolSize)
	conformance.CheckPlans(t, stmts, func(s conformance.Statement) ([]string, error) {
		if !conformance.HasPlan(s.SQL) {
			return nil, nil
		}
		rows, err := db.SQL().QueryContext(context.Background(), `EXPLAIN `+s.SQL, s.Args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var nodes []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return nil, err
			}
			// A detail line ("Index Cond: ...") belongs to the node above it.
			if len(nodes) > 0 && !strings.Contains(line, "->") && strings.HasPrefix(line, " ") {
				nodes[len(nodes)-1] += "\n" + line
				continue
			}
			nodes = append(nodes, line)
		}
		return nodes, rows.Err()
	}, reads)
}

// TestPlanCheckCatchesFullReads: the check above would see a full read.
func TestPlanCheckCatchesFullReads(t *testing.T) {
	count := conformance.Statement{SQL: "SELECT COUNT(*) FROM pool"}
	limited := conformance.Statement{SQL: "SELECT character_name FROM pool ORDER BY enrolled_at, twitch_user_id LIMIT $1"}
	drawList := conformance.Statement{SQL: store.DrawListQuery("postgres")}
	for _, c := range []struct {
		s    conformance.Statement
		node string
		want bool
	}{
		{count, "  ->  Seq Scan on pool  (cost=0.00..1637.00 rows=100000 width=0)", true},
		{count, "  ->  Index Only Scan using pool_name_key on pool  (cost=0.29..2854.29 rows=100000 width=0)", true},
		{limited, "  ->  Sort  (cost=1.00..2.00 rows=100000 width=26)\n        Sort Key: enrolled_at, twitch_user_id", true},
		{limited, "  ->  Index Scan using pool_enrolled_order on pool  (cost=0.42..5652.29 rows=100000 width=26)", false},
		{count, "Index Scan using pool_pkey on pool  (cost=0.42..8.44 rows=1 width=42)\n  Index Cond: (twitch_user_id = $1)", false},
		{count, "  ->  Seq Scan on payouts  (cost=0.00..12.70 rows=270 width=64)", false},
		{conformance.Statement{SQL: "SELECT id FROM spin_cycles ORDER BY window_start"}, "Sort  (cost=1.47..1.48 rows=1 width=184)", false},
		{drawList, "Index Scan using pool_order_key on pool  (cost=0.42..5652.29 rows=100000 width=40)", false},
		{drawList, "Sort  (cost=1.00..2.00 rows=100000 width=40)\n  Sort Key: order_key", true},
		{drawList, "Seq Scan on pool  (cost=0.00..1637.00 rows=100000 width=40)", true},
	} {
		if got := reads(c.s, c.node); got != c.want {
			t.Errorf("%q: %v, want %v", c.node, got, c.want)
		}
	}
}
