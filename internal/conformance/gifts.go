package conformance

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// giftTests are the gift queue's part of the suite.
var giftTests = []struct {
	name string
	fn   func(*testing.T, *env)
}{
	{"GiftCreatePromotesAndQueues", testGiftCreate},
	{"GiftCreateRejectionsInOrder", testGiftCreateRejections},
	{"GiftChatCreatesOncePerDelivery", testGiftChat},
	{"GiftEveryTransitionAndRejection", testGiftTransitions},
	{"GiftSweepBoundaries", testGiftSweepBoundaries},
	{"GiftDeadlineHoldsBeforeTheSweep", testGiftLazyTimeout},
	{"GiftPromotionOrderSeveralViewers", testGiftPromotionOrder},
	{"GiftConcurrentCreatesOneViewer", testGiftConcurrentCreates},
	{"GiftConcurrentSweepsTimeOutOnce", testGiftConcurrentSweeps},
	{"GiftEventsPerStream", testGiftEvents},
	{"GiftViewerQueueFilter", testGiftViewerQueue},
	{"GiftStreamersAreIndependent", testGiftStreamers},
	{"GiftConstraintsHoldWithoutChecks", testGiftConstraints},
	{"GiftWalkThrough", testGiftWalkThrough},
	{"GiftTransitionsObserved", testGiftObserved},
}

var testItem = mgm.GiftItem{Name: "Runecloth", ID: 14047, Count: 20, Link: "|cffffffff|Hitem:14047::::::::80:::::|h[Runecloth]|h|r",
	Texture: "Interface\\Icons\\INV_Fabric_Purple_02", BagID: 0, SlotID: 3}

// giftAt creates a panel gift request for user on the configured broadcaster.
func (e *env) giftAt(t *testing.T, user, name string) app.GiftView {
	t.Helper()
	v, err := e.svc.CreateGift(e.ctx, "", sub(user, "Disp"+user), name, alwaysSub)
	if err != nil {
		t.Fatalf("gift for %s: %v", user, err)
	}
	return v
}

func (e *env) giftRequest(t *testing.T, id string) mgm.GiftRequest {
	t.Helper()
	var g mgm.GiftRequest
	if err := e.db.Read(e.ctx, func(tx *store.Tx) error {
		var err error
		g, err = tx.GiftRequest(e.ctx, id)
		return err
	}); err != nil {
		t.Fatalf("gift %s: %v", id, err)
	}
	return g
}

