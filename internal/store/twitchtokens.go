package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// TwitchToken is one stored Twitch grant (internal/twitchauth). AccessToken
// and RefreshToken are as stored: ciphertext when Encrypted; the store never
// looks inside them.
type TwitchToken struct {
	Name          string
	UserID        string
	Login         string
	Scopes        []string
	Encrypted     bool
	KeyID         string
	AccessToken   string
	RefreshToken  string
	ExpiresAt     time.Time
	ObtainedAt    time.Time
	ValidatedAt   *time.Time
	InvalidReason string
	// Version grows by one with every PutTwitchToken, so that a reader can
	// tell whether the grant changed since it last looked.
	Version   int64
	UpdatedAt time.Time
}

const twitchTokenColumns = `name, user_id, login, scopes, encrypted, key_id, access_token, refresh_token,
	expires_at, obtained_at, validated_at, invalid_reason, version, updated_at`

func scanTwitchToken(row scanner) (TwitchToken, error) {
	var t TwitchToken
	var scopes string
	var exp, obtained, updated Time
	var validated NullTime
	err := row.Scan(&t.Name, &t.UserID, &t.Login, &scopes, &t.Encrypted, &t.KeyID, &t.AccessToken, &t.RefreshToken,
		&exp, &obtained, &validated, &t.InvalidReason, &t.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return TwitchToken{}, ErrNotFound
	}
	if err != nil {
		return TwitchToken{}, err
	}
	t.Scopes = strings.Fields(scopes)
	t.ExpiresAt, t.ObtainedAt, t.ValidatedAt, t.UpdatedAt = exp.Time, obtained.Time, validated.Ptr(), updated.Time
	return t, nil
}

// TwitchToken reads the named grant; ErrNotFound when there is none.
func (tx *Tx) TwitchToken(ctx context.Context, name string) (TwitchToken, error) {
	return scanTwitchToken(tx.queryRow(ctx, `SELECT `+twitchTokenColumns+` FROM twitch_tokens WHERE name = ?`, name))
}

// LockTwitchToken reads the named grant after taking its lock, so that until
// the transaction ends no other transaction (another goroutine or replica)
// refreshes it. The lock is a key lock rather than SELECT … FOR UPDATE so that
// it also holds while the row does not exist yet; on SQLite, BEGIN IMMEDIATE
// has already serialised the transaction.
func (tx *Tx) LockTwitchToken(ctx context.Context, name string) (TwitchToken, error) {
	if err := tx.Lock(ctx, "twitch_token:"+name); err != nil {
		return TwitchToken{}, err
	}
	return tx.TwitchToken(ctx, name)
}

// PutTwitchToken stores t under t.Name, replacing what was there, with the
// version one more than the stored one (1 for a new row). It returns the new version.
func (tx *Tx) PutTwitchToken(ctx context.Context, t TwitchToken, now time.Time) (int64, error) {
	var v int64
	err := tx.queryRow(ctx, `INSERT INTO twitch_tokens (`+twitchTokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
		ON CONFLICT (name) DO UPDATE SET user_id = excluded.user_id, login = excluded.login, scopes = excluded.scopes,
			encrypted = excluded.encrypted, key_id = excluded.key_id, access_token = excluded.access_token,
			refresh_token = excluded.refresh_token, expires_at = excluded.expires_at, obtained_at = excluded.obtained_at,
			validated_at = excluded.validated_at, invalid_reason = excluded.invalid_reason,
			version = twitch_tokens.version + 1, updated_at = excluded.updated_at
		RETURNING version`,
		t.Name, t.UserID, t.Login, strings.Join(t.Scopes, " "), t.Encrypted, t.KeyID, t.AccessToken, t.RefreshToken,
		tx.d.Time(t.ExpiresAt), tx.d.Time(t.ObtainedAt), tx.nullTime(t.ValidatedAt), t.InvalidReason, tx.d.Time(now)).Scan(&v)
	return v, err
}

// MarkTwitchTokenValidated records a successful validation of the grant at
// version, with the lifetime Twitch reported; false when the grant has
// changed since (the validation was of a token no longer stored).
func (tx *Tx) MarkTwitchTokenValidated(ctx context.Context, name string, version int64, at, expiresAt time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE twitch_tokens SET validated_at = ?, expires_at = ?, updated_at = ?
		WHERE name = ? AND version = ? AND invalid_reason = ''`,
		tx.d.Time(at), tx.d.Time(expiresAt), tx.d.Time(at), name, version)
	return affectedOne(res, err)
}

// MarkTwitchTokenInvalid records that Twitch refused the grant at version;
// false when the grant has changed since (a new sign-in must not be marked
// invalid by an answer about the old one). It is a new version: every
// replica's next look sees it.
func (tx *Tx) MarkTwitchTokenInvalid(ctx context.Context, name string, version int64, reason string, at time.Time) (bool, error) {
	res, err := tx.exec(ctx, `UPDATE twitch_tokens SET invalid_reason = ?, version = version + 1, updated_at = ?
		WHERE name = ? AND version = ?`, reason, tx.d.Time(at), name, version)
	return affectedOne(res, err)
}
