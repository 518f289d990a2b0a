package ebs_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
	"github.com/mimirons-goldomatic/mgm/internal/twitchauth"
	"github.com/mimirons-goldomatic/mgm/internal/twitchws"
)

const (
	wsBroadcaster = "70001"
	wsClientID    = "replica-ws-client"
	// wsLeaseSeconds is Mgm__EventSub__LeaseSeconds: a dead holder's lease
	// expires within it, and a standby replica asks every third of it.
	wsLeaseSeconds = 3
	// wsPerSession is how many delivered messages each session must see.
	wsPerSession = 15
)

// The three-replica test for the EventSub WebSocket: three real
// mgm-ebs processes on one PostgreSQL database, Twitch played by the
// stand-ins. Exactly one replica holds a WebSocket session; chat keeps
// arriving while the holder is killed with kill -9; another replica takes
// the lease and the connection over within seconds; and every chat message
// Twitch delivered to a live session is enrolled exactly once.
//
// Twitch does not queue WebSocket notifications: a message sent while no
// session is subscribed goes nowhere, and one handed to the killed
// holder's socket in its last moments may die with it. The test sends
// regardless and sorts each message by the send-chat answer's deliveries.
func TestEventSubWebSocketReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts mgm-ebs replicas; about 20 s")
	}
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	hub := twitchsim.NewHub(twitchsim.HubOptions{})
	stand := twitchsim.NewHelix(twitchsim.HelixOptions{Hub: hub})
	srv := httptest.NewServer(stand)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = stand.Close() }) // runs before srv.Close, after the replicas stop
	sim := &simClient{t: t, base: srv.URL, hc: &http.Client{Timeout: 10 * time.Second}}
	token := sim.signIn(wsBroadcaster, "replicastreamer")

	bin := buildEBS(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"Mgm__Environment=Development", "Mgm__ApiKey=" + testAPIKey, "ConnectionStrings__PostgreSQL=" + dsn,
		"Mgm__EventSub__LeaseSeconds=" + fmt.Sprint(wsLeaseSeconds),
		"Twitch__EventSubTransport=websocket", "Twitch__EventSubWebSocketUrl=ws" + strings.TrimPrefix(srv.URL, "http") + "/ws",
		"Twitch__HelixApiBaseUrl=" + srv.URL, "Twitch__AuthBaseUrl=" + srv.URL,
		"Twitch__BroadcasterAccessToken=" + token, "Twitch__HelixClientId=" + wsClientID, "Twitch__BroadcasterUserId=" + wsBroadcaster,
	}
	replicas := make([]*ebsProcess, 3)
	for i := range replicas {
		replicas[i] = startProcess(t, bin, env)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// At most one session at the stand-in at any moment, from start to end.
	mon := watchSessions(sim)
	defer mon.stop()

	first, firstSession := waitOneHolder(t, sim, replicas, nil, 30*time.Second)
	if h := leaseHolder(t, db); !strings.Contains(h, fmt.Sprintf("-%d-", replicas[first].cmd.Process.Pid)) {
		t.Fatalf("the lease is held by %q, not by replica %d (pid %d) which holds the session", h, first, replicas[first].cmd.Process.Pid)
	}
	t.Logf("replica %d holds session %s", first, firstSession)

	chat := startChatter(sim)
	defer chat.stop()
	// Before the kill: the first holder enrolls what it was given.
	barrier := chat.waitDelivered(t, firstSession, wsPerSession, 20*time.Second)
	waitEnrolled(t, db, barrier, 20*time.Second)

	killedAt := time.Now()
	replicas[first].kill9(t)
	survivors := []int{}
	for i := range replicas {
		if i != first {
			survivors = append(survivors, i)
		}
	}
	// Lease expiry, plus a standby's next ask, plus connect and subscribe:
	// about wsLeaseSeconds * 4/3 and a second; the deadline is generous.
	second, secondSession := waitOneHolder(t, sim, replicas, survivors, 20*time.Second)
	t.Logf("replica %d took over with session %s %v after the kill", second, secondSession, time.Since(killedAt).Round(100*time.Millisecond))
	if secondSession == firstSession {
		t.Fatalf("the session %s survived its holder's kill -9", firstSession)
	}
	if h := leaseHolder(t, db); !strings.Contains(h, fmt.Sprintf("-%d-", replicas[second].cmd.Process.Pid)) {
		t.Fatalf("after the takeover the lease is held by %q, not by replica %d (pid %d)", h, second, replicas[second].cmd.Process.Pid)
	}
	after := chat.waitDelivered(t, secondSession, wsPerSession, 20*time.Second)
	sent := chat.stop()
	mon.stop()

	// Every message delivered to a session that stayed alive is enrolled:
	// those before the barrier and all the new holder's.
	var must []chatSent
	for _, m := range sent {
		if m.session == secondSession || (m.session == firstSession && m.seq <= barrier[len(barrier)-1].seq) {
			must = append(must, m)
		}
	}
	if len(after) < wsPerSession {
		t.Fatalf("only %d messages reached the new session", len(after))
	}
	waitEnrolled(t, db, must, 20*time.Second)

	entered := poolEnteredByMessage(t, db)
	var lostInKill, undelivered int
	for _, m := range sent {
		n := entered[m.chatID]
		switch {
		case m.deliveries > 1:
			t.Errorf("message %s went to %d subscriptions; one replica must hold the only one", m.chatID, m.deliveries)
		case m.session == "":
			undelivered++
			if n != 0 {
				t.Errorf("message %s reached no session, yet it enrolled %d times", m.chatID, n)
			}
		case m.session == firstSession && m.seq > barrier[len(barrier)-1].seq:
			// Handed to the killed holder's socket: Twitch would lose it too
			// if the process died before reading it; it may not count twice.
			if n == 0 {
				lostInKill++
			}
			if n > 1 {
				t.Errorf("message %s (to the killed holder) enrolled %d times", m.chatID, n)
			}
		case m.session != firstSession && m.session != secondSession:
			t.Errorf("message %s went to session %s, neither holder's", m.chatID, m.session)
		case n != 1:
			t.Errorf("message %s delivered to session %s enrolled %d times, want exactly once", m.chatID, m.session, n)
		}
	}
	var pool int
	if err := db.QueryRow(`SELECT COUNT(*) FROM pool`).Scan(&pool); err != nil {
		t.Fatal(err)
	}
	enrolled := 0
	for _, n := range entered {
		enrolled += n
	}
	if pool != enrolled {
		t.Errorf("%d viewers in the pool, %d PoolEntered events", pool, enrolled)
	}
	// Each processed delivery is recorded with its enrollment in one
	// transaction: as many as enrolled means none was handled twice, nor
	// handled without enrolling.
	var processed int
	if err := db.QueryRow(`SELECT COUNT(*) FROM eventsub_messages WHERE message_type = 'notification'`).Scan(&processed); err != nil {
		t.Fatal(err)
	}
	if processed != enrolled {
		t.Errorf("%d EventSub notifications processed for %d enrollments", processed, enrolled)
	}
	t.Logf("%d messages sent: %d enrolled, %d reached no session, %d handed to the killed holder and lost with it",
		len(sent), enrolled, undelivered, lostInKill)

	if max := mon.stop(); max != 1 {
		t.Errorf("at most %d WebSocket sessions at once; want exactly one at a time", max)
	}
	// The third replica is still standing by.
	for _, i := range survivors {
		st := readyWS(t, replicas[i].base)
		if want := i == second; st.Holder != want || st.Connected != want {
			t.Errorf("replica %d: holder %v connected %v status %s; want holder and connected %v", i, st.Holder, st.Connected, st.Status, want)
		}
	}
}