func (e *env) giftQueue(t *testing.T) []app.GiftView {
	t.Helper()
	q, err := e.svc.GiftQueue(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func (e *env) sweepGifts(t *testing.T) int {
	t.Helper()
	n, err := e.svc.SweepGiftTimeouts(e.ctx)
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	return n
}

// wantGift checks state, position, wait, deadline and reason of a view.
func wantGift(t *testing.T, what string, v app.GiftView, state mgm.GiftState, pos int, timeoutAt *time.Time, reason string) {
	t.Helper()
	wait := time.Duration(max(0, pos-1)) * 65 * time.Second
	if v.State != state || v.QueuePosition != pos || v.EstimatedWait != wait || v.FailureReason != reason {
		t.Fatalf("%s: state %s pos %d wait %v reason %q; want %s %d %v %q", what, v.State, v.QueuePosition, v.EstimatedWait,
			v.FailureReason, state, pos, wait, reason)
	}
	if (v.TimeoutAt == nil) != (timeoutAt == nil) || (timeoutAt != nil && !v.TimeoutAt.Equal(*timeoutAt)) {
		t.Fatalf("%s: timeoutAt %v, want %v", what, v.TimeoutAt, timeoutAt)
	}
}

func at(d time.Duration) *time.Time { t := T0.Add(d); return &t }

// queueSummary renders a queue as "viewer:state:position" items.
func queueSummary(q []app.GiftView) string {
	s := ""
	for _, v := range q {
		s += fmt.Sprintf("%s:%s:%d ", v.ViewerID, v.State, v.QueuePosition)
	}
	return s
}

func testGiftCreate(t *testing.T, e *env) {
	v1 := e.giftAt(t, "v1", "  Norinn ")
	wantGift(t, "first request", v1, mgm.GiftSelectingItem, 1, at(60*sec), "")
	if v1.CharacterName != "Norinn" || v1.StreamerID != "b1" || v1.ViewerID != "v1" || v1.ViewerDisplayName != "Dispv1" ||
		!v1.CreatedAt.Equal(T0) || !v1.UpdatedAt.Equal(T0) || v1.SelectedItem != nil {
		t.Fatalf("first request %+v", v1)
	}
	e.clock.Advance(2 * sec)
	v2 := e.giftAt(t, "v2", "Тралл")
	wantGift(t, "second request", v2, mgm.GiftPending, 2, nil, "")
	v3 := e.giftAt(t, "v3", "Jaina")
	wantGift(t, "third request (same instant)", v3, mgm.GiftPending, 3, nil, "")
	if v2.ID == v1.ID || v3.ID == v2.ID {
		t.Fatal("ids reused")
	}
	q := e.giftQueue(t)
	if got := queueSummary(q); got != "v1:SelectingItem:1 v2:Pending:2 v3:Pending:3 " {
		t.Fatalf("queue %s", got)
	}
	wantGift(t, "queued third", q[2], mgm.GiftPending, 3, nil, "")
	// The stored request is what the routes showed.
	if g := e.giftRequest(t, v2.ID); g.State != mgm.GiftPending || g.CharacterName != "Тралл" || !g.CreatedAt.Equal(T0.Add(2*sec)) {
		t.Fatalf("stored %+v", g)
	}
}

func testGiftCreateRejections(t *testing.T, e *env) {
	e.giftAt(t, "head", "Headd")
	create := func(user, name string, check app.SubscriberCheck) error {
		_, err := e.svc.CreateGift(e.ctx, "", sub(user, user), name, check)
		return err
	}
	var helixCalls atomic.Int32
	counting := func(context.Context, string) (bool, error) { helixCalls.Add(1); return false, nil }
	cases := []struct {
		user, name string
		check      app.SubscriberCheck
		want       mgm.Code
	}{
		{"u1", "N0rinn", counting, mgm.CodeInvalidCharacterName}, // the name is checked before asking Twitch
		{"u1", "", counting, mgm.CodeInvalidCharacterName},
		{"u1", "A", alwaysSub, mgm.CodeInvalidCharacterName},
		{"u1", "Norinn", neverSub, mgm.CodeNotSubscriber},
		{"u1", "Norinn", func(context.Context, string) (bool, error) {
			return false, mgm.Errorf(mgm.CodeUnavailable, "helix down")
		}, mgm.CodeUnavailable},
		{"head", "Other", alwaysSub, mgm.CodeGiftRequestActive}, // served
	}
	for _, c := range cases {
		if got := mgm.ErrorCode(create(c.user, c.name, c.check)); got != c.want {
			t.Errorf("create(%s, %q): %s, want %s", c.user, c.name, got, c.want)
		}
	}
	if helixCalls.Load() != 0 {
		t.Fatalf("a bad name still asked Twitch (%d calls)", helixCalls.Load())
	}
	if _, err := e.svc.CreateGift(e.ctx, "someone-else", sub("u1", "x"), "Norinn", alwaysSub); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Fatalf("another streamer: %v", err)
	}
	// Pending, then WaitingConfirmation: still one open request each.
	p := e.giftAt(t, "u1", "Norinn")
	if err := create("u1", "Norinn", alwaysSub); mgm.ErrorCode(err) != mgm.CodeGiftRequestActive {
		t.Fatalf("pending: %v", err)
	}
	head := e.giftQueue(t)[0]
	if _, err := e.svc.SelectGiftItem(e.ctx, head.ID, testItem); err != nil {
		t.Fatal(err)
	}
	if err := create("head", "Headd", alwaysSub); mgm.ErrorCode(err) != mgm.CodeGiftRequestActive {
		t.Fatalf("waiting confirmation: %v", err)
	}
	// Completed: the one use is spent, and "already used" wins over "active".
	if _, err := e.svc.ConfirmGift(e.ctx, head.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := create("head", "Headd", alwaysSub); mgm.ErrorCode(err) != mgm.CodeGiftAlreadyUsed {
		t.Fatalf("after completion: %v", err)
	}
	if err := create("head", "Headd", neverSub); mgm.ErrorCode(err) != mgm.CodeNotSubscriber {
		t.Fatalf("subscriber is checked before the one use: %v", err)
	}
	// A failed request does not spend the use.
	if _, err := e.svc.FailGift(e.ctx, p.ID, mgm.GiftFailed, "no_items_available"); err != nil {
		t.Fatal(err)
	}
	again := e.giftAt(t, "u1", "Norinn")
	wantGift(t, "after failure", again, mgm.GiftSelectingItem, 1, at(60*sec), "")
	if n := len(e.giftQueue(t)); n != 1 {
		t.Fatalf("queue length %d", n)
	}
}

func testGiftChat(t *testing.T, e *env) {
	if got := e.chat(t, "g1", "v1", "!twgift Norinn", true); got != app.OutcomeGiftRequested {
		t.Fatalf("outcome %q", got)
	}
	// A redelivery, even of a different text, does nothing.
	if got := e.chat(t, "g1", "v1", "!twgift Other", true); got != app.OutcomeDuplicate {
		t.Fatalf("redelivery %q", got)
	}
	cases := []struct {
		delivery, user, text string
		sub                  bool
		want                 app.Outcome
	}{
		{"g2", "v1", "!twgift Norinn", true, app.GiftRejected(mgm.CodeGiftRequestActive)},
		{"g3", "v2", "!twgift Norinn", false, app.GiftRejected(mgm.CodeNotSubscriber)},
		{"g4", "v2", "!twgift N0rinn", false, app.GiftRejected(mgm.CodeInvalidCharacterName)}, // name before subscriber
		{"g5", "v2", "!twgift", true, app.OutcomeIgnored},
		{"g6", "v2", "!TWGIFT  Тралл ", true, app.OutcomeGiftRequested},
	}
	for _, c := range cases {
		if got := e.chat(t, c.delivery, c.user, c.text, c.sub); got != c.want {
			t.Errorf("%q: %q, want %q", c.text, got, c.want)
		}
	}
	q := e.giftQueue(t)
	if got := queueSummary(q); got != "v1:SelectingItem:1 v2:Pending:2 " {
		t.Fatalf("queue %s", got)
	}
	if q[1].CharacterName != "Тралл" || q[1].ViewerDisplayName != "Dispv2" {
		t.Fatalf("chat request %+v", q[1])
	}
	d := decode(t, e.events(t, app.GiftStream(q[0].ID))[0].Data)
	if d["source"] != "chat" || d["messageId"] != "msg-g1" || d["characterName"] != "Norinn" || d["streamerId"] != "b1" {
		t.Fatalf("initiated data %v", d)
	}
	// The chat is the configured broadcaster's when the message names none.
	out, err := e.svc.HandleChatMessage(e.ctx, app.ChatMessage{DeliveryID: "g7", Viewer: sub("v3", "V3"), Text: "!twgift Jaina", IsSubscriber: true})
	if err != nil || out != app.OutcomeGiftRequested {
		t.Fatalf("no broadcaster id: %q %v", out, err)
	}
	if n := len(e.giftQueue(t)); n != 3 {
		t.Fatalf("queue length %d", n)
	}
	if e.poolCount(t) != 0 {
		t.Fatal("!twgift enrolled someone in the pool")
	}
}

// giftInState builds a request of viewer "target" in the given state on a
// fresh streamer of a multi-streamer service, behind a served request when
// it must stay Pending.
func giftInState(t *testing.T, e *env, svc *app.Service, streamer string, state mgm.GiftState) app.GiftView {
	t.Helper()
	mk := func(user string) app.GiftView {
		v, err := svc.CreateGift(e.ctx, streamer, sub(user, user), "Target", alwaysSub)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		return v
	}
	if state == mgm.GiftPending {
		mk("ahead")
		return mk("target")
	}
	v := mk("target")
	step := func(f func() (app.GiftView, error)) {
		var err error
		if v, err = f(); err != nil {
			t.Fatalf("setting up %s: %v", state, err)
		}
	}
	switch state {
	case mgm.GiftWaitingConfirmation, mgm.GiftCompleted:
		step(func() (app.GiftView, error) { return svc.SelectGiftItem(e.ctx, v.ID, testItem) })
		if state == mgm.GiftCompleted {
			step(func() (app.GiftView, error) { return svc.ConfirmGift(e.ctx, v.ID, true) })
		}
	case mgm.GiftFailed:
		step(func() (app.GiftView, error) { return svc.FailGift(e.ctx, v.ID, mgm.GiftFailed, "earlier") })
	}
	if v.State != state {
		t.Fatalf("set up %s, got %s", state, v.State)
	}
	return v
}

// multiStreamer is a service serving any streamer (no broadcaster configured).
func (e *env) multiStreamer() *app.Service {
	var n atomic.Int64
	return app.New(e.db, app.Options{Now: e.clock.Now,
		NewID: func() string { return fmt.Sprintf("00000000-0000-4000-9000-%012d", n.Add(1)) }})
}

func testGiftTransitions(t *testing.T, e *env) {
	svc := e.multiStreamer()
	type action struct {
		name string
		do   func(id string) (app.GiftView, error)
	}
	patch := func(to mgm.GiftState, reason string) action {
		return action{fmt.Sprintf("PATCH %s %q", to, reason), func(id string) (app.GiftView, error) { return svc.FailGift(e.ctx, id, to, reason) }}
	}
	sel := action{"select-item", func(id string) (app.GiftView, error) { return svc.SelectGiftItem(e.ctx, id, testItem) }}
	confirm := func(ok bool) action {
		return action{fmt.Sprintf("confirm %v", ok), func(id string) (app.GiftView, error) { return svc.ConfirmGift(e.ctx, id, ok) }}
	}
	actions := []action{
		patch(mgm.GiftFailed, "no_items_available"), patch(mgm.GiftFailed, ""), patch(mgm.GiftPending, ""),
		patch(mgm.GiftSelectingItem, ""), patch(mgm.GiftWaitingConfirmation, ""), patch(mgm.GiftCompleted, ""),
		sel, confirm(true), confirm(false),
	}
	type result struct {
		state  mgm.GiftState // "" = refused with invalid_state
		reason string
	}
	F := func(r string) result { return result{mgm.GiftFailed, r} }
	no := result{}
	want := map[mgm.GiftState][]result{
		mgm.GiftPending:             {F("no_items_available"), F("failed_by_desktop"), no, no, no, no, no, no, no},
		mgm.GiftSelectingItem:       {F("no_items_available"), F("failed_by_desktop"), no, no, no, no, {mgm.GiftWaitingConfirmation, ""}, no, no},
		mgm.GiftWaitingConfirmation: {F("no_items_available"), F("failed_by_desktop"), no, no, no, no, no, {mgm.GiftCompleted, ""}, F("receiver_declined")},
		mgm.GiftCompleted:           {no, no, no, no, no, no, no, no, no},
		mgm.GiftFailed:              {F("earlier"), F("earlier"), no, no, no, no, no, no, no}, // Failed again: a no-op
	}
	n := 0
	for _, from := range []mgm.GiftState{mgm.GiftPending, mgm.GiftSelectingItem, mgm.GiftWaitingConfirmation, mgm.GiftCompleted, mgm.GiftFailed} {
		for i, a := range actions {
			n++
			streamer := fmt.Sprint("s", n)
			g := giftInState(t, e, svc, streamer, from)
			before := e.events(t, app.GiftStream(g.ID))
			v, err := a.do(g.ID)
			w := want[from][i]
			after := e.events(t, app.GiftStream(g.ID))
			stored := e.giftRequest(t, g.ID)
			if w.state == "" {
				if mgm.ErrorCode(err) != mgm.CodeInvalidState {
					t.Errorf("%s from %s: %v, want invalid_state", a.name, from, err)
				}
				if stored.State != from || len(after) != len(before) {
					t.Errorf("%s from %s: a refusal changed the request (%s, %d events)", a.name, from, stored.State, len(after)-len(before))
				}
				continue
			}
			if err != nil || v.State != w.state || v.FailureReason != w.reason || stored.State != w.state {
				t.Errorf("%s from %s: %s %q %v, want %s %q", a.name, from, v.State, v.FailureReason, err, w.state, w.reason)
				continue
			}
			if from == w.state {
				if len(after) != len(before) {
					t.Errorf("%s from %s: a no-op appended events", a.name, from)
				}
				continue
			}
			last := decode(t, after[len(after)-1].Data)
			if after[len(after)-1].Type != app.EventGiftRequestStateChanged || last["from"] != string(from) || last["to"] != string(w.state) {
				t.Errorf("%s from %s: last event %s %v", a.name, from, after[len(after)-1].Type, last)
			}
			switch w.state {
			case mgm.GiftWaitingConfirmation:
				if v.SelectedItem == nil || *v.SelectedItem != testItem || v.TimeoutAt == nil || !v.TimeoutAt.Equal(T0.Add(5*time.Minute)) || v.QueuePosition != 1 {
					t.Errorf("selected: %+v", v)
				}
			case mgm.GiftCompleted, mgm.GiftFailed:
				if v.TimeoutAt != nil || v.QueuePosition != 0 || v.EstimatedWait != 0 {
					t.Errorf("%s from %s: ended request %+v", a.name, from, v)
				}
			}
		}
	}
	// Unknown and malformed ids.
	for _, id := range []string{"00000000-0000-4000-8000-999999999999", "not-a-uuid", ""} {
		if _, err := svc.ConfirmGift(e.ctx, id, true); mgm.ErrorCode(err) != mgm.CodeNotFound {
			t.Errorf("confirm %q: %v", id, err)
		}
		if _, err := svc.FailGift(e.ctx, id, mgm.GiftFailed, ""); mgm.ErrorCode(err) != mgm.CodeNotFound {
			t.Errorf("patch %q: %v", id, err)
		}
	}
	// Ids are accepted in any letter case.
	g := giftInState(t, e, svc, "upper", mgm.GiftSelectingItem)
	if v, err := svc.SelectGiftItem(e.ctx, upper(g.ID), testItem); err != nil || v.ID != g.ID {
		t.Fatalf("upper-case id: %+v %v", v, err)
	}
	if _, err := svc.FailGift(e.ctx, g.ID, mgm.GiftFailed, string(make([]rune, 201))); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Fatalf("overlong reason: %v", err)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func testGiftSweepBoundaries(t *testing.T, e *env) {
	a := e.giftAt(t, "a", "Alpha")
	b := e.giftAt(t, "b", "Bravo")
	e.clock.set(T0.Add(60*sec - time.Millisecond))
	if n := e.sweepGifts(t); n != 0 {
		t.Fatalf("swept %d at 59.999 s", n)
	}
	if g := e.giftRequest(t, a.ID); g.State != mgm.GiftSelectingItem {
		t.Fatalf("at 59.999 s: %s", g.State)
	}
	e.clock.set(T0.Add(60 * sec))
	if n := e.sweepGifts(t); n != 1 {
		t.Fatalf("swept %d at 60 s", n)
	}
	if g := e.giftRequest(t, a.ID); g.State != mgm.GiftFailed || g.FailureReason != mgm.GiftReasonSelectionTimeout || g.TimeoutAt != nil {
		t.Fatalf("at 60 s: %+v", g)
	}
	q := e.giftQueue(t)
	if len(q) != 1 || q[0].ID != b.ID {
		t.Fatalf("queue %s", queueSummary(q))
	}
	wantGift(t, "promoted by the sweep", q[0], mgm.GiftSelectingItem, 1, at(120*sec), "")
	if n := e.sweepGifts(t); n != 0 {
		t.Fatalf("a second sweep at the same instant swept %d", n)
	}
	// WaitingConfirmation: 5 minutes from the selection.
	e.clock.set(T0.Add(100 * sec))
	if _, err := e.svc.SelectGiftItem(e.ctx, b.ID, testItem); err != nil {
		t.Fatal(err)
	}
	e.clock.set(T0.Add(100*sec + 5*time.Minute - time.Millisecond))
	if n := e.sweepGifts(t); n != 0 {
		t.Fatalf("swept %d at 4:59.999", n)
	}
	e.clock.set(T0.Add(100*sec + 5*time.Minute))
	if n := e.sweepGifts(t); n != 1 {
		t.Fatalf("swept %d at 5:00", n)
	}
	if g := e.giftRequest(t, b.ID); g.State != mgm.GiftFailed || g.FailureReason != mgm.GiftReasonConfirmationTimeout {
		t.Fatalf("at 5:00: %+v", g)
	}
	if q := e.giftQueue(t); len(q) != 0 {
		t.Fatalf("queue %s", queueSummary(q))
	}
	// Pending requests never time out.
	e.giftAt(t, "c", "Charlie")
	e.giftAt(t, "d", "Delta")
	e.clock.Advance(30 * sec)
	e.sweepGifts(t)
	e.clock.Advance(30 * sec)
	if n := e.sweepGifts(t); n != 1 {
		t.Fatalf("swept %d", n)
	}
	e.clock.Advance(time.Hour)
	e.sweepGifts(t)
	if q := e.giftQueue(t); len(q) != 0 {
		t.Fatalf("after an hour: %s", queueSummary(q))
	}
}

func testGiftLazyTimeout(t *testing.T, e *env) {
	a := e.giftAt(t, "a", "Alpha")
	b := e.giftAt(t, "b", "Bravo")
	// No sweep has run: the deadline still holds at 60 s.
	e.clock.set(T0.Add(60 * sec))
	if _, err := e.svc.SelectGiftItem(e.ctx, a.ID, testItem); mgm.ErrorCode(err) != mgm.CodeInvalidState {
		t.Fatalf("select at the deadline: %v", err)
	}
	if g := e.giftRequest(t, a.ID); g.State != mgm.GiftFailed || g.FailureReason != mgm.GiftReasonSelectionTimeout {
		t.Fatalf("after a late select: %+v", g)
	}
	if n := e.sweepGifts(t); n != 0 {
		t.Fatalf("the sweep failed it again (%d)", n)
	}
	// The next request was promoted by that timeout; select it in time.
	v, err := e.svc.SelectGiftItem(e.ctx, b.ID, testItem)
	if err != nil {
		t.Fatal(err)
	}
	wantGift(t, "b selected", v, mgm.GiftWaitingConfirmation, 1, at(60*sec+5*time.Minute), "")
	e.clock.set(T0.Add(60*sec + 5*time.Minute))
	if _, err := e.svc.ConfirmGift(e.ctx, b.ID, true); mgm.ErrorCode(err) != mgm.CodeInvalidState {
		t.Fatalf("confirm at the deadline: %v", err)
	}
	// A PATCH to Failed after the deadline answers the timeout as it stands.
	c := e.giftAt(t, "c", "Charlie")
	e.clock.Advance(60 * sec)
	v, err = e.svc.FailGift(e.ctx, c.ID, mgm.GiftFailed, "no_items_available")
	if err != nil || v.State != mgm.GiftFailed || v.FailureReason != mgm.GiftReasonSelectionTimeout {
		t.Fatalf("patch after the deadline: %+v %v", v, err)
	}
	if n := e.countEvents(t, app.GiftStream(c.ID), app.EventGiftRequestStateChanged); n != 2 {
		t.Fatalf("%d state changes, want promotion and one failure", n)
	}
}

func testGiftPromotionOrder(t *testing.T, e *env) {
	// Five viewers ask at the same instant: the sequence orders them.
	users := []string{"v5", "v3", "v1", "v4", "v2"}
	ids := map[string]string{}
	for i, u := range users {
		v := e.giftAt(t, u, "Name"+string(rune('a'+i)))
		ids[u] = v.ID
		if v.QueuePosition != i+1 {
			t.Fatalf("%s at position %d", u, v.QueuePosition)
		}
	}
	var served []string
	// Each served request ends in a different way; the next oldest follows each time.
	for step := 0; step < len(users); step++ {
		q := e.giftQueue(t)
		if len(q) != len(users)-step {
			t.Fatalf("step %d: queue %s", step, queueSummary(q))
		}
		for i, v := range q {
			want := mgm.GiftPending
			if i == 0 {
				want = mgm.GiftSelectingItem
			}
			if v.State != want || v.QueuePosition != i+1 || v.EstimatedWait != time.Duration(i)*65*sec {
				t.Fatalf("step %d: %s", step, queueSummary(q))
			}
		}
		head := q[0]
		served = append(served, head.ViewerID)
		var err error
		switch step {
		case 0: // completed
			if _, err = e.svc.SelectGiftItem(e.ctx, head.ID, testItem); err == nil {
				_, err = e.svc.ConfirmGift(e.ctx, head.ID, true)
			}
		case 1: // declined
			if _, err = e.svc.SelectGiftItem(e.ctx, head.ID, testItem); err == nil {
				_, err = e.svc.ConfirmGift(e.ctx, head.ID, false)
			}
		case 2: // the Desktop gives up
			_, err = e.svc.FailGift(e.ctx, head.ID, mgm.GiftFailed, "no_items_available")
		case 3: // selection timeout
			e.clock.Advance(60 * sec)
			if n := e.sweepGifts(t); n != 1 {
				err = fmt.Errorf("swept %d", n)
			}
		case 4: // confirmation timeout
			if _, err = e.svc.SelectGiftItem(e.ctx, head.ID, testItem); err == nil {
				e.clock.Advance(5 * time.Minute)
				if n := e.sweepGifts(t); n != 1 {
					err = fmt.Errorf("swept %d", n)
				}
			}
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	if fmt.Sprint(served) != fmt.Sprint(users) {
		t.Fatalf("served %v, want creation order %v", served, users)
	}
	// A Pending request failed by the Desktop leaves the order of the others.
	a, b, c := e.giftAt(t, "v2", "Again"), e.giftAt(t, "n1", "Newa"), e.giftAt(t, "n2", "Newb")
	if _, err := e.svc.FailGift(e.ctx, b.ID, mgm.GiftFailed, "x"); err != nil {
		t.Fatal(err)
	}
	q := e.giftQueue(t)
	if len(q) != 2 || q[0].ID != a.ID || q[1].ID != c.ID || q[1].QueuePosition != 2 || q[1].EstimatedWait != 65*sec {
		t.Fatalf("after failing a pending request: %s", queueSummary(q))
	}
}

func testGiftConcurrentCreates(t *testing.T, e *env) {
	e.giftAt(t, "head", "Headd")
	const n = 20
	var wg sync.WaitGroup
	results := make([]string, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			if i%2 == 0 {
				out, err := e.svc.HandleChatMessage(e.ctx, app.ChatMessage{DeliveryID: fmt.Sprint("race-", i), BroadcasterID: "b1",
					Viewer: sub("v1", "V1"), Text: "!twgift Norinn", IsSubscriber: true})
				results[i] = string(out)
				if err != nil {
					results[i] = "error: " + err.Error()
				}
				return
			}
			_, err := e.svc.CreateGift(e.ctx, "b1", sub("v1", "V1"), "Norinn", alwaysSub)
			switch {
			case err == nil:
				results[i] = string(app.OutcomeGiftRequested)
			case mgm.ErrorCode(err) != mgm.CodeInternal:
				results[i] = string(app.GiftRejected(mgm.ErrorCode(err)))
			default:
				results[i] = "error: " + err.Error()
			}
		}(i)
	}
	close(start)
	wg.Wait()
	wins := 0
	for i, r := range results {
		switch app.Outcome(r) {
		case app.OutcomeGiftRequested:
			wins++
		case app.GiftRejected(mgm.CodeGiftRequestActive):
		default:
			t.Fatalf("creator %d: %s", i, r)
		}
	}
	q := e.giftQueue(t)
	if wins != 1 || len(q) != 2 || q[1].ViewerID != "v1" {
		t.Fatalf("%d winners, queue %s", wins, queueSummary(q))
	}
}

func testGiftConcurrentSweeps(t *testing.T, e *env) {
	svc := e.multiStreamer()
	// Three streamers, each with a served request and one waiting.
	var served []string
	for i := 0; i < 3; i++ {
		for j := 0; j < 2; j++ {
			v, err := svc.CreateGift(e.ctx, fmt.Sprint("s", i), sub(fmt.Sprint("v", j), "V"), "Norinn", alwaysSub)
			if err != nil {
				t.Fatal(err)
			}
			if j == 0 {
				served = append(served, v.ID)
			}
		}
	}
	e.clock.set(T0.Add(61 * sec))
	const replicas = 6
	var wg sync.WaitGroup
	counts := make([]int, replicas)
	for i := 0; i < replicas; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			replica := e.multiStreamer() // each "replica" has a service of its own
			if counts[i], err = replica.SweepGiftTimeouts(e.ctx); err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 3 {
		t.Fatalf("%d timeouts over all replicas (%v), want 3", total, counts)
	}
	for _, id := range served {
		evs := e.events(t, app.GiftStream(id))
		fails := 0
		for _, ev := range evs {
			if ev.Type == app.EventGiftRequestStateChanged && decode(t, ev.Data)["to"] == "Failed" {
				fails++
			}
		}
		if fails != 1 {
			t.Fatalf("request %s failed %d times", id, fails)
		}
	}
	for i := 0; i < 3; i++ {
		q, err := svc.GiftQueue(e.ctx, fmt.Sprint("s", i))
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 || q[0].ViewerID != "v1" || q[0].State != mgm.GiftSelectingItem || !q[0].TimeoutAt.Equal(T0.Add(121*sec)) {
			t.Fatalf("streamer s%d: %s", i, queueSummary(q))
		}
	}
}

func testGiftEvents(t *testing.T, e *env) {
	a := e.giftAt(t, "a", "Alpha")
	b := e.giftAt(t, "b", "Bravo")
	e.clock.Advance(5 * sec)
	if _, err := e.svc.SelectGiftItem(e.ctx, a.ID, testItem); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * sec)
	if _, err := e.svc.ConfirmGift(e.ctx, a.ID, false); err != nil {
		t.Fatal(err)
	}
	type ev struct {
		typ, from, to string
		reason        any
	}
	check := func(id string, want []ev) {
		t.Helper()
		evs := e.events(t, app.GiftStream(id))
		if len(evs) != len(want) {
			t.Fatalf("stream %s: %d events, want %d", id, len(evs), len(want))
		}
		for i, w := range want {
			d := decode(t, evs[i].Data)
			if evs[i].Type != w.typ || evs[i].Version != i+1 {
				t.Fatalf("stream %s event %d: %s v%d, want %s", id, i, evs[i].Type, evs[i].Version, w.typ)
			}
			if w.typ == app.EventGiftRequestStateChanged {
				if r, ok := d["reason"]; d["from"] != w.from || d["to"] != w.to || !ok || r != w.reason {
					t.Fatalf("stream %s event %d: %v, want %s→%s (%v)", id, i, d, w.from, w.to, w.reason)
				}
			}
		}
	}
	check(a.ID, []ev{
		{typ: app.EventGiftRequestInitiated},
		{app.EventGiftRequestStateChanged, "Pending", "SelectingItem", nil},
		{typ: app.EventGiftItemSelected},
		{app.EventGiftRequestStateChanged, "SelectingItem", "WaitingConfirmation", nil},
		{app.EventGiftRequestStateChanged, "WaitingConfirmation", "Failed", "receiver_declined"},
	})
	check(b.ID, []ev{
		{typ: app.EventGiftRequestInitiated},
		{app.EventGiftRequestStateChanged, "Pending", "SelectingItem", nil},
	})
	evs := e.events(t, app.GiftStream(a.ID))
	item := decode(t, evs[2].Data)["item"].(map[string]any)
	if item["name"] != "Runecloth" || item["id"] != float64(14047) || item["count"] != float64(20) || item["slotId"] != float64(3) {
		t.Fatalf("item event %v", item)
	}
	if !evs[0].At.Equal(T0) || !evs[2].At.Equal(T0.Add(5*sec)) || !evs[4].At.Equal(T0.Add(10*sec)) {
		t.Fatalf("event times %v %v %v", evs[0].At, evs[2].At, evs[4].At)
	}
	if !e.events(t, app.GiftStream(b.ID))[1].At.Equal(T0.Add(10 * sec)) {
		t.Fatal("the promotion is not stamped with the moment a turns Failed")
	}
}

func testGiftViewerQueue(t *testing.T, e *env) {
	a := e.giftAt(t, "a", "Alpha")
	e.giftAt(t, "b", "Bravo")
	c := e.giftAt(t, "c", "Charlie")
	view := func(viewer string) string {
		t.Helper()
		q, err := e.svc.ViewerGiftQueue(e.ctx, "b1", viewer)
		if err != nil {
			t.Fatal(err)
		}
		return queueSummary(q)
	}
	for viewer, want := range map[string]string{
		"a": "a:SelectingItem:1 ", "c": "a:SelectingItem:1 c:Pending:3 ", "x": "a:SelectingItem:1 ", "": "a:SelectingItem:1 ",
	} {
		if got := view(viewer); got != want {
			t.Errorf("viewer %q sees %s, want %s", viewer, got, want)
		}
	}
	// a completes: a sees the result for 10 minutes; b is served now.
	e.clock.Advance(10 * sec)
	if _, err := e.svc.SelectGiftItem(e.ctx, a.ID, testItem); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmGift(e.ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := view("a"); got != "a:Completed:0 b:SelectingItem:1 " {
		t.Fatalf("a after completion: %s", got)
	}
	if got := view("c"); got != "b:SelectingItem:1 c:Pending:2 " {
		t.Fatalf("c: %s", got)
	}
	if got := view(""); got != "b:SelectingItem:1 " {
		t.Fatalf("opaque: %s", got)
	}
	// The Desktop fails c; c asks again and fails again: only the newest result shows.
	if _, err := e.svc.FailGift(e.ctx, c.ID, mgm.GiftFailed, "no_items_available"); err != nil {
		t.Fatal(err)
	}
	if got := view("c"); got != "b:SelectingItem:1 c:Failed:0 " {
		t.Fatalf("c after failure: %s", got)
	}
	e.clock.Advance(sec)
	c2 := e.giftAt(t, "c", "Charlie")
	if _, err := e.svc.FailGift(e.ctx, c2.ID, mgm.GiftFailed, "second"); err != nil {
		t.Fatal(err)
	}
	q, err := e.svc.ViewerGiftQueue(e.ctx, "b1", "c")
	if err != nil || len(q) != 2 || q[1].ID != c2.ID || q[1].FailureReason != "second" {
		t.Fatalf("newest result only: %s %v", queueSummary(q), err)
	}
	// The result shows for 10 minutes after it ended, not a millisecond more.
	e.clock.set(T0.Add(10*sec + 10*time.Minute - time.Millisecond))
	if got := view("a"); got != "a:Completed:0 b:SelectingItem:1 " {
		t.Fatalf("a at 9:59.999: %s", got)
	}
	e.clock.set(T0.Add(10*sec + 10*time.Minute))
	if got := view("a"); got != "b:SelectingItem:1 " {
		t.Fatalf("a at 10:00: %s", got)
	}
	if _, err := e.svc.ViewerGiftQueue(e.ctx, "other", "a"); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Fatalf("another streamer's queue: %v", err)
	}
}

func testGiftStreamers(t *testing.T, e *env) {
	svc := e.multiStreamer()
	if _, err := svc.GiftQueue(e.ctx, " "); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Fatalf("no streamer and none configured: %v", err)
	}
	if _, err := svc.CreateGift(e.ctx, "", sub("v1", "V"), "Norinn", alwaysSub); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Fatalf("create without streamer: %v", err)
	}
	// One viewer in two queues: each is served independently, and the one
	// gift per streamer is per streamer.
	x1, err := svc.CreateGift(e.ctx, "x", sub("v1", "V"), "Norinn", alwaysSub)
	if err != nil {
		t.Fatal(err)
	}
	y1, err := svc.CreateGift(e.ctx, "y", sub("v1", "V"), "Norinn", alwaysSub)
	if err != nil {
		t.Fatal(err)
	}
	if x1.State != mgm.GiftSelectingItem || y1.State != mgm.GiftSelectingItem || x1.Seq != 1 || y1.Seq != 1 {
		t.Fatalf("x %+v y %+v", x1, y1)
	}
	if _, err := svc.SelectGiftItem(e.ctx, x1.ID, testItem); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmGift(e.ctx, x1.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateGift(e.ctx, "x", sub("v1", "V"), "Norinn", alwaysSub); mgm.ErrorCode(err) != mgm.CodeGiftAlreadyUsed {
		t.Fatalf("x again: %v", err)
	}
	if _, err := svc.CreateGift(e.ctx, "y", sub("v1", "V"), "Norinn", alwaysSub); mgm.ErrorCode(err) != mgm.CodeGiftRequestActive {
		t.Fatalf("y again: %v", err)
	}
	if q, _ := svc.GiftQueue(e.ctx, "y"); len(q) != 1 || q[0].ID != y1.ID {
		t.Fatalf("y queue %s", queueSummary(q))
	}
}

func testGiftConstraints(t *testing.T, e *env) {
	// Writes below bypass the rules on purpose: the database must refuse them anyway.
	n := 0
	insert := func(streamer, viewer string, state mgm.GiftState) error {
		n++
		g := mgm.GiftRequest{ID: fmt.Sprintf("30000000-0000-4000-8000-%012d", n), StreamerID: streamer, ViewerID: viewer,
			ViewerDisplayName: viewer, CharacterName: "Norinn", State: state, CreatedAt: T0, UpdatedAt: T0}
		if state.Served() {
			g.TimeoutAt = mgm.GiftDeadline(state, T0)
		}
		if state == mgm.GiftWaitingConfirmation || state == mgm.GiftCompleted {
			it := testItem
			g.SelectedItem = &it
		}
		if state == mgm.GiftFailed {
			g.FailureReason = "x"
		}
		return e.db.InTx(e.ctx, func(tx *store.Tx) error {
			return tx.InsertGiftRequest(e.ctx, &g, store.GiftOrigin{Source: "panel"})
		})
	}
	wantViolation := func(what string, err error, name string) {
		t.Helper()
		if got, ok := e.db.UniqueViolation(err); !ok || got != name {
			t.Fatalf("%s: %v (%q), want %s", what, err, got, name)
		}
	}
	if err := insert("s", "v1", mgm.GiftSelectingItem); err != nil {
		t.Fatal(err)
	}
	wantViolation("two served in one queue", insert("s", "v2", mgm.GiftWaitingConfirmation), store.UniqueGiftServed)
	if err := insert("s", "v2", mgm.GiftPending); err != nil {
		t.Fatal(err)
	}
	wantViolation("two open requests of one viewer", insert("s", "v2", mgm.GiftPending), store.UniqueGiftOpenPerViewer)
	if err := insert("s", "v3", mgm.GiftCompleted); err != nil {
		t.Fatal(err)
	}
	wantViolation("two completed gifts of one viewer", insert("s", "v3", mgm.GiftCompleted), store.UniqueGiftCompleted)
	for _, st := range []mgm.GiftState{mgm.GiftFailed, mgm.GiftFailed, mgm.GiftPending} {
		if err := insert("s", "v3", st); err != nil {
			t.Fatalf("%s beside a completed request: %v", st, err)
		}
	}
	if err := insert("other", "v1", mgm.GiftSelectingItem); err != nil {
		t.Fatalf("another streamer's served request: %v", err)
	}
	// The same sequence number twice in one queue.
	_, err := e.db.SQL().ExecContext(e.ctx, `UPDATE gift_requests SET seq = 1 WHERE streamer_id = 's' AND viewer_id = 'v2'`)
	wantViolation("one seq twice", err, store.UniqueGiftSeq)
	// State checks: an unknown state, a served request without deadline, a
	// failure without reason, a completion without item.
	for _, q := range []string{
		`UPDATE gift_requests SET state = 'ItemSelected' WHERE viewer_id = 'v2' AND state = 'Pending'`,
		`UPDATE gift_requests SET timeout_at = NULL WHERE streamer_id = 'other'`,
		`UPDATE gift_requests SET failure_reason = NULL WHERE state = 'Failed'`,
		`UPDATE gift_requests SET selected_item = NULL WHERE state = 'Completed'`,
	} {
		if _, err := e.db.SQL().ExecContext(e.ctx, q); err == nil {
			t.Errorf("accepted: %s", q)
		}
	}
}

func testGiftWalkThrough(t *testing.T, e *env) {
	// Two viewers ask: the first by chat, the second from the panel.
	if got := e.chat(t, "w1", "first", "!twgift Norinn", true); got != app.OutcomeGiftRequested {
		t.Fatalf("first asks: %q", got)
	}
	e.clock.Advance(3 * sec)
	second := e.giftAt(t, "second", "Тралл")
	wantGift(t, "second asks", second, mgm.GiftPending, 2, nil, "")
	q := e.giftQueue(t)
	first := q[0]
	wantGift(t, "first is served", first, mgm.GiftSelectingItem, 1, at(60*sec), "")

	// The first is served: the Desktop picks an item, the recipient accepts.
	e.clock.set(T0.Add(20 * sec))
	v, err := e.svc.SelectGiftItem(e.ctx, first.ID, testItem)
	if err != nil {
		t.Fatal(err)
	}
	wantGift(t, "item selected", v, mgm.GiftWaitingConfirmation, 1, at(20*sec+5*time.Minute), "")
	e.clock.set(T0.Add(90 * sec)) // past the first selection deadline: it no longer applies
	if n := e.sweepGifts(t); n != 0 {
		t.Fatalf("swept %d while waiting for confirmation", n)
	}
	v, err = e.svc.ConfirmGift(e.ctx, first.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	wantGift(t, "first completed", v, mgm.GiftCompleted, 0, nil, "")

	// The second is promoted, then times out while the item is selected.
	q = e.giftQueue(t)
	if len(q) != 1 || q[0].ID != second.ID {
		t.Fatalf("queue %s", queueSummary(q))
	}
	wantGift(t, "second promoted", q[0], mgm.GiftSelectingItem, 1, at(150*sec), "")
	e.clock.set(T0.Add(150*sec - time.Millisecond))
	if n := e.sweepGifts(t); n != 0 {
		t.Fatalf("swept %d before the deadline", n)
	}
	e.clock.set(T0.Add(152 * sec)) // the next 5-second sweep
	if n := e.sweepGifts(t); n != 1 {
		t.Fatalf("swept %d after the deadline", n)
	}
	if g := e.giftRequest(t, second.ID); g.State != mgm.GiftFailed || g.FailureReason != mgm.GiftReasonSelectionTimeout {
		t.Fatalf("second: %+v", g)
	}
	if q := e.giftQueue(t); len(q) != 0 {
		t.Fatalf("queue %s", queueSummary(q))
	}

	// The first viewer cannot ask again, by chat or panel; the second can.
	if got := e.chat(t, "w2", "first", "!twgift Norinn", true); got != app.GiftRejected(mgm.CodeGiftAlreadyUsed) {
		t.Fatalf("first asks again by chat: %q", got)
	}
	if _, err := e.svc.CreateGift(e.ctx, "b1", sub("first", "F"), "Other", alwaysSub); mgm.ErrorCode(err) != mgm.CodeGiftAlreadyUsed {
		t.Fatalf("first asks again from the panel: %v", err)
	}
	// Their panels show the results.
	for viewer, want := range map[string]string{"first": "first:Completed:0 ", "second": "second:Failed:0 "} {
		q, err := e.svc.ViewerGiftQueue(e.ctx, "b1", viewer)
		if err != nil || queueSummary(q) != want {
			t.Fatalf("%s sees %s %v, want %s", viewer, queueSummary(q), err, want)
		}
	}
	again := e.giftAt(t, "second", "Тралл")
	wantGift(t, "second asks again", again, mgm.GiftSelectingItem, 1, at(152*sec+60*sec), "")

	for id, want := range map[string][]string{
		first.ID:  {"GiftRequestInitiated", "Pending>SelectingItem", "GiftItemSelected", "SelectingItem>WaitingConfirmation", "WaitingConfirmation>Completed"},
		second.ID: {"GiftRequestInitiated", "Pending>SelectingItem", "SelectingItem>Failed"},
	} {
		var got []string
		for _, ev := range e.events(t, app.GiftStream(id)) {
			if ev.Type == app.EventGiftRequestStateChanged {
				d := decode(t, ev.Data)
				got = append(got, fmt.Sprint(d["from"], ">", d["to"]))
			} else {
				got = append(got, ev.Type)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("events of %s: %v, want %v", id, got, want)
		}
	}
}

// recorder is an app.Observer that keeps gift transitions and sweep runs.
type recorder struct {
	mu    sync.Mutex
	moves []string
	runs  []string
}

func (r *recorder) SpinCycleDecided(string)         {}
func (r *recorder) PayoutTransition(string, string) {}
func (r *recorder) HelixCall(string)                {}
func (r *recorder) IngestGroup(int)                 {}
func (r *recorder) GiftTransition(from, to string) {
	r.mu.Lock()
	r.moves = append(r.moves, from+">"+to)
	r.mu.Unlock()
}
func (r *recorder) SweepRun(sweep string, changed int) {
	r.mu.Lock()
	r.runs = append(r.runs, fmt.Sprint(sweep, ":", changed))
	r.mu.Unlock()
}

func testGiftObserved(t *testing.T, e *env) {
	rec := &recorder{}
	var n atomic.Int64
	svc := app.New(e.db, app.Options{Now: e.clock.Now, Observer: rec, BroadcasterID: "b1",
		NewID: func() string { return fmt.Sprintf("00000000-0000-4000-a000-%012d", n.Add(1)) }})
	a, err := svc.CreateGift(e.ctx, "", sub("a", "A"), "Alpha", alwaysSub)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := svc.HandleChatMessage(e.ctx, app.ChatMessage{DeliveryID: "o1", Viewer: sub("b", "B"), Text: "!twgift Bravo", IsSubscriber: true}); err != nil || out != app.OutcomeGiftRequested {
		t.Fatalf("chat: %q %v", out, err)
	}
	// Rejections and refusals change nothing and report nothing.
	// (their outcomes are asserted elsewhere; here only the silence counts).
	_, _ = svc.HandleChatMessage(e.ctx, app.ChatMessage{DeliveryID: "o2", Viewer: sub("b", "B"), Text: "!twgift Bravo", IsSubscriber: true})
	_, _ = svc.ConfirmGift(e.ctx, a.ID, true)
	if _, err := svc.SelectGiftItem(e.ctx, a.ID, testItem); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmGift(e.ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(60 * sec)
	if n, err := svc.SweepGiftTimeouts(e.ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	want := []string{">Pending", "Pending>SelectingItem", ">Pending", "SelectingItem>WaitingConfirmation",
		"WaitingConfirmation>Completed", "Pending>SelectingItem", "SelectingItem>Failed"}
	if fmt.Sprint(rec.moves) != fmt.Sprint(want) {
		t.Fatalf("transitions %v, want %v", rec.moves, want)
	}
	if fmt.Sprint(rec.runs) != "[gift_timeouts:1]" {
		t.Fatalf("sweep runs %v", rec.runs)
	}
}
