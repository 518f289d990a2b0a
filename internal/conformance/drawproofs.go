package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// proofTests: verifiable draws (issue 17, internal/drawproof).
var proofTests = []struct {
	name string
	fn   func(*testing.T, *env)
}{
	{"DrawProofCommitThenReveal", testProofCommitThenReveal},
	{"DrawProofNoParticipants", testProofNoParticipants},
	{"DrawProofMissingCases", testProofMissing},
	{"DrawProofStoredCompressedRoundTrips", testProofRoundTrip},
	{"DrawProofRetention", testProofRetention},
	{"DrawListPreparedFollowsThePool", testDrawListPrepared},
	{"DrawProofRetentionStagedLists", testProofRetentionStaged},
	{"DrawStagedListGoneBeforeTheDraw", testStagedListGone},
}

// testStagedListGone: a staged list that vanished before the draw (swept,
// or removed by hand) is written with the draw instead; the proof stands.
func testStagedListGone(t *testing.T, e *env) {
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.chat(t, "d2", "u2", "!twgold Thrall", true)
	e.tickAt(t, 0)
	c := e.svc.Snapshot().Current
	e.tickAt(t, 231*sec)
	e.tickAt(t, 233*sec) // staged
	if _, err := e.db.SQL().ExecContext(e.ctx, `DELETE FROM draw_lists`); err != nil {
		t.Fatal(err)
	}
	e.tickAt(t, 240*sec)
	if e.stagedDraw(t, c.ID) {
		t.Fatal("the draw refers to a list that is gone")
	}
	if p := e.proofOf(t, c.ID); len(drawproof.Verify(p, c.Commitment)) != 0 || len(p.List) != 2 {
		t.Fatalf("the proof: %+v", p)
	}
}

// stagedDraw reports whether a cycle's draw refers to a list staged ahead
// of it (draw_lists) rather than holding its own.
func (e *env) stagedDraw(t *testing.T, cycleID string) bool {
	t.Helper()
	var inline int
	if err := e.db.SQL().QueryRowContext(e.ctx, e.rebind(`SELECT COUNT(list_gzip) FROM draw_proofs WHERE cycle_id = ?`), cycleID).Scan(&inline); err != nil {
		t.Fatal(err)
	}
	return inline == 0
}

// proofOf returns a cycle's proof, failing the test on an error.
func (e *env) proofOf(t *testing.T, cycleID string) drawproof.Proof {
	t.Helper()
	p, err := e.svc.DrawProof(e.ctx, cycleID)
	if err != nil {
		t.Fatalf("proof of %s: %v", cycleID, err)
	}
	return p
}

func testProofCommitThenReveal(t *testing.T, e *env) {
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.chat(t, "d2", "u2", "!twgold Thrall", true) // gets an active payout: not eligible
	e.chat(t, "d3", "u3", "!twgold Jaina", true)
	e.chat(t, "d4", "u4", "!twgold Тралл", true) // at the lifetime cap: not eligible
	e.chat(t, "d5", "u5", "!twgold Voljin", true)
	if err := e.insertPayout(t, payoutID(1), "u2", mgm.PayoutPending); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := e.insertPayout(t, payoutID(100+i), "u4", mgm.PayoutSent); err != nil {
			t.Fatal(err)
		}
	}
	e.tickAt(t, 0)
	st := e.state(t)
	commitment := st.Commitment
	if len(commitment) != 64 || st.CycleID == "" {
		t.Fatalf("state before the draw: cycle %q, commitment %q", st.CycleID, commitment)
	}
	next := e.svc.Snapshot().Next
	if next == nil || len(next.Commitment) != 64 || next.Commitment == commitment {
		t.Fatalf("the next cycle, created ahead, must have a commitment of its own: %+v", next)
	}
	// Before the draw: refused, with the commitment to keep.
	e.tickAt(t, 239*sec)
	_, err := e.svc.DrawProof(e.ctx, st.CycleID)
	if mgm.ErrorCode(err) != mgm.CodeDrawNotRevealed || !strings.Contains(err.Error(), commitment) {
		t.Fatalf("proof before the draw: %v", err)
	}

	e.tickAt(t, 240*sec)
	drawn := e.state(t)
	if drawn.CandidateName == "" || drawn.Commitment != commitment {
		t.Fatalf("after the draw: candidate %q, commitment %q (was %q)", drawn.CandidateName, drawn.Commitment, commitment)
	}
	p := e.proofOf(t, st.CycleID)
	if ms := drawproof.Verify(p, commitment); len(ms) != 0 {
		t.Fatalf("the proof does not verify: %v", ms)
	}
	seed, ok := drawproof.ParseSeed(p.Seed)
	if !ok || drawproof.Commitment(seed) != commitment || p.Commitment != commitment || p.CycleID != st.CycleID {
		t.Fatalf("revealed seed %q does not match the commitment %q published before the draw", p.Seed, commitment)
	}
	// The list is exactly the eligible members, in canonical order.
	want := []drawproof.Entry{
		{OrderKey: drawproof.OrderKey("u1"), CharacterName: "Norinn"},
		{OrderKey: drawproof.OrderKey("u3"), CharacterName: "Jaina"},
		{OrderKey: drawproof.OrderKey("u5"), CharacterName: "Voljin"},
	}
	drawproof.Sort(want)
	if !slices.Equal(p.List, want) {
		t.Fatalf("list %v, want the eligible members %v", p.List, want)
	}
	if p.CandidateCharacterName == nil || *p.CandidateCharacterName != drawn.CandidateName {
		t.Fatalf("the proof draws %v, the cycle's candidate is %q", p.CandidateCharacterName, drawn.CandidateName)
	}
	// The pool changes right after; the proof does not.
	e.chat(t, "d6", "u6", "!twgold Anduin", true)
	e.chat(t, "d7", "u1", "!twgold Renamed", true)
	if again := e.proofOf(t, st.CycleID); !slices.Equal(again.List, p.List) || again.Seed != p.Seed || *again.Index != *p.Index {
		t.Fatalf("the proof changed with the pool: %+v, was %+v", again, p)
	}
	// The draw is recorded in its audit event too.
	evs := e.events(t, "cycle:"+st.CycleID)
	if last := evs[len(evs)-1]; !strings.Contains(string(last.Data), p.ListHash) {
		t.Fatalf("CandidateDrawn event without the list hash: %s", last.Data)
	}
}

