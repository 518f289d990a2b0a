package mgm

import (
	"testing"
	"time"
)

func TestParseGiftState(t *testing.T) {
	for in, want := range map[string]GiftState{
		"Pending": GiftPending, "selectingItem": GiftSelectingItem, "SELECTINGITEM": GiftSelectingItem,
		"waitingconfirmation": GiftWaitingConfirmation, " Completed ": GiftCompleted, "failed": GiftFailed,
	} {
		if got, ok := ParseGiftState(in); !ok || got != want {
			t.Errorf("ParseGiftState(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "0", "ItemSelected", "Selecting Item", "Done", "Cancelled"} {
		if _, ok := ParseGiftState(in); ok {
			t.Errorf("ParseGiftState(%q) accepted", in)
		}
	}
}

func TestGiftStateClasses(t *testing.T) {
	cases := []struct {
		s                GiftState
		terminal, served bool
	}{
		{GiftPending, false, false},
		{GiftSelectingItem, false, true},
		{GiftWaitingConfirmation, false, true},
		{GiftCompleted, true, false},
		{GiftFailed, true, false},
	}
	for _, c := range cases {
		if c.s.Terminal() != c.terminal || c.s.Served() != c.served {
			t.Errorf("%s: terminal %v served %v", c.s, c.s.Terminal(), c.s.Served())
		}
	}
}

func TestCanGiftTransition(t *testing.T) {
	allowed := map[[2]GiftState]bool{
		{GiftPending, GiftSelectingItem}:             true,
		{GiftPending, GiftFailed}:                    true,
		{GiftSelectingItem, GiftWaitingConfirmation}: true,
		{GiftSelectingItem, GiftFailed}:              true,
		{GiftWaitingConfirmation, GiftCompleted}:     true,
		{GiftWaitingConfirmation, GiftFailed}:        true,
	}
	for _, from := range giftStates {
		for _, to := range giftStates {
			if got := CanGiftTransition(from, to); got != allowed[[2]GiftState{from, to}] {
				t.Errorf("%s → %s: %v", from, to, got)
			}
		}
	}
}

func TestGiftMoved(t *testing.T) {
	t0 := time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)
	later := t0.Add(7 * time.Second)
	pending := GiftRequest{ID: "g", State: GiftPending, CreatedAt: t0, UpdatedAt: t0}
	cases := []struct {
		name       string
		from       GiftRequest
		to         GiftState
		reason     string
		wantErr    bool
		wantReason string
		wantDue    *time.Time
	}{
		{"promote", pending, GiftSelectingItem, "", false, "", ptr(later.Add(60 * time.Second))},
		{"select", GiftRequest{State: GiftSelectingItem}, GiftWaitingConfirmation, "", false, "", ptr(later.Add(5 * time.Minute))},
		{"complete", GiftRequest{State: GiftWaitingConfirmation}, GiftCompleted, "", false, "", nil},
		{"fail with reason", GiftRequest{State: GiftSelectingItem}, GiftFailed, "no_items_available", false, "no_items_available", nil},
		{"fail without reason", pending, GiftFailed, "", false, GiftReasonFailedByDesktop, nil},
		{"skip selection", pending, GiftWaitingConfirmation, "", true, "", nil},
		{"complete unselected", GiftRequest{State: GiftSelectingItem}, GiftCompleted, "", true, "", nil},
		{"back to pending", GiftRequest{State: GiftSelectingItem}, GiftPending, "", true, "", nil},
		{"revive failed", GiftRequest{State: GiftFailed}, GiftPending, "", true, "", nil},
		{"fail completed", GiftRequest{State: GiftCompleted}, GiftFailed, "x", true, "", nil},
		{"fail failed", GiftRequest{State: GiftFailed}, GiftFailed, "x", true, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := c.from.Moved(c.to, c.reason, later)
			if c.wantErr {
				if ErrorCode(err) != CodeInvalidState {
					t.Fatalf("error %v, want invalid_state", err)
				}
				return
			}
			if err != nil || g.State != c.to || !g.UpdatedAt.Equal(later) || g.FailureReason != c.wantReason {
				t.Fatalf("got %+v %v", g, err)
			}
			if (g.TimeoutAt == nil) != (c.wantDue == nil) || (g.TimeoutAt != nil && !g.TimeoutAt.Equal(*c.wantDue)) {
				t.Fatalf("timeoutAt %v, want %v", g.TimeoutAt, c.wantDue)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestGiftTimedOut(t *testing.T) {
	t0 := time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	sel := GiftRequest{State: GiftSelectingItem, TimeoutAt: GiftDeadline(GiftSelectingItem, t0)}
	wait := GiftRequest{State: GiftWaitingConfirmation, TimeoutAt: GiftDeadline(GiftWaitingConfirmation, t0)}
	cases := []struct {
		name   string
		g      GiftRequest
		now    time.Time
		reason string
	}{
		{"selecting at 59.999 s", sel, t0.Add(60*time.Second - ms), ""},
		{"selecting at 60 s", sel, t0.Add(60 * time.Second), GiftReasonSelectionTimeout},
		{"selecting at 61 s", sel, t0.Add(61 * time.Second), GiftReasonSelectionTimeout},
		{"waiting at 4:59.999", wait, t0.Add(5*time.Minute - ms), ""},
		{"waiting at 5:00", wait, t0.Add(5 * time.Minute), GiftReasonConfirmationTimeout},
		{"pending never", GiftRequest{State: GiftPending}, t0.Add(time.Hour), ""},
		{"failed never", GiftRequest{State: GiftFailed, TimeoutAt: ptr(t0)}, t0.Add(time.Hour), ""},
		{"served without deadline", GiftRequest{State: GiftSelectingItem}, t0.Add(time.Hour), ""},
	}
	for _, c := range cases {
		reason, due := c.g.TimedOut(c.now)
		if reason != c.reason || due != (c.reason != "") {
			t.Errorf("%s: %q %v, want %q", c.name, reason, due, c.reason)
		}
	}
}

func TestDecideGiftCreateOrder(t *testing.T) {
	ok := GiftFacts{IsSubscriber: true}
	cases := []struct {
		name     string
		raw      string
		facts    GiftFacts
		wantCode Code
		wantName string
	}{
		{"accepted", "Norinn", ok, "", "Norinn"},
		{"trimmed Cyrillic", "\u00a0Тралл ", ok, "", "Тралл"},
		// Each check wins over every later one.
		{"bad name beats everything", "N0rinn", GiftFacts{HasCompleted: true, HasOpen: true}, CodeInvalidCharacterName, ""},
		{"empty name", "  ", ok, CodeInvalidCharacterName, ""},
		{"not subscriber beats used", "Norinn", GiftFacts{HasCompleted: true, HasOpen: true}, CodeNotSubscriber, ""},
		{"used beats active", "Norinn", GiftFacts{IsSubscriber: true, HasCompleted: true, HasOpen: true}, CodeGiftAlreadyUsed, ""},
		{"active", "Norinn", GiftFacts{IsSubscriber: true, HasOpen: true}, CodeGiftRequestActive, ""},
	}
	for _, c := range cases {
		name, err := DecideGiftCreate(c.raw, c.facts)
		if ErrorCode(err) != c.wantCode && !(c.wantCode == "" && err == nil) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.wantCode)
			continue
		}
		if c.wantCode == "" && name != c.wantName {
			t.Errorf("%s: name %q, want %q", c.name, name, c.wantName)
		}
	}
}

func TestNextToPromote(t *testing.T) {
	g := func(s GiftState) GiftRequest { return GiftRequest{State: s} }
	cases := []struct {
		name string
		open []GiftRequest
		want int
		ok   bool
	}{
		{"empty", nil, 0, false},
		{"oldest pending", []GiftRequest{g(GiftPending), g(GiftPending)}, 0, true},
		{"one served", []GiftRequest{g(GiftSelectingItem), g(GiftPending)}, 0, false},
		{"waiting served", []GiftRequest{g(GiftPending), g(GiftWaitingConfirmation)}, 0, false},
		{"skips non-pending", []GiftRequest{g(GiftFailed), g(GiftPending)}, 1, true},
	}
	for _, c := range cases {
		if got, ok := NextToPromote(c.open); got != c.want || ok != c.ok {
			t.Errorf("%s: %d %v, want %d %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestDecideGiftPatch(t *testing.T) {
	cases := []struct {
		from, to GiftState
		noop     bool
		code     Code
	}{
		{GiftPending, GiftFailed, false, ""},
		{GiftSelectingItem, GiftFailed, false, ""},
		{GiftWaitingConfirmation, GiftFailed, false, ""},
		{GiftFailed, GiftFailed, true, ""},
		{GiftCompleted, GiftFailed, false, CodeInvalidState},
		{GiftPending, GiftSelectingItem, false, CodeInvalidState},
		{GiftSelectingItem, GiftWaitingConfirmation, false, CodeInvalidState},
		{GiftWaitingConfirmation, GiftCompleted, false, CodeInvalidState},
		{GiftSelectingItem, GiftSelectingItem, false, CodeInvalidState},
		{GiftPending, GiftPending, false, CodeInvalidState},
		{GiftCompleted, GiftCompleted, false, CodeInvalidState},
		{GiftFailed, GiftPending, false, CodeInvalidState},
	}
	for _, c := range cases {
		noop, err := DecideGiftPatch(c.from, c.to)
		if noop != c.noop || (c.code == "") != (err == nil) || (err != nil && ErrorCode(err) != c.code) {
			t.Errorf("%s → %s: noop %v err %v", c.from, c.to, noop, err)
		}
	}
}

func TestDecideGiftSelectAndConfirm(t *testing.T) {
	for _, s := range giftStates {
		err := DecideGiftSelect(s)
		if (s == GiftSelectingItem) != (err == nil) || (err != nil && ErrorCode(err) != CodeInvalidState) {
			t.Errorf("select in %s: %v", s, err)
		}
		for _, confirmed := range []bool{true, false} {
			to, reason, err := DecideGiftConfirm(s, confirmed)
			if s != GiftWaitingConfirmation {
				if ErrorCode(err) != CodeInvalidState {
					t.Errorf("confirm(%v) in %s: %v", confirmed, s, err)
				}
				continue
			}
			wantTo, wantReason := GiftCompleted, ""
			if !confirmed {
				wantTo, wantReason = GiftFailed, GiftReasonReceiverDeclined
			}
			if err != nil || to != wantTo || reason != wantReason {
				t.Errorf("confirm(%v): %s %q %v", confirmed, to, reason, err)
			}
		}
	}
}

func TestGiftETA(t *testing.T) {
	for pos, want := range map[int]time.Duration{0: 0, 1: 0, 2: 65 * time.Second, 3: 130 * time.Second, 10: 585 * time.Second, -1: 0} {
		if got := GiftETA(pos); got != want {
			t.Errorf("GiftETA(%d) = %v, want %v", pos, got, want)
		}
	}
}

func TestGiftVisibility(t *testing.T) {
	t0 := time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		g      GiftRequest
		viewer string
		want   bool
	}{
		{"own pending", GiftRequest{ViewerID: "v", State: GiftPending}, "v", true},
		{"other pending", GiftRequest{ViewerID: "w", State: GiftPending}, "v", false},
		{"other served", GiftRequest{ViewerID: "w", State: GiftSelectingItem}, "v", true},
		{"other waiting", GiftRequest{ViewerID: "w", State: GiftWaitingConfirmation}, "v", true},
		{"opaque sees served", GiftRequest{ViewerID: "w", State: GiftWaitingConfirmation}, "", true},
		{"opaque sees no pending", GiftRequest{ViewerID: "", State: GiftPending}, "", false},
	}
	for _, c := range cases {
		if got := GiftVisibleTo(c.g, c.viewer); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
	ended := GiftRequest{State: GiftFailed, UpdatedAt: t0}
	if !GiftResultVisible(ended, t0.Add(10*time.Minute-time.Millisecond)) || GiftResultVisible(ended, t0.Add(10*time.Minute)) {
		t.Error("an ended request is visible for exactly 10 minutes")
	}
	if GiftResultVisible(GiftRequest{State: GiftPending, UpdatedAt: t0}, t0) {
		t.Error("an open request is not a result")
	}
}
