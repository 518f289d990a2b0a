package engine

import (
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/bridge"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

var cmdID = regexp.MustCompile(`"([0-9a-z]{8})"\)$`)

// TestUnacknowledgedCommandsKeepTheirID: a winner whisper and a gift whisper
// whose acknowledgements are lost are typed again — after the ack timeout,
// and after the last try once the bridge answers a handshake — always with
// the same command id, so the addon recognises the repeat and whispers once.
// A new id would make it whisper again.
func TestUnacknowledgedCommandsKeepTheirID(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	item := ebsapi.GiftItem{Name: "Linen Cloth", ID: 2589, Count: 5, BagID: 0, SlotID: 1}
	ebs.gifts = []ebsapi.GiftRequest{{ID: gift, CharacterName: "Arthas", State: "WaitingConfirmation", SelectedItem: &item}}
	var lost atomic.Bool
	lost.Store(true)
	inj := &fakeInjector{dropAcks: func(l string) bool {
		return lost.Load() && (strings.HasPrefix(l, "/run NotifyWinnerWhisper(") || strings.HasPrefix(l, "/run MGM_QueueGift("))
	}}
	h := newHarnessWith(t, ebs, inj, func(o *Options) {
		o.Bridge = bridge.Options{AckTimeout: 100 * time.Millisecond, MaxTries: 2, HandshakeEvery: 300 * time.Millisecond,
			HandshakeTimeout: 100 * time.Millisecond, RetryFailedAfter: 10 * time.Millisecond}
	})
	h.write("[MGM_GIFT_ACCEPT:" + gift + "]")
	ids := func(prefix string) map[string]int {
		out := map[string]int{}
		for _, l := range inj.typed() {
			if strings.HasPrefix(l, prefix) {
				if m := cmdID.FindStringSubmatch(l); m != nil {
					out[m[1]]++
				}
			}
		}
		return out
	}
	// Past the last try and started over at least once.
	h.eventually("retries past the last try", func() bool {
		n := 0
		for _, c := range ids("/run NotifyWinnerWhisper(") {
			n += c
		}
		m := 0
		for _, c := range ids("/run MGM_QueueGift(") {
			m += c
		}
		return n >= 4 && m >= 4
	})
	lost.Store(false)
	h.eventually("the whisper acknowledged", func() bool { return h.e.Snapshot().Payouts[0].Notified })
	h.eventually("the gift mail acknowledged", func() bool { return h.hasEvent("MGM_QueueGift acknowledged") })
	for _, prefix := range []string{"/run NotifyWinnerWhisper(", "/run MGM_QueueGift("} {
		if got := ids(prefix); len(got) != 1 {
			t.Errorf("%s typed with %d different command ids: %v", prefix, len(got), got)
		}
	}
}
