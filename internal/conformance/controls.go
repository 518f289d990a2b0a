package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// controlTests cover the streamer's controls (issue 17).
var controlTests = []struct {
	name string
	fn   func(*testing.T, *env)
}{
	{"PauseAndResumeAtExactBoundaries", testPauseResumeBoundaries},
	{"PauseAfterTheDrawLetsTheCycleFinish", testPauseAfterDraw},
	{"RemoveEntrant", testRemoveEntrant},
	{"BansOnChatAndPanel", testBans},
	{"BanHeldByTheDatabase", testBanConstraint},
	{"WinnerCooldownInCycles", testCooldownCycles},
	{"WinnerCooldownEndsAtTheDrawMoment", testCooldownHoursExact},
	{"WinnerCooldownEndsOneMsAfterTheDrawMoment", testCooldownHoursLate},
	{"DailyBudgetBoundaryInsideOneCycle", testDailyBudget},
	{"EntryRuleEveryoneAndSubscribers", testEntryRule},
	{"DrawOnlyWhileLive", testDrawOnlyWhileLive},
	{"ChatControlCommands", testChatControls},
	{"HistoryExportRange", testHistoryExport},
}

func (e *env) modChat(t *testing.T, delivery, userID, text string, moderator bool) app.Outcome {
	t.Helper()
	out, err := e.svc.HandleChatMessage(e.ctx, app.ChatMessage{
		DeliveryID: delivery, MessageID: "msg-" + delivery, BroadcasterID: "b1",
		Viewer: sub(userID, "Disp"+userID), Text: text, IsModerator: moderator,
	})
	if err != nil {
		t.Fatalf("chat %q: %v", text, err)
	}
	if err := e.svc.Refresh(e.ctx); err != nil {
		t.Fatal(err)
	}
	return out
}

// expectPaused checks the state shows paused with reason at the clock's time.
func (e *env) expectPaused(t *testing.T, reason mgm.PauseReason) {
	t.Helper()
	st := e.state(t)
	if st.Phase != mgm.PhasePaused || st.PausedReason != reason || st.CandidateName != "" {
		t.Fatalf("at %v: phase %s reason %q candidate %q, want paused %q", e.clock.Now().Sub(T0), st.Phase, st.PausedReason, st.CandidateName, reason)
	}
}

// lastDecision returns the data of the newest SpinCycleDecided event of a cycle.
func (e *env) lastDecision(t *testing.T, cycleID string) map[string]any {
	t.Helper()
	var last map[string]any
	for _, ev := range e.events(t, app.CycleStream(cycleID)) {
		if ev.Type == app.EventSpinCycleDecided {
			last = decode(t, ev.Data)
		}
	}
	return last
}

func (e *env) cycleAt(t *testing.T, start time.Time) mgm.SpinCycle {
	t.Helper()
	var c mgm.SpinCycle
	if err := e.db.Read(e.ctx, func(tx *store.Tx) error {
		var err error
		c, err = tx.CycleAt(e.ctx, start)
		return err
	}); err != nil {
		t.Fatalf("cycle at %v: %v", start, err)
	}
	return c
}

const ms = time.Millisecond

