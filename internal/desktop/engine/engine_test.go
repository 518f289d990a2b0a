package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const (
	p1    = "11111111-1111-4111-8111-111111111111"
	p2    = "22222222-2222-4222-8222-222222222222"
	p3    = "33333333-3333-4333-8333-333333333333"
	p4    = "44444444-4444-4444-8444-444444444444"
	cycle = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
	gift  = "99999999-0000-4000-8000-000000000001"
)

func TestMarkersActedOnOnceAcrossRestart(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	h := newHarness(t, ebs, &fakeInjector{})
	h.write("[MGM_ACCEPT:"+p1+"]", "[MGM_ACCEPT:"+p1+"]")
	h.eventually("acceptance", func() bool { return ebs.payout(p1).AcceptedAt != nil })
	h.settle()
	if n := ebs.count("ConfirmAcceptance"); n != 1 {
		t.Fatalf("confirm-acceptance called %d times", n)
	}
	if ebs.count("SetPayoutStatus:Sent") != 0 {
		t.Fatal("the history before the first start was replayed")
	}
	h.restart()
	h.write("[MGM_ACCEPT:" + p1 + "]") // the addon repeating itself after the restart
	h.settle()
	if n := ebs.count("ConfirmAcceptance"); n != 1 {
		t.Fatalf("after restart: confirm-acceptance called %d times", n)
	}
	if !h.hasEvent("already handled") {
		t.Fatal("the repeat was not reported")
	}
	// The state file says why.
	var st map[string]json.RawMessage
	b, _ := os.ReadFile(statePath(h.dir))
	if err := json.Unmarshal(b, &st); err != nil || !strings.Contains(string(st["handledMarkers"]), "accept:"+p1) {
		t.Fatalf("state: %s %v", b, err)
	}
}

func TestAcceptForInProgressPayoutIsNotLost(t *testing.T) {
	// The predecessor only knew Pending payouts' names, so an acceptance after
	// Sync was dropped. Here the payout is looked up.
	ebs := newFakeEBS()
	h := newHarness(t, ebs, &fakeInjector{})
	ebs.addPayout(p2, "Jaina", "InProgress")
	h.write("[MGM_ACCEPT:" + p2 + "]")
	h.eventually("acceptance", func() bool { return ebs.payout(p2).AcceptedAt != nil })
	// An unknown id is dropped with a log line (404 is definitive).
	h.write("[MGM_ACCEPT:" + p3 + "]")
	h.eventually("unknown payout dropped", func() bool { return h.hasEvent("unknown payout " + p3) })
}

func TestTransientFailuresAreRetriedDefinitiveOnesDropped(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "InProgress")
	ebs.addPayout(p2, "Jaina", "Cancelled")
	ebs.fail("SetPayoutStatus", errUnavailable, &ebsclient.Error{Status: 429, Code: ebsapi.CodeRateLimited}, fmt.Errorf("connection refused"))
	h := newHarness(t, ebs, &fakeInjector{})
	h.write("[MGM_CONFIRM:" + p1 + "]")
	h.eventually("Sent after retries", func() bool { return ebs.payout(p1).Status == "Sent" })
	if n := ebs.count("SetPayoutStatus:Sent"); n != 4 {
		t.Fatalf("PATCH Sent tried %d times, want 4 (3 transient failures)", n)
	}
	// Cancelled → Sent is refused (409): dropped, not retried forever.
	h.write("[MGM_CONFIRM:" + p2 + "]")
	h.eventually("drop", func() bool {
		return h.hasEvent("marker work dropped work=confirm:" + p2 + ` reason="[MGM_CONFIRM] PATCH Sent`)
	})
	h.settle()
	if n := ebs.count("SetPayoutStatus:Sent"); n != 5 {
		t.Fatalf("a definitive failure was retried: %d", n)
	}
	if len(h.e.Snapshot().PendingMarkers) != 0 {
		t.Fatal("work left pending")
	}
}

