package twitchsim

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// The EventSub WebSocket server, shaped like wss://eventsub.wss.twitch.tv/ws
// (https://dev.twitch.tv/docs/eventsub/handling-websocket-events/ and
// https://dev.twitch.tv/docs/eventsub/websocket-reference/).

// Close codes of the EventSub WebSocket server, with the reasons Twitch
// sends (https://dev.twitch.tv/docs/eventsub/handling-websocket-events/#close-message).
const (
	CloseInternalServerError  = 4000
	CloseSentInboundTraffic   = 4001
	CloseFailedPingPong       = 4002
	CloseConnectionUnused     = 4003
	CloseReconnectGraceExpiry = 4004
	CloseNetworkTimeout       = 4005
	CloseNetworkError         = 4006
	CloseInvalidReconnect     = 4007
)

var closeReasons = map[int]string{
	CloseInternalServerError:  "internal server error",
	CloseSentInboundTraffic:   "sent inbound traffic",
	CloseFailedPingPong:       "failed ping pong",
	CloseConnectionUnused:     "connection unused",
	CloseReconnectGraceExpiry: "client reconnect grace time expired",
	CloseNetworkTimeout:       "network timeout",
	CloseNetworkError:         "network error",
	CloseInvalidReconnect:     "invalid reconnect attempt",
}

// closeStatuses are the subscription statuses a session's end leaves
// behind (https://dev.twitch.tv/docs/api/reference/#get-eventsub-subscriptions).
var closeStatuses = map[int]string{
	CloseInternalServerError:  "websocket_internal_error",
	CloseSentInboundTraffic:   "websocket_received_inbound_traffic",
	CloseFailedPingPong:       "websocket_failed_ping_pong",
	CloseConnectionUnused:     "websocket_connection_unused",
	CloseReconnectGraceExpiry: "websocket_failed_to_reconnect",
	CloseNetworkTimeout:       "websocket_network_timeout",
	CloseNetworkError:         "websocket_network_error",
}

const (
	minKeepalive = 10
	maxKeepalive = 600
	wsQueueLimit = 10000
)

type wsSession struct {
	hub         *Hub
	id          string
	host        string
	conn        *websocket.Conn
	connectedAt time.Time
	keepalive   time.Duration

	mu          sync.Mutex
	queue       [][]byte
	status      string // connected, reconnecting
	hasSub      bool
	reconnectID string

	signal       chan struct{}
	closeReq     chan int
	reconnectReq chan struct{}
	keepaliveOff atomic.Bool
}

func newSessionID() string {
	return strings.ReplaceAll(strings.ReplaceAll(newToken()[:28], "0", "A"), "1", "Q")
}

func (s *wsSession) acceptsSubscriptions() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status == "connected"
}

func (s *wsSession) subscribed() {
	s.mu.Lock()
	s.hasSub = true
	s.mu.Unlock()
}

func (s *wsSession) enqueue(msg []byte) {
	s.mu.Lock()
	if len(s.queue) < wsQueueLimit {
		s.queue = append(s.queue, msg)
	}
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *wsSession) take() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

type wsMetadata struct {
	MessageID           string `json:"message_id"`
	MessageType         string `json:"message_type"`
	MessageTimestamp    string `json:"message_timestamp"`
	SubscriptionType    string `json:"subscription_type,omitempty"`
	SubscriptionVersion string `json:"subscription_version,omitempty"`
}

type wsSessionPayload struct {
	ID                      string  `json:"id"`
	Status                  string  `json:"status"`
	ConnectedAt             string  `json:"connected_at"`
	KeepaliveTimeoutSeconds *int    `json:"keepalive_timeout_seconds"`
	ReconnectURL            *string `json:"reconnect_url"`
	RecoveryURL             *string `json:"recovery_url"`
}

func (h *Hub) wsMessage(id, typ, subType, subVersion string, payload any) []byte {
	b, _ := json.Marshal(struct {
		Metadata wsMetadata `json:"metadata"`
		Payload  any        `json:"payload"`
	}{wsMetadata{id, typ, h.stamp(h.now()), subType, subVersion}, payload})
	return b
}

func (h *Hub) sessionMessage(s *wsSession, typ, status string, reconnectURL *string) []byte {
	p := wsSessionPayload{ID: s.id, Status: status, ConnectedAt: h.stamp(s.connectedAt), ReconnectURL: reconnectURL}
	if typ == "session_welcome" {
		k := int(s.keepalive / time.Second)
		p.KeepaliveTimeoutSeconds = &k
	}
	return h.wsMessage(uuid.NewString(), typ, "", "", map[string]any{"session": p})
}

