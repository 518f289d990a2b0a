package twitchsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for token lifetimes.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// twitchEnv is the Helix stand-in with its OAuth stand-in and EventSub hub
// on a loopback server.
type twitchEnv struct {
	url   string
	clock *fakeClock
	hub   *Hub
	auth  *Auth
}

const (
	testClient       = "testclientid"
	testClientSecret = "testclientsecret"
	testBroadcaster  = "1001"
)

var chatScopes = []string{"user:read:chat", "user:bot", "channel:bot", "user:write:chat", "channel:read:subscriptions"}

func newTwitchEnv(t *testing.T, ao AuthOptions, ho HubOptions) *twitchEnv {
	t.Helper()
	clock := newFakeClock()
	if ao.Now == nil {
		ao.Now = clock.Now
	}
	if ao.ClientID == "" {
		ao.ClientID, ao.ClientSecret = testClient, testClientSecret
	}
	auth := NewAuth(ao)
	ho.Auth = auth
	ho.Now = clock.Now
	hub := NewHub(ho)
	srv := httptest.NewServer(NewHelix(HelixOptions{Hub: hub}))
	t.Cleanup(srv.Close)
	t.Cleanup(hub.Close) // runs first: sessions end before the server
	return &twitchEnv{url: srv.URL, clock: clock, hub: hub, auth: auth}
}

func postForm(t *testing.T, u string, v url.Values) response {
	t.Helper()
	return do(t, http.MethodPost, u, v.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func wantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keys(m); !slices.Equal(got, want) {
		t.Fatalf("%s has fields %v, want exactly %v", what, got, want)
	}
}

func wantBody(t *testing.T, r response, status int, body string) {
	t.Helper()
	if r.status != status || trimNL(r.body) != body {
		t.Fatalf("answer %d %s, want %d %s", r.status, r.body, status, body)
	}
}

// startDevice begins the device flow for scopes.
func (e *twitchEnv) startDevice(t *testing.T, scopes ...string) map[string]any {
	t.Helper()
	r := postForm(t, e.url+"/oauth2/device", url.Values{"client_id": {testClient}, "scopes": {strings.Join(scopes, " ")}})
	if r.status != http.StatusOK {
		t.Fatalf("device: %d %s", r.status, r.body)
	}
	return r.json(t)
}

func (e *twitchEnv) pollDevice(t *testing.T, code string) response {
	t.Helper()
	return postForm(t, e.url+"/oauth2/token", url.Values{
		"client_id": {testClient}, "scopes": {"x"}, "device_code": {code}, "grant_type": {deviceGrantType},
	})
}

func (e *twitchEnv) approve(t *testing.T, userCode, userID, login string) {
	t.Helper()
	b, _ := json.Marshal(DeviceApproval{UserCode: userCode, UserID: userID, Login: login})
	if r := post(t, e.url+"/sim/device/approve", string(b)); r.status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
}

// login runs the whole device flow as userID and returns the token answer.
func (e *twitchEnv) login(t *testing.T, userID string, scopes ...string) tokenResponse {
	t.Helper()
	d := e.startDevice(t, scopes...)
	e.approve(t, d["user_code"].(string), userID, "user"+userID)
	r := e.pollDevice(t, d["device_code"].(string))
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	var out tokenResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *twitchEnv) appToken(t *testing.T) string {
	t.Helper()
	r := postForm(t, e.url+"/oauth2/token", url.Values{"client_id": {testClient}, "client_secret": {testClientSecret}, "grant_type": {"client_credentials"}})
	if r.status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", r.status, r.body)
	}
	m := r.json(t)
	wantKeys(t, "client_credentials answer", m, "access_token", "expires_in", "token_type")
	return m["access_token"].(string)
}

func (e *twitchEnv) validate(t *testing.T, token string) response {
	t.Helper()
	return do(t, http.MethodGet, e.url+"/oauth2/validate", "", map[string]string{"Authorization": "OAuth " + token})
}

func (e *twitchEnv) refresh(t *testing.T, rt string, secret string) response {
	t.Helper()
	v := url.Values{"client_id": {testClient}, "grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if secret != "" {
		v.Set("client_secret", secret)
	}
	return postForm(t, e.url+"/oauth2/token", v)
}