func TestOrderKeptPerPayoutWhileRetrying(t *testing.T) {
	// ACCEPT fails transiently; the CONFIRM of the same payout waits for it
	// (Sent first would make the acceptance impossible).
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "InProgress")
	ebs.fail("ConfirmAcceptance", errUnavailable, errUnavailable)
	h := newHarness(t, ebs, &fakeInjector{})
	h.write("[MGM_ACCEPT:"+p1+"]", "[MGM_CONFIRM:"+p1+"]")
	h.eventually("both done", func() bool { return ebs.payout(p1).Status == "Sent" })
	if ebs.payout(p1).AcceptedAt == nil {
		t.Fatal("acceptance lost")
	}
}

func TestPendingWorkSurvivesRestart(t *testing.T) {
	// Markers read while the EBS is unreachable are kept with the offset and
	// done after a restart.
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "InProgress")
	for i := 0; i < 1000; i++ {
		ebs.fail("SetPayoutStatus", errUnavailable)
	}
	h := newHarness(t, ebs, &fakeInjector{})
	h.write("[MGM_CONFIRM:" + p1 + "]")
	h.eventually("a failed attempt", func() bool { return ebs.count("SetPayoutStatus:Sent") >= 1 })
	h.stop()
	ebs.mu.Lock()
	ebs.failNext = map[string][]error{}
	ebs.mu.Unlock()
	h.start()
	h.eventually("Sent after restart", func() bool { return ebs.payout(p1).Status == "Sent" })
}

func TestUntrustedMarkersIgnored(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "InProgress")
	h := newHarness(t, ebs, &fakeInjector{})
	h.write("[Rogue] whispers: [MGM_CONFIRM:" + p1 + "]")
	h.eventually("warning", func() bool { return h.hasEvent("did not print") })
	h.settle()
	if ebs.payout(p1).Status != "InProgress" {
		t.Fatal("a whispered marker was acted on")
	}
}

func TestWinnerWhisperedOnceRememberedAcrossRestart(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	ebs.addPayout(p2, `Jai"na`, "Pending")
	ebs.addPayout(p3, "Sylvanas", "InProgress")
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	h.eventually("two whispers", func() bool { return inj.countPrefix("/run NotifyWinnerWhisper") == 2 })
	h.settle()
	h.restart()
	h.settle()
	if n := inj.countPrefix("/run NotifyWinnerWhisper"); n != 2 {
		t.Fatalf("%d whispers: %v", n, inj.typed())
	}
	if !strings.Contains(strings.Join(inj.typed(), "\n"), `NotifyWinnerWhisper("`+p2+`","Jai\"na",`) {
		t.Fatal(inj.typed())
	}
	snap := h.e.Snapshot()
	if len(snap.Payouts) != 3 || !snap.Payouts[0].Notified || snap.Payouts[2].Notified {
		t.Fatalf("%+v", snap.Payouts)
	}
}

func TestNothingTypedWithoutWoWAndRetriedWhenFound(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	inj := &fakeInjector{targetErr: fmt.Errorf("WoW not found")}
	h := newHarness(t, ebs, inj)
	h.settle()
	if len(inj.typed()) != 0 {
		t.Fatal("typed without a target")
	}
	if s := h.e.Snapshot(); s.WoW.Found || s.WoW.Problem == "" {
		t.Fatalf("%+v", s.WoW)
	}
	inj.mu.Lock()
	inj.targetErr = nil
	inj.mu.Unlock()
	h.eventually("whisper once WoW is there", func() bool { return inj.countPrefix("/run NotifyWinnerWhisper") == 1 })
	// A failed typing is retried at a later poll, and remembered only once typed.
	ebs.addPayout(p2, "Jaina", "Pending")
	fails := 2
	inj.mu.Lock()
	inj.failLine = func(l string) error {
		if strings.Contains(l, p2) && fails > 0 {
			fails--
			return errTyping
		}
		return nil
	}
	inj.mu.Unlock()
	h.eventually("whisper after failures", func() bool { return inj.countPrefix(`/run NotifyWinnerWhisper("`+p2) == 1 })
}

