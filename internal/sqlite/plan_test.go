package sqlite_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/conformance"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// growing matches a plan line that reads a table growing with the pool in
// full (SQLite's "SCAN t", with or without a covering index) or sorts rows
// in a temporary b-tree.
var growing = regexp.MustCompile(`^SCAN (pool|events|eventsub_messages|enrollment_requests)\b|TEMP B-TREE`)

// walksIndex is an in-order walk of an index, which a LIMIT stops early.
var walksIndex = regexp.MustCompile(`^SCAN \w+ USING (COVERING )?INDEX `)

// reads reports a plan line that reads a growing table in full: a scan,
// unless it walks an index in order and the statement stops at a LIMIT or
// is the draw's list, which reads the whole pool by design.
func reads(s conformance.Statement, line string) bool {
	if walksIndex.MatchString(line) && (strings.Contains(strings.ToUpper(s.SQL), " LIMIT ") || conformance.WholePoolByDesign(s)) {
		return false
	}
	return growing.MatchString(line)
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
		rows, err := db.SQL().QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+s.SQL, s.Args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return nil, err
			}
			plan = append(plan, detail)
		}
		if plan == nil {
			plan = []string{} // a statement without a table to read
		}
		return plan, rows.Err()
	}, reads)
}

// TestGrowingPatternCatchesFullScans: the check above would see a full read.
func TestGrowingPatternCatchesFullScans(t *testing.T) {
	limited := conformance.Statement{SQL: "SELECT character_name FROM pool ORDER BY enrolled_at LIMIT ?"}
	if reads(limited, "SCAN pool USING INDEX pool_enrolled_order") {
		t.Error("an index walk stopped by LIMIT counted as a full read")
	}
	if !reads(conformance.Statement{SQL: "SELECT COUNT(*) FROM pool"}, "SCAN pool USING COVERING INDEX pool_name_key") {
		t.Error("a count over an index not counted as a full read")
	}
	drawList := conformance.Statement{SQL: store.DrawListQuery("sqlite")}
	if reads(drawList, "SCAN pool USING INDEX pool_order_key") {
		t.Error("the draw's list walking its index counted as a full read")
	}
	if !reads(drawList, "SCAN pool") || !reads(drawList, "USE TEMP B-TREE FOR ORDER BY") {
		t.Error("the draw's list scanning or sorting the pool passed")
	}
	for line, want := range map[string]bool{
		"SCAN pool": true,
		"SCAN pool USING COVERING INDEX pool_name_key":                      true,
		"USE TEMP B-TREE FOR ORDER BY":                                      true,
		"SEARCH pool USING INDEX pool_enrolled_order":                       false,
		"SCAN pool_stats":                                                   false,
		"SEARCH events USING INDEX sqlite_autoindex_events_1 (stream_id=?)": false,
	} {
		if got := growing.MatchString(line); got != want {
			t.Errorf("%q: %v, want %v", line, got, want)
		}
	}
}