func (e *twitchEnv) sendChatMessage(t *testing.T, token string) response {
	t.Helper()
	return do(t, http.MethodPost, e.url+"/helix/chat/messages", `{"broadcaster_id":"1001","sender_id":"1001","message":"hi"}`,
		map[string]string{"Authorization": "Bearer " + token, "Client-Id": testClient, "Content-Type": "application/json"})
}

const (
	pendingBody      = `{"status":400,"message":"authorization_pending"}`
	invalidTokenBody = `{"status":401,"message":"invalid access token"}`
	helix401Body     = `{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}`
	badRefreshBody   = `{"error":"Bad Request","message":"Invalid refresh token","status":400}`
)

func TestDeviceCodeFlowShapes(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	d := e.startDevice(t, chatScopes...)
	wantKeys(t, "device answer", d, "device_code", "expires_in", "interval", "user_code", "verification_uri")
	if d["expires_in"] != 1800.0 || d["interval"] != 5.0 || !strings.HasPrefix(d["verification_uri"].(string), "https://www.twitch.tv/activate") {
		t.Fatalf("device answer %v", d)
	}
	code := d["device_code"].(string)
	wantBody(t, e.pollDevice(t, code), 400, pendingBody)
	wantBody(t, e.pollDevice(t, code), 400, pendingBody)

	e.approve(t, d["user_code"].(string), "1001", "streamer")
	r := e.pollDevice(t, code)
	if r.status != http.StatusOK {
		t.Fatalf("after approval: %d %s", r.status, r.body)
	}
	tok := r.json(t)
	wantKeys(t, "token answer", tok, "access_token", "expires_in", "refresh_token", "scope", "token_type")
	if tok["token_type"] != "bearer" || tok["expires_in"] != 14400.0 {
		t.Fatalf("token answer %v", tok)
	}
	gotScopes, _ := json.Marshal(tok["scope"])
	wantScopes, _ := json.Marshal(chatScopes)
	if string(gotScopes) != string(wantScopes) {
		t.Fatalf("scope = %s, want %s", gotScopes, wantScopes)
	}
	// A device code is good for one token.
	wantBody(t, e.pollDevice(t, code), 400, `{"status":400,"message":"invalid device code"}`)

	v := e.validate(t, tok["access_token"].(string))
	if v.status != http.StatusOK {
		t.Fatalf("validate: %d %s", v.status, v.body)
	}
	m := v.json(t)
	wantKeys(t, "validate answer", m, "client_id", "login", "scopes", "user_id", "expires_in")
	if m["client_id"] != testClient || m["login"] != "streamer" || m["user_id"] != "1001" || m["expires_in"] != 14400.0 {
		t.Fatalf("validate answer %v", m)
	}
	e.clock.Advance(400 * time.Second)
	if m := e.validate(t, tok["access_token"].(string)).json(t); m["expires_in"] != 14000.0 {
		t.Fatalf("expires_in after 400 s = %v", m["expires_in"])
	}
	wantBody(t, e.validate(t, "nonsense"), 401, invalidTokenBody)
	wantBody(t, do(t, http.MethodGet, e.url+"/oauth2/validate", "", nil), 401, `{"status":401,"message":"missing authorization token"}`)
}

func TestDeviceCodeEndings(t *testing.T) {
	cases := []struct {
		name string
		opts AuthOptions
		act  func(e *twitchEnv, d map[string]any)
		want string
	}{
		{"denied", AuthOptions{}, func(e *twitchEnv, d map[string]any) {
			if r := post(t, e.url+"/sim/device/deny", `{"user_code":"`+d["user_code"].(string)+`"}`); r.status != 200 {
				t.Fatalf("deny: %d %s", r.status, r.body)
			}
		}, `{"status":400,"message":"access_denied"}`},
		{"expired", AuthOptions{}, func(e *twitchEnv, _ map[string]any) { e.clock.Advance(1801 * time.Second) },
			`{"status":400,"message":"expired_token"}`},
		{"slow down", AuthOptions{SlowDown: true}, func(e *twitchEnv, d map[string]any) {
			wantBody(t, e.pollDevice(t, d["device_code"].(string)), 400, pendingBody)
			e.clock.Advance(2 * time.Second)
		}, `{"status":400,"message":"slow_down"}`},
		{"polite polling", AuthOptions{SlowDown: true}, func(e *twitchEnv, d map[string]any) {
			wantBody(t, e.pollDevice(t, d["device_code"].(string)), 400, pendingBody)
			e.clock.Advance(5 * time.Second)
		}, pendingBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTwitchEnv(t, c.opts, HubOptions{})
			d := e.startDevice(t, "user:read:chat")
			c.act(e, d)
			wantBody(t, e.pollDevice(t, d["device_code"].(string)), 400, c.want)
		})
	}
}

