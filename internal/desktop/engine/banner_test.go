package engine

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

var errRefused = fmt.Errorf("ebsclient: GET /api/payouts/pending: %w",
	&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})

// ebsDown makes every payout list fail as a stopped EBS does; ebsUp ends it.
func ebsDown(f *fakeEBS) {
	errs := make([]error, 100000)
	for i := range errs {
		errs[i] = errRefused
	}
	f.mu.Lock()
	f.failNext["PendingPayouts"] = errs
	f.mu.Unlock()
}

func ebsUp(f *fakeEBS) {
	f.mu.Lock()
	f.failNext["PendingPayouts"] = nil
	f.mu.Unlock()
}

func TestFailedSyncBannerClearsWhenTheEBSRecovers(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	ebs.accept(p1) // Sync takes only payouts whose winner consented
	inj := &fakeInjector{}
	h := newHarness(t, ebs, inj)
	h.eventually("a good poll", func() bool { return h.e.Snapshot().EBS.Reachable })

	ebsDown(ebs)
	h.eventually("the outage seen", func() bool { return !h.e.Snapshot().EBS.Reachable })
	if p := h.e.Snapshot().EBS.Problem; p != "The EBS at http://fake is not reachable (connection refused). Check the EBS URL in Settings and that the EBS is running." {
		t.Fatalf("the EBS problem is not a sentence: %q", p)
	}
	r := h.e.Sync(context.Background())
	if r.OK {
		t.Fatalf("%+v", r)
	}
	h.settle()
	if s := h.e.Snapshot(); s.LastSync == nil || s.LastSync.OK {
		t.Fatal("the failed Sync is not shown while the EBS is down")
	}
	ebsUp(ebs)
	h.eventually("the banner cleared", func() bool { s := h.e.Snapshot(); return s.EBS.Reachable && s.LastSync == nil })
	if s := h.e.Snapshot(); s.EBS.Problem != "" {
		t.Fatalf("problem left: %q", s.EBS.Problem)
	}
	if r := h.e.Sync(context.Background()); !r.OK || len(r.InProgress) != 1 {
		t.Fatalf("Sync after the recovery: %+v", r)
	}
}

func TestFailedSyncBannerStaysWhenTheEBSWasNotTheCause(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	ebs.accept(p1) // Sync takes only payouts whose winner consented
	inj := &fakeInjector{targetErr: fmt.Errorf("no WoW.exe")}
	h := newHarness(t, ebs, inj)
	h.eventually("a good poll", func() bool { return h.e.Snapshot().EBS.Reachable })
	if r := h.e.Sync(context.Background()); r.OK || !strings.Contains(r.Message, "WoW not found") {
		t.Fatalf("%+v", r)
	}
	inj.mu.Lock()
	inj.targetErr = nil
	inj.mu.Unlock()
	h.eventually("WoW found", func() bool { return h.e.Snapshot().WoW.Found })
	// An outage that began after the EBS had answered since the Sync is unrelated to it.
	ebsDown(ebs)
	h.eventually("the outage seen", func() bool { return !h.e.Snapshot().EBS.Reachable })
	ebsUp(ebs)
	h.eventually("the EBS back", func() bool { return h.e.Snapshot().EBS.Reachable })
	h.settle()
	if s := h.e.Snapshot(); s.LastSync == nil || !strings.Contains(s.LastSync.Message, "WoW not found") {
		t.Fatalf("the WoW failure vanished: %+v", s.LastSync)
	}
}

func TestSyncFailureClearedRule(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	failed := &SyncReport{At: at(10), InProgress: []string{p1}}
	outage := func(prevOK, start, end int) ebsHealth {
		var h ebsHealth
		h.observe(at(start), false, at(prevOK))
		if end > 0 {
			h.observe(at(end), true, at(prevOK))
		}
		return h
	}
	cases := []struct {
		name string
		h    ebsHealth
		r    *SyncReport
		wow  bool
		live []PayoutView
		want bool
	}{
		{"down before the Sync, up after", outage(5, 8, 20), failed, true, nil, true},
		{"went down right at the Sync", outage(9, 11, 20), failed, true, nil, true},
		{"still down", outage(5, 8, 0), failed, true, nil, false},
		{"back before the Sync", outage(1, 2, 5), failed, true, nil, false},
		{"an outage after a good poll after the Sync", outage(12, 14, 20), failed, true, nil, false},
		{"WoW still not found", outage(5, 8, 20), failed, false, nil, false},
		{"its payout still InProgress", outage(5, 8, 20), failed, true, []PayoutView{{ID: p1, Status: "InProgress"}}, false},
		{"its payout unlocked since", outage(5, 8, 20), failed, true, []PayoutView{{ID: p1, Status: "Pending"}}, true},
		{"a Sync that worked", outage(5, 8, 20), &SyncReport{OK: true, At: at(10)}, true, nil, false},
		{"no Sync", outage(5, 8, 20), nil, true, nil, false},
	}
	for _, c := range cases {
		if got := c.h.syncFailureCleared(c.r, c.wow, c.live); got != c.want {
			t.Errorf("%s: got %v", c.name, got)
		}
	}
}