func TestWhoOncePerCycleAndVerify(t *testing.T) {
	ebs := newFakeEBS()
	ebs.cand = &ebsapi.Candidate{SpinCycleID: cycle, CharacterName: "Norinn", SpinPhase: "verification"}
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	h.eventually("who", func() bool { return inj.countPrefix("/run MGM_RunWhoForSpin") == 1 })
	h.settle()
	h.restart()
	h.settle()
	if n := inj.countPrefix("/run MGM_RunWhoForSpin"); n != 1 {
		t.Fatalf("/who typed %d times for one cycle", n)
	}
	if s := h.e.Snapshot(); s.Spin == nil || !s.Spin.WhoSent || s.Spin.CharacterName != "Norinn" {
		t.Fatalf("%+v", s.Spin)
	}
	who := `{"schemaVersion":"1","spinCycleId":"` + strings.ToUpper(cycle) + `","characterName":"Norinn","online":true,"capturedAt":"2026-04-04T12:04:31.000Z"}`
	h.write("[MGM_WHO]"+who, "[MGM_WHO] "+who)
	h.eventually("verify", func() bool { return ebs.count("VerifyCandidate") == 1 })
	// The new winner is whispered by the next poll.
	h.eventually("winner whisper", func() bool { return inj.countPrefix("/run NotifyWinnerWhisper") == 1 })
	h.settle()
	ebs.mu.Lock()
	r := ebs.verifies[0]
	ebs.mu.Unlock()
	if r.SchemaVersion != 1 || r.SpinCycleID != cycle || !r.Online || r.CapturedAt != "2026-04-04T12:04:31.000Z" || ebs.count("VerifyCandidate") != 1 {
		t.Fatalf("%+v", r)
	}
	h.write(`[MGM_WHO]{"schemaVersion":1,"spinCycleId":"x"}`)
	h.eventually("json error", func() bool { return h.hasEvent("[MGM_WHO] JSON error") })
}

func TestGiftLoop(t *testing.T) {
	ebs := newFakeEBS()
	ebs.gifts = []ebsapi.GiftRequest{{ID: gift, CharacterName: "Arthas", State: "SelectingItem"}}
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	h.eventually("items requested", func() bool { return inj.countPrefix("/run MGM_RequestGiftItems") == 1 })
	items := `[{"name":"Linen Cloth","id":2589,"count":5,"link":"|cffffffff|Hitem:2589:0|h[Linen Cloth]|h|r","texture":"Interface\\Icons\\x","bagId":0,"slotId":1},` +
		`{"name":"Hearthstone","id":6948,"count":1,"link":"l","texture":"t","bagId":0,"slotId":2}]`
	// Split over two lines, as the addon does for long listings.
	h.write("[MGM_ITEMS:"+gift+":1/2]"+items[:50], "[MGM_ITEMS:"+gift+":2/2]"+items[50:])
	h.eventually("confirmation whisper", func() bool { return inj.countPrefix(`/run MGM_RequestGiftConfirmation("`+gift+`","Arthas",`) == 1 })
	if !h.hasEvent("roulette spin") {
		t.Fatal("no roulette")
	}
	ebs.mu.Lock()
	sel := ebs.selected[gift]
	ebs.mu.Unlock()
	if sel.Name != "Linen Cloth" && sel.Name != "Hearthstone" {
		t.Fatalf("selected %+v", sel)
	}
	h.write("[MGM_GIFT_ACCEPT:" + gift + "]")
	h.eventually("confirmed", func() bool { ebs.mu.Lock(); defer ebs.mu.Unlock(); return ebs.confirmed[gift] })
	h.settle()
	if inj.countPrefix("/run MGM_RequestGiftItems") != 1 || ebs.count("SelectGiftItem") != 1 || ebs.count("ConfirmGift") != 1 {
		t.Fatalf("repeats: %v %v", inj.typed(), ebs.calls)
	}
}