func testPauseResumeBoundaries(t *testing.T, e *env) {
	e.tickAt(t, 0)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)

	// Paused 1 ms before the draw moment: no draw.
	e.clock.set(T0.Add(240*sec - ms))
	v, err := e.svc.Pause(e.ctx, app.DesktopActor)
	if err != nil || !v.Controls.Paused || v.State.Phase != mgm.PhasePaused || v.State.PausedReason != mgm.PauseStreamer {
		t.Fatalf("pause: %+v %v", v, err)
	}
	e.expectPaused(t, mgm.PauseStreamer)
	if _, err := e.svc.Pause(e.ctx, app.DesktopActor); err != nil { // again: no change
		t.Fatal(err)
	}
	e.tickAt(t, 240*sec)
	e.expectPaused(t, mgm.PauseStreamer)
	if _, ok := e.pending(t); ok {
		t.Fatal("a candidate while paused")
	}
	c0 := e.cycleAt(t, T0)
	if c0.Candidate != nil || c0.Outcome != mgm.OutcomeNoParticipants || e.lastDecision(t, c0.ID)["reason"] != "streamer" {
		t.Fatalf("paused cycle %+v, decision %v", c0, e.lastDecision(t, c0.ID))
	}
	evs := e.events(t, app.ControlsStream)
	if len(evs) != 1 || evs[0].Type != app.EventRoulettePaused || decode(t, evs[0].Data)["actor"] != "desktop" {
		t.Fatalf("controls events %+v", evs)
	}

	// Resumed 1 ms after a boundary: that window does not draw, the next does.
	e.tickAt(t, 300*sec)
	e.expectPaused(t, mgm.PauseStreamer)
	e.clock.set(T0.Add(300*sec + ms))
	if _, err := e.svc.Resume(e.ctx, app.DesktopActor); err != nil {
		t.Fatal(err)
	}
	e.expectPaused(t, mgm.PauseStreamer) // until the next boundary
	e.tickAt(t, 540*sec)
	e.expectPaused(t, mgm.PauseStreamer)
	if c := e.cycleAt(t, T0.Add(300*sec)); c.Candidate != nil || e.lastDecision(t, c.ID)["reason"] != "streamer" {
		t.Fatalf("the window resumed in drew: %+v", c)
	}
	e.tickAt(t, 600*sec-ms)
	e.expectPaused(t, mgm.PauseStreamer)
	e.tickAt(t, 600*sec)
	e.expectPhase(t, mgm.PhaseCollecting, "")
	e.tickAt(t, 840*sec)
	e.expectPhase(t, mgm.PhaseSpinning, "Norinn")
	evs = e.events(t, app.ControlsStream)
	if len(evs) != 2 || evs[1].Type != app.EventRouletteResumed || decode(t, evs[1].Data)["drawsFrom"] != "2026-04-06T12:10:00Z" {
		t.Fatalf("controls events %+v", evs)
	}

	// Resumed exactly at a boundary: that window draws.
	e.clock.set(T0.Add(1000 * sec))
	if _, err := e.svc.Pause(e.ctx, app.DesktopActor); err != nil {
		t.Fatal(err)
	}
	e.clock.set(T0.Add(1200 * sec))
	if _, err := e.svc.Resume(e.ctx, app.DesktopActor); err != nil {
		t.Fatal(err)
	}
	e.tickAt(t, 1200*sec)
	e.expectPhase(t, mgm.PhaseCollecting, "")
	e.tickAt(t, 1440*sec)
	e.expectPhase(t, mgm.PhaseSpinning, "Norinn")
	if n := e.countEvents(t, app.ControlsStream, app.EventRouletteResumed); n != 2 {
		t.Fatalf("%d resumes recorded", n)
	}
}

func testPauseAfterDraw(t *testing.T, e *env) {
	e.tickAt(t, 0)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.tickAt(t, 240*sec)
	c := e.expectPhase(t, mgm.PhaseSpinning, "Norinn").CycleID
	e.clock.set(T0.Add(250 * sec))
	if _, err := e.svc.Pause(e.ctx, app.DesktopActor); err != nil {
		t.Fatal(err)
	}
	// The draw was made before the pause: its candidate is still verified.
	e.expectPhase(t, mgm.PhaseSpinning, "Norinn")
	if res, err := e.verify(t, c, "Norinn", true); err != nil || res.Outcome != mgm.OutcomeWinner {
		t.Fatalf("verify while paused: %+v %v", res, err)
	}
	e.expectPhase(t, mgm.PhaseCompleted, "")
	e.tickAt(t, 300*sec)
	e.expectPaused(t, mgm.PauseStreamer)
}

