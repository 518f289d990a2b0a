package postgres_test

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
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO pool (twitch_user_id, twitch_display_name, character_name, name_key, enrolled_at)
		SELECT 'u' || g, 'U' || g, 'Name' || g, 'name' || g, timestamptz '2026-11-29 20:00:00Z' + g * interval '1 millisecond'
		FROM generate_series(1, 20000) AS g`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, `ANALYZE pool`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, `EXPLAIN SELECT character_name FROM pool ORDER BY enrolled_at, twitch_user_id LIMIT 100`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "pool_enrolled_order") || strings.Contains(text, "Sort") {
		t.Fatalf("the ordered pool read does not walk the index:\n%s", text)
	}
}
