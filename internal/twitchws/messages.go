package twitchws

import (
	"encoding/json"
	"fmt"
)

// Message types of the EventSub WebSocket server
// (https://dev.twitch.tv/docs/eventsub/websocket-reference/).
const (
	TypeWelcome      = "session_welcome"
	TypeKeepalive    = "session_keepalive"
	TypeNotification = "notification"
	TypeReconnect    = "session_reconnect"
	TypeRevocation   = "revocation"
)

// Message is one frame from the server: metadata and a payload whose shape
// depends on the type.
type Message struct {
	Metadata Metadata        `json:"metadata"`
	Payload  json.RawMessage `json:"payload"`
}

// Metadata identifies a message. Twitch delivers at least once: a resent
// notification keeps its message_id, which is what dedupe keys on.
type Metadata struct {
	MessageID           string `json:"message_id"`
	MessageType         string `json:"message_type"`
	MessageTimestamp    string `json:"message_timestamp"`
	SubscriptionType    string `json:"subscription_type,omitempty"`
	SubscriptionVersion string `json:"subscription_version,omitempty"`
}

// Session is payload.session of session_welcome and session_reconnect.
// keepalive_timeout_seconds and reconnect_url are null in one or the other.
type Session struct {
	ID                      string  `json:"id"`
	Status                  string  `json:"status"`
	KeepaliveTimeoutSeconds *int    `json:"keepalive_timeout_seconds"`
	ReconnectURL            *string `json:"reconnect_url"`
	ConnectedAt             string  `json:"connected_at"`
}

// SessionPayload is the payload of session_welcome and session_reconnect.
type SessionPayload struct {
	Session Session `json:"session"`
}

func parseSession(raw json.RawMessage) (Session, error) {
	var p SessionPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Session{}, fmt.Errorf("Twitch sent a session message that is not the documented JSON: %w", err)
	}
	return p.Session, nil
}

// Close codes the EventSub WebSocket server closes with
// (https://dev.twitch.tv/docs/eventsub/handling-websocket-events/#close-message).
const (
	CloseInternalServerError  = 4000
	CloseClientSentInbound    = 4001
	CloseFailedPingPong       = 4002
	CloseConnectionUnused     = 4003
	CloseReconnectGraceExpire = 4004
	CloseNetworkTimeout       = 4005
	CloseNetworkError         = 4006
	CloseInvalidReconnect     = 4007
)

// closeRule is how the client answers one close code.
type closeRule struct {
	reason string // the reconnects metric's label
	// immediate: reconnecting at once can succeed (the fault was a moment's,
	// or ours and already behind us); otherwise back off.
	immediate bool
	explain   string
}

var closeRules = map[int]closeRule{
	CloseInternalServerError: {"close_4000", false, "Twitch's EventSub server had an internal error"},
	// We never write to the socket; coder/websocket answers pings itself.
	CloseClientSentInbound: {"close_4001", true, "Twitch says the EBS sent it a message, which it forbids"},
	CloseFailedPingPong:    {"close_4002", false, "Twitch says a ping went unanswered (the EBS was too slow reading)"},
	// Twitch closes a connection that has no subscription 10 s after its welcome.
	CloseConnectionUnused: {"close_4003", true, "the chat subscription was not created within 10 s of connecting"},
	// The reconnect URL must be connected within 30 s of session_reconnect.
	CloseReconnectGraceExpire: {"close_4004", true, "the reconnect to Twitch's new server did not finish within 30 s"},
	CloseNetworkTimeout:       {"close_4005", false, "network timeout between Twitch and the EBS"},
	CloseNetworkError:         {"close_4006", false, "network error between Twitch and the EBS"},
	CloseInvalidReconnect:     {"close_4007", true, "the reconnect URL was refused; connecting afresh"},
}

// Reconnect reasons (the metric's closed label set besides closeRules').
const (
	reasonKeepalive = "keepalive"
	reasonReconnect = "session_reconnect"
	reasonClosed    = "closed"
	reasonError     = "error"
	reasonSubscribe = "subscribe"
	reasonRevoked   = "revocation"
)

func reasons() []string {
	out := []string{reasonKeepalive, reasonReconnect, reasonClosed, reasonError, reasonSubscribe, reasonRevoked}
	for code := CloseInternalServerError; code <= CloseInvalidReconnect; code++ {
		out = append(out, closeRules[code].reason)
	}
	return out
}
