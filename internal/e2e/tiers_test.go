package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/sim/synthdesktop"
	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// The predecessor's CI values, so these tiers read like its workflow.
const (
	eventSubSecret = "e2e-ci-eventsub-secret"
	apiKey         = "ci-desktop-api-key-0123456789"
	broadcasterID  = "e2e-ci-broadcaster"
	broadcastToken = "e2e-ci-broadcast-token"
	helixClientID  = "e2e-ci-helix-client"
	viewerID       = "e2e-viewer-1"
	rewardLine     = "Награда отправлена персонажу Etoehero на почту, проверяй ящик!"
)

type stack struct {
	ebs, eventsub, jwt, helix, desktop string
}

// startStack runs the EBS and the four stand-ins, wired as in the predecessor's CI.
func startStack(t *testing.T, store ebstest.Store) stack {
	t.Helper()
	helix := httptest.NewServer(twitchsim.NewHelix(twitchsim.HelixOptions{StrictAuth: true}))
	t.Cleanup(helix.Close)
	e := ebstest.Start(t, store, map[string]string{
		"Mgm__ApiKey": apiKey, "Mgm__DevSkipSubscriberCheck": "true", "Mgm__EnableE2eHarness": "true",
		"Twitch__EventSubSecret": eventSubSecret, "Twitch__HelixApiBaseUrl": helix.URL,
		"Twitch__BroadcasterAccessToken": broadcastToken, "Twitch__BroadcasterUserId": broadcasterID,
		"Twitch__HelixClientId": helixClientID,
	})
	es := httptest.NewServer(twitchsim.NewEventSub(twitchsim.EventSubOptions{
		Secret: eventSubSecret, BackendBaseURL: e.URL, BroadcasterUserID: broadcasterID}))
	t.Cleanup(es.Close)
	jwt := httptest.NewServer(twitchsim.NewJWT(twitchsim.JWTOptions{BroadcasterUserID: broadcasterID}))
	t.Cleanup(jwt.Close)
	desk := httptest.NewServer(synthdesktop.New(synthdesktop.Config{BackendBaseURL: e.URL, APIKey: apiKey}))
	t.Cleanup(desk.Close)
	return stack{ebs: e.URL, eventsub: es.URL, jwt: jwt.URL, helix: helix.URL, desktop: desk.URL}
}

func call(t *testing.T, method, u string, header map[string]string, body any, out any) int {
	t.Helper()
	return testkit.Call(t, method, u, testkit.Header(header), body, out)
}

func poolMe(t *testing.T, s stack) (bool, *string) {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if code := call(t, http.MethodGet, s.jwt+"/token?userId="+url.QueryEscape(viewerID)+"&displayName=E2E", nil, nil, &tok); code != 200 {
		t.Fatalf("jwt token: %d", code)
	}
	var me struct {
		IsEnrolled    bool    `json:"isEnrolled"`
		CharacterName *string `json:"characterName"`
	}
	if code := call(t, http.MethodGet, s.ebs+"/api/pool/me", map[string]string{"Authorization": "Bearer " + tok.AccessToken}, nil, &me); code != 200 {
		t.Fatalf("pool/me: %d", code)
	}
	return me.IsEnrolled, me.CharacterName
}

// Tier A: a signed chat message enrolls a viewer; pool/me sees it.
func tierA(t *testing.T, s stack) {
	for _, hc := range []struct{ url, want string }{
		{s.eventsub + "/health", `{"status":"ok","service":"MockEventSubWebhook"}`},
		{s.jwt + "/health", `{"status":"ok","service":"MockExtensionJwt"}`},
		{s.helix + "/health", `{"status":"healthy","component":"MockHelixApi"}`},
		{s.desktop + "/health", `{"status":"healthy","component":"SyntheticDesktop"}`},
	} {
		if got := testkit.Do(t, nil, http.MethodGet, hc.url, nil, nil).Text(); got != hc.want {
			t.Fatalf("%s = %s, want %s", hc.url, got, hc.want)
		}
	}
	var sent struct {
		BackendStatus int `json:"backendStatus"`
	}
	code := call(t, http.MethodPost, s.eventsub+"/send-chat", nil, map[string]any{
		"userId": viewerID, "login": "e2eviewer1", "displayName": "E2EViewer1", "text": "!twgold Etoehero", "subscriber": true,
	}, &sent)
	if code != 200 || sent.BackendStatus != 200 {
		t.Fatalf("send-chat: %d, EBS %d", code, sent.BackendStatus)
	}
	if in, name := poolMe(t, s); !in || name == nil || *name != "Etoehero" {
		t.Fatalf("tier A: pool/me = %v %v", in, name)
	}
}