const gift2 = "99999999-0000-4000-8000-000000000002"

// TestGiftCompletedIsQueuedForMail: once the winner confirms, the gift's item
// goes to the addon's mail queue (by bag slot), once; [MGM_GIFT_SENT] marks it
// delivered (and stops a replayed accept from queueing it again),
// [MGM_GIFT_MISSING] is reported as a problem.
func TestGiftCompletedIsQueuedForMail(t *testing.T) {
	ebs := newFakeEBS()
	item := ebsapi.GiftItem{Name: "Linen Cloth", ID: 2589, Count: 5, BagID: 1, SlotID: 7}
	ebs.gifts = []ebsapi.GiftRequest{{ID: gift, CharacterName: "Arthas", State: "WaitingConfirmation", SelectedItem: &item}}
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	h.write("[MGM_GIFT_ACCEPT:" + gift + "]")
	want := `/run MGM_QueueGift("` + gift + `","Arthas","1","7","2589",`
	h.eventually("gift queued for mail", func() bool { return inj.countPrefix(want) == 1 })
	h.write("[MGM_GIFT_ACCEPT:" + gift + "]")
	h.write("[MGM_GIFT_SENT:" + gift + "]")
	h.eventually("delivered", func() bool { return h.hasEvent("[MGM_GIFT_SENT]") })
	h.settle()
	if n := inj.countPrefix("/run MGM_QueueGift"); n != 1 {
		t.Fatalf("queued %d times: %v", n, inj.typed())
	}
	h.write("[MGM_GIFT_MISSING:" + gift2 + "]")
	h.eventually("missing item reported", func() bool { return h.hasEvent("no longer in the streamer's bags") })
}

// TestGiftNotAllowedReported: the addon refused to queue a gift whose item
// the streamer's gift lists forbid; the streamer is told what to do.
func TestGiftNotAllowedReported(t *testing.T) {
	h := newHarness(t, newFakeEBS(), &fakeInjector{})
	h.write("[MGM_GIFT_NOT_ALLOWED:" + gift2 + "]")
	h.eventually("refused item reported", func() bool {
		for _, e := range h.events.Newest(0) {
			if strings.Contains(e.Message, gift2) && strings.Contains(e.Message, "allow-list") &&
				strings.Contains(e.Message, "send a replacement") && strings.Contains(e.Message, "fail the request") {
				return true
			}
		}
		return false
	})
}

func TestGiftWithoutItemsFails(t *testing.T) {
	ebs := newFakeEBS()
	ebs.gifts = []ebsapi.GiftRequest{{ID: gift, CharacterName: "Arthas", State: "SelectingItem"}}
	h := newHarness(t, ebs, &fakeInjector{})
	h.write("[MGM_ITEMS:" + gift + "][]")
	h.eventually("failed", func() bool { ebs.mu.Lock(); defer ebs.mu.Unlock(); return ebs.failed[gift] == "no_items_available" })
}

func TestSelectItemLostAnswerIsRecognised(t *testing.T) {
	// select-item is not retried by the client; if its answer was lost, the
	// engine's retry is refused and the gift's state shows it succeeded.
	ebs := newFakeEBS()
	ebs.gifts = []ebsapi.GiftRequest{{ID: gift, CharacterName: "Arthas", State: "WaitingConfirmation"}}
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	h.write(`[MGM_ITEMS:` + gift + `][{"name":"A","id":1,"count":1,"link":"l","texture":"t","bagId":0,"slotId":1}]`)
	h.eventually("confirmation whisper", func() bool { return inj.countPrefix("/run MGM_RequestGiftConfirmation") == 1 })
}