// keepaliveFor reads keepalive_timeout_seconds: whole seconds 10–600; a
// numeric value out of range is moved to the nearest valid one.
func (h *Hub) keepaliveFor(r *http.Request) time.Duration {
	v := r.URL.Query().Get("keepalive_timeout_seconds")
	n, err := strconv.Atoi(v)
	if v == "" || err != nil {
		return max(time.Second, h.o.Keepalive.Truncate(time.Second))
	}
	return time.Duration(min(max(n, minKeepalive), maxKeepalive)) * time.Second
}

func (h *Hub) handleWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered
	}
	s := &wsSession{
		hub: h, id: newSessionID(), host: r.Host, conn: conn, connectedAt: h.now(), keepalive: h.keepaliveFor(r),
		status: "connected", signal: make(chan struct{}, 1), closeReq: make(chan int, 1), reconnectReq: make(chan struct{}, 1),
	}
	var old *wsSession
	if token := r.URL.Query().Get("reconnect"); token != "" {
		h.mu.Lock()
		old = h.reconnect[token]
		delete(h.reconnect, token)
		h.mu.Unlock()
		if old == nil {
			_ = conn.Close(CloseInvalidReconnect, closeReasons[CloseInvalidReconnect])
			return
		}
	}
	if !h.track() {
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	defer h.wg.Done()

	// The welcome goes first; then the subscriptions move, so every later
	// notification follows it on this connection while what was already
	// queued on the old one is still written there.
	s.enqueue(h.sessionMessage(s, "session_welcome", "connected", nil))
	h.mu.Lock()
	h.sessions[s.id] = s
	if old != nil {
		for _, sub := range h.subs {
			if sub.method == "websocket" && sub.sessionID == old.id {
				sub.sessionID, sub.connectedAt = s.id, s.connectedAt
				s.hasSub = true
			}
		}
	}
	h.mu.Unlock()
	h.log.Info("eventsub websocket connected", "session", s.id, "reconnect", old != nil)
	code := s.run(h.ctx)
	h.endSession(s, code)
}

// run serves the session until it ends and returns the close code that
// ended it (0 when the client left).
func (s *wsSession) run(ctx context.Context) int {
	h := s.hub
	readErr := make(chan error, 1)
	inbound := make(chan struct{}, 1)
	readCtx, stopRead := context.WithCancel(ctx)
	defer stopRead()
	go func() {
		for {
			if _, _, err := s.conn.Read(readCtx); err != nil {
				readErr <- err
				return
			}
			select {
			case inbound <- struct{}{}:
			default:
			}
		}
	}()
	// The reader ends once the connection is closed.
	defer func() {
		_ = s.conn.CloseNow()
		// The reader's error is the close just made (or the one that ended
		// the session, already handled below).
		if err := <-readErr; err != nil {
			return
		}
	}()

	// Twitch's keepalive_timeout_seconds is the longest silence a client
	// should see, so the keepalive comes a little before it.
	quiet := s.keepalive * 3 / 4
	keepalive := time.NewTimer(quiet)
	defer keepalive.Stop()
	unused := time.NewTimer(h.o.WelcomeTimeout)
	defer unused.Stop()
	var grace <-chan time.Time

	closeWith := func(code int) int {
		_ = s.conn.Close(websocket.StatusCode(code), closeReasons[code])
		return code
	}
	for {
		select {
		case <-ctx.Done():
			_ = s.conn.Close(websocket.StatusGoingAway, "server shutting down")
			return CloseInternalServerError
		case err := <-readErr:
			readErr <- err // for the deferred wait
			return 0
		case <-inbound:
			return closeWith(CloseSentInboundTraffic)
		case code := <-s.closeReq:
			return closeWith(code)
		case <-unused.C:
			s.mu.Lock()
			has := s.hasSub
			s.mu.Unlock()
			if !has {
				return closeWith(CloseConnectionUnused)
			}
		case <-s.reconnectReq:
			grace = time.After(h.o.ReconnectGrace)
		case <-grace:
			return closeWith(CloseReconnectGraceExpiry)
		case <-s.signal:
			for _, m := range s.take() {
				if err := s.conn.Write(ctx, websocket.MessageText, m); err != nil {
					return 0
				}
			}
			keepalive.Reset(quiet)
		case <-keepalive.C:
			if !s.keepaliveOff.Load() {
				if err := s.conn.Write(ctx, websocket.MessageText, h.wsMessage(uuid.NewString(), "session_keepalive", "", "", struct{}{})); err != nil {
					return 0
				}
			}
			keepalive.Reset(quiet)
		}
	}
}

