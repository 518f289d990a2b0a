package twitchsim

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The OAuth stand-in models id.twitch.tv: the Device Code Grant flow, token
// refresh, client credentials, validation and revocation, plus test
// endpoints that play the user (approve, deny, disconnect the integration)
// and make tokens die. Shapes follow
// https://dev.twitch.tv/docs/authentication/getting-tokens-oauth/ ,
// https://dev.twitch.tv/docs/authentication/refresh-tokens/ ,
// https://dev.twitch.tv/docs/authentication/validate-tokens/ and
// https://dev.twitch.tv/docs/authentication/revoke-tokens/ .

const (
	deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

	defaultUserTokenTTL  = 4 * time.Hour
	defaultAppTokenTTL   = 58 * 24 * time.Hour
	defaultDeviceCodeTTL = 30 * time.Minute
	defaultPollInterval  = 5 * time.Second
	// Twitch: a public client's refresh token is unusable after 30 days
	// without use.
	publicRefreshIdle = 30 * 24 * time.Hour

	defaultVerificationURI = "https://www.twitch.tv/activate"
)

// Refresh-token rotation modes (AuthOptions.RefreshRotation).
const (
	// RotatePublic is what Twitch documents: a public client's refresh
	// token (no client_secret) is single-use, a confidential client's stays
	// valid.
	RotatePublic = "public"
	// RotateAlways makes every refresh token single-use.
	RotateAlways = "always"
	// RotateNever keeps every refresh token valid until its grant is revoked.
	RotateNever = "never"
)

// AuthOptions configure NewAuth.
type AuthOptions struct {
	// ClientID and ClientSecret are the registered application; empty
	// accepts any client id (and any secret).
	ClientID     string
	ClientSecret string
	// UserTokenTTL and AppTokenTTL are the expires_in of issued tokens
	// (defaults 4 h and 58 days, like Twitch's).
	UserTokenTTL time.Duration
	AppTokenTTL  time.Duration
	// EarlyExpiry makes tokens die this long before their expires_in says:
	// Twitch warns that tokens "can become invalid for a number of reasons"
	// before they expire.
	EarlyExpiry time.Duration
	// DeviceCodeTTL and PollInterval are the device flow's expires_in and
	// interval (defaults 30 min and 5 s).
	DeviceCodeTTL time.Duration
	PollInterval  time.Duration
	// SlowDown answers slow_down (and adds 5 s to the interval, as RFC 8628
	// says) to a device-code poll that comes sooner than the interval.
	SlowDown bool
	// RefreshRotation is RotatePublic (default), RotateAlways or RotateNever.
	RefreshRotation string
	// VerificationURI is shown to the user (default Twitch's activate page).
	VerificationURI string
	Now             func() time.Time
	Logger          *slog.Logger
}

type grant struct {
	id       string
	clientID string
	userID   string
	login    string
	scopes   []string
	revoked  bool
}

type accessToken struct {
	grant     *grant // nil for an app access token
	clientID  string
	issued    time.Time
	expiresIn time.Duration
	dies      time.Time
	revoked   bool
}

type refreshToken struct {
	grant    *grant
	public   bool
	lastUsed time.Time
	used     bool
}

type deviceCode struct {
	code       string
	userCode   string
	clientID   string
	scopes     []string
	expires    time.Time
	interval   time.Duration
	lastPoll   time.Time
	approved   bool
	denied     bool
	consumed   bool
	userID     string
	login      string
	approvedAt time.Time
}

// Auth is the id.twitch.tv stand-in. It is safe for concurrent use.
type Auth struct {
	o   AuthOptions
	now func() time.Time
	log *slog.Logger

	mu        sync.Mutex
	grants    map[string]*grant
	access    map[string]*accessToken
	refresh   map[string]*refreshToken
	devices   map[string]*deviceCode // by device_code
	userCodes map[string]*deviceCode // by user_code
	onRevoke  []func(userID string)
}

// NewAuth builds the OAuth stand-in.
func NewAuth(o AuthOptions) *Auth {
	if o.UserTokenTTL <= 0 {
		o.UserTokenTTL = defaultUserTokenTTL
	}
	if o.AppTokenTTL <= 0 {
		o.AppTokenTTL = defaultAppTokenTTL
	}
	if o.DeviceCodeTTL <= 0 {
		o.DeviceCodeTTL = defaultDeviceCodeTTL
	}
	if o.PollInterval <= 0 {
		o.PollInterval = defaultPollInterval
	}
	if o.RefreshRotation == "" {
		o.RefreshRotation = RotatePublic
	}
	if o.VerificationURI == "" {
		o.VerificationURI = defaultVerificationURI
	}
	return &Auth{
		o: o, now: nowFunc(o.Now), log: discardLogger(o.Logger),
		grants: map[string]*grant{}, access: map[string]*accessToken{}, refresh: map[string]*refreshToken{},
		devices: map[string]*deviceCode{}, userCodes: map[string]*deviceCode{},
	}
}