func TestUpdateCheckAnsweredInGame(t *testing.T) {
	ebs := newFakeEBS()
	ebs.version = "1.2.0"
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	h.write("[MGM_UPDATE_CHECK]")
	h.eventually("answer", func() bool { return inj.countPrefix("/run DEFAULT_CHAT_FRAME:AddMessage") == 1 })
	if l := inj.typed()[len(inj.typed())-1]; !strings.Contains(l, "Доступна новая версия v1.2.0 (у вас v1.0.0).") {
		t.Fatal(l)
	}
	ebs.mu.Lock()
	ebs.version = "1.0.0"
	ebs.mu.Unlock()
	h.write("[MGM_UPDATE_CHECK]") // a second /mgm update gets its own answer
	h.eventually("second answer", func() bool { return inj.countPrefix("/run DEFAULT_CHAT_FRAME:AddMessage") == 2 })
	if l := inj.typed()[len(inj.typed())-1]; !strings.Contains(l, "Вы используете актуальную версию (v1.0.0).") {
		t.Fatal(l)
	}
}

func TestSync(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	ebs.addPayout(p2, "Jaina", "Pending")
	ebs.addPayout(p3, "Sylvanas", "InProgress")
	ebs.addPayout(p4, "Anduin", "Pending") // no consent yet
	ebs.accept(p1, p2)
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	ctx := context.Background()
	r := h.e.Sync(ctx)
	if !r.OK || r.Lines != 1 || r.Injected != 1 || len(r.InProgress) != 2 || fmt.Sprint(r.WaitingConsent) != "["+p4+"]" ||
		!strings.Contains(r.Message, "Waiting for the winner's consent (!twgold), not sent: "+p4) {
		t.Fatalf("%+v", r)
	}
	if ebs.payout(p4).Status != "Pending" {
		t.Fatal("a payout without consent was moved")
	}
	if ebs.payout(p1).Status != "InProgress" || ebs.payout(p2).Status != "InProgress" {
		t.Fatal("not InProgress")
	}
	want := `/run ReceiveGold("` + p1 + `:Thrall:10000000;` + p2 + `:Jaina:10000000;","`
	if inj.countPrefix(want) != 1 {
		t.Fatalf("typed %v", inj.typed())
	}
	if r := h.e.Sync(ctx); !r.OK || !strings.HasPrefix(r.Message, "nothing to send. Waiting for the winner's consent") {
		t.Fatalf("%+v", r)
	}
	ebs.mu.Lock()
	ebs.payouts[p4].Status = "Cancelled"
	ebs.mu.Unlock()
	if r := h.e.Sync(ctx); !r.OK || r.Message != "no Pending payouts" {
		t.Fatalf("%+v", r)
	}
	if s := h.e.Snapshot(); s.LastSync == nil || s.LastSync.Message != "no Pending payouts" {
		t.Fatal("last sync not shown")
	}
}

func TestSyncNeverPatchesWithoutWoWOrWithOversizeEntry(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	ebs.addPayout(p2, strings.Repeat("Я", 200), "Pending")
	ebs.accept(p1, p2)
	inj := &fakeInjector{targetErr: fmt.Errorf("no WoW.exe")}
	h := newHarness(t, ebs, inj)
	r := h.e.Sync(context.Background())
	if r.OK || !strings.Contains(r.Message, "WoW not found") || ebs.count("SetPayoutStatus") != 0 {
		t.Fatalf("%+v", r)
	}
	inj.mu.Lock()
	inj.targetErr = nil
	inj.mu.Unlock()
	r = h.e.Sync(context.Background())
	if r.OK || !strings.Contains(r.Message, "nothing was changed") || ebs.count("SetPayoutStatus") != 0 {
		t.Fatalf("%+v", r)
	}
}

