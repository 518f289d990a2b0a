package twitchsim

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
)

const (
	// JWTService names the JWT stand-in in its health body and logs.
	JWTService = "MockExtensionJwt"
	// DefaultJWTListen is where MainJWT listens by default.
	DefaultJWTListen = "127.0.0.1:9052"
	// DefaultTokenLifetime is the lifetime of issued tokens (expires_in).
	DefaultTokenLifetime = 7200 * time.Second
	// maxTokenLifetime bounds expiresIn either way (negative values issue
	// already expired tokens, for tests).
	maxTokenLifetime = 366 * 24 * time.Hour

	healthJWT = `{"status":"ok","service":"MockExtensionJwt"}`
)

// JWTOptions configure NewJWT.
type JWTOptions struct {
	// Key is the HMAC key: the base64-decoded Twitch__ExtensionSecret. Empty
	// means the development key (auth.DevExtensionSecret), like the EBS in
	// Development.
	Key []byte
	// ClientID is Twitch__ExtensionClientId; when set it becomes the aud claim.
	ClientID string
	// BroadcasterUserID is Twitch__BroadcasterUserId, the channel_id of
	// tokens whose request names no channelId.
	BroadcasterUserID string
	// Now is the clock for iat/exp; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// JWT issues Twitch-shaped extension tokens (HS256) for tests, CI and demos.
type JWT struct {
	key         []byte
	clientID    string
	broadcaster string
	now         func() time.Time
	log         *slog.Logger
	mux         *http.ServeMux
}

// NewJWT builds the JWT stand-in.
func NewJWT(o JWTOptions) *JWT {
	key := append([]byte(nil), o.Key...)
	if len(key) == 0 {
		key = auth.DevExtensionSecret()
	}
	j := &JWT{key: key, clientID: o.ClientID, broadcaster: o.BroadcasterUserID, now: nowFunc(o.Now), log: discardLogger(o.Logger)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, http.StatusOK, healthJWT) })
	mux.HandleFunc("GET /token", j.handleToken)
	j.mux = mux
	return j
}

func (j *JWT) ServeHTTP(w http.ResponseWriter, r *http.Request) { j.mux.ServeHTTP(w, r) }

// TokenResponse is the answer of GET /token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (j *JWT) handleToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	userID := strings.TrimSpace(q.Get("userId"))
	opaque, ok := parseQueryBool(q.Get("opaque"))
	if !ok {
		writeError(w, http.StatusBadRequest, "opaque must be true or false.")
		return
	}
	if userID == "" && !opaque {
		writeError(w, http.StatusBadRequest, "userId is required.")
		return
	}
	lifetime := DefaultTokenLifetime
	if v := strings.TrimSpace(q.Get("expiresIn")); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || time.Duration(secs)*time.Second > maxTokenLifetime || time.Duration(-secs)*time.Second > maxTokenLifetime {
			writeError(w, http.StatusBadRequest, "expiresIn must be a whole number of seconds (at most one year either way).")
			return
		}
		lifetime = time.Duration(secs) * time.Second
	}
	channel := strings.TrimSpace(q.Get("channelId"))
	if channel == "" {
		channel = j.broadcaster
	}

	c := auth.TokenClaims{
		ChannelID:   channel,
		Role:        strings.TrimSpace(q.Get("role")), // "" → viewer
		DisplayName: strings.TrimSpace(q.Get("displayName")),
		Audience:    j.clientID,
	}
	switch {
	case !opaque:
		c.UserID = userID // opaque_user_id defaults to "U"+userID
	case userID != "":
		// The viewer is logged in but has not shared their identity.
		c.OpaqueUserID = "U" + userID
	default:
		// A logged-out viewer: Twitch's anonymous opaque ids start with "A".
		c.OpaqueUserID = "A" + rand.Text()
	}
	now := j.now()
	c.IssuedAt = now
	c.Expires = now.Add(lifetime)
	tok := auth.SignViewerToken(j.key, c)
	j.log.Info("issued a token", "opaque", opaque, "channel_id", channel, "expires_in", int64(lifetime/time.Second))
	writeJSON(w, http.StatusOK, TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(lifetime / time.Second)})
}

// parseQueryBool reads opaque=…: absent or false/0 → false, true/1 → true
// (case-insensitive); anything else is not ok.
func parseQueryBool(v string) (value, ok bool) {
	v = strings.TrimSpace(v)
	switch {
	case v == "", v == "0", strings.EqualFold(v, "false"):
		return false, true
	case v == "1", strings.EqualFold(v, "true"):
		return true, true
	default:
		return false, false
	}
}

// DecodeExtensionSecret decodes Twitch__ExtensionSecret like the EBS does:
// standard or URL-safe base64, padded or not.
func DecodeExtensionSecret(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	return nil, errors.New("Twitch__ExtensionSecret is not valid base64")
}
