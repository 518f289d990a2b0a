package ebsclient_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const apiKey = "integration-desktop-key-0123456789"

// The client against a real EBS, on both stores: errors carry the EBS's codes,
// and the Desktop's payout sequence works end to end.
func TestAgainstRealEBS(t *testing.T) {
	for _, store := range ebstest.Stores {
		t.Run(string(store), func(t *testing.T) {
			e := ebstest.Start(t, store, map[string]string{
				"Mgm__ApiKey": apiKey, "Mgm__EnableE2eHarness": "true", "Twitch__BroadcasterUserId": "b1",
			})
			ctx := context.Background()
			c, err := ebsclient.New(e.URL, apiKey)
			if err != nil {
				t.Fatal(err)
			}
			if ps, err := c.PendingPayouts(ctx); err != nil || len(ps) != 0 {
				t.Fatalf("fresh pending: %v %v", ps, err)
			}
			wrong, _ := ebsclient.New(e.URL, "not-the-key")
			if _, err := wrong.PendingPayouts(ctx); ebsclient.ErrorCode(err) != mgm.CodeForbiddenAPIKey || ebsclient.Transient(err) {
				t.Fatalf("wrong key: %v", err)
			}
			if _, err := c.SetPayoutStatus(ctx, "6a9a6b0c-3a3e-4a49-9a4f-0e6a1c1d2e3f", "sent"); ebsclient.ErrorCode(err) != mgm.CodeNotFound {
				t.Fatalf("unknown payout: %v", err)
			}
			if cand, err := c.Candidate(ctx); err != nil || cand != nil {
				t.Fatalf("candidate: %v %v", cand, err)
			}
			// Enroll a viewer the way Twitch would (Development: unsigned EventSub).
			body := []byte(`{"subscription":{"type":"channel.chat.message"},"event":{"message_id":"m1","broadcaster_user_id":"b1",` +
				`"chatter_user_id":"v1","chatter_user_login":"voljinfan","chatter_user_name":"VoljinFan","message":{"text":"!twgold Voljin"},"badges":[{"set_id":"subscriber"}]}}`)
			resp, err := http.Post(e.URL+"/api/twitch/eventsub", "application/json", bytes.NewReader(body))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("enroll: %v %v", resp, err)
			}
			resp.Body.Close()
			id, name, err := c.PreparePendingPayout(ctx, "v1")
			if err != nil || name != "Voljin" {
				t.Fatalf("harness: %q %q %v", id, name, err)
			}
			ps, err := c.PendingPayouts(ctx)
			if err != nil || len(ps) != 1 || ps[0].ID != id || ps[0].Status != mgm.PayoutPending || ps[0].GoldAmount != 1000 {
				t.Fatalf("pending: %+v %v", ps, err)
			}
			if p, err := c.SetPayoutStatus(ctx, id, "inProgress"); err != nil || p.Status != mgm.PayoutInProgress {
				t.Fatalf("inProgress: %+v %v", p, err)
			}
			// Consent may arrive after Sync moved the payout to InProgress.
			p, err := c.ConfirmAcceptance(ctx, id, "voljin")
			if err != nil || p.AcceptedAt == nil || p.AcceptedAt.Before(p.CreatedAt.Time) || p.CreatedAt.IsZero() {
				t.Fatalf("accept: %+v %v", p, err)
			}
			if ps, _ := c.PendingPayouts(ctx); len(ps) != 0 {
				t.Fatal("InProgress listed by default")
			}
			if ps, _ := c.PendingPayouts(ctx, mgm.PayoutPending, mgm.PayoutInProgress); len(ps) != 1 {
				t.Fatal("InProgress not listed on request")
			}
			if p, err := c.SetPayoutStatus(ctx, id, "sent"); err != nil || p.Status != mgm.PayoutSent {
				t.Fatalf("sent: %+v %v", p, err)
			}
			if _, err := c.SetPayoutStatus(ctx, id, "Pending"); ebsclient.ErrorCode(err) != mgm.CodeTerminalStatusChange {
				t.Fatalf("Sent→Pending: %v", err)
			}
			h, err := c.PayoutHistory(ctx, id)
			if err != nil || len(h) < 4 || h[0].Type != "PayoutCreated" {
				t.Fatalf("history %+v %v", h, err)
			}
			if v, err := c.Version(ctx); err != nil || v.Version != "0.0.0-test" {
				t.Fatalf("version %+v %v", v, err)
			}
		})
	}
}
