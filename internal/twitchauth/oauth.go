// Package twitchauth obtains and keeps the Twitch tokens the EBS needs: the
// broadcaster's user token (signed in once with the Device Code Grant flow,
// stored in the database, refreshed before it expires and validated every
// hour) and an app access token (client credentials). Tokens never leave this
// package except as the return value of Token: they are not logged, not in
// errors, not in Status.
//
// The wire formats are Twitch's, from
// https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/,
// https://dev.twitch.tv/docs/authentication/refresh-tokens/ and
// https://dev.twitch.tv/docs/authentication/validate-tokens/.
package twitchauth

import (
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

// Scopes are exactly those the features need: reading chat and posting the
// reward line as the broadcaster (user:read:chat, user:bot, channel:bot,
// user:write:chat) and the subscriber check (channel:read:subscriptions).
var Scopes = []string{"channel:bot", "channel:read:subscriptions", "user:bot", "user:read:chat", "user:write:chat"}

// DefaultAuthBaseURL is Twitch's identity service.
const DefaultAuthBaseURL = "https://id.twitch.tv"

// Client talks to Twitch's OAuth endpoints. ClientSecret is empty for a
// public client (the device flow works for both kinds).
type Client struct {
	BaseURL      string // e.g. https://id.twitch.tv, without /oauth2
	ClientID     string
	ClientSecret string
	HTTP         *http.Client
}

// NewClient returns a client with a bounded per-request timeout: a refresh
// runs while other replicas wait for it.
func NewClient(baseURL, clientID, clientSecret string) *Client {
	if baseURL == "" {
		baseURL = DefaultAuthBaseURL
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), ClientID: clientID, ClientSecret: clientSecret,
		HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// Grant is what the token endpoint answers for a user or app token.
type Grant struct {
	AccessToken  string
	RefreshToken string // empty for an app token
	// ExpiresIn is 0 when Twitch did not say: its refresh answer is
	// documented without expires_in, so the caller validates to learn it.
	ExpiresIn time.Duration
	Scopes    []string
}

// Validation is what GET /oauth2/validate tells about a token.
type Validation struct {
	ClientID  string
	Login     string
	UserID    string
	Scopes    []string
	ExpiresIn time.Duration
}

// Typed outcomes. Callers match them with errors.Is.
var (
	// ErrNotConnected: no broadcaster has signed in (run mgm-ebs twitch login).
	ErrNotConnected = errors.New("twitch: no broadcaster has signed in; run mgm-ebs twitch login")
	// ErrGrantInvalid: Twitch refused the stored grant (revoked, password
	// changed, refresh token expired); only a new sign-in helps.
	ErrGrantInvalid = errors.New("twitch: the broadcaster's sign-in is no longer valid; run mgm-ebs twitch login again")
	// ErrTokenUnreadable: the stored grant is encrypted and the configured
	// Twitch__TokenEncryptionKey is missing or another one.
	ErrTokenUnreadable = errors.New("twitch: the stored sign-in cannot be decrypted")
	// ErrUnauthorized: Twitch answered 401 for the token (validate).
	ErrUnauthorized = errors.New("twitch: token refused (401)")
	// Device flow endings.
	ErrDeviceExpired = errors.New("twitch: the sign-in code expired before it was used; run mgm-ebs twitch login again")
	ErrAccessDenied  = errors.New("twitch: the sign-in was declined on Twitch")
)

// twitchError is Twitch's error body: {"status":400,"message":"…"}; some
// answers also carry "error" (the status text or, in the OAuth RFCs'
// style, the code), so both are read.
type twitchError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	Error   string `json:"error"`
}

// code is the machine-readable part, lowercased.
func (e twitchError) code() string {
	m := strings.ToLower(strings.TrimSpace(e.Message))
	if m == "" {
		m = strings.ToLower(strings.TrimSpace(e.Error))
	}
	return m
}

// httpError is a non-2xx answer. Its text carries Twitch's message (which
// never contains a token) and the status.
type httpError struct {
	op     string
	status int
	body   twitchError
}

func (e *httpError) Error() string {
	if msg := e.body.Message; msg != "" {
		return fmt.Sprintf("twitch %s: HTTP %d: %s", e.op, e.status, msg)
	}
	return fmt.Sprintf("twitch %s: HTTP %d", e.op, e.status)
}

func (c *Client) form(ctx context.Context, op, path string, v url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, strings.NewReader(v.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, op, out)
}

func (c *Client) do(req *http.Request, op string, out any) error {
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// url.Error quotes the URL, which holds no secret here (they travel
		// in bodies and headers).
		return fmt.Errorf("twitch %s: %w", op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("twitch %s: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		he := &httpError{op: op, status: resp.StatusCode}
		_ = json.Unmarshal(raw, &he.body) // an unreadable body still leaves the status
		if resp.StatusCode == http.StatusUnauthorized {
			return errors.Join(he, ErrUnauthorized)
		}
		return he
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("twitch %s: unreadable answer: %w", op, err)
	}
	return nil
}

type tokenBody struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	ExpiresIn    int64    `json:"expires_in"`
	Scope        []string `json:"scope"`
	TokenType    string   `json:"token_type"`
}

func (b tokenBody) grant(op string) (Grant, error) {
	if b.AccessToken == "" {
		return Grant{}, fmt.Errorf("twitch %s: the answer has no access_token", op)
	}
	return Grant{AccessToken: b.AccessToken, RefreshToken: b.RefreshToken,
		ExpiresIn: time.Duration(b.ExpiresIn) * time.Second, Scopes: b.Scope}, nil
}

// Refresh exchanges a refresh token for a new grant. Twitch may rotate the
// refresh token (public clients' are single-use), so the answer's refresh
// token replaces the old one. A 400 or 401 means the grant is gone
// ("Invalid refresh token"): ErrGrantInvalid.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (Grant, error) {
	v := url.Values{"client_id": {c.ClientID}, "grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if c.ClientSecret != "" {
		// Confidential clients must send it; public clients have none.
		// https://dev.twitch.tv/docs/authentication/refresh-tokens/#how-to-use-a-refresh-token
		v.Set("client_secret", c.ClientSecret)
	}
	var b tokenBody
	if err := c.form(ctx, "refresh", "/oauth2/token", v, &b); err != nil {
		var he *httpError
		if errors.As(err, &he) && (he.status == http.StatusBadRequest || he.status == http.StatusUnauthorized) {
			return Grant{}, &grantError{reason: reasonOf(he)}
		}
		return Grant{}, err
	}
	g, err := b.grant("refresh")
	if err == nil && g.RefreshToken == "" {
		g.RefreshToken = refreshToken
	}
	return g, err
}

