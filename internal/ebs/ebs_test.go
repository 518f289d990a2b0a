package ebs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebs"
	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

const eventSubSecret = "e2e-eventsub-secret"

type running struct {
	base   string
	out    *testkit.Buffer
	cancel context.CancelFunc
	done   chan error
}

// start runs the EBS in-process on a free loopback port with the given settings.
func start(t *testing.T, env map[string]string) *running {
	t.Helper()
	if _, ok := env["Mgm__Listen"]; !ok {
		env["Mgm__Listen"] = "127.0.0.1:0"
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{out: &testkit.Buffer{}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		r.done <- ebs.Run(ctx, cfg, ebs.Options{Out: r.out, Logger: testkit.Logger(t), Version: "1.2.3-test", Ready: func(a string) { ready <- a }})
	}()
	select {
	case addr := <-ready:
		r.base = "http://" + addr
	case err := <-r.done:
		t.Fatalf("EBS did not start: %v\n%s", err, r.out)
	case <-time.After(30 * time.Second):
		t.Fatal("EBS did not start in 30 s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("EBS stopped with %v", err)
		}
	})
	return r
}

func chatNotification(messageID, userID, login, text string, badges ...string) []byte {
	bs := make([]map[string]string, 0, len(badges))
	for _, b := range badges {
		bs = append(bs, map[string]string{"set_id": b, "id": "1", "info": ""})
	}
	body, _ := json.Marshal(map[string]any{
		"subscription": map[string]any{
			"id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4", "type": "channel.chat.message", "version": "1", "status": "enabled", "cost": 0,
			"condition":  map[string]string{"broadcaster_user_id": "b1", "user_id": "b1"},
			"transport":  map[string]string{"method": "webhook", "callback": "https://example.com/api/twitch/eventsub"},
			"created_at": "2026-04-04T11:00:00.000000000Z",
		},
		"event": map[string]any{
			"broadcaster_user_id": "b1", "broadcaster_user_login": "streamer", "broadcaster_user_name": "Streamer",
			"chatter_user_id": userID, "chatter_user_login": login, "chatter_user_name": strings.ToUpper(login[:1]) + login[1:],
			"message_id": messageID,
			"message":    map[string]any{"text": text, "fragments": []map[string]any{{"type": "text", "text": text, "cheermote": nil, "emote": nil, "mention": nil}}},
			"color":      "#00FF7F", "badges": bs, "message_type": "text",
			"cheer": nil, "reply": nil, "channel_points_custom_reward_id": nil, "channel_points_animation_id": nil,
		},
	})
	return body
}

// signedChat is a channel.chat.message notification as Twitch delivers it,
// signed with the test secret.
func signedChat(base, deliveryID string, body []byte) *http.Request {
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/twitch/eventsub", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(eventsub.HeaderMessageID, deliveryID)
	req.Header.Set(eventsub.HeaderTimestamp, ts)
	req.Header.Set(eventsub.HeaderSignature, eventsub.Sign(eventSubSecret, deliveryID, ts, body))
	req.Header.Set(eventsub.HeaderMessageType, eventsub.TypeNotification)
	req.Header.Set(eventsub.HeaderSubscriptionType, "channel.chat.message")
	return req
}

func postSigned(t *testing.T, base, deliveryID string, body []byte) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedChat(base, deliveryID, body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	h := http.Header{}
	if bearer != "" {
		h.Set("Authorization", "Bearer "+bearer)
	}
	r := testkit.Do(t, nil, http.MethodGet, url, h, nil)
	return r.Status, r.Text()
}

func viewerToken(userID string) string {
	return auth.SignViewerToken(auth.DevExtensionSecret(), auth.TokenClaims{
		UserID: userID, ChannelID: "b1", Expires: time.Now().Add(time.Hour),
	})
}

