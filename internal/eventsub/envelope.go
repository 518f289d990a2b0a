package eventsub

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// Envelope is a decoded webhook body.
type Envelope struct {
	// Challenge is the "challenge" value when the key is present (a JSON null
	// gives ""), else nil.
	Challenge *string
	// Subscription is nil when "subscription" is absent or null.
	Subscription *Subscription
	// Event is the raw "event" object; nil when absent or null.
	Event json.RawMessage
	// MessageType is the resolved message type: TypeNotification,
	// TypeVerification, TypeRevocation, or "" (unknown; the caller ignores it).
	MessageType string
}

// Subscription is the envelope's "subscription" object.
type Subscription struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Version   string         `json:"version"`
	Status    string         `json:"status"`
	Condition map[string]any `json:"condition"`
	Transport map[string]any `json:"transport"`
	CreatedAt string         `json:"created_at"`
}

// revocationStatuses are the subscription statuses Twitch sends in revocations.
var revocationStatuses = []string{
	"authorization_revoked",
	"user_removed",
	"notification_failures_exceeded",
	"version_removed",
}

// ParseEnvelope decodes a webhook body, which must be a JSON object (anything
// else, including an empty body, is an invalid_payload error), and resolves
// the message type. headerType is the Twitch-Eventsub-Message-Type header:
// when it is (case-insensitively) one of the three known types it wins; when
// it is absent the type is inferred from the body's shape (a "challenge" key →
// verification; a revocation status, or a subscription that is not "enabled"
// and no event → revocation; otherwise notification); when it is some other
// value the message is a notification if it carries an event, else "".
func ParseEnvelope(headerType string, body []byte) (Envelope, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(body, &root); err != nil || root == nil {
		return Envelope{}, mgm.Errorf(mgm.CodeInvalidPayload, "body is not a JSON object")
	}
	var env Envelope

	if raw, ok := root["challenge"]; ok {
		var ch *string
		if err := json.Unmarshal(raw, &ch); err != nil {
			return Envelope{}, mgm.Errorf(mgm.CodeInvalidPayload, "challenge: expected a string")
		}
		if ch == nil {
			ch = new(string)
		}
		env.Challenge = ch
	}

	if raw, ok := root["subscription"]; ok && !isNull(raw) {
		if !isObject(raw) {
			return Envelope{}, mgm.Errorf(mgm.CodeInvalidPayload, "subscription: expected an object")
		}
		var sub Subscription
		if err := json.Unmarshal(raw, &sub); err != nil {
			return Envelope{}, typeError("subscription", err)
		}
		env.Subscription = &sub
	}

	if raw, ok := root["event"]; ok && !isNull(raw) {
		env.Event = raw
	}

	env.MessageType = resolveType(headerType, &env)
	return env, nil
}

func resolveType(headerType string, env *Envelope) string {
	ht := strings.ToLower(strings.TrimSpace(headerType))
	switch ht {
	case TypeNotification, TypeVerification, TypeRevocation:
		return ht
	case "":
		// inferred below
	default:
		if env.Event != nil {
			return TypeNotification
		}
		return ""
	}
	if env.Challenge != nil {
		return TypeVerification
	}
	if s := env.Subscription; s != nil {
		for _, prefix := range revocationStatuses {
			if strings.HasPrefix(s.Status, prefix) {
				return TypeRevocation
			}
		}
		if env.Event == nil && s.Status != "enabled" {
			return TypeRevocation
		}
	}
	return TypeNotification
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// typeError turns a JSON decoding error into an invalid_payload error naming
// the offending field (never echoing the body).
func typeError(prefix string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := prefix
		if te.Field != "" {
			field += "." + te.Field
		}
		return mgm.Errorf(mgm.CodeInvalidPayload, "%s: unexpected JSON %s", field, te.Value)
	}
	return mgm.Errorf(mgm.CodeInvalidPayload, "%s: malformed JSON", prefix)
}
