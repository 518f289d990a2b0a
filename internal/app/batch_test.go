package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/postgres"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite/sqlitetest"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// TestBatchMatchesLinesAlone checks the group commit's fast path (one read
// of every line's facts, one write of the pool rows and of the events)
// against the reference: every line handled alone, one transaction each, in
// the same order. Outcomes, pool and audit log must be identical, on both
// stores, for every rule the enrollment checks.
func TestBatchMatchesLinesAlone(t *testing.T) {
	stores := map[string]func(t *testing.T) *store.DB{
		"sqlite": func(t *testing.T) *store.DB { return sqlitetest.Open(t) },
		"postgres": func(t *testing.T) *store.DB {
			pgtest.Available(t)
			db, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db
		},
	}
	line := func(delivery, user, text string, sub bool) ChatMessage {
		return ChatMessage{DeliveryID: delivery, MessageID: delivery, BroadcasterID: "b1",
			Viewer: mgm.Viewer{UserID: user, DisplayName: "D" + user}, Text: text, IsSubscriber: sub}
	}
	group := []struct {
		m    ChatMessage
		want Outcome
	}{
		// Wants the name "renamer" gives up further down: read before the
		// rename, as it would be had it come first, which it does here.
		{line("d-wanter", "wanter", "!twgold Oldname", true), Rejected(mgm.CodeCharacterNameTakenInPool)},
		{line("d-new", "newbie", "!twgold Newone", true), OutcomeEnrolled},
		{line("d-renamer", "renamer", "!twgold Renamed", true), OutcomeEnrolled},
		{line("d-same", "same", "!twgold Samename", true), OutcomeEnrolled},
		{line("d-nonsub", "nonsub", "!twgold Nonsub", false), Rejected(mgm.CodeNotSubscriber)},
		{line("d-bad", "bad", "!twgold X1", true), Rejected(mgm.CodeInvalidCharacterName)},
		{line("d-taker", "taker", "!twgold Takenname", true), Rejected(mgm.CodeCharacterNameTakenInPool)},
		{line("d-active", "active", "!twgold Activeone", true), Rejected(mgm.CodeActivePayoutExists)},
		{line("d-capped", "capped", "!twgold Capped", true), Rejected(mgm.CodeLifetimeCapReached)},
		{line("d-chat", "chatter", "hello there", true), OutcomeIgnored},
		{line("d-old", "seen", "!twgold Seenbefore", true), OutcomeDuplicate},
		{line("d-new", "newbie", "!twgold Newone", true), OutcomeDuplicate}, // redelivered in the same group
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	seed := func(t *testing.T, db *store.DB) *Service {
		ctx := context.Background()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			for _, e := range []mgm.PoolEntry{
				{TwitchUserID: "renamer", TwitchDisplayName: "Drenamer", CharacterName: "Oldname", EnrolledAt: now.Add(-time.Hour)},
				{TwitchUserID: "holder", TwitchDisplayName: "Dholder", CharacterName: "Takenname", EnrolledAt: now.Add(-time.Hour)},
				{TwitchUserID: "same", TwitchDisplayName: "Dsame", CharacterName: "Samename", EnrolledAt: now.Add(-time.Hour)},
			} {
				if err := tx.PutPoolEntry(ctx, e); err != nil {
					return err
				}
			}
			for i, p := range []struct {
				user   string
				status mgm.PayoutStatus
				gold   int64
			}{{"active", mgm.PayoutPending, mgm.PayoutGold}, {"capped", mgm.PayoutSent, mgm.LifetimeCapGold}} {
				if err := tx.InsertPayout(ctx, mgm.Payout{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), TwitchUserID: p.user, TwitchDisplayName: "D" + p.user,
					CharacterName: "Paid" + p.user, GoldAmount: p.gold, EnrollmentRequestID: fmt.Sprintf("e%d", i), Status: p.status,
					CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour)}); err != nil {
					return err
				}
			}
			_, err := tx.MarkMessageProcessed(ctx, "d-old", "notification", now.Add(-time.Minute))
			return err
		})
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
		return New(db, Options{Now: func() time.Time { return now }, BroadcasterID: "b1"})
	}
	type result struct {
		outcomes []Outcome
		pool     []mgm.PoolEntry
		events   map[string][]string
	}
	snapshot := func(t *testing.T, db *store.DB, outcomes []Outcome) result {
		r := result{outcomes: outcomes, events: map[string][]string{}}
		err := db.Read(context.Background(), func(tx *store.Tx) error {
			var err error
			if r.pool, err = tx.PoolEntries(context.Background()); err != nil {
				return err
			}
			for _, g := range group {
				evs, err := tx.Events(context.Background(), PoolStream(g.m.Viewer.UserID))
				if err != nil {
					return err
				}
				for _, e := range evs {
					r.events[e.StreamID] = append(r.events[e.StreamID], fmt.Sprintf("%d %s %s %s", e.Version, e.Type, e.Data, e.At.UTC()))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()

			batchDB := open(t)
			svc := seed(t, batchDB)
			var pending []*pendingLine
			for _, g := range group {
				pending = append(pending, &pendingLine{line: parseChat(g.m), done: make(chan struct{})})
			}
			svc.ingest.write(ctx, pending)
			var batched []Outcome
			for i, p := range pending {
				if p.alone || p.err != nil {
					t.Fatalf("line %d: alone=%v err=%v; the group should have committed", i, p.alone, p.err)
				}
				if p.outcome != group[i].want {
					t.Errorf("line %d (%s): outcome %q, want %q", i, group[i].m.Text, p.outcome, group[i].want)
				}
				batched = append(batched, p.outcome)
			}

			aloneDB := open(t)
			ref := seed(t, aloneDB)
			var alone []Outcome
			for _, g := range group {
				out, err := ref.handleChatAlone(ctx, parseChat(g.m))
				if err != nil {
					t.Fatal(err)
				}
				alone = append(alone, out)
			}

			got, want := snapshot(t, batchDB, batched), snapshot(t, aloneDB, alone)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("the group commit differs from the lines handled alone:\n group: %+v\n alone: %+v", got, want)
			}
		})
	}
}

