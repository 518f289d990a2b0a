package ebs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver, to read River's table

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
)

// helixMode is how the Helix stand-in answers a chat message.
type helixMode int

const (
	helixAnswers helixMode = iota // 200 at once
	helixHangs                    // no answer until released or the caller is gone
	helixSignals                  // 200, then a signal on answered
)

// helixStandIn is a Helix whose chat endpoint can hang or report that it has
// answered, so that a test can kill the EBS at a chosen moment of the call.
type helixStandIn struct {
	*httptest.Server
	mu       sync.Mutex
	mode     helixMode
	lines    []string
	arrived  chan struct{} // one value per chat message received
	answered chan struct{} // one value per answer written in helixSignals mode
	release  chan struct{} // closed: hanging calls return
}

func newHelixStandIn(t *testing.T) *helixStandIn {
	h := &helixStandIn{arrived: make(chan struct{}, 16), answered: make(chan struct{}, 16), release: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/helix/chat/messages" {
			http.NotFound(w, r)
			return
		}
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		h.mu.Lock()
		h.lines = append(h.lines, body["message"])
		mode := h.mode
		h.mu.Unlock()
		h.arrived <- struct{}{}
		if mode == helixHangs {
			select {
			case <-h.release:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[{"message_id":"m","is_sent":true,"drop_reason":null}]}`)
		if mode == helixSignals {
			w.(http.Flusher).Flush()
			h.answered <- struct{}{}
		}
	}))
	t.Cleanup(h.Close)
	t.Cleanup(func() { h.setMode(helixAnswers) }) // runs first: no call hangs past the test
	return h
}

func (h *helixStandIn) setMode(m helixMode) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mode == helixHangs && m != helixHangs {
		close(h.release)
	}
	h.mode = m
}

func (h *helixStandIn) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines...)
}

// killPoint is the moment of the announcement at which the EBS is killed.
type killPoint struct {
	name  string
	helix helixMode
	// wait returns once the moment has come for payout id on base.
	wait func(t *testing.T, h *helixStandIn, base, id string)
}

var killPoints = []killPoint{
	// Right after Sent answered: the job is committed and, almost always,
	// not yet fetched (workers poll once a second). Should a worker have
	// been quicker, the same invariant holds.
	{name: "before the job runs", helix: helixAnswers, wait: func(*testing.T, *helixStandIn, string, string) {}},
	// Helix has the line and has not answered: whether Twitch posted it is
	// unknown to the EBS.
	{name: "while Helix hangs", helix: helixHangs, wait: func(t *testing.T, h *helixStandIn, _, _ string) {
		waitSignal(t, h.arrived, "the chat message")
	}},
	// Helix answered 200; the outcome is (almost always) not yet recorded.
	{name: "after Helix answered", helix: helixSignals, wait: func(t *testing.T, h *helixStandIn, _, _ string) {
		waitSignal(t, h.answered, "Helix's answer")
	}},
	// The outcome is recorded; River has (usually) not yet marked the job
	// completed, so the restarted process runs it again and must add nothing.
	{name: "after the outcome is recorded", helix: helixAnswers, wait: func(t *testing.T, _ *helixStandIn, base, id string) {
		for deadline := time.Now().Add(20 * time.Second); len(terminalEvents(t, base, id)) == 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no outcome recorded within 20 s")
			}
		}
	}},
}

func waitSignal(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not come within 20 s", what)
	}
}

// The test for the announcement path: kill -9 the real mgm-ebs at
// each step of the reward announcement, restart it on the same database, and
// the payout ends with exactly one recorded outcome and at most one chat
// line — one line when the outcome is success, and a failure only where the
// README says so (an attempt stopped while posting).
//
// The restarted process takes the killed attempt over through River's
// rescuer, which runs on the elected leader: the dead process's leadership
// expires first (River's leader TTL, 15 s), then the rescuer's first run
// finds the job past Mgm__Jobs__RescueAfterSeconds and River's scheduler
// (every 5 s) makes it available again. So each case waits 15–25 s on
// River's timers, not on the CPU: the cases run all at once rather than
// -parallel (GOMAXPROCS) at a time, each on its own database and ports.
func TestAnnouncementSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts mgm-ebs; about 30 s")
	}
	t.Parallel()
	bin := buildEBS(t)
	var wg sync.WaitGroup
	for _, store := range []string{"PostgreSQL", "SQLite"} {
		for _, kp := range killPoints {
			wg.Go(func() {
				t.Run(store+"/"+kp.name, func(t *testing.T) { testAnnouncementKill9(t, bin, store, kp) })
			})
		}
	}
	wg.Wait()
}

func testAnnouncementKill9(t *testing.T, bin, store string, kp killPoint) {
	helix := newHelixStandIn(t)
	dataDir := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"Mgm__Environment=Development", "Mgm__DataDir=" + dataDir, "Mgm__ApiKey=" + testAPIKey, "Mgm__EnableE2eHarness=true",
		"Mgm__Jobs__AttemptTimeoutSeconds=2", "Mgm__Jobs__RescueAfterSeconds=3",
		"Twitch__EventSubSecret=" + eventSubSecret, "Twitch__BroadcasterUserId=b1", "Twitch__HelixApiBaseUrl=" + helix.URL,
		"Twitch__BroadcasterAccessToken=kill9-token", "Twitch__HelixClientId=kill9-client",
	}
	openDB := func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, sqlite.FileName)+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	if store == "PostgreSQL" {
		dsn := pgtest.NewDatabase(t)
		env = append(env, "ConnectionStrings__PostgreSQL="+dsn)
		openDB = func() *sql.DB {
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	}

	first := startProcess(t, bin, env)
	if resp := postSigned(t, first.base, "kill9-enroll", chatNotification("kill9-m1", "v-9", "norinnfan", "!twgold Norinn", "subscriber")); resp.StatusCode != http.StatusOK {
		t.Fatalf("enroll: %d", resp.StatusCode)
	}
	var prepared struct {
		PayoutID      string `json:"payoutId"`
		CharacterName string `json:"characterName"`
	}
	if s := desktopCall(t, http.MethodPost, first.base+"/api/e2e/prepare-pending-payout", map[string]string{"twitchUserId": "v-9"}, &prepared); s != http.StatusOK {
		t.Fatalf("prepare-pending-payout: %d", s)
	}
	id := prepared.PayoutID
	helix.setMode(kp.helix)
	for _, st := range []string{"InProgress", "Sent"} {
		if s := desktopCall(t, http.MethodPatch, first.base+"/api/payouts/"+id+"/status", map[string]string{"status": st}, nil); s != http.StatusOK {
			t.Fatalf("PATCH %s: %d", st, s)
		}
	}
	kp.wait(t, helix, first.base, id)
	first.kill9(t)
	linesBeforeKill := len(helix.received())
	db := openDB()
	defer db.Close()
	stateAtKill := jobState(t, db)
	t.Logf("killed with %d line(s) received, job %s", linesBeforeKill, stateAtKill)

	// The same database, a new process, a Helix that answers.
	helix.setMode(helixAnswers)
	second := startProcess(t, bin, env)
	var terminal []outcomeEvent
	deadline := time.Now().Add(50 * time.Second)
	for {
		// State first: a finished job's outcome, if any, is already committed.
		state := jobState(t, db)
		terminal = terminalEvents(t, second.base, id)
		if finished(state) {
			if len(terminal) == 0 {
				t.Fatalf("the job is %s and no outcome is recorded", state)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("50 s after the restart: outcome events %v, job %s", terminal, jobState(t, db))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The job is finished: nothing more can run.
	lines := helix.received()
	var p struct {
		Status                      string `json:"status"`
		IsRewardSentAnnouncedToChat bool   `json:"isRewardSentAnnouncedToChat"`
	}
	desktopCall(t, http.MethodGet, second.base+"/api/payouts/"+id, nil, &p)
	t.Logf("outcome %v, %d line(s) in all", terminal, len(lines))

	if len(terminal) != 1 {
		t.Fatalf("%d outcome events, want exactly 1: %v", len(terminal), terminal)
	}
	if len(lines) > 1 {
		t.Fatalf("%d chat lines for one payout: %q", len(lines), lines)
	}
	for _, l := range lines {
		if l != mgm.RewardLine(prepared.CharacterName) {
			t.Fatalf("chat line %q", l)
		}
	}
	if p.Status != "Sent" {
		t.Fatalf("payout status %s", p.Status)
	}
	switch outcome := terminal[0]; outcome.Type {
	case app.EventAnnouncementSucceeded:
		if len(lines) != 1 || !p.IsRewardSentAnnouncedToChat {
			t.Fatalf("success with %d lines, announced=%v", len(lines), p.IsRewardSentAnnouncedToChat)
		}
	case app.EventAnnouncementFailed:
		if p.IsRewardSentAnnouncedToChat {
			t.Fatal("failure recorded, yet isRewardSentAnnouncedToChat")
		}
		// A line with a failure is the README's "stopped while posting":
		// the line went out in the killed attempt and no later one posted.
		if len(lines) == 1 && (linesBeforeKill != 1 || !strings.Contains(outcome.LastError, "stopped while posting")) {
			t.Fatalf("failure %q with a line that the killed attempt did not send (%d before the kill)", outcome.LastError, linesBeforeKill)
		}
	default:
		t.Fatalf("outcome %v", outcome)
	}
	switch kp.helix {
	case helixHangs:
		// Helix never answered the killed attempt: the EBS cannot know
		// whether the line was posted, so it records the failure and does
		// not post again.
		if terminal[0].Type != app.EventAnnouncementFailed || len(lines) != 1 {
			t.Fatalf("after a kill while Helix hung: %v with %d lines, want a failure and the one line", terminal[0], len(lines))
		}
	case helixSignals:
		if len(lines) != 1 {
			t.Fatalf("after a kill once Helix answered: %d lines", len(lines))
		}
	case helixAnswers:
		if kp.name == "after the outcome is recorded" && (terminal[0].Type != app.EventAnnouncementSucceeded || len(lines) != 1) {
			t.Fatalf("after a kill with the outcome recorded: %v with %d lines", terminal[0], len(lines))
		}
		// Killed before any worker had fetched the job: the restart posts.
		if linesBeforeKill == 0 && stateAtKill == "available" && terminal[0].Type != app.EventAnnouncementSucceeded {
			t.Fatalf("job never started before the kill, yet %v", terminal[0])
		}
	}
}

// jobState is the reward announcement job's River state ("" before it exists).
func jobState(t *testing.T, db *sql.DB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var state string
	err := db.QueryRowContext(ctx, `SELECT CAST(state AS TEXT) FROM river_job WHERE kind = 'reward_announcement'`).Scan(&state)
	if err != nil && err != sql.ErrNoRows {
		t.Fatalf("river_job: %v", err)
	}
	return state
}

// finished reports a River state after which the job never runs again.
func finished(state string) bool {
	return state == "completed" || state == "discarded" || state == "cancelled"
}

func terminalEvents(t *testing.T, base, id string) []outcomeEvent {
	t.Helper()
	var hist []struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if s := desktopCall(t, http.MethodGet, base+"/api/payouts/"+id+"/history", nil, &hist); s != http.StatusOK {
		t.Fatalf("history: %d", s)
	}
	var out []outcomeEvent
	for _, h := range hist {
		if h.Type == app.EventAnnouncementSucceeded || h.Type == app.EventAnnouncementFailed {
			var d struct {
				LastError string `json:"lastError"`
			}
			_ = json.Unmarshal(h.Data, &d)
			out = append(out, outcomeEvent{Type: h.Type, LastError: d.LastError})
		}
	}
	return out
}

// outcomeEvent is a recorded announcement outcome from a payout's history.
type outcomeEvent struct{ Type, LastError string }
