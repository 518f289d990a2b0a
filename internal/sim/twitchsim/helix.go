package twitchsim

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

const (
	// HelixService names the Helix stand-in in its health body and logs.
	HelixService = "MockHelixApi"
	// DefaultHelixListen is where MainHelix listens by default.
	DefaultHelixListen = "127.0.0.1:9053"

	helixBodyLimit = 1 << 20
	// maxRecorded bounds the request log of a long-running stand-in; the
	// oldest entries are dropped first.
	maxRecorded = 10000

	healthHelix = `{"status":"healthy","component":"MockHelixApi"}`
)

// HelixOptions configure NewHelix.
type HelixOptions struct {
	// StrictAuth (MockHelix__StrictAuth) requires "Authorization: Bearer …"
	// and a non-empty Client-Id on the Helix routes, answering 401 like
	// Twitch otherwise.
	StrictAuth bool
	// Subscribers (MockHelix__Subscribers) are the user ids that subscribe
	// to the broadcaster; PUT /subscribers replaces them at runtime.
	Subscribers []string
	// Hub is the EventSub subscriptions API and WebSocket server (and, via
	// Hub.Auth, the OAuth stand-in) served beside Helix; nil builds one with
	// default options. Tokens the OAuth stand-in issued are checked on every
	// Helix route: 401 once expired or revoked, whatever StrictAuth says.
	Hub *Hub
	// RequireIssuedTokens (MockHelix__RequireIssuedTokens) also rejects
	// tokens the OAuth stand-in never issued.
	RequireIssuedTokens bool
	// PubSub configures Extension PubSub (POST /helix/extensions/pubsub and
	// the /_sim/extension-pubsub routes); its Now and Logger default to these.
	PubSub PubSubOptions
	// Now stamps recorded requests; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// RecordedRequest is one POST /helix/chat/messages as the stand-in received
// it, with the status it answered.
type RecordedRequest struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"` // Authorization, Client-Id, Content-Type (those present)
	// Body is the JSON body, or null when it was not valid JSON.
	Body       json.RawMessage `json:"body"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Status     int             `json:"status"`

	authorization *string
	clientID      *string
}

// Helix is the Helix stand-in: Send Chat Message and Get Broadcaster
// Subscriptions, plus controls to inspect requests and inject failures.
type Helix struct {
	strict bool
	issued bool
	hub    *Hub
	auth   *Auth
	now    func() time.Time
	log    *slog.Logger
	mux    *http.ServeMux

	mu          sync.Mutex
	requests    []RecordedRequest
	last        *RecordedRequest // last request answered 2xx
	failCount   int
	failStatus  int
	subscribers []string
}

// NewHelix builds the Helix stand-in.
func NewHelix(o HelixOptions) *Helix {
	hub := o.Hub
	if hub == nil {
		hub = NewHub(HubOptions{Now: o.Now, Logger: o.Logger})
	}
	h := &Helix{
		strict: o.StrictAuth, issued: o.RequireIssuedTokens, hub: hub, auth: hub.Auth(),
		now: nowFunc(o.Now), log: discardLogger(o.Logger), subscribers: cleanList(o.Subscribers),
	}
	mux := http.NewServeMux()
	hub.Register(mux)
	hub.Auth().Register(mux)
	ps := o.PubSub
	if ps.Now == nil {
		ps.Now = o.Now
	}
	if ps.Logger == nil {
		ps.Logger = o.Logger
	}
	newPubSub(ps).register(mux)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, http.StatusOK, healthHelix) })
	mux.HandleFunc("POST /helix/chat/messages", h.handleChatMessage)
	mux.HandleFunc("GET /helix/subscriptions", h.handleSubscriptions)
	mux.HandleFunc("GET /last-request", h.handleLastRequest)
	mux.HandleFunc("GET /requests", h.handleRequests)
	mux.HandleFunc("POST /reset", h.handleReset)
	mux.HandleFunc("POST /fail-next", h.handleFailNext)
	mux.HandleFunc("GET /subscribers", h.handleGetSubscribers)
	mux.HandleFunc("PUT /subscribers", h.handlePutSubscribers)
	h.mux = mux
	return h
}

func (h *Helix) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Hub is the EventSub hub served beside Helix.
func (h *Helix) Hub() *Hub { return h.hub }

// Close ends the hub's WebSocket sessions and background deliveries.
func (h *Helix) Close() error { h.hub.Close(); return nil }

// helixError answers Twitch's error shape {"error","status","message"}.
func helixError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, struct {
		Error   string `json:"error"`
		Status  int    `json:"status"`
		Message string `json:"message"`
	}{http.StatusText(status), status, message})
}

// authProblem is the 401 message for the request, or "" when it is
// authorised. A token the OAuth stand-in issued must be valid, belong to
// the Client-Id and carry scope (Twitch answers a missing scope with 401
// too); other tokens are checked only in strict mode.
func (h *Helix) authProblem(r *http.Request, scope string) string {
	if tok, ok := bearer(r, "Bearer"); ok {
		info, known, valid := h.auth.Lookup(tok)
		switch {
		case known && !valid:
			return "Invalid OAuth token"
		case known && r.Header.Get("Client-Id") != "" && r.Header.Get("Client-Id") != info.ClientID:
			return "Client ID and OAuth token do not match"
		case known && !info.IsApp() && scope != "" && !slices.Contains(info.Scopes, scope):
			return "Missing scope: " + scope
		case !known && h.issued:
			return "Invalid OAuth token"
		}
	} else if h.issued {
		return "OAuth token is missing"
	}
	if !h.strict {
		return ""
	}
	a := r.Header.Get("Authorization")
	if a == "" {
		return "OAuth token is missing"
	}
	if len(a) < len("Bearer ")+1 || !strings.EqualFold(a[:len("Bearer ")], "Bearer ") || strings.TrimSpace(a[len("Bearer "):]) == "" {
		return "Invalid OAuth token"
	}
	if strings.TrimSpace(r.Header.Get("Client-Id")) == "" {
		return "Client-Id header required"
	}
	return ""
}

func headerPtr(r *http.Request, name string) *string {
	vs, ok := r.Header[http.CanonicalHeaderKey(name)]
	if !ok || len(vs) == 0 {
		return nil
	}
	v := vs[0]
	return &v
}

func (h *Helix) handleChatMessage(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, helixBodyLimit+1))
	rec := RecordedRequest{
		Method: r.Method, Path: r.URL.Path, Headers: map[string]string{}, ReceivedAt: h.now().UTC(),
		authorization: headerPtr(r, "Authorization"), clientID: headerPtr(r, "Client-Id"),
	}
	for _, name := range []string{"Authorization", "Client-Id", "Content-Type"} {
		if p := headerPtr(r, name); p != nil {
			rec.Headers[name] = *p
		}
	}
	validJSON := err == nil && len(body) <= helixBodyLimit && json.Valid(body)
	if validJSON {
		var compact bytes.Buffer
		_ = json.Compact(&compact, body)
		rec.Body = compact.Bytes()
	}

	authProblem := h.authProblem(r, "user:write:chat")

	h.mu.Lock()
	status, message := http.StatusOK, ""
	switch {
	case authProblem != "":
		status, message = http.StatusUnauthorized, authProblem
	case !validJSON:
		status, message = http.StatusBadRequest, "The request body is not valid JSON."
	case h.failCount > 0:
		h.failCount--
		status, message = h.failStatus, "Injected failure (POST /fail-next)."
	}
	rec.Status = status
	h.requests = append(h.requests, rec)
	if len(h.requests) > maxRecorded {
		h.requests = append([]RecordedRequest(nil), h.requests[len(h.requests)-maxRecorded:]...)
	}
	if status == http.StatusOK {
		last := rec
		h.last = &last
	}
	h.mu.Unlock()

	h.log.Info("chat message", "status", status, "bytes", len(body))
	if status != http.StatusOK {
		helixError(w, status, message)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"data": []any{map[string]any{"message_id": uuid.NewString(), "is_sent": true, "drop_reason": nil}},
	})
}

// handleLastRequest answers the predecessor's shape: {"captured":false}, or
// {"captured":true,"body":…,"authorizationHeader":…,"clientIdHeader":…} for
// the last chat message answered 200 (an absent header is null).
func (h *Helix) handleLastRequest(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	last := h.last
	h.mu.Unlock()
	if last == nil {
		writeRaw(w, http.StatusOK, `{"captured":false}`)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Captured            bool            `json:"captured"`
		Body                json.RawMessage `json:"body"`
		AuthorizationHeader *string         `json:"authorizationHeader"`
		ClientIDHeader      *string         `json:"clientIdHeader"`
	}{true, last.Body, last.authorization, last.clientID})
}

func (h *Helix) handleRequests(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	out := append([]RecordedRequest{}, h.requests...)
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (h *Helix) handleReset(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	h.requests, h.last, h.failCount, h.failStatus = nil, nil, 0, 0
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// FailNext is the body (and answer) of POST /fail-next.
type FailNext struct {
	Count  int `json:"count"`
	Status int `json:"status"`
}

func (h *Helix) handleFailNext(w http.ResponseWriter, r *http.Request) {
	var req FailNext
	if err := decodeBody(r, controlBodyLimit, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Status == 0 {
		req.Status = http.StatusServiceUnavailable
	}
	switch {
	case req.Count < 0 || req.Count > 1000:
		writeError(w, http.StatusBadRequest, "count must be between 0 and 1000.")
		return
	case req.Status < 400 || req.Status > 599:
		writeError(w, http.StatusBadRequest, "status must be an HTTP error status (400–599).")
		return
	}
	h.mu.Lock()
	h.failCount, h.failStatus = req.Count, req.Status
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, req)
}

// Subscribers is the body (and answer) of PUT/GET /subscribers.
type Subscribers struct {
	UserIDs []string `json:"userIds"`
}

func (h *Helix) handleGetSubscribers(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	out := Subscribers{UserIDs: append([]string{}, h.subscribers...)}
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (h *Helix) handlePutSubscribers(w http.ResponseWriter, r *http.Request) {
	var req struct {
		UserIDs *[]string `json:"userIds"`
	}
	if err := decodeBody(r, controlBodyLimit, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.UserIDs == nil {
		writeError(w, http.StatusBadRequest, "userIds is required (an array of user ids; [] for none).")
		return
	}
	list := cleanList(*req.UserIDs)
	h.mu.Lock()
	h.subscribers = list
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, Subscribers{UserIDs: list})
}

type helixSubscription struct {
	BroadcasterID    string `json:"broadcaster_id"`
	BroadcasterLogin string `json:"broadcaster_login"`
	BroadcasterName  string `json:"broadcaster_name"`
	GifterID         string `json:"gifter_id"`
	GifterLogin      string `json:"gifter_login"`
	GifterName       string `json:"gifter_name"`
	IsGift           bool   `json:"is_gift"`
	Tier             string `json:"tier"`
	PlanName         string `json:"plan_name"`
	UserID           string `json:"user_id"`
	UserName         string `json:"user_name"`
	UserLogin        string `json:"user_login"`
}

// handleSubscriptions is Get Broadcaster Subscriptions: broadcaster_id is
// required; user_id (repeatable) filters, and without it every configured
// subscriber is listed. Every subscription is Tier 1 (one point).
func (h *Helix) handleSubscriptions(w http.ResponseWriter, r *http.Request) {
	if msg := h.authProblem(r, "channel:read:subscriptions"); msg != "" {
		helixError(w, http.StatusUnauthorized, msg)
		return
	}
	q := r.URL.Query()
	broadcaster := strings.TrimSpace(q.Get("broadcaster_id"))
	if broadcaster == "" {
		helixError(w, http.StatusBadRequest, `Missing required parameter "broadcaster_id"`)
		return
	}
	wanted := cleanList(q["user_id"])

	h.mu.Lock()
	subs := append([]string(nil), h.subscribers...)
	h.mu.Unlock()

	isSub := map[string]bool{}
	for _, id := range subs {
		isSub[id] = true
	}
	ids := subs
	if len(wanted) > 0 {
		ids = nil
		for _, id := range wanted {
			if isSub[id] {
				ids = append(ids, id)
			}
		}
	}
	data := make([]helixSubscription, 0, len(ids))
	for _, id := range ids {
		data = append(data, helixSubscription{
			BroadcasterID: broadcaster, BroadcasterLogin: broadcaster, BroadcasterName: broadcaster,
			Tier: "1000", PlanName: "Tier 1",
			UserID: id, UserName: id, UserLogin: strings.ToLower(id),
		})
	}
	writeJSON(w, http.StatusOK, struct {
		Data       []helixSubscription `json:"data"`
		Total      int                 `json:"total"`
		Points     int                 `json:"points"`
		Pagination struct{}            `json:"pagination"`
	}{Data: data, Total: len(data), Points: len(data)})
}
