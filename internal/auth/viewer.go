package auth

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// devExtensionSecretText is hashed into the development extension key.
const devExtensionSecretText = "mgm-dev-extension-secret-change-me"

// Leeway is the clock skew tolerated on exp and nbf.
const Leeway = 60 * time.Second

// DevExtensionSecret is SHA-256 of "mgm-dev-extension-secret-change-me"
// (32 bytes): the development key shared with the JWT stand-in. A fresh slice
// is returned on every call.
func DevExtensionSecret() []byte {
	sum := sha256.Sum256([]byte(devExtensionSecretText))
	return sum[:]
}

// ViewerClaims is what the EBS uses from a verified extension token.
type ViewerClaims struct {
	UserID       string // user_id, fallback sub; "" when the viewer has not shared identity
	OpaqueUserID string // opaque_user_id
	ChannelID    string // channel_id ("" when absent)
	Role         string // role ("" when absent)
	DisplayName  string // unique_name or display_name claim if present, else ""
}

// HasIdentity reports whether the viewer shared their Twitch identity.
func (c ViewerClaims) HasIdentity() bool { return c.UserID != "" }

// RateKey is the rate-limiting key: the user id, else the opaque id.
func (c ViewerClaims) RateKey() string {
	if c.UserID != "" {
		return c.UserID
	}
	return c.OpaqueUserID
}

// ViewerVerifier verifies Twitch extension JWTs. It is safe for concurrent use
// once configured.
type ViewerVerifier struct {
	// Key is the HMAC key (base64-decoded extension secret, or
	// DevExtensionSecret()). An empty key rejects every token.
	Key []byte
	// BroadcasterUserID, when set, refuses tokens whose channel_id is present
	// and different (wrong_channel).
	BroadcasterUserID string
	// Audience, when set, must be in the token's aud; "" = aud not checked.
	Audience string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// verified remembers tokens that passed, so a viewer's panel polling
	// every few seconds with the same token costs a map lookup instead of a
	// JSON parse and an HMAC (verifiedCache).
	verified verifiedCache
}

// maxVerifiedTokens bounds the cache: a few thousand viewers' tokens, each a
// few hundred bytes. When full it starts over.
const maxVerifiedTokens = 8192

// verifiedCache maps a token, byte for byte, to what verifying it found. Only
// tokens that passed every check are stored, and a hit is re-checked against
// the clock (exp, nbf) and the verifier's settings, so the cache can make a
// token cheaper but never valid: any other string, even one differing in a
// single byte of the signature, misses and is verified in full.
type verifiedCache struct {
	m sync.Map // string → *verifiedToken
	n atomic.Int64
}

type verifiedToken struct {
	claims      ViewerClaims
	exp, nbf    time.Time // nbf zero when absent
	key         string    // the settings it was verified under
	broadcaster string
	audience    string
}

func (v *ViewerVerifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// cached returns the claims of a token verified earlier and still valid.
func (v *ViewerVerifier) cached(token string) (ViewerClaims, bool) {
	e, ok := v.verified.m.Load(token)
	if !ok {
		return ViewerClaims{}, false
	}
	t := e.(*verifiedToken)
	if t.key != string(v.Key) || t.broadcaster != v.BroadcasterUserID || t.audience != v.Audience {
		return ViewerClaims{}, false
	}
	// The same comparisons as jwt's validator, leeway included.
	now := v.now()
	if !now.Before(t.exp.Add(Leeway)) || (!t.nbf.IsZero() && now.Before(t.nbf.Add(-Leeway))) {
		if v.verified.m.CompareAndDelete(token, e) {
			v.verified.n.Add(-1)
		}
		return ViewerClaims{}, false
	}
	return t.claims, true
}

func (v *ViewerVerifier) remember(token string, c ViewerClaims, claims jwt.MapClaims) {
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return
	}
	t := &verifiedToken{claims: c, exp: exp.Time, key: string(v.Key), broadcaster: v.BroadcasterUserID, audience: v.Audience}
	if nbf, err := claims.GetNotBefore(); err != nil {
		return
	} else if nbf != nil {
		t.nbf = nbf.Time
	}
	if v.verified.n.Add(1) > maxVerifiedTokens {
		v.verified.m.Clear()
		v.verified.n.Store(1)
	}
	if _, loaded := v.verified.m.Swap(token, t); loaded {
		v.verified.n.Add(-1)
	}
}