func testRemoveEntrant(t *testing.T, e *env) {
	e.tickAt(t, 10*sec)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.chat(t, "d2", "u2", "!twgold Jaina", true)
	for _, bad := range []app.Target{{}, {TwitchUserID: "u1", CharacterName: "Norinn"}, {TwitchUserID: "u\x00"}} {
		if _, err := e.svc.RemoveEntrant(e.ctx, app.DesktopActor, bad); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
			t.Fatalf("target %+v: %v", bad, err)
		}
	}
	got, err := e.svc.RemoveEntrant(e.ctx, app.DesktopActor, app.Target{CharacterName: "NORINN"})
	if err != nil || got.TwitchUserID != "u1" {
		t.Fatalf("remove by name: %+v %v", got, err)
	}
	if st := e.state(t); st.PoolCount != 1 {
		t.Fatalf("pool count %d", st.PoolCount)
	}
	evs := e.events(t, app.PoolStream("u1"))
	d := decode(t, evs[len(evs)-1].Data)
	if evs[len(evs)-1].Type != app.EventPoolLeft || d["source"] != "desktop" || d["actor"] != "desktop" || d["reason"] != "removed" || d["characterName"] != "Norinn" {
		t.Fatalf("PoolLeft %s", evs[len(evs)-1].Data)
	}
	if _, err := e.svc.RemoveEntrant(e.ctx, app.DesktopActor, app.Target{CharacterName: "Norinn"}); mgm.ErrorCode(err) != mgm.CodeNotInPool {
		t.Fatalf("again: %v", err)
	}
	if _, err := e.svc.RemoveEntrant(e.ctx, app.DesktopActor, app.Target{TwitchUserID: "u2"}); err != nil {
		t.Fatalf("by id: %v", err)
	}
	if _, err := e.svc.RemoveEntrant(e.ctx, app.DesktopActor, app.Target{TwitchUserID: "nobody"}); mgm.ErrorCode(err) != mgm.CodeNotInPool {
		t.Fatalf("unknown id: %v", err)
	}
	// A removed viewer may come back: removal is not a ban.
	if out := e.chat(t, "d3", "u1", "!twgold Norinn", true); out != app.OutcomeEnrolled {
		t.Fatalf("rejoin: %s", out)
	}
}

func testBans(t *testing.T, e *env) {
	e.tickAt(t, 10*sec)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	res, err := e.svc.Ban(e.ctx, app.DesktopActor, app.Target{TwitchUserID: "u1"}, " spam ")
	if err != nil || !res.Created || res.Removed == nil || res.Ban.CharacterName != "Norinn" || res.Ban.Reason != "spam" || res.Ban.BannedBy != "desktop" {
		t.Fatalf("ban: %+v %v", res, err)
	}
	if _, ok := e.member(t, "u1"); ok {
		t.Fatal("a banned viewer is still in the pool")
	}
	if d := decode(t, e.events(t, app.PoolStream("u1"))[1].Data); d["reason"] != "banned" {
		t.Fatalf("PoolLeft %v", d)
	}
	if again, err := e.svc.Ban(e.ctx, app.DesktopActor, app.Target{TwitchUserID: "u1"}, "other"); err != nil || again.Created || again.Ban.Reason != "spam" {
		t.Fatalf("ban again: %+v %v", again, err)
	}
	// Banned: chat and panel enrollments are refused, each recorded.
	if out := e.chat(t, "d2", "u1", "!twgold Norinn", true); out != app.Rejected(mgm.CodeBanned) {
		t.Fatalf("chat: %s", out)
	}
	if _, err := e.svc.Claim(e.ctx, sub("u1", "U1"), "Norinn", "req-1", alwaysSub); mgm.ErrorCode(err) != mgm.CodeBanned {
		t.Fatalf("claim: %v", err)
	}
	if n := e.countEvents(t, app.BanStream("u1"), app.EventEnrollmentRefused); n != 2 {
		t.Fatalf("%d refusals recorded", n)
	}
	// A rejected claim's request id is free again (as with every rejection).
	if _, err := e.svc.Claim(e.ctx, sub("u1", "U1"), "Norinn", "req-1", alwaysSub); mgm.ErrorCode(err) != mgm.CodeBanned {
		t.Fatalf("claim again: %v", err)
	}
	// Banning someone not in the pool by id works; by an unknown name it cannot.
	if r, err := e.svc.Ban(e.ctx, app.DesktopActor, app.Target{TwitchUserID: "u9"}, ""); err != nil || !r.Created || r.Removed != nil {
		t.Fatalf("ban outsider: %+v %v", r, err)
	}
	if _, err := e.svc.Ban(e.ctx, app.DesktopActor, app.Target{CharacterName: "Nobody"}, ""); mgm.ErrorCode(err) != mgm.CodeNotInPool {
		t.Fatalf("ban unknown name: %v", err)
	}
	if _, err := e.svc.Ban(e.ctx, app.DesktopActor, app.Target{TwitchUserID: "u8"}, string(make([]byte, app.MaxBanReason+1))); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Fatalf("long reason: %v", err)
	}
	bans, err := e.svc.Bans(e.ctx)
	if err != nil || len(bans) != 2 {
		t.Fatalf("bans %+v %v", bans, err)
	}
	// Unban by the name recorded with the ban; then enrollment works again.
	if b, err := e.svc.Unban(e.ctx, app.DesktopActor, app.Target{CharacterName: "norinn"}); err != nil || b.TwitchUserID != "u1" {
		t.Fatalf("unban: %+v %v", b, err)
	}
	if _, err := e.svc.Unban(e.ctx, app.DesktopActor, app.Target{TwitchUserID: "u1"}); mgm.ErrorCode(err) != mgm.CodeNotFound {
		t.Fatalf("unban twice: %v", err)
	}
	if out := e.chat(t, "d3", "u1", "!twgold Norinn", true); out != app.OutcomeEnrolled {
		t.Fatalf("after unban: %s", out)
	}
	var types []string
	for _, ev := range e.events(t, app.BanStream("u1")) {
		types = append(types, ev.Type)
	}
	if fmt.Sprint(types) != "[ViewerBanned EnrollmentRefused EnrollmentRefused EnrollmentRefused ViewerUnbanned]" {
		t.Fatalf("ban stream %v", types)
	}
}

