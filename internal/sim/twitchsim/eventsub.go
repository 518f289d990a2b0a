package twitchsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const (
	// EventSubService names the EventSub stand-in in its health body and logs.
	EventSubService = "MockEventSubWebhook"
	// DefaultEventSubListen is where MainEventSub listens by default.
	DefaultEventSubListen = "127.0.0.1:9051"
	// DefaultBackendBaseURL is the EBS the EventSub stand-in delivers to.
	DefaultBackendBaseURL = "http://127.0.0.1:8080"
	// EventSubPath is the webhook route, on the stand-in and on the EBS.
	EventSubPath = "/api/twitch/eventsub"

	// HeaderMessageRetry and HeaderSubscriptionVersion are the Twitch
	// EventSub headers internal/eventsub has no constant for.
	HeaderMessageRetry        = "Twitch-Eventsub-Message-Retry"
	HeaderSubscriptionVersion = "Twitch-Eventsub-Subscription-Version"

	chatMessageType    = "channel.chat.message"
	chatMessageVersion = "1"

	forwardTimeout = 60 * time.Second
	// forwardBodyLimit is generous on purpose: the EBS enforces its own
	// (smaller) limit and must be the one to answer 413.
	forwardBodyLimit = 8 << 20
	// backendBodyLimit caps how much of an EBS answer is relayed.
	backendBodyLimit = 1 << 20
	controlBodyLimit = 64 << 10

	// timestampLayout is RFC 3339 with nanoseconds, always nine digits, as
	// Twitch sends it (e.g. 2023-07-19T14:56:51.634234626Z).
	timestampLayout = "2006-01-02T15:04:05.000000000Z07:00"

	healthEventSub = `{"status":"ok","service":"MockEventSubWebhook"}`

	defaultBroadcasterLogin = "mgm_broadcaster"
	defaultBroadcasterName  = "MGM_Broadcaster"
	defaultChatColor        = "#1E90FF"
)

// forwardedHeaders are copied from an incoming webhook request to the EBS
// (when present).
var forwardedHeaders = []string{
	eventsub.HeaderMessageID,
	eventsub.HeaderTimestamp,
	eventsub.HeaderSignature,
	eventsub.HeaderMessageType,
	HeaderMessageRetry,
	eventsub.HeaderSubscriptionType,
	HeaderSubscriptionVersion,
}

// EventSubOptions configure NewEventSub.
type EventSubOptions struct {
	// Secret is Twitch__EventSubSecret: incoming webhooks are verified with
	// it and generated messages are signed with it. Empty skips verification
	// (as the predecessor did) and signs with an empty key.
	Secret string
	// BackendBaseURL is Backend__BaseUrl (default DefaultBackendBaseURL); the
	// EBS's webhook is BackendBaseURL + EventSubPath.
	BackendBaseURL string
	// BroadcasterUserID is Twitch__BroadcasterUserId, the default broadcaster
	// of generated chat messages.
	BroadcasterUserID string
	// Client delivers to the EBS; nil means a client with a 60 s timeout.
	Client *http.Client
	// Hub, when it returns non-nil, receives /send-chat too: its
	// subscriptions (webhook or WebSocket) for the broadcaster get the
	// message instead of the fixed webhook. A func, so that mgm-sim all can
	// link it to the Helix stand-in built later.
	Hub func() *Hub
	// Now is the clock for timestamps; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// EventSub is the EventSub stand-in: it forwards webhooks to the EBS after
// checking their signature, and it generates, signs and delivers real-shaped
// EventSub messages (chat notifications, the verification handshake,
// revocations) itself.
type EventSub struct {
	secret      string
	backend     string // base URL without trailing slash
	broadcaster string
	client      *http.Client
	now         func() time.Time
	log         *slog.Logger
	mux         *http.ServeMux
	hub         func() *Hub

	// One simulated subscription per stand-in, like one real
	// channel.chat.message subscription: every message carries its id.
	subscriptionID        string
	subscriptionCreatedAt string
}

// NewEventSub builds the EventSub stand-in.
func NewEventSub(o EventSubOptions) *EventSub {
	base := strings.TrimRight(strings.TrimSpace(o.BackendBaseURL), "/")
	if base == "" {
		base = DefaultBackendBaseURL
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: forwardTimeout}
	}
	e := &EventSub{
		secret:         o.Secret,
		backend:        base,
		broadcaster:    o.BroadcasterUserID,
		client:         client,
		now:            nowFunc(o.Now),
		log:            discardLogger(o.Logger),
		hub:            o.Hub,
		subscriptionID: uuid.NewString(),
	}
	e.subscriptionCreatedAt = e.now().UTC().Format(timestampLayout)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, http.StatusOK, healthEventSub) })
	mux.HandleFunc("POST "+EventSubPath, e.handleForward)
	mux.HandleFunc("POST /send-chat", e.handleSendChat)
	mux.HandleFunc("POST /verify-subscription", e.handleVerifySubscription)
	mux.HandleFunc("POST /send-revocation", e.handleSendRevocation)
	e.mux = mux
	return e
}