// Register adds the OAuth routes and their test endpoints to mux.
func (a *Auth) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /oauth2/device", a.handleDevice)
	mux.HandleFunc("POST /oauth2/token", a.handleToken)
	mux.HandleFunc("GET /oauth2/validate", a.handleValidate)
	mux.HandleFunc("POST /oauth2/revoke", a.handleRevoke)
	mux.HandleFunc("POST /sim/device/approve", a.handleApprove)
	mux.HandleFunc("POST /sim/device/deny", a.handleDeny)
	mux.HandleFunc("POST /sim/grants/revoke", a.handleRevokeGrant)
	mux.HandleFunc("POST /sim/tokens/expire", a.handleExpire)
}

// OnGrantRevoked registers f to run (without locks held) when a user's
// grant is revoked through /sim/grants/revoke: Twitch then revokes the
// user's EventSub subscriptions too.
func (a *Auth) OnGrantRevoked(f func(userID string)) {
	a.mu.Lock()
	a.onRevoke = append(a.onRevoke, f)
	a.mu.Unlock()
}

// oauthError answers id.twitch.tv's error shape {"status","message"}.
func oauthError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}{status, message})
}

// newToken is 30 lowercase alphanumerics, the look of Twitch's tokens.
func newToken() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func newUserCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (a *Auth) clientKnown(id string) bool {
	return id != "" && (a.o.ClientID == "" || id == a.o.ClientID)
}

func (a *Auth) secretOK(secret string) bool {
	return a.o.ClientSecret == "" || secret == a.o.ClientSecret
}

// Twitch sends scopes space-separated in one form value.
func splitScopes(v string) []string {
	out := []string{}
	for _, s := range strings.Fields(v) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (a *Auth) handleDevice(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid form body")
		return
	}
	clientID := r.PostForm.Get("client_id")
	if !a.clientKnown(clientID) {
		oauthError(w, http.StatusBadRequest, "invalid client")
		return
	}
	d := &deviceCode{
		code: newToken(), userCode: newUserCode(), clientID: clientID,
		scopes: splitScopes(r.PostForm.Get("scopes")), expires: a.now().Add(a.o.DeviceCodeTTL),
		interval: a.o.PollInterval,
	}
	a.mu.Lock()
	a.devices[d.code] = d
	a.userCodes[d.userCode] = d
	a.mu.Unlock()
	a.log.Info("device code issued", "user_code", d.userCode)
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":      d.code,
		"expires_in":       int(a.o.DeviceCodeTTL / time.Second),
		"interval":         int(a.o.PollInterval / time.Second),
		"user_code":        d.userCode,
		"verification_uri": a.o.VerificationURI + "?public=true&device-code=" + d.userCode,
	})
}

func (a *Auth) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid form body")
		return
	}
	f := r.Form // Twitch accepts the parameters in the query string too
	switch f.Get("grant_type") {
	case deviceGrantType:
		a.deviceToken(w, f.Get("client_id"), f.Get("client_secret"), f.Get("device_code"))
	case "refresh_token":
		a.refreshGrant(w, f.Get("client_id"), f.Get("client_secret"), f.Get("refresh_token"))
	case "client_credentials":
		a.clientCredentials(w, f.Get("client_id"), f.Get("client_secret"))
	case "":
		oauthError(w, http.StatusBadRequest, "missing grant_type")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported grant type")
	}
}

type tokenResponse struct {
	AccessToken  string   `json:"access_token"`
	ExpiresIn    int      `json:"expires_in"`
	RefreshToken string   `json:"refresh_token,omitempty"`
	Scope        []string `json:"scope,omitempty"`
	TokenType    string   `json:"token_type"`
}

// issueLocked mints an access token (and a refresh token for a grant).
func (a *Auth) issueLocked(g *grant, clientID string, public bool) tokenResponse {
	now := a.now()
	ttl := a.o.UserTokenTTL
	if g == nil {
		ttl = a.o.AppTokenTTL
	}
	dies := now.Add(ttl - a.o.EarlyExpiry)
	tok := newToken()
	a.access[tok] = &accessToken{grant: g, clientID: clientID, issued: now, expiresIn: ttl, dies: dies}
	out := tokenResponse{AccessToken: tok, ExpiresIn: int(ttl / time.Second), TokenType: "bearer"}
	if g != nil {
		rt := newToken() + newToken()
		a.refresh[rt] = &refreshToken{grant: g, public: public, lastUsed: now}
		out.RefreshToken = rt
		out.Scope = append([]string{}, g.scopes...)
	}
	return out
}