func testBanConstraint(t *testing.T, e *env) {
	if _, err := e.svc.Ban(e.ctx, app.DesktopActor, app.Target{TwitchUserID: "u1"}, ""); err != nil {
		t.Fatal(err)
	}
	err := e.db.InTx(e.ctx, func(tx *store.Tx) error {
		return tx.PutPoolEntry(e.ctx, mgm.PoolEntry{TwitchUserID: "u1", TwitchDisplayName: "U", CharacterName: "Norinn", EnrolledAt: e.clock.Now()})
	})
	if !store.IsBanViolation(err) {
		t.Fatalf("a banned viewer's pool row: %v", err)
	}
	// Through the group commit too: a burst with a banned viewer in it.
	done := make(chan app.Outcome, 2)
	for i, u := range []string{"u1", "u2"} {
		go func() {
			out, err := e.svc.HandleChatMessage(e.ctx, app.ChatMessage{DeliveryID: fmt.Sprint("g", i), BroadcasterID: "b1",
				Viewer: sub(u, u), Text: "!twgold " + []string{"Norinn", "Jaina"}[i], IsSubscriber: true})
			if err != nil {
				t.Error(err)
			}
			done <- out
		}()
	}
	got := map[app.Outcome]int{}
	for range 2 {
		got[<-done]++
	}
	if got[app.OutcomeEnrolled] != 1 || got[app.Rejected(mgm.CodeBanned)] != 1 {
		t.Fatalf("burst outcomes %v", got)
	}
}

// sendWinner runs a win for user in the window starting at start: drawn,
// reported online at start+250 s, paid (Sent, so they leave the pool) and
// re-enrolled, so that only the cooldown keeps them out of later draws.
func (e *env) sendWinner(t *testing.T, start time.Duration, user, name string) {
	t.Helper()
	e.tickAt(t, start+240*sec)
	st := e.expectPhase(t, mgm.PhaseSpinning, name)
	e.clock.set(T0.Add(start + 250*sec))
	res, err := e.verify(t, st.CycleID, name, true)
	if err != nil || res.Outcome != mgm.OutcomeWinner {
		t.Fatalf("verify: %+v %v", res, err)
	}
	e.setStatus(t, res.PayoutID, mgm.PayoutInProgress)
	e.setStatus(t, res.PayoutID, mgm.PayoutSent)
	if _, ok := e.member(t, user); ok {
		t.Fatal("Sent did not take the winner out of the pool")
	}
	e.chat(t, fmt.Sprint("re-", start), user, "!twgold "+name, true)
}

