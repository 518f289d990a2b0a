package twitchsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
)

// The EventSub hub models Twitch's EventSub subscriptions API
// (https://dev.twitch.tv/docs/api/reference/#create-eventsub-subscription and
// the Get/Delete entries beside it) for the webhook and WebSocket
// transports, the webhook challenge handshake, revocations, and the
// EventSub WebSocket server (eventsubws.go).

const (
	statusEnabled             = "enabled"
	statusVerificationPending = "webhook_callback_verification_pending"
	statusVerificationFailed  = "webhook_callback_verification_failed"
	statusWSDisconnected      = "websocket_disconnected"

	maxTotalCost = 10000
	// webhookAttemptTimeout is how long Twitch waits for a callback; it
	// answers "within a few seconds" or the attempt fails.
	webhookAttemptTimeout = 10 * time.Second
)

// revocationReasons are the statuses a revocation can carry
// (https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#revoking-your-subscription).
var revocationReasons = []string{"authorization_revoked", "user_removed", "notification_failures_exceeded", "version_removed", "moderator_removed"}

// knownTypes are the subscription types the hub accepts, with the condition
// fields each requires and the scopes its user must have granted.
var knownTypes = map[string]struct {
	version        string
	conditionField []string
	userScopes     []string // scopes condition.user_id must have granted (WebSocket)
	webhookScopes  []string // the same for webhooks (app token)
}{
	chatMessageType: {
		version: chatMessageVersion, conditionField: []string{"broadcaster_user_id", "user_id"},
		userScopes: []string{"user:read:chat"}, webhookScopes: []string{"user:read:chat", "user:bot"},
	},
	// "No authorization required": any user token (WebSocket) or the app
	// token (webhook) may subscribe to any channel's live status.
	streamOnlineType:  {version: streamVersion, conditionField: []string{"broadcaster_user_id"}},
	streamOfflineType: {version: streamVersion, conditionField: []string{"broadcaster_user_id"}},
}

// The live status subscription types
// (https://dev.twitch.tv/docs/eventsub/eventsub-subscription-types/#streamonline).
const (
	streamOnlineType  = "stream.online"
	streamOfflineType = "stream.offline"
	streamVersion     = "1"
)

// needsUser: the type is read on behalf of condition.user_id, who must have
// authorized it; the others need no one's authorization.
func needsUser(typ string) bool { return slices.Contains(knownTypes[typ].conditionField, "user_id") }

// HubOptions configure NewHub.
type HubOptions struct {
	// Auth issues and checks the tokens the subscriptions API requires; nil
	// builds a default Auth.
	Auth *Auth
	// RequireHTTPSCallback rejects webhook callbacks that are not https on
	// port 443, as Twitch does (off by default: tests call back on loopback).
	RequireHTTPSCallback bool
	// Keepalive is the WebSocket keepalive_timeout_seconds when the client
	// asks for none (default 10 s; whole seconds).
	Keepalive time.Duration
	// WelcomeTimeout closes a session with 4003 when no subscription names
	// it within this time (default 10 s).
	WelcomeTimeout time.Duration
	// ReconnectGrace is how long an old connection lives after
	// session_reconnect (default 30 s); then it is closed with 4004.
	ReconnectGrace time.Duration
	// Client delivers webhooks; nil means a client with a 10 s timeout.
	Client *http.Client
	Now    func() time.Time
	Logger *slog.Logger
}

type hubSubscription struct {
	id        string
	status    string
	typ       string
	version   string
	condition map[string]string
	createdAt time.Time
	clientID  string
	userID    string // creator of a WebSocket subscription

	method         string
	callback       string
	secret         string
	sessionID      string
	connectedAt    time.Time
	disconnectedAt time.Time
}

// Hub is the EventSub stand-in behind the Helix stand-in. Close stops its
// connections and background deliveries.
type Hub struct {
	o    HubOptions
	auth *Auth
	now  func() time.Time
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	subs      map[string]*hubSubscription
	order     []string // subscription ids, oldest first
	sessions  map[string]*wsSession
	reconnect map[string]*wsSession // reconnect token → old session
}