func (a *Auth) deviceToken(w http.ResponseWriter, clientID, secret, code string) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.devices[code]
	switch {
	case d == nil || d.consumed || d.clientID != clientID:
		oauthError(w, http.StatusBadRequest, "invalid device code")
		return
	case !now.Before(d.expires):
		// RFC 8628's expired_token; the client must start over.
		oauthError(w, http.StatusBadRequest, "expired_token")
		return
	case d.denied:
		d.consumed = true
		oauthError(w, http.StatusBadRequest, "access_denied")
		return
	}
	if a.o.SlowDown && !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < d.interval {
		d.interval += 5 * time.Second
		d.lastPoll = now
		oauthError(w, http.StatusBadRequest, "slow_down")
		return
	}
	d.lastPoll = now
	if !d.approved {
		oauthError(w, http.StatusBadRequest, "authorization_pending")
		return
	}
	if secret != "" && !a.secretOK(secret) {
		oauthError(w, http.StatusForbidden, "invalid client secret")
		return
	}
	d.consumed = true
	g := &grant{id: newToken(), clientID: clientID, userID: d.userID, login: d.login, scopes: d.scopes}
	a.grants[g.id] = g
	out := a.issueLocked(g, clientID, secret == "")
	a.log.Info("device code redeemed", "user_id", g.userID)
	writeJSON(w, http.StatusOK, out)
}

func (a *Auth) refreshGrant(w http.ResponseWriter, clientID, secret, rt string) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.refresh[rt]
	if t != nil && t.public && now.Sub(t.lastUsed) > publicRefreshIdle {
		t.used = true
	}
	if t == nil || t.used || t.grant.revoked || t.grant.clientID != clientID {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Bad Request", "status": 400, "message": "Invalid refresh token"})
		return
	}
	if secret != "" && !a.secretOK(secret) {
		oauthError(w, http.StatusForbidden, "invalid client secret")
		return
	}
	public := secret == ""
	switch a.o.RefreshRotation {
	case RotateAlways:
		t.used = true
	case RotatePublic:
		t.used = public
	}
	t.lastUsed = now
	out := a.issueLocked(t.grant, clientID, public)
	if !t.used && a.o.RefreshRotation != RotateAlways {
		// A refresh token that stays valid is handed back unchanged.
		delete(a.refresh, out.RefreshToken)
		out.RefreshToken = rt
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Auth) clientCredentials(w http.ResponseWriter, clientID, secret string) {
	switch {
	case !a.clientKnown(clientID):
		oauthError(w, http.StatusBadRequest, "invalid client")
		return
	case secret == "" || !a.secretOK(secret):
		oauthError(w, http.StatusForbidden, "invalid client secret")
		return
	}
	a.mu.Lock()
	out := a.issueLocked(nil, clientID, false)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// TokenInfo describes a valid access token issued by the stand-in.
type TokenInfo struct {
	ClientID string
	UserID   string // empty for an app access token
	Login    string
	Scopes   []string
	// ExpiresIn is what /validate reports (the nominal remaining lifetime).
	ExpiresIn time.Duration
}

// IsApp tells an app access token from a user access token.
func (t TokenInfo) IsApp() bool { return t.UserID == "" }

// Lookup reports whether token was issued by this stand-in (known) and, if
// it is still valid, what it grants.
func (a *Auth) Lookup(token string) (info TokenInfo, known, valid bool) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.access[token]
	if t == nil {
		return TokenInfo{}, false, false
	}
	if t.revoked || !now.Before(t.dies) || (t.grant != nil && t.grant.revoked) {
		return TokenInfo{}, true, false
	}
	info = TokenInfo{ClientID: t.clientID, Scopes: []string{}, ExpiresIn: t.issued.Add(t.expiresIn).Sub(now)}
	if t.grant != nil {
		info.UserID, info.Login, info.Scopes = t.grant.userID, t.grant.login, append([]string{}, t.grant.scopes...)
	}
	return info, true, true
}