func TestSyncPartialFailuresNameTheStuckPayouts(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	ebs.addPayout(p2, "Jaina", "Pending")
	ebs.addPayout(p3, "Sylvanas", "Pending")
	ebs.accept(p1, p2, p3)
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	// Second PATCH refused: the first payout is InProgress, nothing typed.
	ebs.fail("SetPayoutStatus", nil, errConflict)
	r := h.e.Sync(context.Background())
	if r.OK || fmt.Sprint(r.InProgress) != "["+p1+"]" || fmt.Sprint(r.Unlockable) != "["+p1+"]" || r.Injected != 0 {
		t.Fatalf("%+v", r)
	}
	if err := h.e.Unlock(context.Background(), r.Unlockable); err != nil || ebs.payout(p1).Status != "Pending" {
		t.Fatalf("unlock: %v", err)
	}
	// Typing fails on the second line: its payouts are named as unlockable.
	ebs.mu.Lock()
	for _, id := range []string{p1, p2, p3} {
		ebs.payouts[id].CharacterName = strings.Repeat("Ы", 150)
	}
	ebs.mu.Unlock()
	inj.mu.Lock()
	n := 0
	inj.failLine = func(l string) error {
		if strings.HasPrefix(l, "/run ReceiveGold") {
			n++
			if n == 2 {
				return errTyping
			}
		}
		return nil
	}
	inj.mu.Unlock()
	r = h.e.Sync(context.Background())
	if r.OK || r.Lines != 3 || r.Injected != 1 || len(r.InProgress) != 3 || fmt.Sprint(r.Unlockable) != "["+p2+" "+p3+"]" {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(r.Message, "safe to Unlock") {
		t.Fatal(r.Message)
	}
}

func TestManualActions(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "InProgress")
	ebs.addPayout(p2, "Jaina", "Pending")
	h := newHarness(t, ebs, &fakeInjector{})
	ctx := context.Background()
	if err := h.e.Action(ctx, p1, "mark-sent"); err != nil || ebs.payout(p1).Status != "Sent" {
		t.Fatal(err)
	}
	if err := h.e.Action(ctx, p2, "mark-sent"); err == nil {
		t.Fatal("Pending → Sent accepted")
	}
	if err := h.e.Action(ctx, p2, "cancel"); err != nil || ebs.payout(p2).Status != "Cancelled" {
		t.Fatal(err)
	}
	if err := h.e.Action(ctx, p2, "explode"); err == nil {
		t.Fatal("unknown action")
	}
	if !h.hasEvent("payout marked Sent by hand payout=" + p1) {
		t.Fatal(h.events.Export())
	}
}

func TestCorruptStateIsMovedAside(t *testing.T) {
	h := newHarness(t, newFakeEBS(), &fakeInjector{})
	h.stop()
	os.WriteFile(statePath(h.dir), []byte("{garbage"), 0o600)
	h.start()
	if !h.hasEvent("state file was unreadable") {
		t.Fatal(h.events.Export())
	}
	ents, _ := os.ReadDir(h.dir)
	found := false
	for _, e := range ents {
		found = found || strings.HasPrefix(e.Name(), StateFileName+".corrupt-")
	}
	if !found {
		t.Fatal("corrupt file not kept")
	}
}

func TestCompareVersionsAndMessages(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"1.2.4", "1.2.3", 1}, {"v2.0.0", "2.0", 0}, {"1.0.0-beta", "1.0.0", 0}, {"1.10.0", "1.9.9", 1}, {"foo", "bar", 1}, {"1.0.0.0", "1.0.0", 1}} {
		if got := CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("%s vs %s = %d", c.a, c.b, got)
		}
	}
	url := "https://example.com/" + strings.Repeat("x", 100)
	m := updateMessage("1.0.0+abc", ebsapi.VersionInfo{Version: "1.1.0", ReleaseNotesURL: &url}, nil)
	if !strings.Contains(m, "v1.1.0 (у вас v1.0.0)") || !strings.Contains(m, "Подробнее: https://example.com/xx") || !strings.HasSuffix(m, "...") {
		t.Fatal(m)
	}
	if m := updateMessage("1.0.0", ebsapi.VersionInfo{}, fmt.Errorf("down")); !strings.Contains(m, "Не удалось проверить обновления") {
		t.Fatal(m)
	}
}