func testCooldownCycles(t *testing.T, e *env) {
	e.usePolicy(mgm.Policy{Cooldown: mgm.Cooldown{Cycles: 1}})
	e.tickAt(t, 0)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.sendWinner(t, 0, "u1", "Norinn")
	v, err := e.svc.Standing(e.ctx, "u1")
	if err != nil || !v.Enrolled || v.EligibleAgainAt == nil || !v.EligibleAgainAt.Equal(T0.Add(840*sec)) {
		t.Fatalf("standing %+v %v", v, err)
	}
	// The next cycle skips them (nobody else is eligible), the one after draws them.
	e.tickAt(t, 540*sec)
	if c := e.cycleAt(t, T0.Add(300*sec)); c.Candidate != nil || c.Outcome != mgm.OutcomeNoParticipants {
		t.Fatalf("cooling winner drawn: %+v", c)
	}
	e.tickAt(t, 840*sec)
	e.expectPhase(t, mgm.PhaseSpinning, "Norinn")
	if v, _ := e.svc.Standing(e.ctx, "u1"); v.EligibleAgainAt != nil {
		t.Fatalf("cooldown still shown at 840 s: %v", v.EligibleAgainAt)
	}
}

// Won at 250 s: a cooldown of 590 s ends exactly at the draw moment 840 s,
// and one a millisecond longer misses it.
func testCooldownHoursExact(t *testing.T, e *env) { cooldownHours(t, e, 590*sec, true) }
func testCooldownHoursLate(t *testing.T, e *env)  { cooldownHours(t, e, 590*sec+ms, false) }
func cooldownHours(t *testing.T, e *env, d time.Duration, drawnAt840 bool) {
	e.usePolicy(mgm.Policy{Cooldown: mgm.Cooldown{Duration: d}})
	e.tickAt(t, 0)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.sendWinner(t, 0, "u1", "Norinn")
	v, err := e.svc.Standing(e.ctx, "u1")
	if err != nil || v.EligibleAgainAt == nil || !v.EligibleAgainAt.Equal(T0.Add(250*sec+d)) {
		t.Fatalf("standing %+v %v", v, err)
	}
	e.tickAt(t, 540*sec)
	e.tickAt(t, 840*sec)
	if drawnAt840 {
		e.expectPhase(t, mgm.PhaseSpinning, "Norinn")
		return
	}
	e.expectPhase(t, mgm.PhaseCompleted, "") // nobody could be drawn
	e.tickAt(t, 1140*sec)
	e.expectPhase(t, mgm.PhaseSpinning, "Norinn")
}

func testDailyBudget(t *testing.T, e *env) {
	e.usePolicy(mgm.Policy{DailyBudgetGold: 2500})
	day := time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)
	set := func(h, m, s int) {
		e.clock.set(day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second))
	}
	set(23, 40, 0)
	for i, n := range []string{"Norinn", "Jaina", "Thrall"} {
		e.chat(t, fmt.Sprint("d", i), fmt.Sprint("u", i+1), "!twgold "+n, true)
	}
	// One payout at 23:40 (1000 g): room for one more.
	if _, err := e.svc.PreparePendingPayout(e.ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	set(23, 45, 0)
	if err := e.svc.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.state(t); st.Phase != mgm.PhaseCollecting {
		t.Fatalf("1000 of 2500 given: %s", st.Phase)
	}
	p2, err := e.svc.PreparePendingPayout(e.ctx, "u2")
	if err != nil {
		t.Fatal(err)
	}
	// 2000 of 2500: the next payout would cross the cap, so the next window
	// shows paused from its start and its draw moment does not draw.
	set(23, 55, 0)
	if err := e.svc.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.expectPaused(t, mgm.PauseBudget)
	v, err := e.svc.ControlsNow(e.ctx)
	if err != nil || v.GoldToday != 2000 {
		t.Fatalf("gold today %+v %v", v, err)
	}
	set(23, 59, 0) // the draw moment
	if err := e.svc.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.expectPaused(t, mgm.PauseBudget)
	c := e.cycleAt(t, day.Add(23*time.Hour+55*time.Minute))
	if c.Candidate != nil || e.lastDecision(t, c.ID)["reason"] != "budget" {
		t.Fatalf("over-budget cycle %+v %v", c, e.lastDecision(t, c.ID))
	}
	// A cancelled payout gives its gold back to the day: not paused any more.
	e.clock.set(day.Add(24*time.Hour - ms))
	e.setStatus(t, p2.ID, mgm.PayoutCancelled)
	if v, _ := e.svc.ControlsNow(e.ctx); v.GoldToday != 1000 {
		t.Fatalf("after cancel: %d", v.GoldToday)
	}
	e.setStatus(t, p2.ID, mgm.PayoutCancelled)
	// Midnight: a new day, the next window draws.
	set(24, 0, 0)
	if err := e.svc.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.expectPhase(t, mgm.PhaseCollecting, "")
	set(24, 4, 0)
	if err := e.svc.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.state(t); st.Phase != mgm.PhaseSpinning || st.CandidateName == "Norinn" {
		t.Fatalf("the next day: %s %q", st.Phase, st.CandidateName)
	}
}

