package twitchws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/metrics"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
	"github.com/mimirons-goldomatic/mgm/internal/twitchsubs"
	"github.com/mimirons-goldomatic/mgm/internal/twitchws"
)

const (
	broadcaster = "1001"
	clientID    = "testclientid"
)

// fakeTwitch is an EventSub WebSocket server and the Helix subscription
// endpoint, speaking Twitch's documented message shapes
// (https://dev.twitch.tv/docs/eventsub/websocket-reference/).
type fakeTwitch struct {
	t     *testing.T
	srv   *httptest.Server
	conns chan *serverConn

	mu      sync.Mutex
	subs    []string // the session ids chat subscriptions were created on
	streams []string // stream.online/offline subscriptions: "type@session"
	reject  int      // answer this many creates 401
	tokens  []string
	seenIDs map[string]bool
}

type serverConn struct {
	ws     *websocket.Conn
	query  url.Values
	closed chan websocket.StatusCode // the status the client closed with
}

func newFakeTwitch(t *testing.T) *fakeTwitch {
	f := &fakeTwitch{t: t, conns: make(chan *serverConn, 16), seenIDs: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		sc := &serverConn{ws: ws, query: r.URL.Query(), closed: make(chan websocket.StatusCode, 1)}
		f.conns <- sc
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				sc.closed <- websocket.CloseStatus(err)
				return
			}
		}
	})
	mux.HandleFunc("POST /helix/eventsub/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Type      string               `json:"type"`
			Version   string               `json:"version"`
			Condition map[string]string    `json:"condition"`
			Transport twitchsubs.Transport `json:"transport"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.tokens = append(f.tokens, r.Header.Get("Authorization"))
		if f.reject > 0 {
			f.reject--
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}`))
			return
		}
		if r.Header.Get("Client-Id") != clientID || body.Version != "1" || body.Transport.Method != "websocket" || body.Transport.SessionID == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch body.Type {
		case "channel.chat.message":
			if !maps.Equal(body.Condition, map[string]string{"broadcaster_user_id": broadcaster, "user_id": broadcaster}) {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			f.subs = append(f.subs, body.Transport.SessionID)
		case "stream.online", "stream.offline":
			if !maps.Equal(body.Condition, map[string]string{"broadcaster_user_id": broadcaster}) {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			f.streams = append(f.streams, body.Type+"@"+body.Transport.SessionID)
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprintf(w, `{"data":[{"id":"sub-%s-%d","status":"enabled","type":%q,"version":"1","condition":{"broadcaster_user_id":%q},"created_at":"2026-11-29T10:11:12.123Z","transport":{"method":"websocket","session_id":%q,"connected_at":"2026-11-29T10:11:12.123Z"},"cost":0}],"total":1,"total_cost":0,"max_total_cost":10}`,
				body.Type, len(f.streams), body.Type, broadcaster, body.Transport.SessionID)
			return
		default:
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"data":[{"id":"sub-%d","status":"enabled","type":"channel.chat.message","version":"1","condition":{"broadcaster_user_id":%q,"user_id":%q},"created_at":"2026-11-29T10:11:12.123Z","transport":{"method":"websocket","session_id":%q,"connected_at":"2026-11-29T10:11:12.123Z"},"cost":0}],"total":1,"total_cost":0,"max_total_cost":10}`,
			len(f.subs), broadcaster, broadcaster, body.Transport.SessionID)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwitch) wsURL() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ws" }

func (f *fakeTwitch) subscriptions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.subs...)
}

func (f *fakeTwitch) streamSubscriptions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.streams...)
}

// next waits for the client's next connection.
func (f *fakeTwitch) next() *serverConn {
	f.t.Helper()
	select {
	case sc := <-f.conns:
		return sc
	case <-time.After(20 * time.Second):
		f.t.Fatal("the client did not connect")
		return nil
	}
}

func (f *fakeTwitch) noConnection(within time.Duration) {
	f.t.Helper()
	select {
	case sc := <-f.conns:
		f.t.Fatalf("unexpected connection (query %v)", sc.query)
	case <-time.After(within):
	}
}

func (sc *serverConn) send(t *testing.T, msg string) {
	t.Helper()
	if err := sc.ws.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func ts() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func welcome(session string, keepalive int) string {
	return fmt.Sprintf(`{"metadata":{"message_id":"w-%s","message_type":"session_welcome","message_timestamp":%q},"payload":{"session":{"id":%q,"status":"connected","keepalive_timeout_seconds":%d,"reconnect_url":null,"connected_at":%q}}}`,
		session, ts(), session, keepalive, ts())
}

func keepaliveMsg(id string) string {
	return fmt.Sprintf(`{"metadata":{"message_id":%q,"message_type":"session_keepalive","message_timestamp":%q},"payload":{}}`, id, ts())
}

func reconnectMsg(session, url string) string {
	return fmt.Sprintf(`{"metadata":{"message_id":"r-%s","message_type":"session_reconnect","message_timestamp":%q},"payload":{"session":{"id":%q,"status":"reconnecting","keepalive_timeout_seconds":null,"reconnect_url":%q,"connected_at":%q}}}`,
		session, ts(), session, url, ts())
}

func subscriptionJSON(status string) string {
	return fmt.Sprintf(`{"id":"sub-1","status":%q,"type":"channel.chat.message","version":"1","cost":0,"condition":{"broadcaster_user_id":%q,"user_id":%q},"transport":{"method":"websocket","session_id":"s1"},"created_at":"2026-11-29T10:11:12.123Z"}`,
		status, broadcaster, broadcaster)
}

func notification(messageID, text string) string {
	return fmt.Sprintf(`{"metadata":{"message_id":%q,"message_type":"notification","message_timestamp":%q,"subscription_type":"channel.chat.message","subscription_version":"1"},"payload":{"subscription":%s,"event":{"broadcaster_user_id":%q,"broadcaster_user_login":"streamer","broadcaster_user_name":"Streamer","chatter_user_id":"2002","chatter_user_login":"viewer","chatter_user_name":"Viewer","message_id":%q,"message":{"text":%q,"fragments":[]},"color":"","badges":[],"message_type":"text"}}}`,
		messageID, ts(), subscriptionJSON("enabled"), broadcaster, "chat-"+messageID, text)
}

func revocation(id, status string) string {
	return fmt.Sprintf(`{"metadata":{"message_id":%q,"message_type":"revocation","message_timestamp":%q,"subscription_type":"channel.chat.message","subscription_version":"1"},"payload":{"subscription":%s}}`,
		id, ts(), subscriptionJSON(status))
}

// streamNotification is stream.online (online) or stream.offline as Twitch
// sends it (https://dev.twitch.tv/docs/eventsub/eventsub-reference/#stream-online-event).
func streamNotification(messageID string, online bool) string {
	typ, event := "stream.offline", fmt.Sprintf(`{"broadcaster_user_id":%q,"broadcaster_user_login":"streamer","broadcaster_user_name":"Streamer"}`, broadcaster)
	if online {
		typ = "stream.online"
		event = fmt.Sprintf(`{"id":"9001","broadcaster_user_id":%q,"broadcaster_user_login":"streamer","broadcaster_user_name":"Streamer","type":"live","started_at":%q}`, broadcaster, ts())
	}
	return fmt.Sprintf(`{"metadata":{"message_id":%q,"message_type":"notification","message_timestamp":%q,"subscription_type":%q,"subscription_version":"1"},"payload":{"subscription":%s,"event":%s}}`,
		messageID, ts(), typ, streamSubscriptionJSON(typ, "enabled"), event)
}

func streamSubscriptionJSON(typ, status string) string {
	return fmt.Sprintf(`{"id":"sub-%s","status":%q,"type":%q,"version":"1","cost":0,"condition":{"broadcaster_user_id":%q},"transport":{"method":"websocket","session_id":"s1"},"created_at":"2026-11-29T10:11:12.123Z"}`,
		typ, status, typ, broadcaster)
}

func streamRevocation(id, typ, status string) string {
	return fmt.Sprintf(`{"metadata":{"message_id":%q,"message_type":"revocation","message_timestamp":%q,"subscription_type":%q,"subscription_version":"1"},"payload":{"subscription":%s}}`,
		id, ts(), typ, streamSubscriptionJSON(typ, status))
}

// rotatingToken is a user token that a refresh replaces: tok-0, tok-1, …
type rotatingToken struct {
	mu          sync.Mutex
	n           int
	invalidated int
}

func (r *rotatingToken) Token(context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("tok-%d", r.n), nil
}

func (r *rotatingToken) Invalidate(tok string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if tok == fmt.Sprintf("tok-%d", r.n) {
		r.n++
		r.invalidated++
	}
}

// ingestion is the EBS's real ingestion (httpapi.Server over a store) and
// the registry its outcomes are counted in.
type ingestion struct {
	api *httpapi.Server
	m   *metrics.Metrics
}

func newIngestion(t *testing.T, db *store.DB) *ingestion {
	m := metrics.New()
	svc := app.New(db, app.Options{BroadcasterID: broadcaster, Observer: m})
	api := httpapi.New(httpapi.Deps{Service: svc, Config: config.Config{BroadcasterUserID: broadcaster}, Metrics: m, Logger: testkit.Logger(t)})
	return &ingestion{api: api, m: m}
}

// count is mgm_eventsub_messages_total for one type and outcome.
func (in *ingestion) count(t *testing.T, typ, outcome string) float64 {
	t.Helper()
	return counterValue(t, in.m, "mgm_eventsub_messages_total", map[string]string{"type": typ, "outcome": outcome})
}

func counterValue(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			if s.Counter != nil {
				return s.GetCounter().GetValue()
			}
			return s.GetGauge().GetValue()
		}
	}
	return 0
}

// eventually polls cond with a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type harness struct {
	f      *fakeTwitch
	in     *ingestion
	tok    *rotatingToken
	client *twitchws.Client
}

// start runs a client against f until the test ends.
func start(t *testing.T, f *fakeTwitch, in *ingestion, mutate func(*twitchws.Config)) *harness {
	t.Helper()
	tok := &rotatingToken{}
	cfg := twitchws.Config{
		URL:           f.wsURL(),
		Helix:         &twitchsubs.Helix{BaseURL: f.srv.URL, ClientID: clientID, Token: tok},
		BroadcasterID: broadcaster,
		Ingest:        in.api,
		BackoffMin:    10 * time.Millisecond,
		BackoffMax:    50 * time.Millisecond,
		Logger:        testkit.Logger(t),
		Jitter:        func() float64 { return 0.5 },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c := twitchws.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return &harness{f: f, in: in, tok: tok, client: c}
}

func reconnects(t *testing.T, c *twitchws.Client, reason string) float64 {
	t.Helper()
	m := metrics.New()
	m.Registry.MustRegister(c.Collector())
	return counterValue(t, m, "mgm_twitch_eventsub_ws_reconnects_total", map[string]string{"reason": reason})
}