func TestRefusedAPIKeyDoesNotDropMarkers(t *testing.T) {
	// A 401/403 means the Desktop's API key is missing or wrong (rotated at the
	// EBS, mistyped in Settings) — not that this marker is bad. Dropping the
	// [MGM_CONFIRM] would strand the payout InProgress after the mail went out;
	// it must wait until the key works again.
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "InProgress")
	ebs.fail("SetPayoutStatus",
		&ebsclient.Error{Status: 403, Code: mgm.CodeForbiddenAPIKey},
		&ebsclient.Error{Status: 401, Code: mgm.CodeUnauthorized})
	h := newHarness(t, ebs, &fakeInjector{})
	h.write("[MGM_CONFIRM:" + p1 + "]")
	h.eventually("Sent once the key works", func() bool { return ebs.payout(p1).Status == "Sent" })
	if n := ebs.count("SetPayoutStatus:Sent"); n != 3 {
		t.Fatalf("PATCH Sent tried %d times, want 3", n)
	}
}

// TestGiftConfirmedBeforeTheDesktopKnewIt: the winner's acceptance was
// confirmed at the EBS but the Desktop stopped (or lost the answer) before it
// queued the item for mail; the next confirm is refused because the gift is
// Completed, and the item this Desktop selected still goes to the mail, once.
func TestGiftConfirmedBeforeTheDesktopKnewIt(t *testing.T) {
	ebs := newFakeEBS()
	ebs.gifts = []ebsapi.GiftRequest{{ID: gift, CharacterName: "Arthas", State: "SelectingItem"}}
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	h.eventually("items requested", func() bool { return inj.countPrefix("/run MGM_RequestGiftItems") == 1 })
	h.write(`[MGM_ITEMS:` + gift + `:1/1][{"name":"Linen Cloth","id":2589,"count":5,"link":"l","texture":"t","bagId":1,"slotId":7}]`)
	h.eventually("confirmation whisper", func() bool { return inj.countPrefix(`/run MGM_RequestGiftConfirmation("`+gift+`"`) == 1 })
	ebs.mu.Lock()
	ebs.gift(gift).State = "Completed" // confirmed by the attempt whose answer never came
	ebs.mu.Unlock()
	h.write("[MGM_GIFT_ACCEPT:" + gift + "]")
	want := `/run MGM_QueueGift("` + gift + `","Arthas","1","7","2589",`
	h.eventually("gift queued for mail", func() bool { return inj.countPrefix(want) == 1 })
	h.write("[MGM_GIFT_SENT:" + gift + "]")
	h.eventually("delivered", func() bool { return h.hasEvent("[MGM_GIFT_SENT]") })
	h.settle()
	if n := inj.countPrefix("/run MGM_QueueGift"); n != 1 {
		t.Fatalf("queued %d times: %v", n, inj.typed())
	}
}

func TestGiftConfirmWhoseAnswerWasLost(t *testing.T) {
	// The first confirm reached the EBS, but its answer was lost (a 503 from a
	// proxy, say); the retry is refused as invalid_state because the gift is
	// already Completed. That is success, not an error to alarm the streamer.
	ebs := newFakeEBS()
	ebs.gifts = []ebsapi.GiftRequest{{ID: gift, CharacterName: "Arthas", State: "Completed"}}
	ebs.fail("ConfirmGift", &ebsclient.Error{Status: 503, Code: mgm.CodeUnavailable})
	h := newHarness(t, ebs, &fakeInjector{})
	h.write("[MGM_GIFT_ACCEPT:" + gift + "]")
	h.eventually("done after the refused retry", func() bool { return h.hasEvent("an earlier attempt got through") })
	if n := ebs.count("ConfirmGift"); n != 2 {
		t.Fatalf("ConfirmGift called %d times, want 2", n)
	}
}