func testProofNoParticipants(t *testing.T, e *env) {
	// An empty pool at the draw.
	e.tickAt(t, 0)
	c1 := e.svc.Snapshot().Current
	e.tickAt(t, 240*sec)
	p := e.proofOf(t, c1.ID)
	if ms := drawproof.Verify(p, c1.Commitment); len(ms) != 0 || len(p.List) != 0 || p.Index != nil || p.CandidateCharacterName != nil {
		t.Fatalf("empty pool: %+v %v", p, ms)
	}
	// A pool whose only member is not eligible.
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	if err := e.insertPayout(t, payoutID(1), "u1", mgm.PayoutPending); err != nil {
		t.Fatal(err)
	}
	e.tickAt(t, 300*sec)
	c2 := e.svc.Snapshot().Current
	e.tickAt(t, 540*sec)
	if st := e.state(t); st.Last == nil || st.Last.ID != c2.ID || st.Last.Outcome != mgm.OutcomeNoParticipants {
		t.Fatalf("last %+v", st.Last)
	}
	p = e.proofOf(t, c2.ID)
	if ms := drawproof.Verify(p, c2.Commitment); len(ms) != 0 || len(p.List) != 0 || p.Index != nil {
		t.Fatalf("only ineligible members: %+v %v", p, ms)
	}
}

func testProofMissing(t *testing.T, e *env) {
	if _, err := e.svc.DrawProof(e.ctx, "00000000-0000-4000-8000-999999999999"); mgm.ErrorCode(err) != mgm.CodeNotFound {
		t.Fatalf("unknown cycle: %v", err)
	}
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	// A cycle no process drew (the EBS was down at its draw time) closes
	// without a proof; its seed stays secret.
	e.tickAt(t, 0)
	missed := e.svc.Snapshot().Current.ID
	e.tickAt(t, 400*sec)
	if _, err := e.svc.DrawProof(e.ctx, missed); mgm.ErrorCode(err) != mgm.CodeNoDrawProof {
		t.Fatalf("cycle closed without a draw: %v", err)
	}
	// A cycle created before draws were committed (the migration adds the
	// columns empty) is still drawn, uniformly, but has no proof.
	e.tickAt(t, 600*sec)
	legacy := e.svc.Snapshot().Current.ID
	if _, err := e.db.SQL().ExecContext(e.ctx, e.rebind(`UPDATE spin_cycles SET draw_seed = NULL, draw_commitment = NULL WHERE id = ?`), legacy); err != nil {
		t.Fatal(err)
	}
	e.tickAt(t, 601*sec)
	if c := e.state(t).Commitment; c != "" {
		t.Fatalf("a cycle without a seed shows commitment %q", c)
	}
	e.tickAt(t, 840*sec)
	if st := e.state(t); st.CandidateName != "Norinn" {
		t.Fatalf("legacy cycle: candidate %q", st.CandidateName)
	}
	if _, err := e.svc.DrawProof(e.ctx, legacy); mgm.ErrorCode(err) != mgm.CodeNoDrawProof {
		t.Fatalf("legacy cycle: %v", err)
	}
}

