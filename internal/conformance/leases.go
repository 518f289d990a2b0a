package conformance

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

var leaseTests = []struct {
	name string
	fn   func(*testing.T, *env)
}{
	{"LeaseOneHolderAmongRacers", testLeaseRace},
	{"LeaseExpiryRenewRelease", testLeaseLifecycle},
}

// Many replicas try to take one lease at the same moment: exactly one holds it.
func testLeaseRace(t *testing.T, e *env) {
	now := e.clock.Now()
	for round := 0; round < 3; round++ {
		name := fmt.Sprintf("race-%d", round)
		const n = 16
		won := make([]bool, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ok, err := e.db.AcquireLease(e.ctx, name, fmt.Sprintf("replica-%d", i), now, now.Add(time.Minute))
				if err != nil {
					t.Errorf("replica %d: %v", i, err)
				}
				won[i] = ok
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, ok := range won {
			if ok {
				winners++
				if h, _, err := e.db.LeaseHolder(e.ctx, name); err != nil || h != fmt.Sprintf("replica-%d", i) {
					t.Fatalf("holder %q %v, want replica-%d", h, err, i)
				}
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d holders", round, winners)
		}
	}
}

func testLeaseLifecycle(t *testing.T, e *env) {
	t0 := e.clock.Now()
	acquire := func(holder string, at time.Time) bool {
		t.Helper()
		ok, err := e.db.AcquireLease(e.ctx, "twitch", holder, at, at.Add(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	renew := func(holder string, at time.Time) bool {
		t.Helper()
		ok, err := e.db.RenewLease(e.ctx, "twitch", holder, at, at.Add(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire("a", t0) || acquire("b", t0.Add(time.Second)) {
		t.Fatal("a takes the free lease; b cannot while it runs")
	}
	if !acquire("a", t0.Add(2*time.Second)) || !renew("a", t0.Add(9*time.Second)) {
		t.Fatal("the holder re-acquires and renews")
	}
	if acquire("b", t0.Add(18*time.Second)) || renew("b", t0.Add(18*time.Second)) {
		t.Fatal("b took a renewed lease before it expired")
	}
	// a stops renewing (its process died): at expiry b takes over, and a's
	// late renewal is refused so it knows to stop.
	if !acquire("b", t0.Add(19*time.Second)) {
		t.Fatal("b could not take the expired lease")
	}
	if renew("a", t0.Add(20*time.Second)) {
		t.Fatal("a renewed a lease b holds")
	}
	if h, until, err := e.db.LeaseHolder(e.ctx, "twitch"); err != nil || h != "b" || !until.Equal(t0.Add(29*time.Second)) {
		t.Fatalf("holder %q until %v: %v", h, until, err)
	}
	// Releasing: only the holder's release counts; then anyone may take it at once.
	if err := e.db.ReleaseLease(e.ctx, "twitch", "a"); err != nil {
		t.Fatal(err)
	}
	if acquire("c", t0.Add(20*time.Second)) {
		t.Fatal("a's release freed b's lease")
	}
	if err := e.db.ReleaseLease(e.ctx, "twitch", "b"); err != nil {
		t.Fatal(err)
	}
	if !acquire("c", t0.Add(20*time.Second)) {
		t.Fatal("c could not take a released lease")
	}
}
