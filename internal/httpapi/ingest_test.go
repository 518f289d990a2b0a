package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
)

// revocationLog is a RevocationHandler that remembers what it heard.
type revocationLog struct {
	mu   sync.Mutex
	seen []string
}

func (r *revocationLog) Revoked(_ context.Context, sub eventsub.Subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, sub.Status)
}

// TestIngestionSharedAcrossTransports: a message id is processed once
// whether it came by webhook or WebSocket, and revocations reach the
// handler once from either.
func TestIngestionSharedAcrossTransports(t *testing.T) {
	t.Parallel()
	revs := &revocationLog{}
	var api *httpapi.Server
	ts := newTestServerWith(t, nil, func(d *httpapi.Deps) {
		d.Revocations = revs
		api = httpapi.New(*d) // the same service and store the webhook uses
	})
	body := chatEvent{chatterID: "1001", messageID: "chat-1", text: "!twgold Norinn"}.body()
	wantStatus(t, "webhook delivery", ts.deliver(t, "m-1", eventsub.TypeNotification, body), http.StatusOK)
	env, err := eventsub.ParseEnvelope(eventsub.TypeNotification, body)
	if err != nil {
		t.Fatal(err)
	}
	if err := api.IngestEventSub(context.Background(), "m-1", env); err != nil {
		t.Fatal(err)
	}
	other := chatEvent{chatterID: "1002", messageID: "chat-2", text: "!twgold Jaina"}.body()
	env2, _ := eventsub.ParseEnvelope(eventsub.TypeNotification, other)
	if err := api.IngestEventSub(context.Background(), "m-2", env2); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "webhook redelivery of a WebSocket message", ts.deliver(t, "m-2", eventsub.TypeNotification, other), http.StatusOK)
	if got := ts.poolMe(t, "1001"); got != enrolledAs("Norinn") {
		t.Errorf("pool/me 1001: %s", got)
	}
	if got := ts.poolMe(t, "1002"); got != enrolledAs("Jaina") {
		t.Errorf("pool/me 1002: %s", got)
	}
	if evs := ts.events(t, "pool:1001"); len(evs) > 1 {
		t.Errorf("%d pool events for 1001, want 1", len(evs))
	}

	rev, _ := json.Marshal(map[string]any{"subscription": map[string]any{
		"id": "s", "status": "authorization_revoked", "type": "channel.chat.message", "version": "1",
		"condition": map[string]string{"broadcaster_user_id": testBroadcaster, "user_id": testBroadcaster},
		"transport": map[string]string{"method": "websocket", "session_id": "x"},
	}})
	renv, _ := eventsub.ParseEnvelope(eventsub.TypeRevocation, rev)
	for range 2 {
		if err := api.IngestEventSub(context.Background(), "rev-1", renv); err != nil {
			t.Fatal(err)
		}
	}
	wantStatus(t, "webhook revocation under the same id", ts.deliver(t, "rev-1", eventsub.TypeRevocation, rev), http.StatusOK)
	revs.mu.Lock()
	defer revs.mu.Unlock()
	if len(revs.seen) != 1 || revs.seen[0] != "authorization_revoked" {
		t.Errorf("revocations heard: %v, want one", revs.seen)
	}
}
