package extpubsub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTLifetime is how long a signed send token lives: one send, so short.
const JWTLifetime = 60 * time.Second

// Claims are the EBS's token for Extension PubSub, as Twitch's JWT schema
// describes it for an EBS: role "external", the extension owner's user id,
// the channel, and the permission to send to its broadcast topic
// (https://dev.twitch.tv/docs/extensions/reference/#jwt-schema).
type Claims struct {
	UserID      string      `json:"user_id"`
	Role        string      `json:"role"`
	ChannelID   string      `json:"channel_id"`
	PubSubPerms PubSubPerms `json:"pubsub_perms"`
	jwt.RegisteredClaims
}

// PubSubPerms lists the topics a token may send to.
type PubSubPerms struct {
	Send []string `json:"send"`
}

// SignJWT signs the token for sending to channelID's broadcast topic, valid
// for JWTLifetime from now. key is the decoded extension secret.
func SignJWT(key []byte, ownerID, channelID string, now time.Time) (string, error) {
	c := Claims{
		UserID: ownerID, Role: "external", ChannelID: channelID,
		PubSubPerms:      PubSubPerms{Send: []string{"broadcast"}},
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(JWTLifetime))},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
}

// Failure reasons, a closed set (metrics label, status field).
const (
	ReasonUnauthorized = "unauthorized" // 401/403: the secret, owner id or client id
	ReasonRateLimited  = "rate_limited" // 429
	ReasonRejected     = "rejected"     // another 4xx: Twitch refused this message
	ReasonTwitchError  = "twitch_error" // 5xx
	ReasonUnreachable  = "unreachable"  // no answer at all
	ReasonTooLarge     = "too_large"    // the state did not fit even without names (not sent)
)

// SendError is a send Twitch did not accept.
type SendError struct {
	Reason string
	Status int    // the HTTP status; 0 when there was no answer
	Detail string // Twitch's message, or the network error
	// RetryAt is when Twitch allows the next send (429's Ratelimit-Reset);
	// zero when it said nothing.
	RetryAt time.Time
}

func (e *SendError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("extension pubsub: HTTP %d (%s): %s", e.Status, e.Reason, e.Detail)
	}
	return fmt.Sprintf("extension pubsub: %s: %s", e.Reason, e.Detail)
}

// Client sends messages to one channel's broadcast topic.
type Client struct {
	// BaseURL is Helix's root without /helix (Twitch__HelixApiBaseUrl).
	BaseURL string
	// ClientID is the extension's client id (Twitch__ExtensionClientId).
	ClientID string
	// OwnerID is the extension owner's Twitch user id (Twitch__ExtensionOwnerId).
	OwnerID string
	// BroadcasterID is the channel (Twitch__BroadcasterUserId).
	BroadcasterID string
	// Key is the decoded extension secret.
	Key  []byte
	HTTP *http.Client // nil: a client with a 5 s timeout
	Now  func() time.Time
}

// sendTimeout bounds one send: the pusher's loop (and its lease renewal)
// waits for it.
const sendTimeout = 5 * time.Second

type sendBody struct {
	Message       string   `json:"message"`
	BroadcasterID string   `json:"broadcaster_id"`
	Target        []string `json:"target"`
}

// Send posts one message; nil means Twitch answered 204. Any other outcome
// is a *SendError.
func (c *Client) Send(ctx context.Context, message string) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	tok, err := SignJWT(c.Key, c.OwnerID, c.BroadcasterID, now())
	if err != nil {
		return err
	}
	body, err := json.Marshal(sendBody{Message: message, BroadcasterID: c.BroadcasterID, Target: []string{"broadcast"}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+"/helix/extensions/pubsub", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Client-Id", c.ClientID)
	req.Header.Set("Content-Type", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: sendTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return err // we are stopping: not Twitch's failure
		}
		return &SendError{Reason: ReasonUnreachable, Detail: transportCause(err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode == http.StatusNoContent {
		return nil
	}
	e := &SendError{Status: resp.StatusCode, Detail: twitchMessage(raw)}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.Reason = ReasonUnauthorized
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Reason = ReasonRateLimited
		// Helix's rate-limit headers: Ratelimit-Reset is the Unix second at
		// which the bucket is full again
		// (https://dev.twitch.tv/docs/api/guide/#twitch-rate-limits).
		if sec, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("Ratelimit-Reset")), 10, 64); err == nil && sec > 0 {
			e.RetryAt = time.Unix(sec, 0)
		}
	case resp.StatusCode >= 500:
		e.Reason = ReasonTwitchError
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		// Twitch documents 204 only; another success is not proof of delivery.
		e.Reason = ReasonRejected
		e.Detail = "unexpected success status; Twitch answers 204 No Content"
	default:
		e.Reason = ReasonRejected
	}
	return e
}

// twitchMessage is the "message" of Twitch's error body, else the body cut short.
func twitchMessage(raw []byte) string {
	var b struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &b) == nil && b.Message != "" {
		return b.Message
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// transportCause is a transport error without the request's URL, which
// adds nothing the status does not already name.
func transportCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
