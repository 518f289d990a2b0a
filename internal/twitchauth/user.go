package twitchauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// TokenSource hands out a valid access token. After Twitch answers 401 for a
// token, the caller passes it to Invalidate and asks Token once more: the
// source then refreshes (or picks up another replica's refresh).
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Invalidate(token string)
}

// State is where the broadcaster's grant stands. The values are a closed set
// (States), fit for a metric label.
type State string

const (
	// StateStatic: Twitch__BroadcasterAccessToken is set; it is used as it
	// is, never refreshed.
	StateStatic State = "static"
	// StateNotConnected: no one has signed in.
	StateNotConnected State = "not_connected"
	// StateValid: a stored grant that Twitch has not refused.
	StateValid State = "valid"
	// StateInvalid: Twitch refused the grant; a new sign-in is needed.
	StateInvalid State = "invalid"
	// StateUnreadable: the stored grant is encrypted with a key this process
	// does not have.
	StateUnreadable State = "unreadable"
)

// States lists every State.
var States = []State{StateStatic, StateNotConnected, StateValid, StateInvalid, StateUnreadable}

// Observer receives the grant's state changes and refresh outcomes
// (internal/metrics implements it). Refresh outcomes: "success",
// "reused" (another goroutine or replica had refreshed), "invalid"
// (Twitch refused the grant), "failure" (Twitch or the network failed).
type Observer interface {
	TwitchTokenState(state string)
	TwitchTokenRefresh(outcome string)
}

// Status describes the grant without its tokens: for mgm-ebs twitch status
// and /readyz's detail.
type Status struct {
	State State
	// Reason says why the state is Invalid or Unreadable.
	Reason          string
	UserID          string
	Login           string
	Scopes          []string
	MissingScopes   []string
	ExpiresAt       time.Time
	ObtainedAt      time.Time
	ValidatedAt     *time.Time
	HasRefreshToken bool
	Encrypted       bool
}

// Problems lists what needs the streamer's attention, one sentence each; none
// for a healthy grant.
func (s Status) Problems() []string {
	var out []string
	switch s.State {
	case StateNotConnected:
		return []string{"no broadcaster has signed in: run mgm-ebs twitch login"}
	case StateInvalid:
		return []string{"Twitch refused the stored sign-in (" + s.Reason + "): run mgm-ebs twitch login again"}
	case StateUnreadable:
		return []string{s.Reason}
	case StateStatic:
		return nil
	}
	if len(s.MissingScopes) > 0 {
		out = append(out, fmt.Sprintf("the sign-in lacks the scopes %v: run mgm-ebs twitch login again", s.MissingScopes))
	}
	if !s.HasRefreshToken {
		out = append(out, "Twitch gave no refresh token, so the sign-in ends when the access token expires: run mgm-ebs twitch login again then")
	}
	return out
}

// GrantName is the stored row of the broadcaster's grant.
const GrantName = "broadcaster"

// UserConfig configures a UserTokenSource.
type UserConfig struct {
	DB     *store.DB
	Client *Client
	// Cipher, when set, encrypts what is written; reading an encrypted row
	// needs the same key.
	Cipher   *Cipher
	Name     string // default GrantName
	Now      func() time.Time
	Logger   *slog.Logger
	Observer Observer
	// RefreshBefore: a token with less left than this is refreshed before
	// use (default 5 minutes).
	RefreshBefore time.Duration
	// ValidateEvery: Twitch requires validating a kept user token at least
	// hourly (default 1 hour).
	ValidateEvery time.Duration
}

// grant is a stored row, decrypted.
type grant struct {
	version     int64
	access      string
	refresh     string
	expiresAt   time.Time
	obtainedAt  time.Time
	validatedAt *time.Time
	userID      string
	login       string
	scopes      []string
	encrypted   bool
	invalid     string
}

// UserTokenSource is the broadcaster's stored grant. One refresh at a time
// runs in the process (a one-slot semaphore) and across replicas (the row's
// lock in the database); whoever waited re-reads the row and reuses the
// token the winner stored.
type UserTokenSource struct {
	cfg UserConfig
	sem chan struct{}

	mu       sync.Mutex
	loaded   bool
	cur      grant
	state    State
	reason   string
	stale    string // an access token Twitch answered 401 for
	observed State  // the last state reported and logged
}

// NewUserTokenSource returns a source over cfg.DB; it reads nothing until used.
func NewUserTokenSource(cfg UserConfig) *UserTokenSource {
	if cfg.Name == "" {
		cfg.Name = GrantName
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = 5 * time.Minute
	}
	if cfg.ValidateEvery <= 0 {
		cfg.ValidateEvery = time.Hour
	}
	return &UserTokenSource{cfg: cfg, sem: make(chan struct{}, 1)}
}

func (s *UserTokenSource) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *UserTokenSource) release() { <-s.sem }