// simClient calls the Twitch stand-ins' HTTP endpoints.
type simClient struct {
	t    *testing.T
	base string
	hc   *http.Client
}

// signIn plays the broadcaster through the OAuth stand-in's Device Code
// Grant flow and returns the user access token it issued: the subscriptions
// API accepts no other for the WebSocket transport.
func (s *simClient) signIn(userID, login string) string {
	t := s.t
	t.Helper()
	var dc struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	s.form("/oauth2/device", url.Values{"client_id": {wsClientID}, "scopes": {strings.Join(twitchauth.Scopes, " ")}}, &dc)
	if code := s.post("/sim/device/approve", twitchsim.DeviceApproval{UserCode: dc.UserCode, UserID: userID, Login: login}, nil); code != http.StatusOK {
		t.Fatalf("approve the device code: %d", code)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	s.form("/oauth2/token", url.Values{
		"client_id": {wsClientID}, "device_code": {dc.DeviceCode}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
	}, &tok)
	if tok.AccessToken == "" {
		t.Fatal("the OAuth stand-in issued no access token")
	}
	return tok.AccessToken
}

func (s *simClient) form(path string, v url.Values, out any) {
	s.t.Helper()
	resp, err := s.hc.PostForm(s.base+path, v)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("POST %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
}

// post sends body as JSON and decodes the answer into out (when not nil).
// It must not call t.Fatal: the chatter calls it from its own goroutine.
func (s *simClient) post(path string, body, out any) int {
	b, _ := json.Marshal(body)
	resp, err := s.hc.Post(s.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil && json.NewDecoder(resp.Body).Decode(out) != nil {
		return 0
	}
	return resp.StatusCode
}

// sessions is GET /sim/eventsub/ws/sessions; nil when the call failed.
func (s *simClient) sessions() []twitchsim.SessionInfo {
	resp, err := s.hc.Get(s.base + "/sim/eventsub/ws/sessions")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out []twitchsim.SessionInfo
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
		return nil
	}
	return out
}

// sessionMonitor records the largest number of WebSocket sessions the
// stand-in had at once.
type sessionMonitor struct {
	cancel context.CancelFunc
	done   chan struct{}
	max    int
}

func watchSessions(sim *simClient) *sessionMonitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &sessionMonitor{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			m.max = max(m.max, len(sim.sessions()))
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return m
}

// stop ends the watch (again, harmlessly) and returns the maximum seen.
func (m *sessionMonitor) stop() int {
	m.cancel()
	<-m.done
	return m.max
}

// readyWS is a replica's twitch_eventsub.websocket detail on /readyz.
func readyWS(t *testing.T, base string) twitchws.State {
	t.Helper()
	var body struct {
		TwitchEventSub struct {
			Transport string         `json:"transport"`
			WebSocket twitchws.State `json:"websocket"`
		} `json:"twitch_eventsub"`
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(base + "/readyz")
	if err != nil {
		t.Fatalf("GET %s/readyz: %v", base, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/readyz: %d %v", base, resp.StatusCode, err)
	}
	return body.TwitchEventSub.WebSocket
}

// waitOneHolder waits until the stand-in has exactly one session, with the
// subscriptions on it, and among the replicas still running exactly one
// says it holds that session while the others stand by. It returns that
// replica's index and the session id. running nil means all replicas.
func waitOneHolder(t *testing.T, sim *simClient, replicas []*ebsProcess, running []int, within time.Duration) (int, string) {
	t.Helper()
	if running == nil {
		for i := range replicas {
			running = append(running, i)
		}
	}
	var last string
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no single holder within %v: %s", within, last)
		}
		ss := sim.sessions()
		if len(ss) != 1 || ss[0].Subscriptions != wsSubscriptions {
			last = fmt.Sprintf("stand-in sessions %+v", ss)
			continue
		}
		holder, standby := -1, 0
		states := map[int]twitchws.State{}
		for _, i := range running {
			st := readyWS(t, replicas[i].base)
			states[i] = st
			switch {
			case st.Holder && st.Connected && st.Status == "subscribed" && st.SessionID == ss[0].ID:
				if holder >= 0 {
					t.Fatalf("replicas %d and %d both hold session %s: %+v", holder, i, ss[0].ID, states)
				}
				holder = i
			case !st.Holder && !st.Connected && st.Status == "standby":
				standby++
			}
		}
		if holder >= 0 && standby == len(running)-1 {
			return holder, ss[0].ID
		}
		last = fmt.Sprintf("session %s, replica states %+v", ss[0].ID, states)
	}
}

// leaseHolder is the EventSub WebSocket lease's holder in the database.
func leaseHolder(t *testing.T, db *sql.DB) string {
	t.Helper()
	var h string
	if err := db.QueryRow(`SELECT holder FROM leases WHERE name = $1`, twitchws.LeaseName).Scan(&h); err != nil {
		t.Fatalf("the EventSub WebSocket lease: %v", err)
	}
	return h
}

// chatSent is one chat message sent through the stand-in.
type chatSent struct {
	seq        int
	chatID     string
	userID     string
	session    string // the WebSocket session it was handed to; "" for none
	deliveries int
}

// chatter sends "!twgold <name>" from a new viewer every few milliseconds
// until stopped.
type chatter struct {
	sim    *simClient
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	sent   []chatSent
	errors []string
}

func startChatter(sim *simClient) *chatter {
	ctx, cancel := context.WithCancel(context.Background())
	c := &chatter{sim: sim, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for seq := 0; ctx.Err() == nil; seq++ {
			m := chatSent{seq: seq, chatID: fmt.Sprintf("ws-replica-msg-%d", seq), userID: fmt.Sprintf("ws-viewer-%d", seq)}
			var res twitchsim.ChatResult
			code := sim.post("/sim/eventsub/send-chat", twitchsim.SendChatRequest{
				UserID: m.userID, Login: fmt.Sprintf("viewer%d", seq), Text: "!twgold " + letterName(seq), Subscriber: true,
				BroadcasterUserID: wsBroadcaster, MessageID: m.chatID,
			}, &res)
			for _, d := range res.Deliveries {
				if d.Method == "websocket" && d.Queued && d.Error == "" {
					m.session = d.SessionID
					m.deliveries++
				}
			}
			c.mu.Lock()
			if code != http.StatusOK {
				c.errors = append(c.errors, fmt.Sprintf("send-chat %d: %d", seq, code))
			}
			c.sent = append(c.sent, m)
			c.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(25 * time.Millisecond):
			}
		}
	}()
	return c
}

// waitDelivered waits until n messages were handed to session and returns them.
func (c *chatter) waitDelivered(t *testing.T, session string, n int, within time.Duration) []chatSent {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		c.mu.Lock()
		var got []chatSent
		for _, m := range c.sent {
			if m.session == session {
				got = append(got, m)
			}
		}
		errs := c.errors
		c.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("the stand-in refused chat messages: %v", errs)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages reached session %s within %v, want %d", len(got), session, within, n)
		}
	}
}

// stop ends the sending (again, harmlessly) and returns every message sent.
func (c *chatter) stop() []chatSent {
	c.cancel()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]chatSent(nil), c.sent...)
}

// letterName is a valid, distinct character name for n (letters only).
func letterName(n int) string {
	return fmt.Sprintf("Vex%c%c%c", 'a'+rune(n/676%26), 'a'+rune(n/26%26), 'a'+rune(n%26))
}

// poolEnteredByMessage counts the PoolEntered events of each chat message id.
func poolEnteredByMessage(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	rows, err := db.Query(`SELECT data->>'messageId', COUNT(*) FROM events WHERE type = $1 GROUP BY 1`, app.EventPoolEntered)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id sql.NullString
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id.String] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitEnrolled waits until every message in ms has its PoolEntered event.
func waitEnrolled(t *testing.T, db *sql.DB, ms []chatSent, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(50 * time.Millisecond) {
		entered := poolEnteredByMessage(t, db)
		var missing []string
		for _, m := range ms {
			if entered[m.chatID] == 0 {
				missing = append(missing, m.chatID)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d delivered messages not enrolled within %v: %v", len(missing), len(ms), within, missing)
		}
	}
}
