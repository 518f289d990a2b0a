package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const poolColumns = `twitch_user_id, twitch_display_name, character_name, enrolled_at`

func scanPoolEntry(row scanner) (mgm.PoolEntry, error) {
	var e mgm.PoolEntry
	var at Time
	if err := row.Scan(&e.TwitchUserID, &e.TwitchDisplayName, &e.CharacterName, &at); err != nil {
		return mgm.PoolEntry{}, err
	}
	e.EnrolledAt = at.Time
	return e, nil
}

// PoolEntry returns the viewer's pool row, or ErrNotFound.
func (tx *Tx) PoolEntry(ctx context.Context, twitchUserID string) (mgm.PoolEntry, error) {
	e, err := scanPoolEntry(tx.queryRow(ctx, `SELECT `+poolColumns+` FROM pool WHERE twitch_user_id = ?`, twitchUserID))
	if errors.Is(err, sql.ErrNoRows) {
		return mgm.PoolEntry{}, ErrNotFound
	}
	return e, err
}

// EnrollmentFacts reads what the enrollment rules need about a viewer and a
// requested name (by its case-folded key; "" for a name that is not valid) in
// one round trip: enrollments arrive in bursts, and on PostgreSQL each
// statement of a group commit is a round trip the whole group waits for.
// IsSubscriber is the caller's to fill in.
func (tx *Tx) EnrollmentFacts(ctx context.Context, twitchUserID, nameKey string) (mgm.EnrollmentFacts, error) {
	var f mgm.EnrollmentFacts
	var current, holder sql.NullString
	var active, banned int
	err := tx.queryRow(ctx, `SELECT
			(SELECT character_name FROM pool WHERE twitch_user_id = ?),
			(SELECT COUNT(CASE WHEN status IN ('Pending', 'InProgress') THEN 1 END) FROM payouts WHERE twitch_user_id = ?),
			(SELECT COALESCE(SUM(CASE WHEN status IN ('Pending', 'InProgress', 'Sent') THEN gold_amount ELSE 0 END), 0)
				FROM payouts WHERE twitch_user_id = ?),
			(SELECT twitch_user_id FROM pool WHERE name_key = ?),
			(SELECT COUNT(*) FROM bans WHERE twitch_user_id = ?)`,
		twitchUserID, twitchUserID, twitchUserID, nameKey, twitchUserID).Scan(&current, &active, &f.CommittedGold, &holder, &banned)
	f.CurrentName, f.HasActivePayout, f.NameHolderID, f.Banned = current.String, active > 0, holder.String, banned > 0
	return f, err
}

// FactsQuery names one enrollment whose facts EnrollmentFactsStatement reads.
type FactsQuery struct {
	TwitchUserID string
	NameKey      string // "" when the requested name is not a valid one
}

// EnrollmentFactsStatement reads the facts of several enrollments (as
// EnrollmentFacts) in one statement of InTxSteps, keyed by viewer, into out:
// a group commit's round trips then do not grow with the group. The viewers
// must be distinct.
func (db *DB) EnrollmentFactsStatement(qs []FactsQuery, out map[string]mgm.EnrollmentFacts) Statement {
	return enrollmentFactsStatement(db.d, qs, out)
}

func enrollmentFactsStatement(d Dialect, qs []FactsQuery, out map[string]mgm.EnrollmentFacts) Statement {
	if len(qs) == 0 {
		return Statement{}
	}
	var q strings.Builder
	var args []any
	if arrayParams(d) {
		uids, nks := make([]string, len(qs)), make([]string, len(qs))
		for i, f := range qs {
			uids[i], nks[i] = f.TwitchUserID, f.NameKey
		}
		q.WriteString(`WITH q (uid, nk) AS (SELECT * FROM unnest(?::text[], ?::text[])`)
		args = []any{uids, nks}
	} else {
		args = make([]any, 0, 2*len(qs))
		q.WriteString(`WITH q (uid, nk) AS (VALUES `)
		for i, f := range qs {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?)")
			args = append(args, f.TwitchUserID, f.NameKey)
		}
	}
	// The same subqueries as EnrollmentFacts, per row of q.
	q.WriteString(`) SELECT q.uid,
			(SELECT character_name FROM pool WHERE twitch_user_id = q.uid),
			(SELECT COUNT(CASE WHEN status IN ('Pending', 'InProgress') THEN 1 END) FROM payouts WHERE twitch_user_id = q.uid),
			(SELECT COALESCE(SUM(CASE WHEN status IN ('Pending', 'InProgress', 'Sent') THEN gold_amount ELSE 0 END), 0)
				FROM payouts WHERE twitch_user_id = q.uid),
			(SELECT twitch_user_id FROM pool WHERE name_key = q.nk),
			(SELECT COUNT(*) FROM bans WHERE twitch_user_id = q.uid)
		FROM q`)
	return Statement{Query: q.String(), Args: args, Rows: func(rows Rows) error {
		for rows.Next() {
			var uid string
			var f mgm.EnrollmentFacts
			var current, holder sql.NullString
			var active, banned int64
			if err := rows.Scan(&uid, &current, &active, &f.CommittedGold, &holder, &banned); err != nil {
				return err
			}
			f.CurrentName, f.HasActivePayout, f.NameHolderID, f.Banned = current.String, active > 0, holder.String, banned > 0
			out[uid] = f
		}
		return nil
	}}
}

