package ebs_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// helixRecorder stands in for Twitch Helix and records every chat message request.
type helixRecorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []helixRequest
}

type helixRequest struct {
	Path, Authorization, ClientID string
	Body                          map[string]string
}

func newHelixRecorder(t *testing.T) *helixRecorder {
	h := &helixRecorder{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		h.mu.Lock()
		h.requests = append(h.requests, helixRequest{r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Client-Id"), body})
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[{"message_id":"m","is_sent":true,"drop_reason":null}]}`)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *helixRecorder) all() []helixRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]helixRequest(nil), h.requests...)
}

const testAPIKey = "walk-test-desktop-key-0123456789"

func walkEnv(t *testing.T, helix *helixRecorder) map[string]string {
	env := baseEnv(t)
	env["Mgm__SpinIntervalSeconds"] = "10"
	env["Mgm__ApiKey"] = testAPIKey
	env["Twitch__HelixApiBaseUrl"] = helix.URL
	env["Twitch__BroadcasterAccessToken"] = "walk-broadcaster-token"
	env["Twitch__HelixClientId"] = "walk-client-id"
	return env
}

// desktopCall makes an API-key request and decodes a JSON answer into out (if non-nil).
func desktopCall(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	return testkit.Call(t, method, url, testkit.Header(map[string]string{"X-MGM-ApiKey": testAPIKey}), body, out)
}

type candidate struct {
	SpinCycleID    string `json:"spinCycleId"`
	CharacterName  string `json:"characterName"`
	SpinPhase      string `json:"spinPhase"`
	VerifyDeadline string `json:"verifyDeadline"`
}

// waitCandidate polls GET /api/roulette/candidate the way the Desktop does.
func waitCandidate(t *testing.T, base string, within time.Duration) candidate {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var c candidate
		if desktopCall(t, http.MethodGet, base+"/api/roulette/candidate", nil, &c) == http.StatusOK {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no candidate within %v", within)
	return candidate{}
}

// The full manual walk: enroll by signed EventSub, wait for the
// candidate, report online, accept, PATCH InProgress then Sent — exactly one
// Helix request with the exact reward line, ids and headers, and the winner
// out of the pool.
func testFullWalk(t *testing.T, env map[string]string, helix *helixRecorder) {
	r := start(t, env)
	if resp := postSigned(t, r.base, "walk-1", chatNotification("m-1", "v-42", "norinnfan", "!twgold Norinn", "subscriber")); resp.StatusCode != http.StatusOK {
		t.Fatalf("eventsub %d", resp.StatusCode)
	}
	c := waitCandidate(t, r.base, 25*time.Second)
	if c.CharacterName != "Norinn" || len(c.SpinCycleID) != 36 {
		t.Fatalf("candidate %+v", c)
	}
	var verdict struct {
		Outcome  string  `json:"outcome"`
		PayoutID *string `json:"payoutId"`
	}
	status := desktopCall(t, http.MethodPost, r.base+"/api/roulette/verify-candidate", map[string]any{
		"schemaVersion": 1, "spinCycleId": c.SpinCycleID, "characterName": "Norinn", "online": true,
		"capturedAt": time.Now().UTC().Format("2006-01-02T15:04:05Z"),
	}, &verdict)
	if status != http.StatusOK || verdict.Outcome != "winner" || verdict.PayoutID == nil {
		t.Fatalf("verify: %d %+v", status, verdict)
	}
	id := *verdict.PayoutID
	var p struct {
		Status                      string  `json:"status"`
		AcceptedAt                  *string `json:"acceptedAt"`
		IsRewardSentAnnouncedToChat bool    `json:"isRewardSentAnnouncedToChat"`
	}
	if s := desktopCall(t, http.MethodPost, r.base+"/api/payouts/"+id+"/confirm-acceptance", map[string]string{"characterName": "Norinn"}, &p); s != 200 || p.AcceptedAt == nil {
		t.Fatalf("accept: %d %+v", s, p)
	}
	if s := desktopCall(t, http.MethodPatch, r.base+"/api/payouts/"+id+"/status", map[string]string{"status": "inProgress"}, &p); s != 200 || p.Status != "InProgress" {
		t.Fatalf("InProgress: %d %+v", s, p)
	}
	if s := desktopCall(t, http.MethodPatch, r.base+"/api/payouts/"+id+"/status", map[string]string{"status": "sent"}, &p); s != 200 || p.Status != "Sent" {
		t.Fatalf("Sent: %d %+v", s, p)
	}
	// The announcement is a job: it lands shortly after the answer.
	for deadline := time.Now().Add(30 * time.Second); !p.IsRewardSentAnnouncedToChat; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not announced: %+v", p)
		}
		desktopCall(t, http.MethodGet, r.base+"/api/payouts/"+id, nil, &p)
	}
	// A replayed confirmation changes nothing and announces nothing.
	if s := desktopCall(t, http.MethodPatch, r.base+"/api/payouts/"+id+"/status", map[string]string{"status": "Sent"}, &p); s != 200 {
		t.Fatalf("replayed Sent: %d", s)
	}
	reqs := helix.all()
	if len(reqs) != 1 {
		t.Fatalf("%d Helix requests, want 1: %+v", len(reqs), reqs)
	}
	got := reqs[0]
	want := helixRequest{
		Path: "/helix/chat/messages", Authorization: "Bearer walk-broadcaster-token", ClientID: "walk-client-id",
		Body: map[string]string{"broadcaster_id": "b1", "sender_id": "b1", "message": "Награда отправлена персонажу Norinn на почту, проверяй ящик!"},
	}
	if got.Path != want.Path || got.Authorization != want.Authorization || got.ClientID != want.ClientID ||
		len(got.Body) != 3 || got.Body["broadcaster_id"] != "b1" || got.Body["sender_id"] != "b1" || got.Body["message"] != want.Body["message"] {
		t.Fatalf("Helix request\n got %+v\nwant %+v", got, want)
	}
	if _, body := get(t, r.base+"/api/pool/me", viewerToken("v-42")); body != `{"isEnrolled":false,"characterName":null,"lifetimeGoldCommitted":1000,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("winner still in the pool: %s", body)
	}
	var hist []struct{ Type string }
	desktopCall(t, http.MethodGet, r.base+"/api/payouts/"+id+"/history", nil, &hist)
	var types []string
	for _, h := range hist {
		types = append(types, h.Type)
	}
	if strings.Join(types, ",") != "PayoutCreated,WinnerAcceptanceRecorded,PayoutStatusChanged,PayoutStatusChanged,HelixRewardSentAnnouncementSucceeded" {
		t.Fatalf("history %v", types)
	}
}

func TestFullWalkOnSQLite(t *testing.T) {
	t.Parallel()
	h := newHelixRecorder(t)
	testFullWalk(t, walkEnv(t, h), h)
}

func TestFullWalkOnPostgreSQL(t *testing.T) {
	t.Parallel()
	h := newHelixRecorder(t)
	env := walkEnv(t, h)
	env["ConnectionStrings__PostgreSQL"] = pgtest.NewDatabase(t)
	testFullWalk(t, env, h)
}
