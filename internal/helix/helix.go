// Package helix calls the Twitch Helix API on behalf of the broadcaster.
package helix

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
)

// Client calls Helix with the broadcaster's token. The zero value is not usable; use New.
type Client struct {
	BaseURL       string // root without /helix, e.g. https://api.twitch.tv
	ClientID      string
	AccessToken   string
	BroadcasterID string
	HTTP          *http.Client
}

// New builds a client with a bounded per-request timeout.
func New(baseURL, clientID, accessToken, broadcasterID string) *Client {
	return &Client{
		BaseURL: strings.TrimRight(baseURL, "/"), ClientID: clientID, AccessToken: accessToken,
		BroadcasterID: broadcasterID, HTTP: &http.Client{Timeout: 5 * time.Second},
	}
}

// ErrNotConfigured means the broadcaster token or id is missing, so Helix cannot be called.
var ErrNotConfigured = errors.New("helix: broadcaster access token or user id not configured")

// Configured reports whether calls can be made.
func (c *Client) Configured() bool { return c.AccessToken != "" && c.BroadcasterID != "" }

// IsSubscriber asks Helix whether the user subscribes to the broadcaster
// (GET /helix/subscriptions?broadcaster_id=&user_id=, scope channel:read:subscriptions):
// a non-empty data array means yes.
func (c *Client) IsSubscriber(ctx context.Context, userID string) (bool, error) {
	if !c.Configured() {
		return false, ErrNotConfigured
	}
	q := url.Values{"broadcaster_id": {c.BroadcasterID}, "user_id": {userID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/helix/subscriptions?"+q.Encode(), nil)
	if err != nil {
		return false, err
	}
	c.authorize(req)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return false, fmt.Errorf("helix subscriptions: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return false, fmt.Errorf("helix subscriptions: HTTP %d", resp.StatusCode)
	}
	var body struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return false, fmt.Errorf("helix subscriptions: decode: %w", err)
	}
	return len(body.Data) > 0, nil
}

func (c *Client) authorize(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+c.AccessToken)
	req.Header.Set("Client-Id", c.ClientID)
	req.Header.Set("Accept", "application/json")
}

// SendChatMessage posts a message to the broadcaster's chat as the
// broadcaster (POST /helix/chat/messages). Any 2xx is success unless Twitch
// says it dropped the message (is_sent: false, e.g. AutoMod).
func (c *Client) SendChatMessage(ctx context.Context, message string) error {
	if !c.Configured() {
		return ErrNotConfigured
	}
	body, err := json.Marshal(map[string]string{
		"broadcaster_id": c.BroadcasterID, "sender_id": c.BroadcasterID, "message": message,
	})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/helix/chat/messages", bytes.NewReader(body))
	if err != nil {
		return err
	}
	c.authorize(req)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("helix chat message: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("helix chat message: HTTP %d", resp.StatusCode)
	}
	var out struct {
		Data []struct {
			IsSent     *bool `json:"is_sent"`
			DropReason *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"drop_reason"`
		} `json:"data"`
	}
	if json.Unmarshal(raw, &out) == nil && len(out.Data) > 0 && out.Data[0].IsSent != nil && !*out.Data[0].IsSent {
		reason := "unknown"
		if d := out.Data[0].DropReason; d != nil {
			reason = d.Code
		}
		return fmt.Errorf("helix chat message: dropped by Twitch (%s)", reason)
	}
	return nil
}