// PutPoolEntriesStatement is PutPoolEntry for several distinct viewers
// holding distinct names, in one statement of InTxSteps.
func (db *DB) PutPoolEntriesStatement(es []mgm.PoolEntry) Statement {
	return putPoolEntriesStatement(db.d, es)
}

func putPoolEntriesStatement(d Dialect, es []mgm.PoolEntry) Statement {
	if len(es) == 0 {
		return Statement{}
	}
	var q strings.Builder
	var args []any
	q.WriteString(`INSERT INTO pool (twitch_user_id, twitch_display_name, character_name, name_key, enrolled_at, order_key) `)
	if arrayParams(d) {
		n := len(es)
		ids, displays, names, keys, orders := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ats := make([]time.Time, n)
		for i, e := range es {
			ids[i], displays[i], names[i], keys[i] = e.TwitchUserID, e.TwitchDisplayName, e.CharacterName, mgm.NameKey(e.CharacterName)
			ats[i], orders[i] = e.EnrolledAt, drawproof.OrderKey(e.TwitchUserID)
		}
		q.WriteString(`SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::text[])`)
		args = []any{ids, displays, names, keys, times(d, ats), orders}
	} else {
		args = make([]any, 0, 6*len(es))
		q.WriteString(`VALUES `)
		for i, e := range es {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, e.TwitchUserID, e.TwitchDisplayName, e.CharacterName, mgm.NameKey(e.CharacterName), d.Time(e.EnrolledAt),
				drawproof.OrderKey(e.TwitchUserID))
		}
	}
	q.WriteString(` ON CONFLICT (twitch_user_id) DO UPDATE SET
			twitch_display_name = excluded.twitch_display_name,
			character_name = excluded.character_name,
			name_key = excluded.name_key,
			enrolled_at = excluded.enrolled_at`)
	return Statement{Query: q.String(), Args: args}
}

// PutPoolEntry inserts the viewer's pool row or replaces their name. The
// unique index on name_key makes a name held twice impossible whatever the caller checked.
func (tx *Tx) PutPoolEntry(ctx context.Context, e mgm.PoolEntry) error {
	_, err := tx.exec(ctx, `INSERT INTO pool (twitch_user_id, twitch_display_name, character_name, name_key, enrolled_at, order_key)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (twitch_user_id) DO UPDATE SET
			twitch_display_name = excluded.twitch_display_name,
			character_name = excluded.character_name,
			name_key = excluded.name_key,
			enrolled_at = excluded.enrolled_at`,
		e.TwitchUserID, e.TwitchDisplayName, e.CharacterName, mgm.NameKey(e.CharacterName), tx.d.Time(e.EnrolledAt),
		drawproof.OrderKey(e.TwitchUserID))
	return err
}

