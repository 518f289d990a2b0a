package twitchauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// Check re-reads the stored grant and, unless it was validated less than
// ValidateEvery ago (by this or another replica), validates its token with
// Twitch. A 401 leads to one refresh; a grant Twitch refuses becomes
// StateInvalid. It returns the error of a failed check that may pass later
// (Twitch or the database unreachable); the states are not errors.
func (s *UserTokenSource) Check(ctx context.Context) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	g, err := s.reload(ctx)
	if err != nil {
		s.release()
		if errors.Is(err, ErrNotConnected) || errors.Is(err, ErrGrantInvalid) || errors.Is(err, ErrTokenUnreadable) {
			return nil
		}
		return err
	}
	now := s.cfg.Now()
	if g.validatedAt != nil && now.Sub(*g.validatedAt) < s.cfg.ValidateEvery {
		s.release()
		return nil
	}
	v, verr := s.cfg.Client.Validate(ctx, g.access)
	if errors.Is(verr, ErrUnauthorized) {
		// Expired while nobody used it, or revoked: a refresh tells which.
		s.mu.Lock()
		s.stale = g.access
		s.mu.Unlock()
		_, err := s.refresh(ctx, g.access)
		s.release()
		if err != nil && !errors.Is(err, ErrGrantInvalid) {
			return err
		}
		return nil
	}
	s.release()
	if verr != nil {
		return fmt.Errorf("validate the Twitch sign-in: %w", verr)
	}
	err = s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.MarkTwitchTokenValidated(ctx, s.cfg.Name, g.version, store.Truncate(now), store.Truncate(now.Add(v.ExpiresIn)))
		return err
	})
	if err != nil {
		return fmt.Errorf("record the Twitch validation: %w", err)
	}
	if _, err := s.reload(ctx); err != nil && !errors.Is(err, ErrGrantInvalid) {
		return err
	}
	return nil
}

// Run checks the grant at once and then every minute while it is missing
// or unusable (so a sign-in made meanwhile is picked up) or every
// ValidateEvery while it is valid, until ctx ends. Failures are logged and
// tried again at the next round.
func (s *UserTokenSource) Run(ctx context.Context, sleep Sleeper) {
	if sleep == nil {
		sleep = RealSleep
	}
	for {
		err := s.Check(ctx)
		if err == nil && s.Connected() {
			_, err = s.Token(ctx) // refreshes ahead of expiry
		}
		if err != nil && ctx.Err() == nil && !errors.Is(err, ErrGrantInvalid) {
			s.cfg.Logger.Warn("twitch sign-in check failed; trying again later", "error", err)
		}
		wait := time.Minute
		if s.Connected() && err == nil {
			wait = min(s.cfg.ValidateEvery, s.untilRefresh())
		}
		if sleep(ctx, max(wait, time.Second)) != nil {
			return
		}
	}
}

// untilRefresh is how long until the token should be refreshed, so that Run
// wakes for it even when no one asks for a token (the subscriber check
// would otherwise pay the refresh's latency).
func (s *UserTokenSource) untilRefresh() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.expiresAt.Add(-s.cfg.RefreshBefore).Sub(s.cfg.Now())
}

// Save stores a new sign-in (from the device flow), replacing any earlier
// grant including an invalid one, and makes it this source's grant. v is the
// token's validation, which names the user and the scopes Twitch granted.
func (s *UserTokenSource) Save(ctx context.Context, gr Grant, v Validation) error {
	now := s.cfg.Now()
	expiresIn := v.ExpiresIn
	if expiresIn <= 0 {
		expiresIn = gr.ExpiresIn
	}
	scopes := v.Scopes
	if len(scopes) == 0 {
		scopes = gr.Scopes
	}
	validated := store.Truncate(now)
	g := grant{access: gr.AccessToken, refresh: gr.RefreshToken, expiresAt: store.Truncate(now.Add(expiresIn)),
		obtainedAt: validated, validatedAt: &validated, userID: v.UserID, login: v.Login, scopes: scopes}
	row, err := s.encode(g)
	if err != nil {
		return err
	}
	err = s.cfg.DB.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.LockTwitchToken(ctx, s.cfg.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		g.version, err = tx.PutTwitchToken(ctx, row, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("store the Twitch sign-in: %w", err)
	}
	g.encrypted = row.Encrypted
	_, err = s.adoptGrant(g)
	return err
}
