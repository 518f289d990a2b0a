package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/chatlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/eventlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const itKey = "desktop-engine-integration-key-0123456789"

// chat delivers a Twitch chat message the way EventSub would (Development:
// unsigned).
func chat(t *testing.T, ebsURL, msgID, userID, login, text string) {
	t.Helper()
	body := fmt.Sprintf(`{"subscription":{"type":"channel.chat.message"},"event":{"message_id":%q,"broadcaster_user_id":"b1",`+
		`"chatter_user_id":%q,"chatter_user_login":%q,"chatter_user_name":%q,"message":{"text":%q},"badges":[{"set_id":"subscriber"}]}}`,
		msgID, userID, login, login, text)
	resp, err := http.Post(ebsURL+"/api/twitch/eventsub", "application/json", bytes.NewReader([]byte(body)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("chat %q: %v %v", text, resp, err)
	}
	resp.Body.Close()
}

// The engine against a real EBS on both stores, with a recording injector
// and a chat log the test writes the addon's markers into.
func TestEngineAgainstRealEBS(t *testing.T) {
	for _, store := range ebstest.Stores {
		t.Run(string(store), func(t *testing.T) {
			t.Parallel()
			e := ebstest.Start(t, store, map[string]string{
				"Mgm__ApiKey": itKey, "Mgm__EnableE2eHarness": "true", "Twitch__BroadcasterUserId": "b1",
			})
			client, err := ebsclient.New(e.URL, itKey)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			chat(t, e.URL, "m1", "v1", "voljinfan", "!twgold Voljin")
			payoutID, name, err := client.PreparePendingPayout(ctx, "v1")
			if err != nil || name != "Voljin" {
				t.Fatalf("harness: %v", err)
			}

			dir := t.TempDir()
			logPath := filepath.Join(dir, "Logs", chatlog.FileName)
			os.MkdirAll(filepath.Dir(logPath), 0o755)
			os.WriteFile(logPath, nil, 0o644)
			inj := &fakeInjector{log: logPath}
			var events *eventlog.Log
			var eng *Engine
			var stop func()
			start := func() {
				events = eventlog.New(1000, nil, nil, nil)
				q := inject.NewQueue(inj, nil)
				eng, err = New(Options{DataDir: dir, Queue: q, Log: slog.New(events), TailInterval: 20 * time.Millisecond,
					RouletteMin: 10 * time.Millisecond, RouletteMax: 20 * time.Millisecond, Rand: rand.New(rand.NewPCG(3, 4))})
				if err != nil {
					t.Fatal(err)
				}
				eng.Configure(Config{EBS: client, EBSURL: e.URL, PollInterval: 100 * time.Millisecond, ChatLogPath: logPath})
				rctx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				go q.Run(rctx)
				go func() { eng.Run(rctx); close(done) }()
				stop = func() { cancel(); <-done }
			}
			eventually := func(what string, cond func() bool) {
				t.Helper()
				deadline := time.Now().Add(15 * time.Second)
				for !cond() {
					if time.Now().After(deadline) {
						t.Fatalf("timed out waiting for %s\n%s", what, events.Export())
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			write := func(lines ...string) {
				f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
				for _, l := range lines {
					fmt.Fprintf(f, "%s%s\r\n", "4/4 12:00:00.000  ", l)
				}
				f.Close()
			}
			payout := func() ebsapi.Payout {
				p, err := client.Payout(ctx, payoutID)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			start()
			eventually("first read", func() bool { return eng.Snapshot().ChatLog.Found })
			eventually("the bridge handshake", func() bool { return eng.Snapshot().Bridge.State == "up" })

			// The winner is whispered once.
			eventually("whisper", func() bool { return inj.countPrefix(`/run NotifyWinnerWhisper("`+payoutID+`","Voljin",`) == 1 })
			// Consent, then Sync/Inject, then the mail.
			write("[MGM_ACCEPT:" + payoutID + "]")
			eventually("acceptance", func() bool { return payout().AcceptedAt != nil })
			r := eng.Sync(ctx)
			if !r.OK || r.Injected != 1 || payout().Status != mgm.PayoutInProgress {
				t.Fatalf("sync %+v", r)
			}
			if inj.countPrefix(`/run ReceiveGold("`+payoutID+`:Voljin:10000000;","`) != 1 {
				t.Fatal(inj.typed())
			}
			write("[MGM_CONFIRM:" + payoutID + "]")
			eventually("Sent", func() bool { return payout().Status == mgm.PayoutSent })

			// Restart; the addon repeats its markers: nothing happens twice.
			stop()
			start()
			write("[MGM_ACCEPT:"+payoutID+"]", "[MGM_CONFIRM:"+payoutID+"]")
			eventually("repeat noticed", func() bool {
				return strings.Count(events.Export(), "already handled") == 2
			})
			h, err := client.PayoutHistory(ctx, payoutID)
			if err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, ev := range h {
				count[ev.Type+string(ev.Data)]++
				count[ev.Type]++
			}
			if count["WinnerAcceptanceRecorded"] != 1 || count["PayoutStatusChanged"] != 2 {
				t.Fatalf("history %+v", h)
			}
			if n := inj.countPrefix("/run NotifyWinnerWhisper"); n != 1 {
				t.Fatalf("%d whispers", n)
			}

			// A /who report for a cycle the EBS does not know is refused (400): dropped, not retried.
			write(`[MGM_WHO]{"schemaVersion":1,"spinCycleId":"6a9a6b0c-3a3e-4a49-9a4f-0e6a1c1d2e3f","characterName":"Voljin","online":true,"capturedAt":"2026-04-04T12:00:00.000Z"}`)
			eventually("who dropped", func() bool { return strings.Contains(events.Export(), "out_of_sequence") })

			// The gift loop: !twgift → SelectingItem → inventory → select → whisper → !twgift → Completed.
			chat(t, e.URL, "m2", "v2", "jainafan", "!twgift Jaina")
			var giftID string
			eventually("inventory requested", func() bool {
				for _, l := range inj.typed() {
					if id, ok := strings.CutPrefix(l, `/run MGM_RequestGiftItems("`); ok {
						giftID, _, _ = strings.Cut(id, `"`)
						return true
					}
				}
				return false
			})
			write(`[MGM_ITEMS:` + giftID + `][{"name":"Linen Cloth","id":2589,"count":5,"link":"|cffffffff|Hitem:2589:0:0:0:0:0:0:0|h[Linen Cloth]|h|r","texture":"Interface\\Icons\\INV_Fabric_Linen_01","bagId":0,"slotId":3}]`)
			eventually("confirmation whisper", func() bool {
				return inj.countPrefix(`/run MGM_RequestGiftConfirmation("`+giftID+`","Jaina",`) == 1
			})
			gs, _ := client.GiftRequests(ctx, "")
			if len(gs) != 1 || gs[0].State != "WaitingConfirmation" || gs[0].SelectedItem == nil || gs[0].SelectedItem.ID != 2589 {
				t.Fatalf("gift %+v", gs)
			}
			write("[MGM_GIFT_ACCEPT:" + giftID + "]")
			eventually("gift completed", func() bool {
				gs, err := client.GiftRequests(ctx, "")
				return err == nil && len(gs) == 0
			})
			stop()
		})
	}
}