// DeletePoolEntry removes the viewer from the pool; it reports whether a row existed.
func (tx *Tx) DeletePoolEntry(ctx context.Context, twitchUserID string) (bool, error) {
	res, err := tx.exec(ctx, `DELETE FROM pool WHERE twitch_user_id = ?`, twitchUserID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// PoolEntries lists the pool in enrollment order.
func (tx *Tx) PoolEntries(ctx context.Context) ([]mgm.PoolEntry, error) {
	rows, err := tx.query(ctx, `SELECT `+poolColumns+` FROM pool ORDER BY enrolled_at, twitch_user_id`)
	return collect(rows, err, scanPoolEntry)
}

// PoolCount counts pool members, from the count the pool's triggers keep
// (migration 0007), so it costs the same at any pool size.
func (tx *Tx) PoolCount(ctx context.Context) (int, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COALESCE(SUM(members), 0) FROM pool_stats`).Scan(&n)
	return n, err
}

// DrawList returns the whole pool as the draw's list text, one row: a
// "orderKey\tcharacterName\n" line per member (drawproof.AppendEncoding) in
// canonical order, read along the pool_order_key index, with the pool's
// change count (PoolChanges) read in the same statement, so of the same
// moment. The database builds the text because handing 100,000 rows to the
// driver one by one cost half a second; the caller drops the ineligible
// members and must check the order (drawproof), since an aggregate over an
// ordered subquery keeps that order in practice but neither engine promises
// it. Asking for the order inside the aggregate would: both engines then
// sort the pool instead of walking the index, five to ten times slower at
// 100,000 members.
func (tx *Tx) DrawList(ctx context.Context) (text string, changes int64, err error) {
	var list sql.NullString // NULL for an empty pool
	err = tx.queryRow(ctx, DrawListQuery(tx.d.Name())).Scan(&changes, &list)
	return list.String, changes, err
}

// PoolChanges counts every member added, removed or renamed since the store
// was created (kept by the pool's triggers, migration 0013): while it stays
// the same, so does DrawList's text.
func (tx *Tx) PoolChanges(ctx context.Context) (int64, error) {
	var n int64
	err := tx.queryRow(ctx, `SELECT COALESCE(SUM(changes), 0) FROM pool_stats`).Scan(&n)
	return n, err
}

// DrawListQuery is DrawList's statement on a dialect; the plan tests allow
// it, alone, to walk the whole pool (in index order). Both compare order
// keys byte by byte, as the proof does: SQLite's default collation, BINARY,
// and PostgreSQL's "C" (the column's own, written out all the same).
func DrawListQuery(dialect string) string {
	if dialect == "postgres" {
		return `SELECT (SELECT COALESCE(SUM(changes), 0) FROM pool_stats),
		(SELECT string_agg(order_key || chr(9) || character_name || chr(10), '')
		FROM (SELECT order_key, character_name FROM pool ORDER BY order_key COLLATE "C") AS canonical)`
	}
	return `SELECT (SELECT COALESCE(SUM(changes), 0) FROM pool_stats),
		(SELECT group_concat(order_key || char(9) || character_name || char(10), '')
		FROM (SELECT order_key, character_name FROM pool ORDER BY order_key) AS canonical)`
}

// DrawMember is a pool member the draw picked, found by order key.
type DrawMember struct {
	TwitchUserID      string
	TwitchDisplayName string
	CharacterName     string
}

// PoolMembersByOrderKey finds the members whose order key is key: one, or
// none if they left; two only in a 128-bit collision.
func (tx *Tx) PoolMembersByOrderKey(ctx context.Context, key string) ([]DrawMember, error) {
	rows, err := tx.query(ctx, `SELECT twitch_user_id, twitch_display_name, character_name FROM pool WHERE order_key = ?`, key)
	return collect(rows, err, func(row scanner) (DrawMember, error) {
		var m DrawMember
		err := row.Scan(&m.TwitchUserID, &m.TwitchDisplayName, &m.CharacterName)
		return m, err
	})
}

// MarkMessageProcessed records an EventSub message id. It reports false when
// the id was already recorded: Twitch redelivers, and a redelivery must do nothing.
func (tx *Tx) MarkMessageProcessed(ctx context.Context, messageID, messageType string, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO eventsub_messages (message_id, message_type, processed_at)
		VALUES (?, ?, ?) ON CONFLICT (message_id) DO NOTHING`, messageID, messageType, tx.d.Time(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MarkMessagesProcessed records many EventSub message ids in one statement
// (a group commit's) and returns those that were new. An id given twice is
// new at most once.
func (tx *Tx) MarkMessagesProcessed(ctx context.Context, messageIDs []string, messageType string, at time.Time) (map[string]bool, error) {
	fresh := map[string]bool{}
	return fresh, tx.runAll(ctx, []Statement{markMessagesStatement(tx.d, messageIDs, messageType, at, fresh)})
}

// MarkMessagesStatement is MarkMessagesProcessed as a Statement of
// InTxSteps: the ids that were new are set in fresh.
func (db *DB) MarkMessagesStatement(messageIDs []string, messageType string, at time.Time, fresh map[string]bool) Statement {
	return markMessagesStatement(db.d, messageIDs, messageType, at, fresh)
}

func markMessagesStatement(d Dialect, messageIDs []string, messageType string, at time.Time, fresh map[string]bool) Statement {
	if len(messageIDs) == 0 {
		return Statement{}
	}
	var q strings.Builder
	var args []any
	when := d.Time(at)
	if arrayParams(d) {
		q.WriteString(`INSERT INTO eventsub_messages (message_id, message_type, processed_at)
			SELECT id, ?, ? FROM unnest(?::text[]) AS t(id)`)
		args = []any{messageType, when, messageIDs}
	} else {
		q.WriteString(`INSERT INTO eventsub_messages (message_id, message_type, processed_at) VALUES `)
		args = make([]any, 0, 3*len(messageIDs))
		for i, id := range messageIDs {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?)")
			args = append(args, id, messageType, when)
		}
	}
	q.WriteString(` ON CONFLICT (message_id) DO NOTHING RETURNING message_id`)
	return Statement{Query: q.String(), Args: args, Rows: func(rows Rows) error {
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			fresh[id] = true
		}
		return nil
	}}
}

// PruneMessages forgets EventSub message ids processed before the cutoff.
func (tx *Tx) PruneMessages(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM eventsub_messages WHERE processed_at < ?`, tx.d.Time(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// EnrollmentRecord is the stored outcome of a panel enrollment, keyed by the
// client's enrollmentRequestId so that retries return the same answer.
type EnrollmentRecord struct {
	EnrollmentRequestID string
	TwitchUserID        string
	CharacterName       string
	CreatedAt           time.Time
}

// ClaimEnrollmentRequest records an enrollment request id. When the id is
// already taken it returns false and the stored record. Concurrent claims of
// one id wait for each other on the primary key, so exactly one wins.
func (tx *Tx) ClaimEnrollmentRequest(ctx context.Context, r EnrollmentRecord) (bool, EnrollmentRecord, error) {
	res, err := tx.exec(ctx, `INSERT INTO enrollment_requests (enrollment_request_id, twitch_user_id, character_name, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (enrollment_request_id) DO NOTHING`,
		r.EnrollmentRequestID, r.TwitchUserID, r.CharacterName, tx.d.Time(r.CreatedAt))
	if err != nil {
		return false, EnrollmentRecord{}, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, r, err
	}
	var stored EnrollmentRecord
	var at Time
	err = tx.queryRow(ctx, `SELECT enrollment_request_id, twitch_user_id, character_name, created_at
		FROM enrollment_requests WHERE enrollment_request_id = ?`, r.EnrollmentRequestID).
		Scan(&stored.EnrollmentRequestID, &stored.TwitchUserID, &stored.CharacterName, &at)
	stored.CreatedAt = at.Time
	return false, stored, err
}

// SetEnrollmentRequestName fixes the name stored with a claimed request once
// the name has been validated and trimmed.
func (tx *Tx) SetEnrollmentRequestName(ctx context.Context, id, name string) error {
	_, err := tx.exec(ctx, `UPDATE enrollment_requests SET character_name = ? WHERE enrollment_request_id = ?`, name, id)
	return err
}

// EnrollmentRequest returns a stored enrollment request, or ErrNotFound.
func (tx *Tx) EnrollmentRequest(ctx context.Context, id string) (EnrollmentRecord, error) {
	var r EnrollmentRecord
	var at Time
	err := tx.queryRow(ctx, `SELECT enrollment_request_id, twitch_user_id, character_name, created_at
		FROM enrollment_requests WHERE enrollment_request_id = ?`, id).
		Scan(&r.EnrollmentRequestID, &r.TwitchUserID, &r.CharacterName, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return EnrollmentRecord{}, ErrNotFound
	}
	r.CreatedAt = at.Time
	return r, err
}

// PoolNames lists up to limit character names in enrollment order.
func (tx *Tx) PoolNames(ctx context.Context, limit int) ([]string, error) {
	rows, err := tx.query(ctx, `SELECT character_name FROM pool ORDER BY enrolled_at, twitch_user_id LIMIT ?`, limit)
	names, err := collect(rows, err, scanString)
	if names == nil && err == nil {
		names = []string{} // an empty pool has no names, not unknown names
	}
	return names, err
}

// arrayParams reports whether a statement for many rows takes one array
// per column (PostgreSQL: unnest) rather than a VALUES row per row (SQLite).
// With arrays the statement's text is the same whatever the group's size,
// so pgx prepares it once per connection; a VALUES list of every size up to
// the largest group cost a prepare round trip per size and connection, the
// slow start of every burst.
func arrayParams(d Dialect) bool { return d.Name() == "postgres" }

// times is a column of timestamps as the engine stores them (Dialect.Time).
func times(d Dialect, ts []time.Time) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = d.Time(t)
	}
	return out
}