// Token returns a valid access token for the broadcaster, refreshing it
// first when it is about to expire or was invalidated. Errors: ErrNotConnected,
// ErrGrantInvalid, ErrTokenUnreadable (all three mean "no token until the
// streamer acts"), or a transient failure of Twitch or the database.
func (s *UserTokenSource) Token(ctx context.Context) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	g, err := s.current(ctx)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	stale := s.stale != "" && s.stale == g.access
	s.mu.Unlock()
	if !stale && s.cfg.Now().Before(g.expiresAt.Add(-s.cfg.RefreshBefore)) {
		return g.access, nil
	}
	g, err = s.refresh(ctx, g.access)
	if err != nil {
		return "", err
	}
	return g.access, nil
}

// Invalidate marks token as refused by Twitch: the next Token refreshes.
func (s *UserTokenSource) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token != "" && token == s.cur.access {
		s.stale = token
	}
}

// Connected reports whether a token can be had without the streamer acting:
// a grant is stored and Twitch has not refused it. It reads no database; Run
// keeps it current.
func (s *UserTokenSource) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loaded && s.state == StateValid
}

// Status describes the grant as last read.
func (s *UserTokenSource) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{State: s.state, Reason: s.reason}
	if !s.loaded {
		st.State = StateNotConnected
	}
	if s.state == StateValid || s.state == StateInvalid {
		g := s.cur
		st.UserID, st.Login, st.Scopes, st.MissingScopes = g.userID, g.login, g.scopes, MissingScopes(g.scopes)
		st.ExpiresAt, st.ObtainedAt, st.ValidatedAt = g.expiresAt, g.obtainedAt, g.validatedAt
		st.HasRefreshToken, st.Encrypted = g.refresh != "", g.encrypted
	}
	return st
}

// Load reads the stored grant, e.g. before Status.
func (s *UserTokenSource) Load(ctx context.Context) error {
	_, err := s.reload(ctx)
	if errors.Is(err, ErrNotConnected) || errors.Is(err, ErrGrantInvalid) || errors.Is(err, ErrTokenUnreadable) {
		return nil // a state, not a failure to read
	}
	return err
}

// current is the cached grant while it is valid, else the row re-read: a
// sign-in made meanwhile (by mgm-ebs twitch login, or another replica's
// refresh) is picked up without a restart.
func (s *UserTokenSource) current(ctx context.Context) (grant, error) {
	s.mu.Lock()
	if s.loaded && s.state == StateValid {
		g := s.cur
		s.mu.Unlock()
		return g, nil
	}
	s.mu.Unlock()
	return s.reload(ctx)
}

func (s *UserTokenSource) reload(ctx context.Context) (grant, error) {
	var row store.TwitchToken
	err := s.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		row, err = tx.TwitchToken(ctx, s.cfg.Name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		s.set(grant{}, StateNotConnected, "")
		return grant{}, ErrNotConnected
	}
	if err != nil {
		return grant{}, fmt.Errorf("read the Twitch sign-in: %w", err)
	}
	return s.adopt(row)
}

// adopt decodes row and makes it the cached grant and state.
func (s *UserTokenSource) adopt(row store.TwitchToken) (grant, error) {
	g, err := s.decode(row)
	if err != nil {
		s.set(grant{}, StateUnreadable, err.Error())
		return grant{}, err
	}
	return s.adoptGrant(g)
}

func (s *UserTokenSource) adoptGrant(g grant) (grant, error) {
	if g.invalid != "" {
		s.set(g, StateInvalid, g.invalid)
		return grant{}, &grantError{reason: g.invalid}
	}
	s.set(g, StateValid, "")
	return g, nil
}

func (s *UserTokenSource) set(g grant, st State, reason string) {
	s.mu.Lock()
	s.loaded, s.cur, s.state, s.reason = true, g, st, reason
	if s.stale != "" && s.stale != g.access {
		s.stale = ""
	}
	changed := s.observed != st
	s.observed = st
	s.mu.Unlock()
	if !changed {
		return
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.TwitchTokenState(string(st))
	}
	// Once per change, not per call: a revoked grant must not flood the log.
	switch st {
	case StateInvalid, StateUnreadable:
		s.cfg.Logger.Warn("twitch sign-in unusable: the reward line and the subscriber check are skipped until the streamer signs in again",
			"state", string(st), "reason", reason)
	case StateValid:
		s.cfg.Logger.Info("twitch sign-in in use", "login", g.login, "user_id", g.userID)
	}
}

func aad(name, column string) string { return "twitch_tokens/" + name + "/" + column }

func (s *UserTokenSource) decode(row store.TwitchToken) (grant, error) {
	g := grant{version: row.Version, access: row.AccessToken, refresh: row.RefreshToken, expiresAt: row.ExpiresAt,
		obtainedAt: row.ObtainedAt, validatedAt: row.ValidatedAt, userID: row.UserID, login: row.Login, scopes: row.Scopes,
		encrypted: row.Encrypted, invalid: row.InvalidReason}
	if !row.Encrypted {
		return g, nil
	}
	c := s.cfg.Cipher
	switch {
	case c == nil:
		return grant{}, fmt.Errorf("%w: it is encrypted and Twitch__TokenEncryptionKey is not set; set the key it was stored with, or run mgm-ebs twitch login again", ErrTokenUnreadable)
	case row.KeyID != c.KeyID():
		return grant{}, fmt.Errorf("%w: it was encrypted with another Twitch__TokenEncryptionKey; set that key again, or run mgm-ebs twitch login again", ErrTokenUnreadable)
	}
	var err error
	if g.access, err = c.open(row.AccessToken, aad(row.Name, "access_token")); err == nil && row.RefreshToken != "" {
		g.refresh, err = c.open(row.RefreshToken, aad(row.Name, "refresh_token"))
	}
	if err != nil {
		return grant{}, fmt.Errorf("%w: %v; run mgm-ebs twitch login again", ErrTokenUnreadable, err)
	}
	return g, nil
}