// NewHub builds the EventSub hub.
func NewHub(o HubOptions) *Hub {
	if o.Auth == nil {
		o.Auth = NewAuth(AuthOptions{Now: o.Now, Logger: o.Logger})
	}
	if o.Keepalive <= 0 {
		o.Keepalive = 10 * time.Second
	}
	if o.WelcomeTimeout <= 0 {
		o.WelcomeTimeout = 10 * time.Second
	}
	if o.ReconnectGrace <= 0 {
		o.ReconnectGrace = 30 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: webhookAttemptTimeout}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		o: o, auth: o.Auth, now: nowFunc(o.Now), log: discardLogger(o.Logger), ctx: ctx, cancel: cancel,
		subs: map[string]*hubSubscription{}, sessions: map[string]*wsSession{}, reconnect: map[string]*wsSession{},
	}
	h.auth.OnGrantRevoked(func(userID string) { h.revokeUser(userID) })
	return h
}

// Auth is the OAuth stand-in the hub checks tokens with.
func (h *Hub) Auth() *Auth { return h.auth }

// Close ends every WebSocket session and waits for background work.
func (h *Hub) Close() {
	// Under mu, so no track call can add to wg after Wait has begun.
	h.mu.Lock()
	h.cancel()
	h.mu.Unlock()
	h.wg.Wait()
}

// track counts one more piece of background work, unless the hub is
// closing; done must be called when it ends.
func (h *Hub) track() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		return false
	}
	h.wg.Add(1)
	return true
}

// Register adds the subscriptions API, the WebSocket endpoint and the test
// endpoints to mux.
func (h *Hub) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /helix/eventsub/subscriptions", h.handleCreate)
	mux.HandleFunc("GET /helix/eventsub/subscriptions", h.handleList)
	mux.HandleFunc("DELETE /helix/eventsub/subscriptions", h.handleDelete)
	mux.HandleFunc("GET /ws", h.handleWS)
	mux.HandleFunc("POST /sim/eventsub/send-chat", h.handleSendChat)
	mux.HandleFunc("POST /sim/eventsub/send-stream-online", h.handleSendStream(true))
	mux.HandleFunc("POST /sim/eventsub/send-stream-offline", h.handleSendStream(false))
	mux.HandleFunc("POST /sim/eventsub/revoke", h.handleRevoke)
	mux.HandleFunc("GET /sim/eventsub/ws/sessions", h.handleSessions)
	mux.HandleFunc("POST /sim/eventsub/ws/reconnect", h.handleForceReconnect)
	mux.HandleFunc("POST /sim/eventsub/ws/keepalive", h.handleKeepalive)
	mux.HandleFunc("POST /sim/eventsub/ws/close", h.handleForceClose)
}

// goBackground runs f in the background; Close waits for it.
func (h *Hub) goBackground(f func(ctx context.Context)) {
	if !h.track() {
		return
	}
	go func() {
		defer h.wg.Done()
		f(h.ctx)
	}()
}

func (h *Hub) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timestampLayout)
}

// WireSubscription is a subscription as Twitch shows it.
type WireSubscription struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	Type      string            `json:"type"`
	Version   string            `json:"version"`
	Condition map[string]string `json:"condition"`
	CreatedAt string            `json:"created_at"`
	Transport map[string]string `json:"transport"`
	Cost      int               `json:"cost"`
}