func errInvalidToken() error {
	return mgm.Errorf(mgm.CodeUnauthorized, "invalid or expired token")
}

// Verify checks the token (HS256 only, exp required, 60 s leeway, nbf honoured
// when present, aud only when Audience is set) and returns its claims.
// Failures are mgm errors with code unauthorized, or wrong_channel when the
// token belongs to another channel.
func (v *ViewerVerifier) Verify(token string) (ViewerClaims, error) {
	if len(v.Key) == 0 || token == "" {
		return ViewerClaims{}, errInvalidToken()
	}
	if c, ok := v.cached(token); ok {
		return c, nil
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithJSONNumber(),
	}
	if v.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(v.Now))
	}
	if v.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.Audience))
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.NewParser(opts...).ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		// WithValidMethods already restricts alg; this is belt and braces.
		if t.Method != jwt.SigningMethodHS256 {
			return nil, errors.New("unexpected signing method")
		}
		return v.Key, nil
	})
	if err != nil || parsed == nil || !parsed.Valid {
		return ViewerClaims{}, errInvalidToken()
	}

	ok := true
	get := func(name string) string {
		s, good := claimString(claims, name)
		ok = ok && good
		return s
	}
	var c ViewerClaims
	c.UserID = get("user_id")
	if c.UserID == "" {
		c.UserID = get("sub")
	}
	c.OpaqueUserID = get("opaque_user_id")
	c.ChannelID = get("channel_id")
	c.Role = get("role")
	c.DisplayName = get("unique_name")
	if c.DisplayName == "" {
		c.DisplayName = get("display_name")
	}
	if !ok || (c.UserID == "" && c.OpaqueUserID == "") {
		return ViewerClaims{}, errInvalidToken()
	}
	// A validly signed token is Twitch's (or the developer's) word, but its
	// claims become keys and rows: text PostgreSQL cannot store would be a
	// 500 there and a 200 on SQLite, so it is refused as the client's
	// mistake on every route — after the signature check, so forgeries
	// still get 401.
	if !storable(c.UserID, c.OpaqueUserID, c.ChannelID, c.Role, c.DisplayName) {
		return ViewerClaims{}, mgm.Errorf(mgm.CodeInvalidPayload,
			"The token's user_id, opaque_user_id, channel_id, role and name must be valid UTF-8 text without NUL characters.")
	}
	if v.BroadcasterUserID != "" && c.ChannelID != "" && c.ChannelID != v.BroadcasterUserID {
		return ViewerClaims{}, mgm.Errorf(mgm.CodeWrongChannel, "token was issued for another channel")
	}
	v.remember(token, c, claims)
	return c, nil
}

// claimString reads a string-ish claim: absent or null → "", a string as is,
// a number (some tools emit numeric ids) as its decimal text. Any other type
// (bool, object, array) is reported as not ok.
func claimString(claims jwt.MapClaims, name string) (string, bool) {
	raw, present := claims[name]
	if !present || raw == nil {
		return "", true
	}
	switch x := raw.(type) {
	case string:
		return x, true
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		return x.String(), true
	case float64: // not produced with WithJSONNumber; kept for robustness
		return strconv.FormatFloat(x, 'f', -1, 64), true
	default:
		return "", false
	}
}

// storable reports whether every s can be stored as text on both engines:
// PostgreSQL refuses NUL bytes and invalid UTF-8 where SQLite keeps them.
func storable(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return false
		}
	}
	return true
}