func (s *UserTokenSource) encode(g grant) (store.TwitchToken, error) {
	row := store.TwitchToken{Name: s.cfg.Name, UserID: g.userID, Login: g.login, Scopes: g.scopes,
		AccessToken: g.access, RefreshToken: g.refresh, ExpiresAt: g.expiresAt, ObtainedAt: g.obtainedAt,
		ValidatedAt: g.validatedAt, InvalidReason: g.invalid}
	if c := s.cfg.Cipher; c != nil {
		var err error
		row.Encrypted, row.KeyID = true, c.KeyID()
		if row.AccessToken, err = c.seal(g.access, aad(s.cfg.Name, "access_token")); err != nil {
			return row, err
		}
		if g.refresh != "" {
			if row.RefreshToken, err = c.seal(g.refresh, aad(s.cfg.Name, "refresh_token")); err != nil {
				return row, err
			}
		}
	}
	return row, nil
}

// refresh renews the grant unless, once its lock is held, the stored token is
// no longer held (another goroutine or replica refreshed it): then that one
// is used. Twitch's answer and the new row commit together under the lock,
// so the refresh token Twitch rotates is never lost to a concurrent refresh.
func (s *UserTokenSource) refresh(ctx context.Context, held string) (grant, error) {
	var out grant
	var outcome string
	err := s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		outcome = ""
		row, err := tx.LockTwitchToken(ctx, s.cfg.Name)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotConnected
		}
		if err != nil {
			return err
		}
		g, err := s.decode(row)
		if err != nil {
			return err
		}
		now := s.cfg.Now()
		if g.invalid != "" {
			out = g // another replica learnt that Twitch refused it
			return nil
		}
		if g.access != held && now.Before(g.expiresAt.Add(-s.cfg.RefreshBefore)) {
			out, outcome = g, "reused"
			return nil
		}
		if g.refresh == "" {
			out = g
			return ErrGrantInvalid
		}
		ng, err := s.cfg.Client.Refresh(ctx, g.refresh)
		if errors.Is(err, ErrGrantInvalid) {
			reason := grantReason(err)
			if _, err := tx.MarkTwitchTokenInvalid(ctx, s.cfg.Name, row.Version, reason, now); err != nil {
				return err
			}
			g.invalid, g.version = reason, row.Version+1
			out, outcome = g, "invalid"
			return nil
		}
		if err != nil {
			return err
		}
		expiresIn := ng.ExpiresIn
		if expiresIn <= 0 {
			// Twitch's documented refresh answer has no expires_in; ask.
			v, err := s.cfg.Client.Validate(ctx, ng.AccessToken)
			if err != nil {
				return fmt.Errorf("validate the refreshed token: %w", err)
			}
			expiresIn = v.ExpiresIn
		}
		scopes := ng.Scopes
		if len(scopes) == 0 {
			scopes = g.scopes
		}
		ngr := grant{access: ng.AccessToken, refresh: ng.RefreshToken, expiresAt: store.Truncate(now.Add(expiresIn)),
			obtainedAt: g.obtainedAt, validatedAt: g.validatedAt, userID: g.userID, login: g.login, scopes: scopes}
		nrow, err := s.encode(ngr)
		if err != nil {
			return err
		}
		if ngr.version, err = tx.PutTwitchToken(ctx, nrow, now); err != nil {
			return err
		}
		ngr.encrypted = nrow.Encrypted
		out, outcome = ngr, "success"
		return nil
	})
	if err != nil {
		switch {
		case errors.Is(err, ErrNotConnected):
			s.set(grant{}, StateNotConnected, "")
		case errors.Is(err, ErrTokenUnreadable):
			s.set(grant{}, StateUnreadable, err.Error())
		case errors.Is(err, ErrGrantInvalid):
			s.set(out, StateInvalid, "no refresh token")
		default:
			s.observe("failure")
			return grant{}, fmt.Errorf("refresh the Twitch sign-in: %w", err)
		}
		return grant{}, err
	}
	s.observe(outcome)
	return s.adoptGrant(out)
}

func grantReason(err error) string {
	var ge *grantError
	if errors.As(err, &ge) {
		return ge.reason
	}
	return err.Error()
}

func (s *UserTokenSource) observe(outcome string) {
	if s.cfg.Observer != nil && outcome != "" {
		s.cfg.Observer.TwitchTokenRefresh(outcome)
	}
}
