// Package twitchsubs keeps the EBS's EventSub subscription in place: the
// Helix calls that list, create and delete subscriptions
// (https://dev.twitch.tv/docs/api/reference/eventsub/), and, for the webhook
// transport, a Manager that makes sure exactly the needed subscription exists
// and re-creates it after a revocation when the reason allows.
package twitchsubs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
)

// TokenSource hands out an access token; Invalidate tells it that Helix
// refused one (401), so that the next Token call brings a fresh one. The
// webhook Manager needs an app access token, the WebSocket client the
// broadcaster's user token.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate(token string)
}

// StaticToken is a token that never refreshes (Twitch__BroadcasterAccessToken).
type StaticToken string

// Token returns the token, or an error naming what to configure when empty.
func (s StaticToken) Token(context.Context) (string, error) {
	if s == "" {
		return "", errors.New("no Twitch token configured: sign in with mgm-ebs twitch login or set Twitch__BroadcasterAccessToken")
	}
	return string(s), nil
}

// Invalidate does nothing: a static token cannot be renewed.
func (StaticToken) Invalidate(string) {}

// ChatMessageType is the subscription the EBS needs: chat messages of the
// broadcaster's channel, read as the broadcaster.
const (
	ChatMessageType    = "channel.chat.message"
	ChatMessageVersion = "1"
)

// ChatCondition is channel.chat.message's condition for a broadcaster reading
// their own chat (https://dev.twitch.tv/docs/eventsub/eventsub-subscription-types/#channelchatmessage).
func ChatCondition(broadcasterID string) map[string]string {
	return map[string]string{"broadcaster_user_id": broadcasterID, "user_id": broadcasterID}
}

// The stream's live status, for Mgm__DrawOnlyWhileLive and /readyz. Both
// need no authorization
// (https://dev.twitch.tv/docs/eventsub/eventsub-subscription-types/#streamonline),
// so they cost nothing and ask no extra scope of the broadcaster.
const (
	StreamOnlineType  = eventsub.StreamOnlineType
	StreamOfflineType = eventsub.StreamOfflineType
	StreamVersion     = "1"
)

// StreamCondition is stream.online's and stream.offline's condition.
func StreamCondition(broadcasterID string) map[string]string {
	return map[string]string{"broadcaster_user_id": broadcasterID}
}

// Want is one subscription the EBS keeps for the broadcaster.
type Want struct {
	Type, Version string
	Condition     map[string]string
}

// Wanted lists every subscription the EBS keeps for the broadcaster, on
// either transport: chat first, since it is the one the giveaway cannot do
// without. The live status is subscribed to whether or not
// Mgm__DrawOnlyWhileLive is on: it is free, and the stored status is then
// already right when the setting is turned on in the middle of a stream.
func Wanted(broadcasterID string) []Want {
	return []Want{
		{ChatMessageType, ChatMessageVersion, ChatCondition(broadcasterID)},
		{StreamOnlineType, StreamVersion, StreamCondition(broadcasterID)},
		{StreamOfflineType, StreamVersion, StreamCondition(broadcasterID)},
	}
}

// IsWanted reports whether typ is one of Wanted's types.
func IsWanted(typ string) bool {
	return typ == ChatMessageType || typ == StreamOnlineType || typ == StreamOfflineType
}

// Subscription is one entry of Helix's subscription list.
type Subscription struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	Type      string            `json:"type"`
	Version   string            `json:"version"`
	Condition map[string]string `json:"condition"`
	Transport Transport         `json:"transport"`
	CreatedAt string            `json:"created_at"`
}

// Transport is where Twitch delivers: a webhook callback (with the secret it
// signs with, sent only when creating) or a WebSocket session.
type Transport struct {
	Method    string `json:"method"`
	Callback  string `json:"callback,omitempty"`
	Secret    string `json:"secret,omitempty"`
	SessionID string `json:"session_id,omitempty"`
}

// HTTPError is Helix's refusal: its status and message.
type HTTPError struct {
	Op      string
	Status  int
	Message string
}

func (e *HTTPError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%s: Twitch answered HTTP %d: %s", e.Op, e.Status, e.Message)
	}
	return fmt.Sprintf("%s: Twitch answered HTTP %d", e.Op, e.Status)
}

// StatusOf is the HTTP status of a Helix refusal, 0 for other errors.
func StatusOf(err error) int {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status
	}
	return 0
}

// Helix calls the EventSub subscription endpoints.
type Helix struct {
	BaseURL  string // root without /helix, e.g. https://api.twitch.tv
	ClientID string
	Token    TokenSource
	HTTP     *http.Client // nil: a client with a 10 s timeout
}

// Create asks for a subscription. A 409 (it exists already) is returned as
// an *HTTPError with Status 409; callers that only need it to exist treat it
// as success.
func (h *Helix) Create(ctx context.Context, typ, version string, cond map[string]string, tr Transport) (Subscription, error) {
	body := map[string]any{"type": typ, "version": version, "condition": cond, "transport": tr}
	var out struct {
		Data []Subscription `json:"data"`
	}
	if err := h.do(ctx, "create the EventSub subscription", http.MethodPost, "/helix/eventsub/subscriptions", body, &out); err != nil {
		return Subscription{}, err
	}
	if len(out.Data) == 0 {
		return Subscription{}, errors.New("create the EventSub subscription: Twitch answered without the subscription")
	}
	return out.Data[0], nil
}

// List returns every subscription of type typ ("" = all) that the token's
// client created, following the pagination cursor.
func (h *Helix) List(ctx context.Context, typ string) ([]Subscription, error) {
	var all []Subscription
	after := ""
	for range 100 { // Twitch pages by 100; 10 000 subscriptions is far beyond ours
		q := url.Values{}
		if typ != "" {
			q.Set("type", typ)
		}
		if after != "" {
			q.Set("after", after)
		}
		var out struct {
			Data       []Subscription `json:"data"`
			Pagination struct {
				Cursor string `json:"cursor"`
			} `json:"pagination"`
		}
		path := "/helix/eventsub/subscriptions"
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		if err := h.do(ctx, "list EventSub subscriptions", http.MethodGet, path, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Data...)
		if out.Pagination.Cursor == "" || len(out.Data) == 0 {
			return all, nil
		}
		after = out.Pagination.Cursor
	}
	return all, nil
}

// Delete removes a subscription; one that is already gone (404) counts as deleted.
func (h *Helix) Delete(ctx context.Context, id string) error {
	err := h.do(ctx, "delete an EventSub subscription", http.MethodDelete, "/helix/eventsub/subscriptions?"+url.Values{"id": {id}}.Encode(), nil, nil)
	if StatusOf(err) == http.StatusNotFound {
		return nil
	}
	return err
}

// do sends one request; on a 401 it invalidates the token and tries once
// more with a fresh one.
func (h *Helix) do(ctx context.Context, op, method, path string, body, out any) error {
	err := h.once(ctx, op, method, path, body, out)
	if StatusOf(err) != http.StatusUnauthorized {
		return err
	}
	return h.once(ctx, op, method, path, body, out)
}

func (h *Helix) once(ctx context.Context, op, method, path string, body, out any) error {
	tok, err := h.Token.Token(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(h.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Client-Id", h.ClientID)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := h.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode == http.StatusUnauthorized {
			h.Token.Invalidate(tok)
		}
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e) // the status alone is enough when the body is not Twitch's error shape
		return &HTTPError{Op: op, Status: resp.StatusCode, Message: e.Message}
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: Twitch's answer is not the expected JSON: %w", op, err)
	}
	return nil
}