// The "done when": a signed channel.chat.message for "!twgold Norinn"
// from a subscriber makes GET /api/pool/me answer enrolled, on both stores.
func testSignedChatEnrolls(t *testing.T, env map[string]string) {
	r := start(t, env)
	if resp := postSigned(t, r.base, "delivery-1", chatNotification("m-1", "v-42", "norinnfan", "!twgold Norinn", "subscriber")); resp.StatusCode != http.StatusOK {
		t.Fatalf("eventsub answered %d", resp.StatusCode)
	}
	status, body := get(t, r.base+"/api/pool/me", viewerToken("v-42"))
	if status != http.StatusOK || body != `{"isEnrolled":true,"characterName":"Norinn","lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("pool/me = %d %s", status, body)
	}
	// A non-subscriber's message changes nothing.
	postSigned(t, r.base, "delivery-2", chatNotification("m-2", "v-7", "someone", "!twgold Thrall"))
	if _, body := get(t, r.base+"/api/pool/me", viewerToken("v-7")); body != `{"isEnrolled":false,"characterName":null,"lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("non-subscriber enrolled: %s", body)
	}
	// The roulette state catches up right after the enrollment (chat lines
	// do not wait for the snapshot refresh).
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get(t, r.base+"/api/roulette/state", viewerToken("v-7"))
		if strings.Contains(body, `"poolParticipantCount":1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("roulette state: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func baseEnv(t *testing.T) map[string]string {
	return map[string]string{
		"Mgm__Environment":          "Development",
		"Mgm__DataDir":              t.TempDir(),
		"Twitch__EventSubSecret":    eventSubSecret,
		"Twitch__BroadcasterUserId": "b1",
	}
}

func TestSignedChatEnrollsOnSQLite(t *testing.T) {
	t.Parallel()
	testSignedChatEnrolls(t, baseEnv(t))
}

func TestSignedChatEnrollsOnPostgreSQL(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	env["ConnectionStrings__PostgreSQL"] = pgtest.NewDatabase(t)
	testSignedChatEnrolls(t, env)
}

// The ADO.NET connection string of the predecessor's deployments works unchanged.
func TestADONetConnectionString(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	// pgtest returns a URL; rebuild it in the ADO.NET form.
	var host, port, db, user string
	fmt.Sscanf(strings.NewReplacer("postgres://", "", "@", " ", ":", " ", "/", " ", "?", " ").Replace(dsn), "%s %s %s %s", &user, &host, &port, &db)
	if _, err := strconv.Atoi(port); err != nil {
		t.Skipf("cannot rebuild %q as ADO.NET", dsn)
	}
	env := baseEnv(t)
	env["ConnectionStrings__PostgreSQL"] = fmt.Sprintf("Host=%s;Port=%s;Database=%s;Username=%s", host, port, db, user)
	r := start(t, env)
	if status, body := get(t, r.base+"/readyz", ""); status != http.StatusOK || !strings.Contains(body, `"store":"postgres"`) {
		t.Fatalf("readyz %d %s", status, body)
	}
}

func TestDevelopmentAPIKeyGeneratedOnceAndWorks(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	r := start(t, env)
	keyFile := filepath.Join(env["Mgm__DataDir"], ebs.APIKeyFile)
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(b))
	if len(key) < 24 || !strings.Contains(r.out.String(), key) {
		t.Fatalf("key %q not printed in:\n%s", key, r.out)
	}
	if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
	req, _ := http.NewRequest(http.MethodGet, r.base+"/api/payouts/pending", nil)
	req.Header.Set("X-MGM-ApiKey", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pending with the generated key: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	r.cancel()
	<-r.done
	r.done <- nil // let Cleanup's receive succeed

	// The second start reuses the key and does not print it again.
	r2 := start(t, env)
	if strings.Contains(r2.out.String(), key) || !strings.Contains(r2.out.String(), ebs.APIKeyFile) {
		t.Fatalf("second start printed:\n%s", r2.out)
	}
}

// In-flight requests finish when the EBS is asked to stop.
func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	env["Mgm__DevSkipSubscriberCheck"] = "true"
	r := start(t, env)
	// A slow client: the request is started, the body arrives after shutdown began.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, r.base+"/api/payouts/claim", pr)
	req.Header.Set("Authorization", "Bearer "+viewerToken("v-1"))
	got := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	pw.Write([]byte(`{"characterName":`))
	time.Sleep(100 * time.Millisecond) // let the server start reading the request
	r.cancel()
	time.Sleep(100 * time.Millisecond)
	pw.Write([]byte(`"Norinn","enrollmentRequestId":"x1"}`))
	pw.Close()
	if status := <-got; status != http.StatusCreated {
		t.Fatalf("in-flight claim answered %d", status)
	}
	if err := <-r.done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	r.done <- nil
}

// After a restart with members in the pool, the very first state request
// already names the current cycle: the clock ticks once before serving.
func TestStateIsCurrentRightAfterStart(t *testing.T) {
	t.Parallel()
	env := baseEnv(t)
	r := start(t, env)
	postSigned(t, r.base, "restart-1", chatNotification("m-r1", "v-1", "someone", "!twgold Norinn", "subscriber"))
	r.cancel()
	<-r.done
	r.done <- nil
	r2 := start(t, env)
	_, body := get(t, r2.base+"/api/roulette/state", viewerToken("v-1"))
	var st struct {
		SpinPhase          string  `json:"spinPhase"`
		CurrentSpinCycleID *string `json:"currentSpinCycleId"`
		PoolCount          int     `json:"poolParticipantCount"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.PoolCount != 1 || st.SpinPhase == "idle" || st.CurrentSpinCycleID == nil {
		t.Fatalf("first state after restart: %s", body)
	}
}