// UserScopes are the scopes of the newest valid grant user gave clientID,
// or nil (used for EventSub's authorization checks).
func (a *Auth) UserScopes(clientID, userID string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, g := range a.grants {
		if !g.revoked && g.clientID == clientID && g.userID == userID {
			for _, s := range g.scopes {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// bearer extracts the token of "Authorization: <scheme> <token>" for one of
// schemes (case-insensitive).
func bearer(r *http.Request, schemes ...string) (string, bool) {
	a := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, tok, ok := strings.Cut(a, " ")
	if !ok {
		return "", false
	}
	for _, s := range schemes {
		if strings.EqualFold(scheme, s) && strings.TrimSpace(tok) != "" {
			return strings.TrimSpace(tok), true
		}
	}
	return "", false
}

func (a *Auth) handleValidate(w http.ResponseWriter, r *http.Request) {
	// Twitch documents "Authorization: OAuth <token>" and also takes Bearer.
	tok, ok := bearer(r, "OAuth", "Bearer")
	if !ok {
		oauthError(w, http.StatusUnauthorized, "missing authorization token")
		return
	}
	info, _, valid := a.Lookup(tok)
	if !valid {
		oauthError(w, http.StatusUnauthorized, "invalid access token")
		return
	}
	out := map[string]any{
		"client_id":  info.ClientID,
		"scopes":     info.Scopes,
		"expires_in": max(0, int(info.ExpiresIn/time.Second)),
	}
	if !info.IsApp() {
		out["login"] = info.Login
		out["user_id"] = info.UserID
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *Auth) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid form body")
		return
	}
	clientID, tok := r.Form.Get("client_id"), r.Form.Get("token")
	if !a.clientKnown(clientID) {
		oauthError(w, http.StatusNotFound, "client does not exist")
		return
	}
	a.mu.Lock()
	t := a.access[tok]
	ok := t != nil && !t.revoked && t.clientID == clientID
	if ok {
		t.revoked = true
	}
	a.mu.Unlock()
	if !ok {
		oauthError(w, http.StatusBadRequest, "Invalid token")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// DeviceApproval is the body of POST /sim/device/approve and /sim/device/deny.
type DeviceApproval struct {
	UserCode string `json:"user_code"`
	UserID   string `json:"user_id"`
	Login    string `json:"login"`
}

func (a *Auth) decideDevice(w http.ResponseWriter, r *http.Request, approve bool) {
	var req DeviceApproval
	if err := decodeBody(r, controlBodyLimit, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if approve && (strings.TrimSpace(req.UserID) == "" || strings.TrimSpace(req.Login) == "") {
		writeError(w, http.StatusBadRequest, "user_id and login are required to approve.")
		return
	}
	a.mu.Lock()
	d := a.userCodes[strings.ToUpper(strings.TrimSpace(req.UserCode))]
	found := d != nil && !d.consumed && a.now().Before(d.expires)
	if found {
		if approve {
			d.approved, d.userID, d.login, d.approvedAt = true, req.UserID, req.Login, a.now()
		} else {
			d.denied = true
		}
	}
	a.mu.Unlock()
	if !found {
		writeError(w, http.StatusNotFound, "no pending device code has that user_code (unknown, used or expired).")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "user_code": d.userCode, "approved": approve})
}

func (a *Auth) handleApprove(w http.ResponseWriter, r *http.Request) { a.decideDevice(w, r, true) }
func (a *Auth) handleDeny(w http.ResponseWriter, r *http.Request)    { a.decideDevice(w, r, false) }

// UserSelector is the body of /sim/grants/revoke and /sim/tokens/expire:
// the user whose tokens are affected, or (for expire) all=true.
type UserSelector struct {
	UserID string `json:"user_id"`
	All    bool   `json:"all"`
	// App also selects app access tokens (expire only).
	App bool `json:"app"`
}

// RevokeGrants disconnects userID's integration: every access and refresh
// token of their grants stops working. It returns how many grants ended.
func (a *Auth) RevokeGrants(userID string) int {
	a.mu.Lock()
	n := 0
	for _, g := range a.grants {
		if g.userID == userID && !g.revoked {
			g.revoked = true
			n++
		}
	}
	hooks := slices.Clone(a.onRevoke)
	a.mu.Unlock()
	if n > 0 {
		for _, f := range hooks {
			f(userID)
		}
	}
	return n
}

func (a *Auth) handleRevokeGrant(w http.ResponseWriter, r *http.Request) {
	var req UserSelector
	if err := decodeBody(r, controlBodyLimit, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if strings.TrimSpace(req.UserID) == "" {
		writeError(w, http.StatusBadRequest, "user_id is required.")
		return
	}
	n := a.RevokeGrants(strings.TrimSpace(req.UserID))
	writeJSON(w, http.StatusOK, map[string]any{"revokedGrants": n})
}

// handleExpire makes matching access tokens die now (they still look
// unexpired to a client that trusts expires_in).
func (a *Auth) handleExpire(w http.ResponseWriter, r *http.Request) {
	var req UserSelector
	if err := decodeBody(r, controlBodyLimit, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.UserID == "" && !req.All && !req.App {
		writeError(w, http.StatusBadRequest, "name user_id, or set all or app to true.")
		return
	}
	now := a.now()
	a.mu.Lock()
	n := 0
	for _, t := range a.access {
		match := req.All || (req.App && t.grant == nil) || (t.grant != nil && req.UserID != "" && t.grant.userID == req.UserID)
		if match && now.Before(t.dies) {
			t.dies = now
			n++
		}
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"expiredTokens": n})
}