// rebind writes '?' placeholders as the store's engine wants them.
func (e *env) rebind(q string) string {
	if e.db.Dialect() != "postgres" {
		return q
	}
	return strings.Replace(q, "?", "$1", 1)
}

// testProofRoundTrip: a pool of thousands, built by the database, drawn from
// the list text the database concatenates, stored compressed and served
// back: the proof is exactly the eligible pool in canonical order, and the
// verifier agrees with it.
func testProofRoundTrip(t *testing.T, e *env) {
	const n = 3000
	FillPool(t, e.db, n, T0)
	if err := e.insertPayout(t, payoutID(1), "pool-7", mgm.PayoutPending); err != nil { // not eligible
		t.Fatal(err)
	}
	e.tickAt(t, 0)
	c := e.svc.Snapshot().Current
	e.tickAt(t, 240*sec)
	p := e.proofOf(t, c.ID)
	if ms := drawproof.Verify(p, c.Commitment); len(ms) != 0 {
		t.Fatalf("the proof does not verify: %v", ms)
	}
	want := make([]drawproof.Entry, 0, n)
	for i := range n {
		if i != 7 {
			want = append(want, drawproof.Entry{OrderKey: drawproof.OrderKey(fmt.Sprintf("pool-%d", i)), CharacterName: fmt.Sprintf("Pool%d", i)})
		}
	}
	drawproof.Sort(want)
	if !slices.Equal(p.List, want) {
		t.Fatalf("the proof's list (%d entries) is not the %d eligible members in canonical order", len(p.List), len(want))
	}
	st := e.state(t)
	if p.CandidateCharacterName == nil || *p.CandidateCharacterName != st.CandidateName {
		t.Fatalf("the proof draws %v, the cycle's candidate is %q", p.CandidateCharacterName, st.CandidateName)
	}
	// Stored compressed, well under the text's size.
	var stored []byte
	var legacy *string
	if err := e.db.SQL().QueryRowContext(e.ctx, e.rebind(`SELECT list_gzip, list FROM draw_proofs WHERE cycle_id = ?`), c.ID).Scan(&stored, &legacy); err != nil {
		t.Fatal(err)
	}
	text, err := drawproof.Gunzip(stored)
	if err != nil || !bytes.Equal(text, drawproof.Encode(want)) || legacy != nil {
		t.Fatalf("stored list: %v, legacy text %v, round trip %v", err, legacy != nil, bytes.Equal(text, drawproof.Encode(want)))
	}
	if len(stored) > len(text)*6/10 {
		t.Fatalf("stored list is %d bytes for %d of text: not compressed", len(stored), len(text))
	}
}

// testProofRetention: past the retention the sweep removes a draw's list
// but keeps its summary, which the proof's refusal gives; newer lists stay.
func testProofRetention(t *testing.T, e *env) {
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.chat(t, "d2", "u2", "!twgold Thrall", true)
	e.tickAt(t, 0)
	old := e.svc.Snapshot().Current
	e.tickAt(t, 240*sec)
	before := e.proofOf(t, old.ID)

	later := app.DefaultDrawProofRetention + time.Hour
	e.tickAt(t, later)
	recent := e.svc.Snapshot().Current
	e.tickAt(t, later+240*sec)
	// The cycles in between were closed undrawn (no tick ran): no lists.
	if n, err := e.svc.PruneDrawProofs(e.ctx); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v; want the one draw older than the retention", n, err)
	}
	if n, err := e.svc.PruneDrawProofs(e.ctx); err != nil || n != 0 {
		t.Fatalf("prune again: %d, %v", n, err)
	}
	_, err := e.svc.DrawProof(e.ctx, old.ID)
	var de *mgm.Error
	if !errors.As(err, &de) || de.Code != mgm.CodeDrawProofExpired {
		t.Fatalf("expired proof: %v", err)
	}
	want := map[string]any{"cycleId": old.ID, "commitment": old.Commitment, "listHash": before.ListHash,
		"listSize": len(before.List), "index": *before.Index}
	for k, v := range want {
		if de.Details[k] != v {
			t.Errorf("expired proof's %s: %v, want %v", k, de.Details[k], v)
		}
	}
	if p := e.proofOf(t, recent.ID); len(drawproof.Verify(p, recent.Commitment)) != 0 || len(p.List) != 2 {
		t.Fatalf("the recent proof went too: %+v", p)
	}
}