func TestRefreshRotation(t *testing.T) {
	cases := []struct {
		name        string
		rotation    string
		secret      string
		oldStaysOK  bool
		sameNewOnes bool
	}{
		{"public client, Twitch's rule: single use", RotatePublic, "", false, false},
		{"confidential client, Twitch's rule: reusable", RotatePublic, testClientSecret, true, true},
		{"always", RotateAlways, testClientSecret, false, false},
		{"never", RotateNever, "", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTwitchEnv(t, AuthOptions{RefreshRotation: c.rotation}, HubOptions{})
			first := e.login(t, "1001", "user:read:chat")
			r := e.refresh(t, first.RefreshToken, c.secret)
			if r.status != http.StatusOK {
				t.Fatalf("refresh: %d %s", r.status, r.body)
			}
			m := r.json(t)
			wantKeys(t, "refresh answer", m, "access_token", "expires_in", "refresh_token", "scope", "token_type")
			if m["access_token"] == first.AccessToken {
				t.Fatal("refresh returned the old access token")
			}
			if (m["refresh_token"] == first.RefreshToken) != c.sameNewOnes {
				t.Fatalf("refresh_token changed = %v, want %v", m["refresh_token"] != first.RefreshToken, !c.sameNewOnes)
			}
			again := e.refresh(t, first.RefreshToken, c.secret)
			if c.oldStaysOK {
				if again.status != http.StatusOK {
					t.Fatalf("old refresh token: %d %s", again.status, again.body)
				}
			} else {
				wantBody(t, again, 400, badRefreshBody)
			}
			if r := e.refresh(t, m["refresh_token"].(string), c.secret); r.status != http.StatusOK {
				t.Fatalf("new refresh token: %d %s", r.status, r.body)
			}
		})
	}
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	wantBody(t, e.refresh(t, "not-a-token", ""), 400, badRefreshBody)
}

