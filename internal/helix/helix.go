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
	BaseURL     string // root without /helix, e.g. https://api.twitch.tv
	ClientID    string
	AccessToken string
	// Tokens, when set, supplies the token instead of AccessToken
	// (internal/twitchauth: the stored sign-in, refreshed as needed).
	Tokens        TokenSource
	BroadcasterID string
	HTTP          *http.Client
}

// TokenSource hands out the broadcaster's access token; after Twitch answers
// 401 for one, Invalidate(it) makes the next Token a fresh one.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate(token string)
}

// NewWithTokens builds a client whose token comes from tokens.
func NewWithTokens(baseURL, clientID string, tokens TokenSource, broadcasterID string) *Client {
	c := New(baseURL, clientID, "", broadcasterID)
	c.Tokens = tokens
	return c
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

// Configured reports whether calls can be made: a broadcaster id and a
// token, or a token source that is connected (when it can tell; a source
// whose sign-in Twitch refused is not, so the reward line is skipped and
// recorded as it is without a token).
func (c *Client) Configured() bool {
	if c.BroadcasterID == "" {
		return false
	}
	if c.Tokens == nil {
		return c.AccessToken != ""
	}
	if cs, ok := c.Tokens.(interface{ Connected() bool }); ok {
		return cs.Connected()
	}
	return true
}

func (c *Client) token(ctx context.Context) (string, error) {
	if c.Tokens == nil {
		return c.AccessToken, nil
	}
	tok, err := c.Tokens.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNotConfigured, err)
	}
	return tok, nil
}

// do sends the request newReq builds, with the broadcaster's token; after a
// 401 it asks the token source for a fresh token and tries once more.
func (c *Client) do(ctx context.Context, newReq func() (*http.Request, error)) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx)
		if err != nil {
			return nil, err
		}
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		c.authorize(req, tok)
		resp, err := c.HTTP.Do(req)
		if err != nil || resp.StatusCode != http.StatusUnauthorized || c.Tokens == nil || attempt > 0 {
			return resp, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		c.Tokens.Invalidate(tok)
	}
}

// IsSubscriber asks Helix whether the user subscribes to the broadcaster
// (GET /helix/subscriptions?broadcaster_id=&user_id=, scope channel:read:subscriptions):
// a non-empty data array means yes.
func (c *Client) IsSubscriber(ctx context.Context, userID string) (bool, error) {
	if c.BroadcasterID == "" || (c.Tokens == nil && c.AccessToken == "") {
		return false, ErrNotConfigured
	}
	q := url.Values{"broadcaster_id": {c.BroadcasterID}, "user_id": {userID}}
	resp, err := c.do(ctx, func() (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/helix/subscriptions?"+q.Encode(), nil)
	})
	if errors.Is(err, ErrNotConfigured) {
		return false, err
	}
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

func (c *Client) authorize(req *http.Request, token string) {
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Client-Id", c.ClientID)
	req.Header.Set("Accept", "application/json")
}

// SendChatMessage posts a message to the broadcaster's chat as the
// broadcaster (POST /helix/chat/messages). Any 2xx is success unless Twitch
// says it dropped the message (is_sent: false, e.g. AutoMod).
func (c *Client) SendChatMessage(ctx context.Context, message string) error {
	if c.BroadcasterID == "" || (c.Tokens == nil && c.AccessToken == "") {
		return ErrNotConfigured
	}
	body, err := json.Marshal(map[string]string{
		"broadcaster_id": c.BroadcasterID, "sender_id": c.BroadcasterID, "message": message,
	})
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/helix/chat/messages", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
		}
		return req, err
	})
	if errors.Is(err, ErrNotConfigured) {
		return err
	}
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