// endSession forgets s; subscriptions still on it are disabled with the
// status its close code stands for.
func (h *Hub) endSession(s *wsSession, code int) {
	status, ok := closeStatuses[code]
	if !ok {
		status = statusWSDisconnected
	}
	now := h.now()
	h.mu.Lock()
	delete(h.sessions, s.id)
	s.mu.Lock()
	if s.reconnectID != "" {
		delete(h.reconnect, s.reconnectID)
	}
	s.mu.Unlock()
	for _, sub := range h.subs {
		if sub.method == "websocket" && sub.sessionID == s.id && sub.status == statusEnabled {
			sub.status, sub.disconnectedAt = status, now
		}
	}
	h.mu.Unlock()
	h.log.Info("eventsub websocket ended", "session", s.id, "code", code)
}

// selectSessions returns the named session, or every session for "".
func (h *Hub) selectSessions(id string) []*wsSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*wsSession
	for _, s := range h.sessions {
		if id == "" || s.id == id {
			out = append(out, s)
		}
	}
	return out
}

// Reconnect sends session_reconnect to the session (every session for
// ""), returning the reconnect URLs by session id.
func (h *Hub) Reconnect(sessionID string) map[string]string {
	out := map[string]string{}
	for _, s := range h.selectSessions(sessionID) {
		token := newToken()
		u := "ws://" + s.host + "/ws?reconnect=" + token
		s.mu.Lock()
		if s.status != "connected" {
			s.mu.Unlock()
			continue
		}
		s.status, s.reconnectID = "reconnecting", token
		s.mu.Unlock()
		h.mu.Lock()
		h.reconnect[token] = s
		h.mu.Unlock()
		s.enqueue(h.sessionMessage(s, "session_reconnect", "reconnecting", &u))
		select {
		case s.reconnectReq <- struct{}{}:
		default:
		}
		out[s.id] = u
	}
	return out
}

// SessionInfo is one connected session, for GET /sim/eventsub/ws/sessions.
type SessionInfo struct {
	ID                      string `json:"id"`
	Status                  string `json:"status"`
	ConnectedAt             string `json:"connectedAt"`
	KeepaliveTimeoutSeconds int    `json:"keepaliveTimeoutSeconds"`
	Keepalives              bool   `json:"keepalives"`
	Subscriptions           int    `json:"subscriptions"`
}

// Sessions lists the connected WebSocket sessions.
func (h *Hub) Sessions() []SessionInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []SessionInfo{}
	for _, s := range h.sessions {
		n := 0
		for _, sub := range h.subs {
			if sub.method == "websocket" && sub.sessionID == s.id && sub.status == statusEnabled {
				n++
			}
		}
		s.mu.Lock()
		st := s.status
		s.mu.Unlock()
		out = append(out, SessionInfo{
			ID: s.id, Status: st, ConnectedAt: h.stamp(s.connectedAt),
			KeepaliveTimeoutSeconds: int(s.keepalive / time.Second), Keepalives: !s.keepaliveOff.Load(), Subscriptions: n,
		})
	}
	return out
}

func (h *Hub) handleSessions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.Sessions())
}

// SessionControl is the body of the /sim/eventsub/ws/* controls; an empty
// sessionId means every session.
type SessionControl struct {
	SessionID string `json:"sessionId"`
	// Enabled turns keepalives on or off (/keepalive).
	Enabled *bool `json:"enabled"`
	// Code is the close code, 4000–4007 (/close).
	Code int `json:"code"`
}

func (h *Hub) decodeControl(w http.ResponseWriter, r *http.Request) (SessionControl, bool) {
	var req SessionControl
	if err := decodeBody(r, controlBodyLimit, &req, true); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return req, false
	}
	if req.SessionID != "" && len(h.selectSessions(req.SessionID)) == 0 {
		writeError(w, http.StatusNotFound, "no connected session has that id.")
		return req, false
	}
	return req, true
}

func (h *Hub) handleForceReconnect(w http.ResponseWriter, r *http.Request) {
	req, ok := h.decodeControl(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reconnectUrls": h.Reconnect(req.SessionID)})
}

func (h *Hub) handleKeepalive(w http.ResponseWriter, r *http.Request) {
	req, ok := h.decodeControl(w, r)
	if !ok {
		return
	}
	if req.Enabled == nil {
		writeError(w, http.StatusBadRequest, "enabled (true or false) is required.")
		return
	}
	ss := h.selectSessions(req.SessionID)
	for _, s := range ss {
		s.keepaliveOff.Store(!*req.Enabled)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": len(ss), "keepalives": *req.Enabled})
}

func (h *Hub) handleForceClose(w http.ResponseWriter, r *http.Request) {
	req, ok := h.decodeControl(w, r)
	if !ok {
		return
	}
	if _, known := closeReasons[req.Code]; !known {
		writeError(w, http.StatusBadRequest, "code must be one of Twitch's close codes, 4000–4007.")
		return
	}
	ss := h.selectSessions(req.SessionID)
	for _, s := range ss {
		select {
		case s.closeReq <- req.Code:
		default:
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": len(ss), "code": req.Code})
}
