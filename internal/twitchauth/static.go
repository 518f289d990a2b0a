package twitchauth

import (
	"context"
	"errors"
	"sync"
	"time"
)

// StaticTokenSource is Twitch__BroadcasterAccessToken: a token given by the
// operator, used as it is. Nothing refreshes it; when Twitch stops accepting
// it the operator replaces it.
type StaticTokenSource struct{ token string }

// NewStaticTokenSource wraps a fixed token.
func NewStaticTokenSource(token string) *StaticTokenSource { return &StaticTokenSource{token: token} }

// Token returns the fixed token (ErrNotConnected when it is empty).
func (s *StaticTokenSource) Token(context.Context) (string, error) {
	if s.token == "" {
		return "", ErrNotConnected
	}
	return s.token, nil
}

// Invalidate does nothing: there is no way to renew a static token.
func (s *StaticTokenSource) Invalidate(string) {}

// Connected reports whether a token is set.
func (s *StaticTokenSource) Connected() bool { return s.token != "" }

// Status is StateStatic.
func (s *StaticTokenSource) Status() Status {
	if s.token == "" {
		return Status{State: StateNotConnected}
	}
	return Status{State: StateStatic}
}

// AppTokenSource is an app access token (client credentials), kept in memory
// and renewed before it expires or after Twitch answers 401 for it. App
// tokens are cheap to get and not tied to a user, so nothing is stored.
type AppTokenSource struct {
	client        *Client
	now           func() time.Time
	refreshBefore time.Duration
	sem           chan struct{}

	mu        sync.Mutex
	token     string
	expiresAt time.Time
}

// NewAppTokenSource gets tokens from client (which needs ClientID and
// ClientSecret); now may be nil (the wall clock).
func NewAppTokenSource(client *Client, now func() time.Time) *AppTokenSource {
	if now == nil {
		now = time.Now
	}
	return &AppTokenSource{client: client, now: now, refreshBefore: 5 * time.Minute, sem: make(chan struct{}, 1)}
}

// Token returns the cached app token, first getting a new one when there is
// none or it expires within five minutes. Concurrent callers share one request.
func (s *AppTokenSource) Token(ctx context.Context) (string, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.sem }()
	s.mu.Lock()
	tok, exp := s.token, s.expiresAt
	s.mu.Unlock()
	if tok != "" && s.now().Before(exp.Add(-s.refreshBefore)) {
		return tok, nil
	}
	g, err := s.client.AppToken(ctx)
	if err != nil {
		return "", err
	}
	if g.ExpiresIn <= 0 {
		return "", errors.New("twitch app token: the answer has no expires_in")
	}
	s.mu.Lock()
	s.token, s.expiresAt = g.AccessToken, s.now().Add(g.ExpiresIn)
	s.mu.Unlock()
	return g.AccessToken, nil
}

// Invalidate drops token if it is the cached one: the next Token gets a new one.
func (s *AppTokenSource) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token != "" && token == s.token {
		s.token = ""
	}
}
