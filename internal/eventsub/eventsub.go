// Package eventsub holds the protocol pieces of Twitch EventSub webhooks:
// signature and freshness verification, envelope parsing and the
// channel.chat.message event. It has no HTTP server and no storage.
//
// Errors are *mgm.Error values: invalid_signature and stale_message (401),
// invalid_payload (400, or 200 "not actionable" at the caller's choice).
package eventsub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// Request headers Twitch sends with every EventSub webhook.
const (
	HeaderMessageID        = "Twitch-Eventsub-Message-Id"
	HeaderTimestamp        = "Twitch-Eventsub-Message-Timestamp"
	HeaderSignature        = "Twitch-Eventsub-Message-Signature"
	HeaderMessageType      = "Twitch-Eventsub-Message-Type"
	HeaderSubscriptionType = "Twitch-Eventsub-Subscription-Type"
)

// Message types (values of HeaderMessageType).
const (
	TypeNotification = "notification"
	TypeVerification = "webhook_callback_verification"
	TypeRevocation   = "revocation"
)

// DefaultMaxSkew is how far a message timestamp may be from now (either
// direction); Verify uses it when given maxSkew <= 0.
const DefaultMaxSkew = 10 * time.Minute

// Sign returns the signature Twitch sends for a message: "sha256=" + lowercase
// hex HMAC-SHA256(secret, messageID + timestamp + body).
func Sign(secret, messageID, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(messageID))
	m.Write([]byte(timestamp))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify authenticates a webhook request. It requires the message id,
// timestamp and signature headers, compares the signature in constant time
// (hmac.Equal; Twitch sends lowercase hex, so uppercase does not match), then
// checks that the timestamp (see ParseTimestamp) is within maxSkew of now in
// either direction (maxSkew <= 0 means DefaultMaxSkew). The signature is
// checked before freshness.
//
// Errors: empty secret, missing header or bad signature → invalid_signature;
// unparseable, too old or too new timestamp → stale_message. Skipping
// verification when no secret is configured is the caller's decision: Verify
// never accepts a message with an empty secret.
func Verify(secret string, h http.Header, body []byte, now time.Time, maxSkew time.Duration) error {
	if secret == "" {
		return mgm.Errorf(mgm.CodeInvalidSignature, "no EventSub secret configured")
	}
	id := headerValue(h, HeaderMessageID)
	ts := headerValue(h, HeaderTimestamp)
	sig := headerValue(h, HeaderSignature)
	switch {
	case id == "":
		return mgm.Errorf(mgm.CodeInvalidSignature, "missing %s header", HeaderMessageID)
	case ts == "":
		return mgm.Errorf(mgm.CodeInvalidSignature, "missing %s header", HeaderTimestamp)
	case sig == "":
		return mgm.Errorf(mgm.CodeInvalidSignature, "missing %s header", HeaderSignature)
	}
	want := Sign(secret, id, ts, body)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return mgm.Errorf(mgm.CodeInvalidSignature, "signature does not match")
	}
	at, err := ParseTimestamp(ts)
	if err != nil {
		return mgm.Errorf(mgm.CodeStaleMessage, "unparseable message timestamp")
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	if d := now.Sub(at); d > maxSkew || d < -maxSkew {
		return mgm.Errorf(mgm.CodeStaleMessage, "message timestamp is more than %s away from now", maxSkew)
	}
	return nil
}

// headerValue is h.Get, falling back to a case-insensitive scan for maps built
// with non-canonical keys.
func headerValue(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) && vs[0] != "" {
			return vs[0]
		}
	}
	return ""
}

// ParseTimestamp parses a message timestamp: RFC 3339 with or without
// fractional seconds and with any offset (Twitch sends e.g.
// "2023-07-19T14:56:51.634234626Z"), or Unix seconds as a decimal string with
// an optional fractional part (as some older tools send). Surrounding
// whitespace is ignored.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, mgm.Errorf(mgm.CodeStaleMessage, "empty timestamp")
	}
	if isUnixSeconds(s) {
		return parseUnix(s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, mgm.Errorf(mgm.CodeStaleMessage, "timestamp is neither RFC 3339 nor Unix seconds")
	}
	return t, nil
}

// isUnixSeconds reports whether s looks like digits[.digits].
func isUnixSeconds(s string) bool {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") {
		return false
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
		}
	}
	return true
}

func parseUnix(s string) (time.Time, error) {
	intPart, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(intPart, 10, 64)
	// Keep well inside the range where time arithmetic does not overflow.
	if err != nil || sec > 1<<40 {
		return time.Time{}, mgm.Errorf(mgm.CodeStaleMessage, "Unix timestamp out of range")
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		frac += strings.Repeat("0", 9-len(frac))
		nsec, _ = strconv.ParseInt(frac, 10, 64) // digits only, ≤ 9 of them
	}
	return time.Unix(sec, nsec).UTC(), nil
}