// TestBatchable: lines that share a lock key, or a gift, take the line by
// line path; everything else is decided together.
func TestBatchable(t *testing.T) {
	l := func(user, text string) *pendingLine {
		return &pendingLine{line: parseChat(ChatMessage{Viewer: mgm.Viewer{UserID: user}, Text: text})}
	}
	for _, tc := range []struct {
		name  string
		lines []*pendingLine
		want  bool
	}{
		{"distinct viewers and names", []*pendingLine{l("a", "!twgold Alpha"), l("b", "!twgold Beta"), l("c", "hi")}, true},
		{"one viewer twice", []*pendingLine{l("a", "!twgold Alpha"), l("a", "!twgold Beta")}, false},
		{"one name twice, any case", []*pendingLine{l("a", "!twgold Alpha"), l("b", "!twgold ALPHA")}, false},
		{"invalid names do not lock a name", []*pendingLine{l("a", "!twgold X1"), l("b", "!twgold X1")}, true},
		{"a gift", []*pendingLine{l("a", "!twgift Alpha")}, false},
	} {
		if got := batchable(tc.lines); got != tc.want {
			t.Errorf("%s: batchable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestGroupFailureSendsEveryLineAlone: a group that fails before its COMMIT
// wrote nothing, so every line — a redelivery within the group too — is
// handled alone rather than answered from the group: a redelivery answered
// "duplicate" while its first line failed would be lost, since Twitch does
// not deliver a message again once one delivery was acknowledged.
func TestGroupFailureSendsEveryLineAlone(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	// The database refuses one name: the group's pool insert fails.
	if _, err := db.SQL().ExecContext(ctx, `CREATE TRIGGER test_poison BEFORE INSERT ON pool
		WHEN NEW.character_name = 'Poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`); err != nil {
		t.Fatal(err)
	}
	svc := New(db, Options{BroadcasterID: "b1"})
	line := func(delivery, user, name string) *pendingLine {
		return &pendingLine{line: parseChat(ChatMessage{DeliveryID: delivery, MessageID: delivery, BroadcasterID: "b1",
			Viewer: mgm.Viewer{UserID: user, DisplayName: "D" + user}, Text: "!twgold " + name, IsSubscriber: true}),
			done: make(chan struct{})}
	}
	group := []*pendingLine{line("d-p", "p", "Poison"), line("d-q", "q", "Quiet"), line("d-p", "p", "Poison")}
	svc.ingest.write(ctx, group)
	for i, p := range group {
		if !p.alone || p.err != nil {
			t.Errorf("line %d: alone=%v outcome=%q err=%v; the failed group must send it alone", i, p.alone, p.outcome, p.err)
		}
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM pool`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the failed group wrote %d pool rows (%v)", n, err)
	}
}
