package conformance

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// at sets the clock to T0 + d and ticks, as every replica's ticker would.
func (e *env) tickAt(t *testing.T, d time.Duration) {
	t.Helper()
	e.clock.set(T0.Add(d))
	if err := e.svc.Tick(e.ctx); err != nil {
		t.Fatalf("tick at +%v: %v", d, err)
	}
}

func (c *Clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func (e *env) state(t *testing.T) app.RouletteState {
	t.Helper()
	return e.svc.State(e.clock.Now())
}

func (e *env) expectPhase(t *testing.T, want mgm.Phase, candidate string) app.RouletteState {
	t.Helper()
	st := e.state(t)
	if st.Phase != want || st.CandidateName != candidate {
		t.Fatalf("at %v: phase %s candidate %q, want %s %q", e.clock.Now().Sub(T0), st.Phase, st.CandidateName, want, candidate)
	}
	if (st.CycleID == "") != (st.Phase == mgm.PhaseIdle) {
		t.Fatalf("at %v: cycle id %q with phase %s", e.clock.Now().Sub(T0), st.CycleID, st.Phase)
	}
	return st
}

func (e *env) verify(t *testing.T, cycleID, name string, online bool) (app.VerifyResult, error) {
	t.Helper()
	return e.svc.VerifyCandidate(e.ctx, mgm.WhoReport{SchemaVersion: 1, SpinCycleID: cycleID, CharacterName: name, Online: online})
}

func (e *env) pending(t *testing.T) (app.PendingCandidate, bool) {
	t.Helper()
	return e.svc.Candidate(e.clock.Now())
}

func (e *env) countEvents(t *testing.T, stream, typ string) int {
	t.Helper()
	n := 0
	for _, ev := range e.events(t, stream) {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

const sec = time.Second

func testCycleWalk(t *testing.T, e *env) {
	e.preferDraws([]testkit.DrawMember{{TwitchUserID: "u1", CharacterName: "Norinn"}, {TwitchUserID: "u2", CharacterName: "Thrall"}},
		"Norinn", "Thrall")
	e.tickAt(t, 0)
	e.expectPhase(t, mgm.PhaseIdle, "")
	e.clock.Advance(10 * sec)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.chat(t, "d2", "u2", "!twgold Thrall", true)
	st := e.expectPhase(t, mgm.PhaseCollecting, "")
	if st.PoolCount != 2 || !st.NextSpinAt.Equal(T0.Add(300*sec)) {
		t.Fatalf("state %+v", st)
	}
	c1 := st.CycleID

	// Cycle 1: no draw a millisecond early; the draw exactly at 240 s; winner.
	e.tickAt(t, 240*sec-time.Millisecond)
	e.expectPhase(t, mgm.PhaseCollecting, "")
	if _, ok := e.pending(t); ok {
		t.Fatal("a candidate before the draw")
	}
	e.tickAt(t, 240*sec)
	e.expectPhase(t, mgm.PhaseSpinning, "Norinn")
	if pc, ok := e.pending(t); !ok || pc.CharacterName != "Norinn" || pc.SpinCycleID != c1 || pc.Phase != mgm.PhaseSpinning || !pc.VerifyDeadline.Equal(T0.Add(330*sec)) {
		t.Fatalf("candidate %+v %v", pc, ok)
	}
	e.tickAt(t, 270*sec)
	e.expectPhase(t, mgm.PhaseVerification, "Norinn")
	e.clock.Advance(5 * sec)
	res, err := e.verify(t, c1, "norinn", true)
	if err != nil || res.Outcome != mgm.OutcomeWinner || res.PayoutID == "" {
		t.Fatalf("verify: %+v %v", res, err)
	}
	again, err := e.verify(t, c1, "Norinn", false)
	if err != nil || again != res {
		t.Fatalf("repeat verify: %+v %v, want %+v", again, err, res)
	}
	st = e.expectPhase(t, mgm.PhaseCompleted, "")
	if st.Last == nil || st.Last.Outcome != mgm.OutcomeWinner || st.Last.Candidate.CharacterName != "Norinn" || st.Last.ID != c1 {
		t.Fatalf("last cycle %+v", st.Last)
	}
	p, err := e.svc.Payout(e.ctx, res.PayoutID)
	if err != nil || p.Status != mgm.PayoutPending || p.GoldAmount != 1000 || p.TwitchUserID != "u1" ||
		p.EnrollmentRequestID != mgm.SpinEnrollmentID(c1) || p.SpinCycleID != c1 || p.CharacterName != "Norinn" {
		t.Fatalf("payout %+v %v", p, err)
	}
	if _, ok := e.pending(t); ok {
		t.Fatal("a decided cycle still asks for /who")
	}

	// Cycle 2: the winner stays in the pool but cannot be drawn; Thrall is, and is offline.
	e.tickAt(t, 300*sec)
	st = e.expectPhase(t, mgm.PhaseCollecting, "")
	c2 := st.CycleID
	if c2 == c1 || st.PoolCount != 2 {
		t.Fatalf("cycle 2: %+v", st)
	}
	e.tickAt(t, 540*sec)
	e.expectPhase(t, mgm.PhaseSpinning, "Thrall")
	if res, err := e.verify(t, c2, "Thrall", false); err != nil || res.Outcome != mgm.OutcomeNoWinner || res.PayoutID != "" {
		t.Fatalf("offline: %+v %v", res, err)
	}
	if st := e.expectPhase(t, mgm.PhaseCompleted, ""); st.Last.ID != c2 || st.Last.Outcome != mgm.OutcomeNoWinner {
		t.Fatalf("last %+v", st.Last)
	}
	if n, _ := e.svc.PoolCount(e.ctx); n != 2 {
		t.Fatal("an offline candidate left the pool")
	}

	// Cycle 3: Thrall drawn again; the report comes late, inside the grace.
	e.tickAt(t, 840*sec)
	c3 := e.expectPhase(t, mgm.PhaseSpinning, "Thrall").CycleID
	e.tickAt(t, 900*sec)
	e.expectPhase(t, mgm.PhaseCollecting, "")
	pc, ok := e.pending(t)
	if !ok || pc.SpinCycleID != c3 || pc.Phase != mgm.PhaseVerification {
		t.Fatalf("grace candidate %+v %v", pc, ok)
	}
	e.clock.set(T0.Add(930*sec - time.Millisecond))
	res3, err := e.verify(t, c3, "Thrall", true)
	if err != nil || res3.Outcome != mgm.OutcomeWinner {
		t.Fatalf("late report in grace: %+v %v", res3, err)
	}

	// Cycle 4: both have active payouts: nobody is eligible.
	e.tickAt(t, 1140*sec)
	st = e.expectPhase(t, mgm.PhaseCompleted, "")
	if st.Last.Outcome != mgm.OutcomeNoParticipants {
		t.Fatalf("cycle 4 outcome %+v", st.Last)
	}
	// One draw event per drawn cycle, one decision per cycle.
	for _, c := range []string{c1, c2, c3} {
		if n := e.countEvents(t, app.CycleStream(c), app.EventCandidateDrawn); n != 1 {
			t.Errorf("cycle %s: %d draws", c, n)
		}
		if n := e.countEvents(t, app.CycleStream(c), app.EventSpinCycleDecided); n != 1 {
			t.Errorf("cycle %s: %d decisions", c, n)
		}
	}
}

func testMissingReport(t *testing.T, e *env) {
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.tickAt(t, 240*sec)
	c := e.expectPhase(t, mgm.PhaseSpinning, "Norinn").CycleID
	e.tickAt(t, 300*sec)
	e.tickAt(t, 330*sec-time.Millisecond)
	if _, ok := e.pending(t); !ok {
		t.Fatal("no candidate inside the grace")
	}
	e.tickAt(t, 330*sec)
	if _, ok := e.pending(t); ok {
		t.Fatal("candidate still pending after the grace")
	}
	if _, err := e.verify(t, c, "Norinn", true); mgm.ErrorCode(err) != mgm.CodeOutOfSequence {
		t.Fatalf("report at 330 s: %v", err)
	}
	st := e.state(t)
	if st.Last == nil || st.Last.ID != c || st.Last.Outcome != mgm.OutcomeNoWinner || st.Last.PayoutID != "" {
		t.Fatalf("last %+v", st.Last)
	}
	if n, _ := e.svc.PoolCount(e.ctx); n != 1 {
		t.Fatal("the unreported candidate left the pool")
	}
	// A cycle nobody drew (no process ran at 240 s) is closed too.
	e.tickAt(t, 600*sec+10*sec)
	e.clock.set(T0.Add(2 * time.Hour))
	if err := e.svc.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	var undecided []mgm.SpinCycle
	_ = e.db.Read(e.ctx, func(tx *store.Tx) error {
		var err error
		undecided, err = tx.UndecidedCycles(e.ctx, T0.Add(time.Hour))
		return err
	})
	if len(undecided) != 0 {
		t.Fatalf("undecided old cycles: %+v", undecided)
	}
}

func testEmptyPoolCycles(t *testing.T, e *env) {
	e.tickAt(t, 0)
	e.expectPhase(t, mgm.PhaseIdle, "")
	// Joining during collecting still draws at 240 s.
	e.clock.set(T0.Add(200 * sec))
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.expectPhase(t, mgm.PhaseCollecting, "")
	e.tickAt(t, 240*sec)
	e.expectPhase(t, mgm.PhaseSpinning, "Norinn")
	// A cycle with an empty pool at the draw ends without participants, shown as idle.
	e2 := e
	e2.tickAt(t, 300*sec)
	_, err := e.svc.SetPayoutStatus(e.ctx, "00000000-0000-4000-8000-000000000000", mgm.PayoutSent)
	if mgm.ErrorCode(err) != mgm.CodeNotFound {
		t.Fatalf("unknown payout: %v", err)
	}
	if err := e.db.InTx(e.ctx, func(tx *store.Tx) error { _, err := tx.DeletePoolEntry(e.ctx, "u1"); return err }); err != nil {
		t.Fatal(err)
	}
	e.tickAt(t, 540*sec)
	st := e.expectPhase(t, mgm.PhaseIdle, "")
	if st.Last == nil || st.Last.Outcome != mgm.OutcomeNoParticipants {
		t.Fatalf("last %+v", st.Last)
	}
}

func testConcurrentTicks(t *testing.T, e *env) {
	for i := 0; i < 5; i++ {
		e.chat(t, fmt.Sprintf("d%d", i), fmt.Sprintf("u%d", i), fmt.Sprintf("!twgold Name%c", 'a'+i), true)
	}
	e.clock.set(T0.Add(245 * sec))
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := e.svc.Tick(e.ctx); err != nil {
				t.Errorf("tick: %v", err)
			}
		}(i)
	}
	wg.Wait()
	st := e.state(t)
	if st.CandidateName == "" {
		t.Fatal("no candidate")
	}
	if n := e.countEvents(t, app.CycleStream(st.CycleID), app.EventCandidateDrawn); n != 1 {
		t.Fatalf("%d draws in one cycle", n)
	}
	var cycles, windows int
	_ = e.db.SQL().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT window_start) FROM spin_cycles`).Scan(&cycles, &windows)
	if cycles != 2 || windows != 2 { // this window's and the next, created ahead
		t.Fatalf("%d cycle rows for %d windows, want 2 and 2", cycles, windows)
	}
}

func testConcurrentVerify(t *testing.T, e *env) {
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.tickAt(t, 240*sec)
	c := e.state(t).CycleID
	e.clock.set(T0.Add(275 * sec))
	const n = 20
	results := make([]app.VerifyResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = e.verify(t, c, "Norinn", true)
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil || results[i].Outcome != mgm.OutcomeWinner || results[i].PayoutID != results[0].PayoutID {
			t.Fatalf("verify %d: %+v %v (first %+v)", i, results[i], errs[i], results[0])
		}
	}
	var payouts int
	_ = e.db.SQL().QueryRow(`SELECT COUNT(*) FROM payouts`).Scan(&payouts)
	if payouts != 1 {
		t.Fatalf("%d payouts", payouts)
	}
}

func testVerifyRejections(t *testing.T, e *env) {
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.tickAt(t, 240*sec)
	c := e.state(t).CycleID
	cases := []struct {
		r    mgm.WhoReport
		want mgm.Code
	}{
		{mgm.WhoReport{SchemaVersion: 2, SpinCycleID: c, CharacterName: "Norinn", Online: true}, mgm.CodeInvalidPayload},
		{mgm.WhoReport{SchemaVersion: 1, SpinCycleID: c, CharacterName: "N0rinn", Online: true}, mgm.CodeInvalidCharacterName},
		{mgm.WhoReport{SchemaVersion: 1, SpinCycleID: "not-a-uuid", CharacterName: "Norinn", Online: true}, mgm.CodeOutOfSequence},
		{mgm.WhoReport{SchemaVersion: 1, SpinCycleID: "00000000-0000-4000-8000-999999999999", CharacterName: "Norinn", Online: true}, mgm.CodeOutOfSequence},
		{mgm.WhoReport{SchemaVersion: 1, SpinCycleID: c, CharacterName: "Thrall", Online: false}, mgm.CodeOutOfSequence},
		{mgm.WhoReport{SchemaVersion: 1, SpinCycleID: c, CharacterName: "Thrall", Online: true}, mgm.CodeOutOfSequence},
	}
	for _, tc := range cases {
		if _, err := e.svc.VerifyCandidate(e.ctx, tc.r); mgm.ErrorCode(err) != tc.want {
			t.Errorf("%+v: %v, want %s", tc.r, err, tc.want)
		}
	}
	// The wrong-name reports changed nothing: the real candidate still wins.
	if res, err := e.verify(t, c, "Norinn", true); err != nil || res.Outcome != mgm.OutcomeWinner {
		t.Fatalf("after rejections: %+v %v", res, err)
	}
	// A candidate who meanwhile got an active payout: 409, the outcome stays open.
	e.chat(t, "d2", "u2", "!twgold Thrall", true)
	e.tickAt(t, 540*sec)
	c2 := e.state(t).CycleID
	if e.state(t).CandidateName != "Thrall" {
		t.Fatalf("candidate %q", e.state(t).CandidateName)
	}
	if err := e.insertPayout(t, payoutID(77), "u2", mgm.PayoutPending); err != nil {
		t.Fatal(err)
	}
	if _, err := e.verify(t, c2, "Thrall", true); mgm.ErrorCode(err) != mgm.CodeActivePayoutExists {
		t.Fatalf("active payout: %v", err)
	}
	if res, err := e.verify(t, c2, "Thrall", false); err != nil || res.Outcome != mgm.OutcomeNoWinner {
		t.Fatalf("outcome should still be open: %+v %v", res, err)
	}
}

func (e *env) winner(t *testing.T, user, name string) mgm.Payout {
	t.Helper()
	e.chat(t, "w-"+user, user, "!twgold "+name, true)
	p, err := e.svc.PreparePendingPayout(e.ctx, user)
	if err != nil {
		t.Fatalf("prepare payout for %s: %v", user, err)
	}
	return p
}

func (e *env) setStatus(t *testing.T, id string, to mgm.PayoutStatus) mgm.Payout {
	t.Helper()
	p, err := e.svc.SetPayoutStatus(e.ctx, id, to)
	if err != nil {
		t.Fatalf("%s → %s: %v", id, to, err)
	}
	return p
}

func testPayoutLifecycle(t *testing.T, e *env) {
	e.clock.set(T0.Add(250 * sec))
	p := e.winner(t, "u1", "Norinn")
	if _, err := e.svc.SetPayoutStatus(e.ctx, p.ID, mgm.PayoutSent); mgm.ErrorCode(err) != mgm.CodeTerminalStatusChange {
		t.Fatalf("Pending→Sent: %v", err)
	}
	if _, err := e.svc.SetPayoutStatus(e.ctx, p.ID, mgm.PayoutExpired); mgm.ErrorCode(err) != mgm.CodeTerminalStatusChange {
		t.Fatalf("PATCH to Expired: %v", err)
	}
	e.setStatus(t, strings.ToUpper(p.ID), mgm.PayoutInProgress) // ids are read in any letter case
	e.setStatus(t, p.ID, mgm.PayoutPending)                     // the escape hatch
	e.setStatus(t, p.ID, mgm.PayoutInProgress)
	same := e.setStatus(t, p.ID, mgm.PayoutInProgress) // a replay: no-op
	if same.Status != mgm.PayoutInProgress {
		t.Fatalf("no-op returned %+v", same)
	}
	if _, err := e.svc.ConfirmAcceptance(e.ctx, p.ID, "Norinn"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(sec)
	sent := e.setStatus(t, p.ID, mgm.PayoutSent)
	if sent.Status != mgm.PayoutSent || sent.IsRewardSentAnnouncedToChat || !sent.UpdatedAt.After(p.CreatedAt) {
		t.Fatalf("sent payout %+v", sent)
	}
	if sent = e.awaitAnnouncement(t, p.ID); !sent.IsRewardSentAnnouncedToChat {
		t.Fatalf("after the job: %+v", sent)
	}
	if got := e.announcer.Messages(); len(got) != 1 || got[0] != "Награда отправлена персонажу Norinn на почту, проверяй ящик!" {
		t.Fatalf("announcements %q", got)
	}
	if _, ok := e.member(t, "u1"); ok {
		t.Fatal("the winner is still in the pool after Sent")
	}
	if e.countEvents(t, app.PoolStream("u1"), app.EventPoolLeft) != 1 {
		t.Fatal("no PoolLeft event")
	}
	e.setStatus(t, p.ID, mgm.PayoutSent) // replayed [MGM_CONFIRM]: no-op, no second announcement
	for _, to := range []mgm.PayoutStatus{mgm.PayoutFailed, mgm.PayoutPending, mgm.PayoutCancelled, mgm.PayoutInProgress} {
		if _, err := e.svc.SetPayoutStatus(e.ctx, p.ID, to); mgm.ErrorCode(err) != mgm.CodeTerminalStatusChange {
			t.Errorf("Sent→%s: %v", to, err)
		}
	}
	if n := len(e.announcer.Messages()); n != 1 {
		t.Fatalf("%d announcements", n)
	}
	hist, err := e.svc.PayoutHistory(e.ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range hist {
		types = append(types, ev.Type)
	}
	want := []string{app.EventPayoutCreated, app.EventPayoutStatusChanged, app.EventPayoutStatusChanged, app.EventPayoutStatusChanged,
		app.EventWinnerAcceptanceRecorded, app.EventPayoutStatusChanged, app.EventAnnouncementSucceeded}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("history %v, want %v", types, want)
	}
	var ch struct{ From, To string }
	_ = json.Unmarshal(hist[5].Data, &ch)
	if ch.From != "InProgress" || ch.To != "Sent" {
		t.Fatalf("status change data %s", hist[5].Data)
	}
	// The winner may enroll again.
	if got := e.chat(t, "again", "u1", "!twgold Norinn", true); got != app.OutcomeEnrolled {
		t.Fatalf("re-enroll after Sent: %q", got)
	}
	// Cancelled and Failed from Pending.
	for i, to := range []mgm.PayoutStatus{mgm.PayoutCancelled, mgm.PayoutFailed} {
		e.clock.set(T0.Add(time.Duration(i+1)*300*sec + 250*sec))
		q := e.winner(t, fmt.Sprintf("x%d", i), fmt.Sprintf("Other%c", 'a'+i))
		if got := e.setStatus(t, q.ID, to); got.Status != to {
			t.Fatalf("→%s: %+v", to, got)
		}
		if _, ok := e.member(t, q.TwitchUserID); !ok {
			t.Fatalf("%s removed the viewer from the pool", to)
		}
	}
	if _, err := e.svc.Payout(e.ctx, "nope"); mgm.ErrorCode(err) != mgm.CodeNotFound {
		t.Fatalf("malformed id: %v", err)
	}
}

func testConfirmAcceptance(t *testing.T, e *env) {
	e.clock.set(T0.Add(250 * sec))
	p := e.winner(t, "u1", "Ёжик")
	if _, err := e.svc.ConfirmAcceptance(e.ctx, p.ID, "Thrall"); mgm.ErrorCode(err) != mgm.CodeInvalidCharacterName {
		t.Fatalf("wrong name: %v", err)
	}
	got, err := e.svc.ConfirmAcceptance(e.ctx, p.ID, "  ёЖИК ")
	if err != nil || got.AcceptedAt == nil || !got.AcceptedAt.Equal(e.clock.Now()) {
		t.Fatalf("accept: %+v %v", got, err)
	}
	e.clock.Advance(sec)
	again, err := e.svc.ConfirmAcceptance(e.ctx, p.ID, "Ёжик")
	if err != nil || !again.AcceptedAt.Equal(*got.AcceptedAt) {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	if n := e.countEvents(t, app.PayoutStream(p.ID), app.EventWinnerAcceptanceRecorded); n != 1 {
		t.Fatalf("%d acceptance events", n)
	}
	e.setStatus(t, p.ID, mgm.PayoutCancelled)
	if _, err := e.svc.ConfirmAcceptance(e.ctx, p.ID, "Ёжик"); mgm.ErrorCode(err) != mgm.CodeTerminalStatusChange {
		t.Fatalf("terminal: %v", err)
	}
	if _, err := e.svc.ConfirmAcceptance(e.ctx, "00000000-0000-4000-8000-000000000000", "Ёжик"); mgm.ErrorCode(err) != mgm.CodeNotFound {
		t.Fatalf("unknown: %v", err)
	}
}

func testAnnouncementFailure(t *testing.T, e *env) {
	e.clock.set(T0.Add(250 * sec))
	p := e.winner(t, "u1", "Norinn")
	e.setStatus(t, p.ID, mgm.PayoutInProgress)
	e.announcer.FailNext(3)
	e.setStatus(t, p.ID, mgm.PayoutSent)
	sent := e.awaitAnnouncement(t, p.ID)
	if sent.Status != mgm.PayoutSent || sent.IsRewardSentAnnouncedToChat {
		t.Fatalf("after 3 failures: %+v", sent)
	}
	evs := e.events(t, app.PayoutStream(p.ID))
	last := evs[len(evs)-1]
	var d struct {
		Attempts  int    `json:"attempts"`
		LastError string `json:"lastError"`
	}
	_ = json.Unmarshal(last.Data, &d)
	if last.Type != app.EventAnnouncementFailed || d.Attempts != 3 || d.LastError == "" {
		t.Fatalf("last event %s %s", last.Type, last.Data)
	}
	// A replayed Sent does not try again: at most once per payout.
	e.setStatus(t, p.ID, mgm.PayoutSent)
	if len(e.announcer.Messages()) != 0 {
		t.Fatal("announced after the attempts were spent")
	}

	// Two failures, then success on the third attempt.
	e.clock.set(T0.Add(550 * sec))
	q := e.winner(t, "u2", "Thrall")
	e.setStatus(t, q.ID, mgm.PayoutInProgress)
	e.announcer.FailNext(2)
	e.setStatus(t, q.ID, mgm.PayoutSent)
	if got := e.awaitAnnouncement(t, q.ID); !got.IsRewardSentAnnouncedToChat {
		t.Fatalf("third attempt should succeed: %+v", got)
	}
	if len(e.announcer.Messages()) != 1 {
		t.Fatalf("messages %q", e.announcer.Messages())
	}
}

func testConcurrentSent(t *testing.T, e *env) {
	e.clock.set(T0.Add(250 * sec))
	p := e.winner(t, "u1", "Norinn")
	e.setStatus(t, p.ID, mgm.PayoutInProgress)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := e.svc.SetPayoutStatus(e.ctx, p.ID, mgm.PayoutSent)
			if err != nil || got.Status != mgm.PayoutSent {
				t.Errorf("concurrent Sent: %+v %v", got, err)
			}
		}()
	}
	wg.Wait()
	e.awaitAnnouncement(t, p.ID)
	if n := len(e.announcer.Messages()); n != 1 {
		t.Fatalf("%d announcements", n)
	}
	if n := e.countEvents(t, app.PayoutStream(p.ID), app.EventPayoutStatusChanged); n != 2 {
		t.Fatalf("%d status events, want 2", n)
	}
}

// Sent commits and answers while Helix hangs: the announcement is a job, and
// the request never waits for it.
func testSentWhileHelixHangs(t *testing.T, e *env) {
	e.clock.set(T0.Add(250 * sec))
	p := e.winner(t, "u1", "Norinn")
	e.setStatus(t, p.ID, mgm.PayoutInProgress)
	entered, release := e.announcer.Hold()
	defer release()
	e.startWorkers(t)
	sent := e.setStatus(t, p.ID, mgm.PayoutSent)
	if sent.Status != mgm.PayoutSent || sent.IsRewardSentAnnouncedToChat {
		t.Fatalf("answer %+v", sent)
	}
	<-entered // the job is now inside Helix, which has not answered
	if got, err := e.svc.Payout(e.ctx, p.ID); err != nil || got.Status != mgm.PayoutSent {
		t.Fatalf("Sent not committed while Helix hangs: %+v %v", got, err)
	}
	release()
	if got := e.awaitAnnouncement(t, p.ID); !got.IsRewardSentAnnouncedToChat {
		t.Fatalf("after Helix answered: %+v", got)
	}
	if n := e.countEvents(t, app.PayoutStream(p.ID), app.EventAnnouncementSucceeded); n != 1 || len(e.announcer.Messages()) != 1 {
		t.Fatalf("%d success events, messages %q", n, e.announcer.Messages())
	}
}

// An attempt that died after claiming (kill -9 while Helix hangs, or after
// Helix answered but before recording) leaves its claim; the rescued job
// records one final failure and never posts a second line.
func testInterruptedAnnouncement(t *testing.T, e *env) {
	e.clock.set(T0.Add(250 * sec))
	p := e.winner(t, "u1", "Norinn")
	e.setStatus(t, p.ID, mgm.PayoutInProgress)
	e.setStatus(t, p.ID, mgm.PayoutSent)
	if err := e.db.InTx(e.ctx, func(tx *store.Tx) error {
		ok, err := tx.ClaimAnnouncement(e.ctx, p.ID, e.clock.Now())
		if err == nil && !ok {
			err = fmt.Errorf("claim not taken")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ { // the rescued run, then a stray duplicate run
		if err := e.svc.AnnounceReward(e.ctx, p.ID, app.Attempt{Number: i}); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	e.awaitAnnouncement(t, p.ID) // the enqueued job finds the outcome recorded
	if e.announcer.Calls() != 0 {
		t.Fatalf("%d Helix calls after an interrupted attempt", e.announcer.Calls())
	}
	if n := e.countEvents(t, app.PayoutStream(p.ID), app.EventAnnouncementFailed); n != 1 {
		t.Fatalf("%d failure events", n)
	}
	if n := e.countEvents(t, app.PayoutStream(p.ID), app.EventAnnouncementSucceeded); n != 0 {
		t.Fatalf("%d success events", n)
	}
}

// Runs of the job racing each other (a rescued run beside the original):
// one Helix call, one line, one terminal event.
func testConcurrentAnnouncementRuns(t *testing.T, e *env) {
	e.clock.set(T0.Add(250 * sec))
	p := e.winner(t, "u1", "Norinn")
	e.setStatus(t, p.ID, mgm.PayoutInProgress)
	e.setStatus(t, p.ID, mgm.PayoutSent)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.svc.AnnounceReward(e.ctx, p.ID, app.Attempt{Number: 1, Final: true}); err != nil {
				t.Errorf("run: %v", err)
			}
		}()
	}
	wg.Wait()
	if e.announcer.Calls() != 1 || len(e.announcer.Messages()) != 1 {
		t.Fatalf("%d calls, messages %q", e.announcer.Calls(), e.announcer.Messages())
	}
	terminal := e.countEvents(t, app.PayoutStream(p.ID), app.EventAnnouncementSucceeded) +
		e.countEvents(t, app.PayoutStream(p.ID), app.EventAnnouncementFailed)
	if terminal != 1 {
		t.Fatalf("%d terminal events", terminal)
	}
}

func testExpiry(t *testing.T, e *env) {
	old := func(n int, user string, st mgm.PayoutStatus, age time.Duration) {
		err := e.db.InTx(e.ctx, func(tx *store.Tx) error {
			at := T0.Add(-age)
			return tx.InsertPayout(e.ctx, mgm.Payout{ID: payoutID(n), TwitchUserID: user, TwitchDisplayName: user,
				CharacterName: "Norinn", GoldAmount: 1000, EnrollmentRequestID: fmt.Sprint("e", n), Status: st, CreatedAt: at, UpdatedAt: at})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	old(1, "a", mgm.PayoutPending, 30*time.Hour)
	old(2, "b", mgm.PayoutInProgress, 48*time.Hour)
	old(3, "c", mgm.PayoutPending, 23*time.Hour)
	old(4, "d", mgm.PayoutSent, 72*time.Hour)
	e.chat(t, "d1", "a", "!twgold Zzzz", true) // refused: active payout
	var wg sync.WaitGroup
	counts := make([]int, 5)
	for i := range counts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n, err := e.svc.ExpirePayouts(e.ctx)
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
			counts[i] = n
		}(i)
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 2 {
		t.Fatalf("expired %d in all sweeps, want 2", total)
	}
	for id, want := range map[int]mgm.PayoutStatus{1: mgm.PayoutExpired, 2: mgm.PayoutExpired, 3: mgm.PayoutPending, 4: mgm.PayoutSent} {
		p, _ := e.svc.Payout(e.ctx, payoutID(id))
		if p.Status != want {
			t.Errorf("payout %d: %s, want %s", id, p.Status, want)
		}
	}
	if n := e.countEvents(t, app.PayoutStream(payoutID(1)), app.EventPayoutStatusChanged); n != 1 {
		t.Fatalf("%d expiry events", n)
	}
}

func testHarness(t *testing.T, e *env) {
	// The draw found nobody, so the cycle is decided; the harness reopens it.
	e.tickAt(t, 245*sec)
	if st := e.state(t); st.Last == nil || st.Last.Outcome != mgm.OutcomeNoParticipants {
		t.Fatalf("setup: %+v", st.Last)
	}
	if _, err := e.svc.PreparePendingPayout(e.ctx, "ghost"); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Fatalf("non-member: %v", err)
	}
	p := e.winner(t, "u1", "Norinn")
	if p.Status != mgm.PayoutPending || p.CharacterName != "Norinn" || p.SpinCycleID == "" {
		t.Fatalf("payout %+v", p)
	}
	if _, err := e.svc.PreparePendingPayout(e.ctx, "u1"); mgm.ErrorCode(err) != mgm.CodeOutOfSequence {
		t.Fatalf("second harness call in one cycle: %v", err)
	}
}

func testLifetimeCapConstraint(t *testing.T, e *env) {
	for i := 0; i < 10; i++ {
		if err := e.insertPayout(t, payoutID(i), "rich", mgm.PayoutSent); err != nil {
			t.Fatalf("payout %d: %v", i, err)
		}
	}
	err := e.insertPayout(t, payoutID(10), "rich", mgm.PayoutPending)
	if !store.IsLifetimeCapViolation(err) {
		t.Fatalf("11th payout: %v", err)
	}
	if err := e.insertPayout(t, payoutID(11), "rich", mgm.PayoutFailed); err != nil {
		t.Fatalf("a Failed payout does not count: %v", err)
	}
}
