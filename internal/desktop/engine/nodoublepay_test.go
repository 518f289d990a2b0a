package engine

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/eventlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/sim/wowsim"
)

// TestMailedPayoutNeverMailedTwice drives the engine against the simulated
// client running the real addon (its streamer mails whatever is queued) and
// re-sends an already-mailed payout by every path: Unlock + Sync, a replayed
// ReceiveGold line, and a Desktop restart from a stale state file. The
// simulator counts the mails: exactly one may go out.
func TestMailedPayoutNeverMailedTwice(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "Logs", "WoWChatLog.txt")
	sim, err := wowsim.NewServer(wowsim.ServerConfig{
		// This test is about payments, not routes: the chat log is written
		// line by line (the routes are tested in bridgesim_test.go).
		Client: wowsim.Config{AddonDir: filepath.Join("..", "..", "..", "addon", "MimironsGoldOMatic"), PlayerName: "Streamer",
			Prints: wowsim.PrintsLogged},
		ChatLog: wowsim.ChatLogOptions{Mode: wowsim.LogLineByLine},
		LogPath: logPath, Auto: true, AllOnline: true, Tick: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stopSim := context.WithCancel(context.Background())
	go sim.Run(ctx)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); stopSim(); sim.Close() })
	simInj, err := inject.NewSimulator(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	mails := func() int {
		resp, err := http.Get(srv.URL + "/api/mock/mails")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ms []wowsim.Mail
		if err := json.NewDecoder(resp.Body).Decode(&ms); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range ms {
			if m.Result != "failed" && !strings.HasPrefix(m.Result, "failed:") {
				n++
			}
		}
		return n
	}

	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	ebs.mu.Lock()
	ebs.payouts[p1].AcceptedAt = &ebsapi.Time{Time: time.Now()}
	ebs.mu.Unlock()
	setStatus := func(s mgm.PayoutStatus) {
		ebs.mu.Lock()
		ebs.payouts[p1].Status = s
		ebs.mu.Unlock()
	}

	var (
		e      *Engine
		events *eventlog.Log
		cancel context.CancelFunc
		done   chan struct{}
	)
	start := func() {
		events = eventlog.New(1000, nil, nil, nil)
		q := inject.NewQueue(simInj, nil)
		e, err = New(Options{DataDir: dir, Queue: q, Log: slog.New(events), Rand: rand.New(rand.NewPCG(1, 2)),
			TailInterval: 10 * time.Millisecond, RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		e.Configure(Config{EBS: ebs, EBSURL: "http://fake", PollInterval: 20 * time.Millisecond, ChatLogPath: logPath})
		var rctx context.Context
		rctx, cancel = context.WithCancel(context.Background())
		done = make(chan struct{})
		go q.Run(rctx)
		go func() { e.Run(rctx); close(done) }()
	}
	stop := func() { cancel(); <-done }
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\nevents:\n%s", what, events.Export())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	start()
	t.Cleanup(func() {
		if done != nil {
			select {
			case <-done:
			default:
				stop()
			}
		}
	})
	eventually("the tail's first read", func() bool { return e.Snapshot().ChatLog.Found })
	eventually("the bridge handshake", func() bool { return e.Snapshot().Bridge.State == "up" })
	eventually("the state file", func() bool { _, err := os.Stat(statePath(dir)); return err == nil })
	stale, err := os.ReadFile(statePath(dir))
	if err != nil {
		t.Fatal(err)
	}

	// The payout is mailed once and reported Sent.
	if r := e.Sync(context.Background()); !r.OK || r.Injected != 1 {
		t.Fatalf("sync: %+v", r)
	}
	eventually("the mail and Sent", func() bool { return mails() == 1 && ebs.payout(p1).Status == "Sent" })

	// 1. Unlock + Sync: the PATCH Sent is taken as lost (the EBS has the
	// payout InProgress again); Unlock is refused with a sentence, and a
	// payout someone put back to Pending anyway is not typed by Sync.
	setStatus("InProgress")
	if err := e.Unlock(context.Background(), []string{p1}); err == nil || !errors.Is(err, ErrAlreadyMailed) || !strings.Contains(err.Error(), "would send the gold a second time") {
		t.Fatalf("unlock of a mailed payout: %v", err)
	}
	if s := ebs.payout(p1).Status; s != "InProgress" {
		t.Fatalf("status %s after a refused unlock", s)
	}
	setStatus("Pending")
	r := e.Sync(context.Background())
	if r.Injected != 0 || len(r.InProgress) != 0 || len(r.AlreadyMailed) != 1 || !strings.Contains(r.Message, "already mailed") {
		t.Fatalf("sync of a mailed payout: %+v", r)
	}

	// 2. A replayed ReceiveGold line (a retry of the Desktop, a line typed
	// again by hand): the addon refuses it, the Desktop takes its marker as
	// "already mailed" and brings the EBS to Sent.
	line, err := inject.ReceiveGoldChunks([]inject.Payout{{ID: p1, CharacterName: "Thrall", Gold: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if err := simInj.Inject(context.Background(), line[0].Line); err != nil {
		t.Fatal(err)
	}
	eventually("Sent after the addon refused the replay", func() bool { return ebs.payout(p1).Status == "Sent" })

	// 3. A restart from a state file saved before the mail, with the EBS
	// having the payout Pending again.
	stop()
	if err := os.WriteFile(statePath(dir), stale, 0o600); err != nil {
		t.Fatal(err)
	}
	setStatus("Pending")
	start()
	eventually("the tail's first read after the restart", func() bool { return e.Snapshot().ChatLog.Found })
	e.Sync(context.Background())
	eventually("Sent after the restart", func() bool { return ebs.payout(p1).Status == "Sent" })
	time.Sleep(1500 * time.Millisecond) // the simulated streamer would have mailed by now
	if n := mails(); n != 1 {
		t.Fatalf("%d mails for one payout\nevents:\n%s", n, events.Export())
	}
}