func (h *Hub) wireLocked(s *hubSubscription) WireSubscription {
	tr := map[string]string{"method": s.method}
	if s.method == "webhook" {
		tr["callback"] = s.callback
	} else {
		tr["session_id"] = s.sessionID
		if !s.connectedAt.IsZero() {
			tr["connected_at"] = h.stamp(s.connectedAt)
		}
		if !s.disconnectedAt.IsZero() {
			tr["disconnected_at"] = h.stamp(s.disconnectedAt)
		}
	}
	return WireSubscription{
		ID: s.id, Status: s.status, Type: s.typ, Version: s.version, Condition: maps(s.condition),
		CreatedAt: h.stamp(s.createdAt), Transport: tr, Cost: 0,
	}
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// authorize checks the Helix credentials: a token issued by the Auth
// stand-in, still valid, whose client id matches Client-Id.
func (h *Hub) authorize(w http.ResponseWriter, r *http.Request) (TokenInfo, bool) {
	tok, ok := bearer(r, "Bearer")
	if !ok {
		helixError(w, http.StatusUnauthorized, "OAuth token is missing")
		return TokenInfo{}, false
	}
	info, _, valid := h.auth.Lookup(tok)
	if !valid {
		helixError(w, http.StatusUnauthorized, "Invalid OAuth token")
		return TokenInfo{}, false
	}
	cid := strings.TrimSpace(r.Header.Get("Client-Id"))
	if cid == "" {
		helixError(w, http.StatusUnauthorized, "Client-Id header required")
		return TokenInfo{}, false
	}
	if cid != info.ClientID {
		helixError(w, http.StatusUnauthorized, "Client ID and OAuth token do not match")
		return TokenInfo{}, false
	}
	return info, true
}

type createRequest struct {
	Type      string            `json:"type"`
	Version   string            `json:"version"`
	Condition map[string]string `json:"condition"`
	Transport struct {
		Method    string `json:"method"`
		Callback  string `json:"callback"`
		Secret    string `json:"secret"`
		SessionID string `json:"session_id"`
	} `json:"transport"`
}

func (h *Hub) handleCreate(w http.ResponseWriter, r *http.Request) {
	info, ok := h.authorize(w, r)
	if !ok {
		return
	}
	var req createRequest
	if err := decodeBody(r, helixBodyLimit, &req, false); err != nil {
		helixError(w, http.StatusBadRequest, "The request body is not valid: "+err.Error())
		return
	}
	kt, known := knownTypes[req.Type]
	if !known || kt.version != req.Version {
		helixError(w, http.StatusBadRequest, "The combination of values in the type and version fields is not valid")
		return
	}
	for _, f := range kt.conditionField {
		if strings.TrimSpace(req.Condition[f]) == "" {
			helixError(w, http.StatusBadRequest, fmt.Sprintf("The condition field %s is required", f))
			return
		}
	}
	s := &hubSubscription{
		id: uuid.NewString(), typ: req.Type, version: req.Version, condition: maps(req.Condition),
		createdAt: h.now(), clientID: info.ClientID, method: strings.ToLower(req.Transport.Method),
	}
	var session *wsSession
	switch s.method {
	case "webhook":
		// Webhooks need an app access token; WebSockets a user access token
		// (https://dev.twitch.tv/docs/api/reference/#create-eventsub-subscription).
		if !info.IsApp() {
			helixError(w, http.StatusUnauthorized, "The webhook transport requires an app access token")
			return
		}
		if msg := h.callbackProblem(req.Transport.Callback); msg != "" {
			helixError(w, http.StatusBadRequest, msg)
			return
		}
		if n := len(req.Transport.Secret); n < 10 || n > 100 {
			helixError(w, http.StatusBadRequest, "The secret field must be between 10 and 100 characters")
			return
		}
		if needsUser(s.typ) && !hasAll(h.auth.UserScopes(info.ClientID, s.condition["user_id"]), kt.webhookScopes) {
			helixError(w, http.StatusForbidden, "subscription missing proper authorization")
			return
		}
		s.callback, s.secret, s.status = req.Transport.Callback, req.Transport.Secret, statusVerificationPending
	case "websocket":
		if info.IsApp() {
			helixError(w, http.StatusUnauthorized, "The websocket transport requires a user access token")
			return
		}
		if needsUser(s.typ) && (s.condition["user_id"] != info.UserID || !hasAll(info.Scopes, kt.userScopes)) {
			helixError(w, http.StatusForbidden, "subscription missing proper authorization")
			return
		}
		s.userID, s.sessionID, s.status = info.UserID, req.Transport.SessionID, statusEnabled
	default:
		helixError(w, http.StatusBadRequest, "The value specified in the method field is not valid")
		return
	}

	h.mu.Lock()
	if s.method == "websocket" {
		session = h.sessions[s.sessionID]
		if session == nil || !session.acceptsSubscriptions() {
			h.mu.Unlock()
			helixError(w, http.StatusBadRequest, "The value specified in the session_id field is not valid")
			return
		}
		s.connectedAt = session.connectedAt
	}
	for _, id := range h.order {
		o := h.subs[id]
		if o.clientID == s.clientID && o.typ == s.typ && o.version == s.version && o.method == s.method &&
			equalConditions(o.condition, s.condition) && (o.status == statusEnabled || o.status == statusVerificationPending) &&
			(s.method == "webhook" || o.sessionID == s.sessionID) {
			h.mu.Unlock()
			helixError(w, http.StatusConflict, "subscription already exists")
			return
		}
	}
	h.subs[s.id] = s
	h.order = append(h.order, s.id)
	out := h.wireLocked(s)
	total := h.countLocked(s.clientID)
	h.mu.Unlock()

	if session != nil {
		session.subscribed()
	}
	if s.method == "webhook" {
		h.goBackground(func(ctx context.Context) { h.verify(ctx, s.id) })
	}
	h.log.Info("eventsub subscription created", "id", s.id, "method", s.method, "status", out.Status)
	writeJSON(w, http.StatusAccepted, map[string]any{
		"data": []WireSubscription{out}, "total": total, "total_cost": 0, "max_total_cost": maxTotalCost,
	})
}

func (h *Hub) countLocked(clientID string) int {
	n := 0
	for _, s := range h.subs {
		if s.clientID == clientID {
			n++
		}
	}
	return n
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func equalConditions(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func (h *Hub) callbackProblem(cb string) string {
	if cb == "" {
		return "The callback field is required"
	}
	if !strings.HasPrefix(cb, "http://") && !strings.HasPrefix(cb, "https://") {
		return "The value specified in the callback field is not valid"
	}
	if h.o.RequireHTTPSCallback {
		rest, ok := strings.CutPrefix(cb, "https://")
		host, _, _ := strings.Cut(rest, "/")
		if !ok || (strings.Contains(host, ":") && !strings.HasSuffix(host, ":443")) {
			return "The callback must use HTTPS on port 443"
		}
	}
	return ""
}

// verify performs the webhook_callback_verification handshake: the
// subscription is enabled only when the callback answers 200 with exactly
// the challenge
// (https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#responding-to-a-challenge-request).
func (h *Hub) verify(ctx context.Context, id string) {
	challenge := rand.Text()
	h.mu.Lock()
	s := h.subs[id]
	if s == nil {
		h.mu.Unlock()
		return
	}
	body, _ := json.Marshal(map[string]any{"challenge": challenge, "subscription": h.wireLocked(s)})
	callback, secret, typ, version := s.callback, s.secret, s.typ, s.version
	h.mu.Unlock()

	status, answer, err := h.deliverWebhook(ctx, callback, secret, eventsub.TypeVerification, typ, version, "", body)
	ok := err == nil && status == http.StatusOK && string(answer) == challenge
	h.mu.Lock()
	if s := h.subs[id]; s != nil && s.status == statusVerificationPending {
		s.status = statusEnabled
		if !ok {
			s.status = statusVerificationFailed
		}
	}
	h.mu.Unlock()
	h.log.Info("webhook verification", "id", id, "ok", ok, "callback_status", status)
}

// deliverWebhook signs body with secret like Twitch and POSTs it; an empty
// messageID gets a fresh one.
func (h *Hub) deliverWebhook(ctx context.Context, callback, secret, messageType, subType, subVersion, messageID string, body []byte) (int, []byte, error) {
	if messageID == "" {
		messageID = uuid.NewString()
	}
	ts := h.stamp(h.now())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callback, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mgm-sim eventsub")
	req.Header.Set(eventsub.HeaderMessageID, messageID)
	req.Header.Set(HeaderMessageRetry, "0")
	req.Header.Set(eventsub.HeaderMessageType, messageType)
	req.Header.Set(eventsub.HeaderSignature, eventsub.Sign(secret, messageID, ts, body))
	req.Header.Set(eventsub.HeaderTimestamp, ts)
	req.Header.Set(eventsub.HeaderSubscriptionType, subType)
	req.Header.Set(HeaderSubscriptionVersion, subVersion)
	resp, err := h.o.Client.Do(req)
	if err != nil {
		return 0, nil, unwrapURLError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, backendBodyLimit))
	return resp.StatusCode, b, err
}

func (h *Hub) handleList(w http.ResponseWriter, r *http.Request) {
	info, ok := h.authorize(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	filters := 0
	for _, k := range []string{"status", "type", "user_id", "subscription_id"} {
		if q.Get(k) != "" {
			filters++
		}
	}
	if filters > 1 {
		helixError(w, http.StatusBadRequest, "The status, type, user_id and subscription_id query parameters are mutually exclusive")
		return
	}
	h.mu.Lock()
	data := []WireSubscription{}
	total := 0
	for _, id := range h.order {
		s := h.subs[id]
		// An app token sees the client's webhooks; a user token the
		// WebSocket subscriptions that user created.
		mine := s.clientID == info.ClientID && ((info.IsApp() && s.method == "webhook") || (!info.IsApp() && s.method == "websocket" && s.userID == info.UserID))
		if !mine {
			continue
		}
		total++
		switch {
		case q.Get("status") != "" && s.status != q.Get("status"),
			q.Get("type") != "" && s.typ != q.Get("type"),
			q.Get("user_id") != "" && s.condition["user_id"] != q.Get("user_id") && s.condition["broadcaster_user_id"] != q.Get("user_id"),
			q.Get("subscription_id") != "" && s.id != q.Get("subscription_id"):
			continue
		}
		data = append(data, h.wireLocked(s))
	}
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"data": data, "total": total, "total_cost": 0, "max_total_cost": maxTotalCost, "pagination": struct{}{},
	})
}

func (h *Hub) handleDelete(w http.ResponseWriter, r *http.Request) {
	info, ok := h.authorize(w, r)
	if !ok {
		return
	}
	id := r.URL.Query().Get("id")
	if id == "" {
		helixError(w, http.StatusBadRequest, `Missing required parameter "id"`)
		return
	}
	h.mu.Lock()
	s := h.subs[id]
	found := s != nil && s.clientID == info.ClientID
	if found {
		delete(h.subs, id)
		h.order = slices.DeleteFunc(h.order, func(x string) bool { return x == id })
	}
	h.mu.Unlock()
	if !found {
		helixError(w, http.StatusNotFound, "subscription not found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Delivery is one subscription a generated message went to.
type Delivery struct {
	SubscriptionID string `json:"subscriptionId"`
	Method         string `json:"method"`
	SessionID      string `json:"sessionId,omitempty"`
	Callback       string `json:"callback,omitempty"`
	MessageID      string `json:"eventMessageId"`
	// Status is the callback's HTTP status (webhook), or 0.
	Status int    `json:"status,omitempty"`
	Queued bool   `json:"queued,omitempty"` // WebSocket: handed to the session
	Error  string `json:"error,omitempty"`
}

// ChatResult is the answer of POST /sim/eventsub/send-chat.
type ChatResult struct {
	MessageID  string     `json:"messageId"`
	Deliveries []Delivery `json:"deliveries"`
}

// SendChat delivers a channel.chat.message event to every enabled
// subscription for its broadcaster, over whichever transport each uses,
// and reports where it went. event must be an esChatEvent-shaped value.
func (h *Hub) SendChat(ctx context.Context, broadcaster string, event any) []Delivery {
	return h.send(ctx, chatMessageType, broadcaster, event)
}

// send delivers event to every enabled subscription of type typ for the
// broadcaster.
func (h *Hub) send(ctx context.Context, typ, broadcaster string, event any) []Delivery {
	h.mu.Lock()
	type target struct {
		wire                WireSubscription
		callback, secret    string
		session             *wsSession
		subType, subVersion string
	}
	var targets []target
	for _, id := range h.order {
		s := h.subs[id]
		if s.typ != typ || s.status != statusEnabled || s.condition["broadcaster_user_id"] != broadcaster {
			continue
		}
		t := target{wire: h.wireLocked(s), callback: s.callback, secret: s.secret, subType: s.typ, subVersion: s.version}
		if s.method == "websocket" {
			t.session = h.sessions[s.sessionID]
		}
		targets = append(targets, t)
	}
	h.mu.Unlock()

	out := []Delivery{}
	for _, t := range targets {
		d := Delivery{SubscriptionID: t.wire.ID, Method: t.wire.Transport["method"], MessageID: uuid.NewString()}
		payload := map[string]any{"subscription": t.wire, "event": event}
		if d.Method == "webhook" {
			d.Callback = t.callback
			body, _ := json.Marshal(payload)
			status, _, err := h.deliverWebhook(ctx, t.callback, t.secret, eventsub.TypeNotification, t.subType, t.subVersion, d.MessageID, body)
			d.Status = status
			if err != nil {
				d.Error = err.Error()
			}
		} else {
			d.SessionID = t.wire.Transport["session_id"]
			if t.session == nil {
				d.Error = "the subscription's WebSocket session is gone"
			} else {
				t.session.enqueue(h.wsMessage(d.MessageID, "notification", t.subType, t.subVersion, payload))
				d.Queued = true
			}
		}
		out = append(out, d)
	}
	return out
}

func (h *Hub) handleSendChat(w http.ResponseWriter, r *http.Request) {
	var req SendChatRequest
	if err := decodeBody(r, controlBodyLimit, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if msg := validateChat(&req); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if req.BroadcasterUserID == "" {
		writeError(w, http.StatusBadRequest, "broadcasterUserId is required.")
		return
	}
	chatID := strings.TrimSpace(req.MessageID)
	if chatID == "" {
		chatID = uuid.NewString()
	}
	ds := h.SendChat(r.Context(), req.BroadcasterUserID, chatEvent(req, req.BroadcasterUserID, chatID))
	writeJSON(w, http.StatusOK, ChatResult{MessageID: chatID, Deliveries: ds})
}

// SendStreamRequest is the body of POST /sim/eventsub/send-stream-online
// and /sim/eventsub/send-stream-offline. Only broadcasterUserId is required.
type SendStreamRequest struct {
	BroadcasterUserID    string `json:"broadcasterUserId"`
	BroadcasterUserLogin string `json:"broadcasterUserLogin"`
	BroadcasterUserName  string `json:"broadcasterUserName"`
	// For stream.online: the stream's id (default a fresh number), its type
	// (default "live") and start (default now).
	StreamID  string `json:"streamId"`
	Type      string `json:"type"`
	StartedAt string `json:"startedAt"`
}

// StreamResult is the answer of the send-stream routes.
type StreamResult struct {
	Deliveries []Delivery `json:"deliveries"`
}

// streamOnlineEvent and streamOfflineEvent are the events as Twitch
// documents them (https://dev.twitch.tv/docs/eventsub/eventsub-reference/#stream-online-event).
type streamOnlineEvent struct {
	ID                   string `json:"id"`
	BroadcasterUserID    string `json:"broadcaster_user_id"`
	BroadcasterUserLogin string `json:"broadcaster_user_login"`
	BroadcasterUserName  string `json:"broadcaster_user_name"`
	Type                 string `json:"type"`
	StartedAt            string `json:"started_at"`
}

type streamOfflineEvent struct {
	BroadcasterUserID    string `json:"broadcaster_user_id"`
	BroadcasterUserLogin string `json:"broadcaster_user_login"`
	BroadcasterUserName  string `json:"broadcaster_user_name"`
}

// SendStream delivers stream.online (online) or stream.offline for the
// broadcaster to every enabled subscription of that type.
func (h *Hub) SendStream(ctx context.Context, online bool, req SendStreamRequest) []Delivery {
	login, name := req.BroadcasterUserLogin, req.BroadcasterUserName
	if login == "" {
		login = defaultBroadcasterLogin
	}
	if name == "" {
		name = defaultBroadcasterName
	}
	if !online {
		return h.send(ctx, streamOfflineType, req.BroadcasterUserID, streamOfflineEvent{req.BroadcasterUserID, login, name})
	}
	ev := streamOnlineEvent{ID: req.StreamID, BroadcasterUserID: req.BroadcasterUserID, BroadcasterUserLogin: login,
		BroadcasterUserName: name, Type: req.Type, StartedAt: req.StartedAt}
	if ev.ID == "" {
		ev.ID = fmt.Sprint(h.now().UnixNano())
	}
	if ev.Type == "" {
		ev.Type = "live"
	}
	if ev.StartedAt == "" {
		ev.StartedAt = h.stamp(h.now())
	}
	return h.send(ctx, streamOnlineType, req.BroadcasterUserID, ev)
}

func (h *Hub) handleSendStream(online bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req SendStreamRequest
		if err := decodeBody(r, controlBodyLimit, &req, false); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		req.BroadcasterUserID = strings.TrimSpace(req.BroadcasterUserID)
		if req.BroadcasterUserID == "" {
			writeError(w, http.StatusBadRequest, "broadcasterUserId is required.")
			return
		}
		writeJSON(w, http.StatusOK, StreamResult{Deliveries: h.SendStream(r.Context(), online, req)})
	}
}

// HubRevocation is the body of POST /sim/eventsub/revoke.
type HubRevocation struct {
	// SubscriptionID names one subscription; empty means every enabled one.
	SubscriptionID string `json:"subscriptionId"`
	// Status is the reason (default authorization_revoked).
	Status string `json:"status"`
}

func (h *Hub) handleRevoke(w http.ResponseWriter, r *http.Request) {
	var req HubRevocation
	if err := decodeBody(r, controlBodyLimit, &req, true); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Status == "" {
		req.Status = "authorization_revoked"
	}
	if !slices.Contains(revocationReasons, req.Status) {
		writeError(w, http.StatusBadRequest, "status must be one of "+strings.Join(revocationReasons, ", ")+".")
		return
	}
	ds := h.revoke(r.Context(), func(s *hubSubscription) bool {
		return req.SubscriptionID == "" || s.id == req.SubscriptionID
	}, req.Status)
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}

// revoke marks matching enabled subscriptions revoked with status and tells
// their transport.
func (h *Hub) revoke(ctx context.Context, match func(*hubSubscription) bool, status string) []Delivery {
	type target struct {
		wire             WireSubscription
		callback, secret string
		session          *wsSession
	}
	h.mu.Lock()
	var targets []target
	for _, id := range h.order {
		s := h.subs[id]
		if s.status != statusEnabled || !match(s) {
			continue
		}
		s.status = status
		t := target{wire: h.wireLocked(s), callback: s.callback, secret: s.secret}
		if s.method == "websocket" {
			t.session = h.sessions[s.sessionID]
		}
		targets = append(targets, t)
	}
	h.mu.Unlock()
	out := []Delivery{}
	for _, t := range targets {
		d := Delivery{SubscriptionID: t.wire.ID, Method: t.wire.Transport["method"], MessageID: uuid.NewString()}
		payload := map[string]any{"subscription": t.wire}
		if d.Method == "webhook" {
			d.Callback = t.callback
			body, _ := json.Marshal(payload)
			st, _, err := h.deliverWebhook(ctx, t.callback, t.secret, eventsub.TypeRevocation, t.wire.Type, t.wire.Version, d.MessageID, body)
			d.Status = st
			if err != nil {
				d.Error = err.Error()
			}
		} else if t.session != nil {
			d.SessionID = t.wire.Transport["session_id"]
			t.session.enqueue(h.wsMessage(d.MessageID, "revocation", t.wire.Type, t.wire.Version, payload))
			d.Queued = true
		}
		out = append(out, d)
	}
	return out
}

// revokeUser is Twitch's reaction to a user disconnecting the integration.
func (h *Hub) revokeUser(userID string) {
	h.goBackground(func(ctx context.Context) {
		h.revoke(ctx, func(s *hubSubscription) bool {
			// What needed no one's authorization loses none.
			return needsUser(s.typ) && (s.condition["user_id"] == userID || s.condition["broadcaster_user_id"] == userID)
		}, "authorization_revoked")
	})
}

// Subscriptions lists every subscription (oldest first), as Get EventSub
// Subscriptions would show it.
func (h *Hub) Subscriptions() []WireSubscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]WireSubscription, 0, len(h.order))
	for _, id := range h.order {
		out = append(out, h.wireLocked(h.subs[id]))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt < out[j].CreatedAt })
	return out
}