// testDrawListPrepared: the ticks before the draw moment read the list
// ahead (app's drawList); whatever changes in between — a member joins,
// another renames, one leaves, one becomes ineligible — the draw's list is
// the pool as it is at the draw. One change per window, as the last thing
// before its draw, so that each is seen by its own means.
func testDrawListPrepared(t *testing.T, e *env) {
	pool := map[string]string{} // user id → character name, the eligible pool
	for i, name := range []string{"Norinn", "Thrall", "Jaina", "Voljin", "Sylvanas"} {
		user := fmt.Sprintf("u%d", i+1)
		e.chat(t, "d"+user, user, "!twgold "+name, true)
		pool[user] = name
	}
	for w, change := range []struct {
		name string
		do   func()
	}{
		{"nothing", func() {}},
		{"a member renames", func() { e.chat(t, "d-rename", "u1", "!twgold Renamed", true); pool["u1"] = "Renamed" }},
		{"a member joins", func() { e.chat(t, "d-join", "u6", "!twgold Anduin", true); pool["u6"] = "Anduin" }},
		{"a member leaves", func() {
			if err := e.svc.LeavePool(e.ctx, "u2", "panel"); err != nil {
				t.Fatal(err)
			}
			delete(pool, "u2")
		}},
		{"a member gets a payout", func() {
			if err := e.insertPayout(t, payoutID(1), "u3", mgm.PayoutPending); err != nil {
				t.Fatal(err)
			}
			delete(pool, "u3")
		}},
	} {
		start := time.Duration(w) * 300 * sec
		e.tickAt(t, start+sec)
		cycle := e.state(t).CycleID
		e.tickAt(t, start+231*sec) // prepares the list
		e.tickAt(t, start+233*sec) // nothing changed: the same list, staged
		change.do()
		e.tickAt(t, start+240*sec)
		if staged := e.stagedDraw(t, cycle); staged != (w == 0) {
			t.Fatalf("%s: the draw used the staged list: %v", change.name, staged)
		}
		p := e.proofOf(t, cycle)
		if ms := drawproof.Verify(p, p.Commitment); len(ms) != 0 {
			t.Fatalf("%s: the proof does not verify: %v", change.name, ms)
		}
		var want []drawproof.Entry
		for user, name := range pool {
			want = append(want, drawproof.Entry{OrderKey: drawproof.OrderKey(user), CharacterName: name})
		}
		drawproof.Sort(want)
		if !slices.Equal(p.List, want) {
			t.Fatalf("%s: the draw's list is %v, want the pool at the draw %v", change.name, p.List, want)
		}
		e.tickAt(t, start+299*sec) // the window closes without a report: no winner, no cooldown
	}
}

// testProofRetentionStaged: lists staged ahead of their draws are swept
// with the draws that used them, unless a draw still kept used it too.
func testProofRetentionStaged(t *testing.T, e *env) {
	drawPrepared := func(at time.Duration) mgm.SpinCycle {
		t.Helper()
		e.tickAt(t, at)
		c := e.svc.Snapshot().Current
		e.tickAt(t, at+231*sec)
		e.tickAt(t, at+233*sec)
		e.tickAt(t, at+240*sec)
		if !e.stagedDraw(t, c.ID) {
			t.Fatalf("the draw at +%v did not use the staged list", at)
		}
		return *c
	}
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.chat(t, "d2", "u2", "!twgold Thrall", true)
	first := drawPrepared(0)
	second := drawPrepared(300 * sec) // the same pool: the same list, shared
	e.chat(t, "d3", "u3", "!twgold Jaina", true)
	later := app.DefaultDrawProofRetention + 600*sec
	third := drawPrepared(later - 300*sec) // kept: within the retention
	recent := drawPrepared(later)
	_ = third
	// first and second share a list no kept draw uses: it goes, once.
	if n, err := e.svc.PruneDrawProofs(e.ctx); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v; want the one list of the two draws older than the retention", n, err)
	}
	for _, c := range []mgm.SpinCycle{first, second} {
		if _, err := e.svc.DrawProof(e.ctx, c.ID); mgm.ErrorCode(err) != mgm.CodeDrawProofExpired {
			t.Fatalf("proof of a draw older than the retention: %v", err)
		}
	}
	if p := e.proofOf(t, recent.ID); len(drawproof.Verify(p, recent.Commitment)) != 0 || len(p.List) != 3 {
		t.Fatalf("the recent proof went too: %+v", p)
	}
}