func testEntryRule(t *testing.T, e *env) {
	e.tickAt(t, 10*sec)
	if out := e.chat(t, "d1", "u1", "!twgold Norinn", false); out != app.Rejected(mgm.CodeNotSubscriber) {
		t.Fatalf("subscribers (default): %s", out)
	}
	if _, err := e.svc.Claim(e.ctx, sub("u1", "U1"), "Norinn", "r1", neverSub); mgm.ErrorCode(err) != mgm.CodeNotSubscriber {
		t.Fatalf("claim, subscribers: %v", err)
	}
	e.usePolicy(mgm.Policy{Entry: mgm.EntryEveryone})
	if out := e.chat(t, "d2", "u1", "!twgold Norinn", false); out != app.OutcomeEnrolled {
		t.Fatalf("everyone, chat: %s", out)
	}
	asked := false
	if _, err := e.svc.Claim(e.ctx, sub("u2", "U2"), "Jaina", "r2", func(context.Context, string) (bool, error) { asked = true; return false, nil }); err != nil {
		t.Fatalf("everyone, claim: %v", err)
	}
	if asked {
		t.Fatal("the subscriber check was asked under everyone")
	}
	if n := e.poolCount(t); n != 2 {
		t.Fatalf("pool %d", n)
	}
}

func testDrawOnlyWhileLive(t *testing.T, e *env) {
	e.usePolicy(mgm.Policy{DrawOnlyWhileLive: true})
	e.tickAt(t, 0)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.expectPaused(t, mgm.PauseOffline) // unknown counts as offline
	e.tickAt(t, 240*sec)
	e.expectPaused(t, mgm.PauseOffline)
	e.clock.set(T0.Add(250 * sec))
	if out, err := e.svc.SetStreamLive(e.ctx, "s1", "other", true); err != nil || out != app.OutcomeWrongChannel {
		t.Fatalf("other channel: %s %v", out, err)
	}
	if out, err := e.svc.SetStreamLive(e.ctx, "s1", "b1", true); err != nil || out != app.OutcomeLiveChanged {
		t.Fatalf("online: %s %v", out, err)
	}
	if out, err := e.svc.SetStreamLive(e.ctx, "s1", "b1", true); err != nil || out != app.OutcomeDuplicate {
		t.Fatalf("redelivery: %s %v", out, err)
	}
	if out, err := e.svc.SetStreamLive(e.ctx, "s2", "b1", true); err != nil || out != app.OutcomeLiveUnchanged {
		t.Fatalf("online again: %s %v", out, err)
	}
	// Online now, but this window's draw was already refused.
	e.expectPhase(t, mgm.PhaseCompleted, "")
	e.tickAt(t, 540*sec)
	e.expectPhase(t, mgm.PhaseSpinning, "Norinn")
	e.clock.set(T0.Add(700 * sec))
	if out, err := e.svc.SetStreamLive(e.ctx, "s3", "b1", false); err != nil || out != app.OutcomeLiveChanged {
		t.Fatalf("offline: %s %v", out, err)
	}
	e.expectPaused(t, mgm.PauseOffline)
	e.tickAt(t, 840*sec)
	e.expectPaused(t, mgm.PauseOffline)
	var types []string
	for _, ev := range e.events(t, app.ControlsStream) {
		types = append(types, ev.Type)
	}
	if fmt.Sprint(types) != "[StreamWentOnline StreamWentOffline]" {
		t.Fatalf("events %v", types)
	}
	// Without the setting, live status changes nothing.
	e.usePolicy(mgm.Policy{})
	e.tickAt(t, 900*sec)
	e.expectPhase(t, mgm.PhaseCollecting, "")
}