func (e *EventSub) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

func (e *EventSub) hubFor() *Hub {
	if e.hub == nil {
		return nil
	}
	return e.hub()
}

func (e *EventSub) callbackURL() string { return e.backend + EventSubPath }

// handleForward is the predecessor's relay: verify like Twitch's signature,
// then pass the raw body and the Twitch headers to the EBS and relay its
// answer. Freshness is left to the EBS (the predecessor had none), so a
// correctly signed but old message is forwarded and the EBS decides.
func (e *EventSub) handleForward(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, forwardBodyLimit+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "could not read the body")
		return
	}
	if len(body) > forwardBodyLimit {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", forwardBodyLimit))
		return
	}
	if e.secret != "" {
		err := eventsub.Verify(e.secret, r.Header, body, e.now(), 0)
		if err != nil && !mgm.IsCode(err, mgm.CodeStaleMessage) {
			e.log.Warn("rejected a webhook with a bad signature", "bytes", len(body), "reason", err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	h := http.Header{}
	for _, name := range forwardedHeaders {
		if v := r.Header.Get(name); v != "" {
			h.Set(name, v)
		}
	}
	res, err := e.deliver(r.Context(), h, body)
	if err != nil {
		e.log.Warn("forwarding to the EBS failed", "bytes", len(body), "error", err.Error())
		writeError(w, http.StatusBadGateway, err.Error())
		return
	}
	e.log.Info("forwarded a webhook", "bytes", len(body), "backend_status", res.status)
	if res.contentType != "" {
		w.Header().Set("Content-Type", res.contentType)
	}
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

type backendResult struct {
	status      int
	contentType string
	body        []byte
}

func (b backendResult) ok() bool { return b.status >= 200 && b.status <= 299 }

// deliver POSTs body with the given headers to the EBS's webhook.
func (e *EventSub) deliver(ctx context.Context, h http.Header, body []byte) (backendResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.callbackURL(), bytes.NewReader(body))
	if err != nil {
		return backendResult{}, fmt.Errorf("building the request to the EBS: %w", err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "mgm-sim eventsub")
	resp, err := e.client.Do(req)
	if err != nil {
		return backendResult{}, fmt.Errorf("the EBS at %s did not answer: %w", e.callbackURL(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, backendBodyLimit))
	if err != nil {
		return backendResult{}, fmt.Errorf("reading the EBS's answer: %w", err)
	}
	return backendResult{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: rb}, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// sendSigned signs body like Twitch and delivers it with all of Twitch's
// headers.
func (e *EventSub) sendSigned(ctx context.Context, messageType, subType string, body []byte) (string, backendResult, error) {
	id, h := e.signedHeaders(messageType, subType, body)
	res, err := e.deliver(ctx, h, body)
	return id, res, err
}

// signedHeaders are Twitch's webhook headers for body: a fresh message id,
// an RFC 3339 nanosecond timestamp and the HMAC signature over both and body.
func (e *EventSub) signedHeaders(messageType, subType string, body []byte) (string, http.Header) {
	id := uuid.NewString()
	ts := e.now().UTC().Format(timestampLayout)
	h := http.Header{}
	h.Set(eventsub.HeaderMessageID, id)
	h.Set(HeaderMessageRetry, "0")
	h.Set(eventsub.HeaderMessageType, messageType)
	h.Set(eventsub.HeaderSignature, eventsub.Sign(e.secret, id, ts, body))
	h.Set(eventsub.HeaderTimestamp, ts)
	h.Set(eventsub.HeaderSubscriptionType, subType)
	h.Set(HeaderSubscriptionVersion, chatMessageVersion)
	return id, h
}

// SignedChatNotification is what /send-chat would POST to the EBS for req,
// without sending it: the body of a channel.chat.message notification
// (chatMessageID as event.message_id) and Twitch's headers, signed with the
// stand-in's secret. Load generators post it themselves, over their own
// connections.
func (e *EventSub) SignedChatNotification(req SendChatRequest, chatMessageID string) ([]byte, http.Header, error) {
	body, err := e.ChatNotification(req, chatMessageID)
	if err != nil {
		return nil, nil, err
	}
	_, h := e.signedHeaders(eventsub.TypeNotification, chatMessageType, body)
	h.Set("Content-Type", "application/json; charset=utf-8")
	return body, h, nil
}

// Twitch-shaped JSON. Field order follows Twitch's documentation examples.

type esSubscription struct {
	ID        string      `json:"id"`
	Status    string      `json:"status"`
	Type      string      `json:"type"`
	Version   string      `json:"version"`
	Cost      int         `json:"cost"`
	Condition esCondition `json:"condition"`
	Transport esTransport `json:"transport"`
	CreatedAt string      `json:"created_at"`
}

type esCondition struct {
	BroadcasterUserID string `json:"broadcaster_user_id"`
	UserID            string `json:"user_id"`
}

type esTransport struct {
	Method   string `json:"method"`
	Callback string `json:"callback"`
}

type esBadge struct {
	SetID string `json:"set_id"`
	ID    string `json:"id"`
	Info  string `json:"info"`
}

type esFragment struct {
	Type      string `json:"type"`
	Text      string `json:"text"`
	Cheermote any    `json:"cheermote"`
	Emote     any    `json:"emote"`
	Mention   any    `json:"mention"`
}

type esMessage struct {
	Text      string       `json:"text"`
	Fragments []esFragment `json:"fragments"`
}

type esChatEvent struct {
	BroadcasterUserID           string    `json:"broadcaster_user_id"`
	BroadcasterUserLogin        string    `json:"broadcaster_user_login"`
	BroadcasterUserName         string    `json:"broadcaster_user_name"`
	ChatterUserID               string    `json:"chatter_user_id"`
	ChatterUserLogin            string    `json:"chatter_user_login"`
	ChatterUserName             string    `json:"chatter_user_name"`
	MessageID                   string    `json:"message_id"`
	Message                     esMessage `json:"message"`
	Color                       string    `json:"color"`
	Badges                      []esBadge `json:"badges"`
	MessageType                 string    `json:"message_type"`
	Cheer                       any       `json:"cheer"`
	Reply                       any       `json:"reply"`
	ChannelPointsCustomRewardID *string   `json:"channel_points_custom_reward_id"`
	ChannelPointsAnimationID    *string   `json:"channel_points_animation_id"`
	SourceBroadcasterUserID     *string   `json:"source_broadcaster_user_id"`
	SourceBroadcasterUserLogin  *string   `json:"source_broadcaster_user_login"`
	SourceBroadcasterUserName   *string   `json:"source_broadcaster_user_name"`
	SourceMessageID             *string   `json:"source_message_id"`
	SourceBadges                []esBadge `json:"source_badges"` // nil → null
}

type esNotification struct {
	Subscription esSubscription `json:"subscription"`
	Event        esChatEvent    `json:"event"`
}

type esVerification struct {
	Challenge    string         `json:"challenge"`
	Subscription esSubscription `json:"subscription"`
}

type esRevocation struct {
	Subscription esSubscription `json:"subscription"`
}

func (e *EventSub) subscription(status, broadcasterID string) esSubscription {
	return esSubscription{
		ID: e.subscriptionID, Status: status, Type: chatMessageType, Version: chatMessageVersion, Cost: 0,
		// user_id is the user the chat is read as: the broadcaster's own token.
		Condition: esCondition{BroadcasterUserID: broadcasterID, UserID: broadcasterID},
		Transport: esTransport{Method: "webhook", Callback: e.callbackURL()},
		CreatedAt: e.subscriptionCreatedAt,
	}
}

// SendChatRequest is the body of POST /send-chat.
type SendChatRequest struct {
	UserID            string   `json:"userId"`
	Login             string   `json:"login"`
	DisplayName       string   `json:"displayName"`
	Text              string   `json:"text"`
	Subscriber        bool     `json:"subscriber"`
	BroadcasterUserID string   `json:"broadcasterUserId"`
	Badges            []string `json:"badges"`
	MessageID         string   `json:"messageId"`
	Color             string   `json:"color"`
}

// SendResult is the answer of /send-chat and /send-revocation.
type SendResult struct {
	MessageID      string `json:"messageId,omitempty"`
	EventMessageID string `json:"eventMessageId"`
	BackendStatus  int    `json:"backendStatus"`
	BackendBody    string `json:"backendBody"`
	Error          string `json:"error,omitempty"`
	// Deliveries lists the subscriptions (webhook or WebSocket) a chat
	// message went to when a Hub is attached and has any for the
	// broadcaster; the fixed webhook is then not used.
	Deliveries []Delivery `json:"deliveries,omitempty"`
}

// ChatNotification builds the body of a channel.chat.message notification
// for req (which must have passed validation), with chatMessageID as
// event.message_id.
func (e *EventSub) ChatNotification(req SendChatRequest, chatMessageID string) ([]byte, error) {
	broadcaster := req.BroadcasterUserID
	if broadcaster == "" {
		broadcaster = e.broadcaster
	}
	return json.Marshal(esNotification{
		Subscription: e.subscription("enabled", broadcaster),
		Event:        chatEvent(req, broadcaster, chatMessageID),
	})
}

// chatEvent is the event object of a channel.chat.message notification, the
// same for the webhook and the WebSocket transport.
func chatEvent(req SendChatRequest, broadcaster, chatMessageID string) esChatEvent {
	display := req.DisplayName
	if display == "" {
		display = req.Login
	}
	color := req.Color
	if color == "" {
		color = defaultChatColor
	}
	badges := []esBadge{}
	hasSub := false
	for _, id := range cleanList(req.Badges) {
		switch id {
		case "subscriber", "founder":
			hasSub = hasSub || id == "subscriber"
			badges = append(badges, esBadge{SetID: id, ID: "0", Info: "1"})
		default:
			badges = append(badges, esBadge{SetID: id, ID: "1", Info: ""})
		}
	}
	if req.Subscriber && !hasSub {
		badges = append(badges, esBadge{SetID: "subscriber", ID: "0", Info: "1"})
	}
	return esChatEvent{
		BroadcasterUserID:    broadcaster,
		BroadcasterUserLogin: defaultBroadcasterLogin,
		BroadcasterUserName:  defaultBroadcasterName,
		ChatterUserID:        req.UserID,
		ChatterUserLogin:     req.Login,
		ChatterUserName:      display,
		MessageID:            chatMessageID,
		Message: esMessage{
			Text:      req.Text,
			Fragments: []esFragment{{Type: "text", Text: req.Text}},
		},
		Color:       color,
		Badges:      badges,
		MessageType: "text",
	}
}

// validateChat trims req and returns what is missing, or "".
func validateChat(req *SendChatRequest) string {
	req.UserID = strings.TrimSpace(req.UserID)
	req.Login = strings.TrimSpace(req.Login)
	req.BroadcasterUserID = strings.TrimSpace(req.BroadcasterUserID)
	switch {
	case req.UserID == "":
		return "userId is required."
	case req.Login == "":
		return "login is required."
	case strings.TrimSpace(req.Text) == "":
		return "text is required."
	}
	return ""
}

func (e *EventSub) handleSendChat(w http.ResponseWriter, r *http.Request) {
	var req SendChatRequest
	if err := decodeBody(r, controlBodyLimit, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if msg := validateChat(&req); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	chatID := strings.TrimSpace(req.MessageID)
	if chatID == "" {
		chatID = uuid.NewString()
	}
	if hub := e.hubFor(); hub != nil {
		// Subscriptions created through the subscriptions API take over
		// from the fixed webhook, as on Twitch, where only subscribers
		// hear of a message.
		broadcaster := req.BroadcasterUserID
		if broadcaster == "" {
			broadcaster = e.broadcaster
		}
		if ds := hub.SendChat(r.Context(), broadcaster, chatEvent(req, broadcaster, chatID)); len(ds) > 0 {
			status := http.StatusOK
			for _, d := range ds {
				if d.Error != "" || (d.Method == "webhook" && (d.Status < 200 || d.Status > 299)) {
					status = http.StatusBadGateway
				}
			}
			writeJSON(w, status, SendResult{MessageID: chatID, Deliveries: ds})
			return
		}
	}
	body, err := e.ChatNotification(req, chatID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	id, res, err := e.sendSigned(r.Context(), eventsub.TypeNotification, chatMessageType, body)
	out := SendResult{MessageID: chatID, EventMessageID: id}
	e.finishSend(w, "chat message", out, res, err)
}

// finishSend answers a generated delivery: 200 when the EBS answered 2xx,
// 502 otherwise (including when it did not answer at all).
func (e *EventSub) finishSend(w http.ResponseWriter, what string, out SendResult, res backendResult, err error) {
	if err != nil {
		e.log.Warn("delivering a generated message failed", "what", what, "error", err.Error())
		out.Error = err.Error()
		writeJSON(w, http.StatusBadGateway, out)
		return
	}
	e.log.Info("delivered a generated message", "what", what, "backend_status", res.status)
	out.BackendStatus = res.status
	out.BackendBody = string(res.body)
	status := http.StatusOK
	if !res.ok() {
		status = http.StatusBadGateway
	}
	writeJSON(w, status, out)
}

// VerifyRequest is the optional body of POST /verify-subscription.
type VerifyRequest struct {
	BroadcasterUserID string `json:"broadcasterUserId"`
	Challenge         string `json:"challenge"`
}

// VerifyResult is the answer of POST /verify-subscription.
type VerifyResult struct {
	OK             bool   `json:"ok"`
	Challenge      string `json:"challenge"`
	EventMessageID string `json:"eventMessageId"`
	BackendStatus  int    `json:"backendStatus"`
	BackendBody    string `json:"backendBody"`
	Error          string `json:"error,omitempty"`
}

// handleVerifySubscription performs Twitch's webhook_callback_verification
// handshake: the EBS must answer 200 with exactly the challenge as its body.
func (e *EventSub) handleVerifySubscription(w http.ResponseWriter, r *http.Request) {
	var req VerifyRequest
	if err := decodeBody(r, controlBodyLimit, &req, true); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	broadcaster := strings.TrimSpace(req.BroadcasterUserID)
	if broadcaster == "" {
		broadcaster = e.broadcaster
	}
	challenge := req.Challenge
	if challenge == "" {
		challenge = rand.Text()
	}
	body, err := json.Marshal(esVerification{
		Challenge:    challenge,
		Subscription: e.subscription("webhook_callback_verification_pending", broadcaster),
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	id, res, err := e.sendSigned(r.Context(), eventsub.TypeVerification, chatMessageType, body)
	out := VerifyResult{Challenge: challenge, EventMessageID: id}
	if err != nil {
		e.log.Warn("verification handshake failed", "error", err.Error())
		out.Error = err.Error()
		writeJSON(w, http.StatusBadGateway, out)
		return
	}
	out.BackendStatus = res.status
	out.BackendBody = string(res.body)
	out.OK = res.status == http.StatusOK && out.BackendBody == challenge
	e.log.Info("verification handshake", "ok", out.OK, "backend_status", res.status)
	status := http.StatusOK
	if !out.OK {
		status = http.StatusBadGateway
	}
	writeJSON(w, status, out)
}

// RevocationRequest is the optional body of POST /send-revocation.
type RevocationRequest struct {
	// Status is the revocation reason (default "authorization_revoked").
	Status            string `json:"status"`
	BroadcasterUserID string `json:"broadcasterUserId"`
}

func (e *EventSub) handleSendRevocation(w http.ResponseWriter, r *http.Request) {
	var req RevocationRequest
	if err := decodeBody(r, controlBodyLimit, &req, true); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	status := strings.TrimSpace(req.Status)
	if status == "" {
		status = "authorization_revoked"
	}
	broadcaster := strings.TrimSpace(req.BroadcasterUserID)
	if broadcaster == "" {
		broadcaster = e.broadcaster
	}
	body, err := json.Marshal(esRevocation{Subscription: e.subscription(status, broadcaster)})
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	id, res, err := e.sendSigned(r.Context(), eventsub.TypeRevocation, chatMessageType, body)
	e.finishSend(w, "revocation "+strconv.Quote(status), SendResult{EventMessageID: id}, res, err)
}