// grantError is a refusal of the grant itself; Is(ErrGrantInvalid).
type grantError struct{ reason string }

func (e *grantError) Error() string        { return ErrGrantInvalid.Error() + " (" + e.reason + ")" }
func (e *grantError) Is(target error) bool { return target == ErrGrantInvalid }

func reasonOf(he *httpError) string {
	if he.body.Message != "" {
		return fmt.Sprintf("Twitch answered %d: %s", he.status, he.body.Message)
	}
	return fmt.Sprintf("Twitch answered %d", he.status)
}

// Validate asks Twitch what the token is (and whether it still is): the
// hourly check Twitch requires of every app that keeps a user token.
// https://dev.twitch.tv/docs/authentication/validate-tokens/ — note the
// header is "OAuth <token>", not "Bearer". A revoked or expired token is
// ErrUnauthorized.
func (c *Client) Validate(ctx context.Context, accessToken string) (Validation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/oauth2/validate", nil)
	if err != nil {
		return Validation{}, err
	}
	req.Header.Set("Authorization", "OAuth "+accessToken)
	var b struct {
		ClientID  string   `json:"client_id"`
		Login     string   `json:"login"`
		Scopes    []string `json:"scopes"`
		UserID    string   `json:"user_id"`
		ExpiresIn int64    `json:"expires_in"`
	}
	if err := c.do(req, "validate", &b); err != nil {
		return Validation{}, err
	}
	return Validation{ClientID: b.ClientID, Login: b.Login, UserID: b.UserID, Scopes: b.Scopes,
		ExpiresIn: time.Duration(b.ExpiresIn) * time.Second}, nil
}

// AppToken obtains an app access token with the client credentials grant
// (https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/#client-credentials-grant-flow).
func (c *Client) AppToken(ctx context.Context) (Grant, error) {
	if c.ClientSecret == "" {
		return Grant{}, errors.New("twitch: an app access token needs Twitch__ClientSecret (and Twitch__HelixClientId)")
	}
	v := url.Values{"client_id": {c.ClientID}, "client_secret": {c.ClientSecret}, "grant_type": {"client_credentials"}}
	var b tokenBody
	if err := c.form(ctx, "app token", "/oauth2/token", v, &b); err != nil {
		return Grant{}, err
	}
	return b.grant("app token")
}

// MissingScopes lists the needed scopes that have is lacking.
func MissingScopes(have []string) []string {
	var out []string
	for _, s := range Scopes {
		found := false
		for _, h := range have {
			if h == s {
				found = true
				break
			}
		}
		if !found {
			out = append(out, s)
		}
	}
	return out
}