func testChatControls(t *testing.T, e *env) {
	e.tickAt(t, 10*sec)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.chat(t, "d2", "u2", "!twgold Jaina", true)
	if out := e.modChat(t, "m1", "u3", "!mgm pause", false); out != app.OutcomeNotModerator {
		t.Fatalf("viewer pause: %s", out)
	}
	if out := e.modChat(t, "m2", "u3", "!mgm remove Norinn", false); out != app.OutcomeNotModerator {
		t.Fatalf("viewer remove: %s", out)
	}
	if st := e.state(t); st.Phase == mgm.PhasePaused || st.PoolCount != 2 {
		t.Fatalf("a viewer's command acted: %s %d", st.Phase, st.PoolCount)
	}
	for _, c := range []struct {
		delivery, text string
		want           app.Outcome
	}{
		{"m3", "!mgm pause", app.OutcomePaused},
		{"m3", "!mgm pause", app.OutcomeDuplicate},
		{"m4", "!MGM PAUSE", app.OutcomeAlreadyPaused},
		{"m5", "!mgm remove norinn", app.OutcomeRemoved},
		{"m6", "!mgm remove Norinn", app.Outcome("control_rejected_not_in_pool")},
		{"m7", "!mgm ban Jaina", app.OutcomeBanned},
		{"m8", "!mgm unban Jaina", app.OutcomeUnbanned},
		{"m9", "!mgm unban Jaina", app.Outcome("control_rejected_not_found")},
		{"m10", "!mgm resume", app.OutcomeResumed},
		{"m11", "!mgm resume", app.OutcomeNotPaused},
		{"m12", "!mgm dance", app.OutcomeIgnored},
	} {
		if out := e.modChat(t, c.delivery, "mod1", c.text, true); out != c.want {
			t.Fatalf("%q: %s, want %s", c.text, out, c.want)
		}
	}
	evs := e.events(t, app.ControlsStream)
	if len(evs) != 2 {
		t.Fatalf("controls events %d", len(evs))
	}
	if d := decode(t, evs[0].Data); d["source"] != "chat" || d["actor"] != "mod1" || d["actorName"] != "Dispmod1" {
		t.Fatalf("pause event %v", d)
	}
	left := e.events(t, app.PoolStream("u1"))
	if d := decode(t, left[len(left)-1].Data); d["actor"] != "mod1" || d["source"] != "chat" || d["reason"] != "removed" {
		t.Fatalf("removal %v", d)
	}
	var ban map[string]any
	for _, ev := range e.events(t, app.BanStream("u2")) {
		if ev.Type == app.EventViewerBanned {
			ban = decode(t, ev.Data)
		}
	}
	if ban["actor"] != "mod1" || ban["characterName"] != "Jaina" {
		t.Fatalf("ban %v", ban)
	}
}

func testHistoryExport(t *testing.T, e *env) {
	day := time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)
	e.clock.set(day.Add(-ms)) // the day before, last millisecond
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.clock.set(day) // the first millisecond
	e.chat(t, "d2", "u2", "!twgold Jaina", true)
	p := e.winner(t, "u3", "Thrall")
	e.clock.set(day.Add(24*time.Hour - ms))
	e.chat(t, "d3", "u4", "!twgold Sylvanas", true)
	e.clock.set(day.Add(24 * time.Hour))
	e.chat(t, "d4", "u5", "!twgold Arthas", true)

	r, err := app.NewHistoryRange("2026-04-06", "2026-04-06")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CheckHistorySize(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	var payouts []string
	if err := e.svc.EachPayout(e.ctx, r, func(x mgm.Payout) error { payouts = append(payouts, x.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(payouts) != 1 || payouts[0] != p.ID {
		t.Fatalf("payouts %v", payouts)
	}
	var names []string
	if err := e.svc.EachEvent(e.ctx, r, func(ev store.HistoryEvent) error {
		if ev.Type == app.EventPoolEntered {
			var d struct{ CharacterName string }
			_ = json.Unmarshal(ev.Data, &d)
			names = append(names, d.CharacterName)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(names) != "[Jaina Thrall Sylvanas]" {
		t.Fatalf("enrollments in range %v", names)
	}
	for _, bad := range [][2]string{{"2026-04-07", "2026-04-06"}, {"2026-04-06", "x"}, {"2026-03-01", "2026-04-06"}} {
		if _, err := app.NewHistoryRange(bad[0], bad[1]); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
			t.Fatalf("range %v: %v", bad, err)
		}
	}
}