func TestTokenDeathOnHelixAndValidate(t *testing.T) {
	cases := []struct {
		name string
		opts AuthOptions
		kill func(e *twitchEnv, tok tokenResponse)
	}{
		{"expires after expires_in", AuthOptions{UserTokenTTL: 600 * time.Second}, func(e *twitchEnv, _ tokenResponse) {
			e.clock.Advance(600 * time.Second)
		}},
		{"expires early", AuthOptions{UserTokenTTL: 600 * time.Second, EarlyExpiry: 100 * time.Second}, func(e *twitchEnv, _ tokenResponse) {
			e.clock.Advance(500 * time.Second)
		}},
		{"expired by the test endpoint", AuthOptions{}, func(e *twitchEnv, _ tokenResponse) {
			if r := post(t, e.url+"/sim/tokens/expire", `{"user_id":"1001"}`); r.json(t)["expiredTokens"] != 1.0 {
				t.Fatalf("expire: %s", r.body)
			}
		}},
		{"revoked with /oauth2/revoke", AuthOptions{}, func(e *twitchEnv, tok tokenResponse) {
			r := postForm(t, e.url+"/oauth2/revoke", url.Values{"client_id": {testClient}, "token": {tok.AccessToken}})
			if r.status != 200 || len(r.body) != 0 {
				t.Fatalf("revoke: %d %q", r.status, r.body)
			}
		}},
		{"grant revoked by the user", AuthOptions{}, func(e *twitchEnv, _ tokenResponse) {
			if r := post(t, e.url+"/sim/grants/revoke", `{"user_id":"1001"}`); r.json(t)["revokedGrants"] != 1.0 {
				t.Fatalf("revoke grant: %s", r.body)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTwitchEnv(t, c.opts, HubOptions{})
			tok := e.login(t, "1001", chatScopes...)
			if r := e.sendChatMessage(t, tok.AccessToken); r.status != http.StatusOK {
				t.Fatalf("chat with a fresh token: %d %s", r.status, r.body)
			}
			c.kill(e, tok)
			wantBody(t, e.validate(t, tok.AccessToken), 401, invalidTokenBody)
			wantBody(t, e.sendChatMessage(t, tok.AccessToken), 401, helix401Body)
		})
	}
}

func TestGrantRevocationKillsRefreshTokens(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	tok := e.login(t, "1001", chatScopes...)
	post(t, e.url+"/sim/grants/revoke", `{"user_id":"1001"}`)
	wantBody(t, e.refresh(t, tok.RefreshToken, ""), 400, badRefreshBody)
}

func TestRevokeErrors(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	tok := e.login(t, "1001", "user:read:chat")
	wantBody(t, postForm(t, e.url+"/oauth2/revoke", url.Values{"client_id": {"other"}, "token": {tok.AccessToken}}), 404,
		`{"status":404,"message":"client does not exist"}`)
	ok := postForm(t, e.url+"/oauth2/revoke", url.Values{"client_id": {testClient}, "token": {tok.AccessToken}})
	if ok.status != 200 {
		t.Fatalf("revoke: %d %s", ok.status, ok.body)
	}
	wantBody(t, postForm(t, e.url+"/oauth2/revoke", url.Values{"client_id": {testClient}, "token": {tok.AccessToken}}), 400,
		`{"status":400,"message":"Invalid token"}`)
}

func TestClientCredentials(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	app := e.appToken(t)
	v := e.validate(t, app)
	if v.status != 200 {
		t.Fatalf("validate app token: %d %s", v.status, v.body)
	}
	m := v.json(t)
	wantKeys(t, "app token validation", m, "client_id", "scopes", "expires_in")
	if m["expires_in"] != float64(defaultAppTokenTTL/time.Second) {
		t.Fatalf("expires_in = %v", m["expires_in"])
	}
	wantBody(t, postForm(t, e.url+"/oauth2/token", url.Values{"client_id": {testClient}, "client_secret": {"wrong"}, "grant_type": {"client_credentials"}}),
		403, `{"status":403,"message":"invalid client secret"}`)
	wantBody(t, postForm(t, e.url+"/oauth2/token", url.Values{"client_id": {"nobody"}, "client_secret": {testClientSecret}, "grant_type": {"client_credentials"}}),
		400, `{"status":400,"message":"invalid client"}`)
	// App tokens expire too.
	e.clock.Advance(defaultAppTokenTTL)
	wantBody(t, e.validate(t, app), 401, invalidTokenBody)
}

func TestHelixScopesAndClientID(t *testing.T) {
	e := newTwitchEnv(t, AuthOptions{}, HubOptions{})
	tok := e.login(t, "1001", "user:read:chat")
	wantBody(t, e.sendChatMessage(t, tok.AccessToken), 401, `{"error":"Unauthorized","status":401,"message":"Missing scope: user:write:chat"}`)
	r := do(t, http.MethodGet, e.url+"/helix/subscriptions?broadcaster_id=1001", "", map[string]string{"Authorization": "Bearer " + tok.AccessToken, "Client-Id": "someoneelse"})
	wantBody(t, r, 401, `{"error":"Unauthorized","status":401,"message":"Client ID and OAuth token do not match"}`)
	// Tokens the stand-in never issued still pass without strict mode.
	if r := e.sendChatMessage(t, "static-token-from-settings"); r.status != 200 {
		t.Fatalf("static token: %d %s", r.status, r.body)
	}
}

func TestRequireIssuedTokens(t *testing.T) {
	srv := httptest.NewServer(NewHelix(HelixOptions{RequireIssuedTokens: true}))
	defer srv.Close()
	r := do(t, http.MethodPost, srv.URL+"/helix/chat/messages", `{}`, map[string]string{"Authorization": "Bearer static", "Client-Id": "c"})
	wantBody(t, r, 401, helix401Body)
}
