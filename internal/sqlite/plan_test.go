package sqlite_test

import (
	"context"
	"strings"
	"testing"
)

// TestPoolOrderUsesIndex: the roulette reads the pool in enrollment order on
// every refresh; with the index that read is a walk of LIMIT rows, without it
// a sort of the whole pool (issue 15).
func TestPoolOrderUsesIndex(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	if _, err := db.SQL().ExecContext(ctx, `WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2000)
		INSERT INTO pool (twitch_user_id, twitch_display_name, character_name, name_key, enrolled_at)
		SELECT 'u' || n, 'U' || n, 'Name' || n, 'name' || n, '2026-11-29T20:00:00.' || printf('%06d', n) || 'Z' FROM g`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT character_name FROM pool ORDER BY enrolled_at, twitch_user_id LIMIT 100`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "; ")
	if !strings.Contains(text, "pool_enrolled_order") || strings.Contains(text, "TEMP B-TREE") {
		t.Fatalf("the ordered pool read does not walk the index: %s", text)
	}
}
