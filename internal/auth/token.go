package auth

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenClaims describes a Twitch-shaped extension token to issue.
type TokenClaims struct {
	UserID       string // user_id; omitted when empty
	OpaqueUserID string // opaque_user_id; defaults to "U"+UserID when empty and UserID is set; omitted when both are empty
	ChannelID    string // channel_id; omitted when empty
	Role         string // role; default "viewer"
	DisplayName  string // unique_name; omitted when empty
	// Expires is exp; the zero time omits exp (the token is then refused by
	// ViewerVerifier — useful in tests).
	Expires time.Time
	// IssuedAt is iat; the zero time means time.Now().
	IssuedAt  time.Time
	NotBefore *time.Time // nbf when non-nil
	Audience  string     // aud; omitted when empty
	// Extra claims are set last and override the ones above; a nil value
	// removes the claim.
	Extra map[string]any
}

// SignViewerToken issues an HS256 token shaped like a Twitch extension JWT:
// exp, iat, opaque_user_id, user_id, channel_id, role, pubsub_perms
// {"listen":["broadcast","whisper-<opaque or user id>","global"],
// "send":["broadcast","whisper-*"]}, unique_name (when DisplayName is set),
// aud (when Audience is set).
func SignViewerToken(key []byte, c TokenClaims) string {
	claims := jwt.MapClaims{}
	if !c.Expires.IsZero() {
		claims["exp"] = c.Expires.Unix()
	}
	iat := c.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	claims["iat"] = iat.Unix()
	if c.NotBefore != nil {
		claims["nbf"] = c.NotBefore.Unix()
	}
	opaque := c.OpaqueUserID
	if opaque == "" && c.UserID != "" {
		opaque = "U" + c.UserID
	}
	if opaque != "" {
		claims["opaque_user_id"] = opaque
	}
	if c.UserID != "" {
		claims["user_id"] = c.UserID
	}
	if c.ChannelID != "" {
		claims["channel_id"] = c.ChannelID
	}
	role := c.Role
	if role == "" {
		role = "viewer"
	}
	claims["role"] = role
	whisper := opaque
	if whisper == "" {
		whisper = c.UserID
	}
	claims["pubsub_perms"] = map[string]any{
		"listen": []string{"broadcast", "whisper-" + whisper, "global"},
		"send":   []string{"broadcast", "whisper-*"},
	}
	if c.DisplayName != "" {
		claims["unique_name"] = c.DisplayName
	}
	if c.Audience != "" {
		claims["aud"] = c.Audience
	}
	for k, v := range c.Extra {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
	if err != nil {
		// Unreachable: HMAC signing with a []byte key cannot fail, and the
		// claims are plain JSON values unless Extra holds something that
		// cannot be marshalled, which is a programming error.
		panic("auth: signing viewer token: " + err.Error())
	}
	return s
}