// Tier B: prepare-pending-payout → run-sequence → Sent → Helix got exactly
// the reward line with the right ids and headers → the winner left the pool.
func tierB(t *testing.T, s stack) {
	// A probe like the predecessor's, then a reset: what is asserted below
	// can only have come from the EBS.
	hdr := map[string]string{"Authorization": "Bearer probe", "Client-Id": "probe"}
	if code := call(t, http.MethodPost, s.helix+"/helix/chat/messages", hdr, map[string]string{
		"broadcaster_id": "bcast-test", "sender_id": "bcast-test", "message": rewardLine}, nil); code != 200 {
		t.Fatalf("probe: %d", code)
	}
	if code := call(t, http.MethodPost, s.helix+"/reset", nil, nil, nil); code != 200 {
		t.Fatalf("reset: %d", code)
	}
	var prep struct {
		PayoutID      string `json:"payoutId"`
		CharacterName string `json:"characterName"`
	}
	if code := call(t, http.MethodPost, s.ebs+"/api/e2e/prepare-pending-payout", map[string]string{"X-MGM-ApiKey": apiKey},
		map[string]string{"twitchUserId": viewerID}, &prep); code != 200 || prep.CharacterName != "Etoehero" {
		t.Fatalf("prepare: %d %+v", code, prep)
	}
	var run synthdesktop.Run
	if code := call(t, http.MethodPost, s.desktop+"/run-sequence", nil, map[string]string{
		"payoutId": prep.PayoutID, "characterName": prep.CharacterName}, &run); code != 200 || !run.OK {
		t.Fatalf("run-sequence: %d %+v", code, run)
	}
	// Sent commits at once; the reward line follows from the announcement job.
	var reqs []twitchsim.RecordedRequest
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		call(t, http.MethodGet, s.helix+"/requests", nil, nil, &reqs)
		if len(reqs) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(reqs) != 1 {
		t.Fatalf("%d Helix requests after the reset, want 1", len(reqs))
	}
	r := reqs[0]
	var body map[string]string
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("Helix body %s: %v", r.Body, err)
	}
	if r.Method != http.MethodPost || r.Path != "/helix/chat/messages" || r.Status != 200 ||
		r.Headers["Authorization"] != "Bearer "+broadcastToken || r.Headers["Client-Id"] != helixClientID ||
		len(body) != 3 || body["message"] != rewardLine || body["broadcaster_id"] != broadcasterID || body["sender_id"] != broadcasterID {
		t.Fatalf("Helix request %+v body %v", r, body)
	}
	var last struct {
		Captured            bool              `json:"captured"`
		Body                map[string]string `json:"body"`
		AuthorizationHeader string            `json:"authorizationHeader"`
		ClientIDHeader      string            `json:"clientIdHeader"`
	}
	call(t, http.MethodGet, s.helix+"/last-request", nil, nil, &last)
	if !last.Captured || last.Body["message"] != rewardLine || last.AuthorizationHeader != "Bearer "+broadcastToken || last.ClientIDHeader != helixClientID {
		t.Fatalf("last-request %+v", last)
	}
	call(t, http.MethodGet, s.desktop+"/last-run", nil, nil, &run)
	if !run.OK || len(run.Steps) != 3 {
		t.Fatalf("last-run %+v", run)
	}
	if in, _ := poolMe(t, s); in {
		t.Fatal("tier B: the winner is still in the pool")
	}
}

func TestTiersAB(t *testing.T) {
	for _, store := range ebstest.Stores {
		t.Run(string(store), func(t *testing.T) {
			s := startStack(t, store)
			t.Run("A", func(t *testing.T) { tierA(t, s) })
			t.Run("B", func(t *testing.T) { tierB(t, s) })
		})
	}
}
