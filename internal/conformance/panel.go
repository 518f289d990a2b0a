package conformance

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// panelTests cover what the panel shows and does beyond enrollment (issue
// 16): leaving the pool, the viewer's progress toward the cap, recent winners.
var panelTests = []struct {
	name string
	fn   func(*testing.T, *env)
}{
	{"LeavePoolFromPanel", testLeavePool},
	{"StandingCountsCommittedGold", testStanding},
	{"RecentWinnersNewestFirst", testRecentWinners},
}

func testLeavePool(t *testing.T, e *env) {
	e.tickAt(t, 10*sec)
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	e.chat(t, "d2", "u2", "!twgold Jaina", true)
	if n := e.state(t).PoolCount; n != 2 {
		t.Fatalf("pool count %d before leaving", n)
	}
	if err := e.svc.LeavePool(e.ctx, "u1", "panel"); err != nil {
		t.Fatalf("leave: %v", err)
	}
	if _, ok := e.member(t, "u1"); ok {
		t.Fatal("u1 is still in the pool")
	}
	// The snapshot was refreshed by the leave itself: no tick in between.
	if st := e.state(t); st.PoolCount != 1 || len(st.PoolNames) != 1 || st.PoolNames[0] != "Jaina" {
		t.Fatalf("state after leaving: count %d names %v", st.PoolCount, st.PoolNames)
	}
	evs := e.events(t, app.PoolStream("u1"))
	last := evs[len(evs)-1]
	var data map[string]any
	if err := json.Unmarshal(last.Data, &data); err != nil {
		t.Fatal(err)
	}
	if last.Type != app.EventPoolLeft || data["source"] != "panel" || data["characterName"] != "Norinn" || data["twitchUserId"] != "u1" {
		t.Fatalf("last event %s %s", last.Type, last.Data)
	}
	if err := e.svc.LeavePool(e.ctx, "u1", "panel"); mgm.ErrorCode(err) != mgm.CodeNotInPool {
		t.Fatalf("leaving twice: %v, want %s", err, mgm.CodeNotInPool)
	}
	if err := e.svc.LeavePool(e.ctx, "never", "panel"); mgm.ErrorCode(err) != mgm.CodeNotInPool {
		t.Fatalf("leaving without joining: %v, want %s", err, mgm.CodeNotInPool)
	}
	if n := e.countEvents(t, app.PoolStream("u1"), app.EventPoolLeft); n != 1 {
		t.Fatalf("%d PoolLeft events", n)
	}
	// The name is free again, and the viewer may come back.
	if out := e.chat(t, "d3", "u3", "!twgold Norinn", true); out != app.OutcomeEnrolled {
		t.Fatalf("another viewer takes the freed name: %s", out)
	}
	if out := e.chat(t, "d4", "u1", "!twgold Thrall", true); out != app.OutcomeEnrolled {
		t.Fatalf("rejoining: %s", out)
	}
}

func testStanding(t *testing.T, e *env) {
	e.tickAt(t, 10*sec)
	v, err := e.svc.Standing(e.ctx, "u1")
	if err != nil || v.Enrolled || v.CommittedGold != 0 {
		t.Fatalf("stranger: %+v %v", v, err)
	}
	p := e.winner(t, "u1", "Norinn")
	if v, err = e.svc.Standing(e.ctx, "u1"); err != nil || !v.Enrolled || v.Entry.CharacterName != "Norinn" || v.CommittedGold != mgm.PayoutGold {
		t.Fatalf("with a Pending payout: %+v %v", v, err)
	}
	e.setStatus(t, p.ID, mgm.PayoutInProgress)
	e.setStatus(t, p.ID, mgm.PayoutSent)
	if v, err = e.svc.Standing(e.ctx, "u1"); err != nil || v.Enrolled || v.CommittedGold != mgm.PayoutGold {
		t.Fatalf("after Sent (left the pool): %+v %v", v, err)
	}
}

func testRecentWinners(t *testing.T, e *env) {
	interval := 5 * time.Minute
	if st := e.state(t); len(st.RecentWinners) != 0 {
		t.Fatalf("winners before any cycle: %v", st.RecentWinners)
	}
	var want []app.Winner
	for i := range 7 {
		e.tickAt(t, time.Duration(i)*interval+10*sec)
		if i == 3 {
			continue // a cycle without a winner shows nothing
		}
		name := fmt.Sprintf("Winner%c", 'a'+i)
		p := e.winner(t, fmt.Sprintf("w%d", i), name)
		e.setStatus(t, p.ID, mgm.PayoutCancelled) // so the next one may win; the win still happened
		want = append([]app.Winner{{CharacterName: name, At: e.clock.Now()}}, want...)
	}
	e.tickAt(t, 7*interval)
	got := e.state(t).RecentWinners
	if len(got) != app.MaxRecentWinners {
		t.Fatalf("%d recent winners, want %d: %v", len(got), app.MaxRecentWinners, got)
	}
	for i, w := range want[:app.MaxRecentWinners] {
		if got[i].CharacterName != w.CharacterName || !got[i].At.Equal(w.At) {
			t.Fatalf("recent winner %d: %+v, want %+v (all: %v)", i, got[i], w, got)
		}
	}
}
