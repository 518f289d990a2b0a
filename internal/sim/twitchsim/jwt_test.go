package twitchsim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
)

func newJWTServer(t *testing.T, o JWTOptions) *httptest.Server {
	t.Helper()
	o.Now = fixedNow
	srv := httptest.NewServer(NewJWT(o))
	t.Cleanup(srv.Close)
	return srv
}

// issue gets a token and checks the response envelope.
func issue(t *testing.T, base string, query string, wantExpiresIn float64) string {
	t.Helper()
	r := get(t, base+"/token?"+query)
	if r.status != http.StatusOK {
		t.Fatalf("GET /token?%s = %d %s", query, r.status, r.body)
	}
	out := r.json(t)
	tok, _ := out["access_token"].(string)
	if len(out) != 3 || tok == "" || out["token_type"] != "Bearer" || out["expires_in"] != wantExpiresIn {
		t.Fatalf("answer = %v", out)
	}
	return tok
}

func payload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func verifier(key []byte, aud string) *auth.ViewerVerifier {
	return &auth.ViewerVerifier{Key: key, Audience: aud, Now: func() time.Time { return testNow.Add(time.Minute) }}
}

func TestJWTIdentityToken(t *testing.T) {
	srv := newJWTServer(t, JWTOptions{})
	tok := issue(t, srv.URL, "userId=e2e-viewer-1&displayName=Viewer%20One", 7200)
	c, err := verifier(auth.DevExtensionSecret(), "").Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := auth.ViewerClaims{UserID: "e2e-viewer-1", OpaqueUserID: "Ue2e-viewer-1", Role: "viewer", DisplayName: "Viewer One"}
	if c != want {
		t.Fatalf("claims = %+v, want %+v", c, want)
	}
	p := payload(t, tok)
	if p["exp"] != float64(testNow.Add(2*time.Hour).Unix()) || p["iat"] != float64(testNow.Unix()) {
		t.Fatalf("exp/iat = %v/%v", p["exp"], p["iat"])
	}
	for _, k := range []string{"aud", "channel_id"} {
		if _, ok := p[k]; ok {
			t.Errorf("claim %s present: %v", k, p)
		}
	}
	perms, _ := p["pubsub_perms"].(map[string]any)
	if perms == nil || perms["listen"].([]any)[1] != "whisper-Ue2e-viewer-1" {
		t.Fatalf("pubsub_perms = %v", p["pubsub_perms"])
	}
	// Without displayName there is no unique_name.
	if p := payload(t, issue(t, srv.URL, "userId=7", 7200)); p["unique_name"] != nil {
		t.Fatalf("unique_name = %v", p["unique_name"])
	}
}

func TestJWTOpaqueTokens(t *testing.T) {
	srv := newJWTServer(t, JWTOptions{})
	v := verifier(auth.DevExtensionSecret(), "")

	tok := issue(t, srv.URL, "userId=42&opaque=true", 7200)
	c, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != "" || c.OpaqueUserID != "U42" || c.HasIdentity() {
		t.Fatalf("claims = %+v", c)
	}
	if _, ok := payload(t, tok)["user_id"]; ok {
		t.Fatal("user_id present in an opaque token")
	}

	a1, err := v.Verify(issue(t, srv.URL, "opaque=TRUE", 7200))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := v.Verify(issue(t, srv.URL, "opaque=1", 7200))
	if a1.UserID != "" || !strings.HasPrefix(a1.OpaqueUserID, "A") || len(a1.OpaqueUserID) < 10 || a1.OpaqueUserID == a2.OpaqueUserID {
		t.Fatalf("anonymous claims = %+v / %+v", a1, a2)
	}
}

func TestJWTChannelRoleExpiry(t *testing.T) {
	srv := newJWTServer(t, JWTOptions{BroadcasterUserID: "bcast"})
	v := verifier(auth.DevExtensionSecret(), "")
	c, err := v.Verify(issue(t, srv.URL, "userId=1", 7200))
	if err != nil || c.ChannelID != "bcast" {
		t.Fatalf("config channel: %+v %v", c, err)
	}
	c, err = v.Verify(issue(t, srv.URL, "userId=1&channelId=other&role=broadcaster", 7200))
	if err != nil || c.ChannelID != "other" || c.Role != "broadcaster" {
		t.Fatalf("query channel: %+v %v", c, err)
	}
	// The EBS of channel bcast refuses the other channel's token.
	v.BroadcasterUserID = "bcast"
	if _, err := v.Verify(issue(t, srv.URL, "userId=1&channelId=other", 7200)); err == nil {
		t.Fatal("token of another channel accepted")
	}

	// expiresIn: short and already expired tokens.
	p := payload(t, issue(t, srv.URL, "userId=1&expiresIn=60", 60))
	if p["exp"] != float64(testNow.Add(time.Minute).Unix()) {
		t.Fatalf("exp = %v", p["exp"])
	}
	v.BroadcasterUserID = ""
	v.Now = func() time.Time { return testNow }
	if _, err := v.Verify(issue(t, srv.URL, "userId=1&expiresIn=-3600", -3600)); err == nil {
		t.Fatal("expired token accepted")
	}
}

func TestJWTSecretAndAudience(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	key, err := DecodeExtensionSecret(base64.StdEncoding.EncodeToString(secret))
	if err != nil || string(key) != string(secret) {
		t.Fatalf("decode: %q %v", key, err)
	}
	srv := newJWTServer(t, JWTOptions{Key: key, ClientID: "abc123client"})
	tok := issue(t, srv.URL, "userId=9", 7200)

	if _, err := verifier(secret, "abc123client").Verify(tok); err != nil {
		t.Fatalf("secret + aud: %v", err)
	}
	if _, err := verifier(auth.DevExtensionSecret(), "").Verify(tok); err == nil {
		t.Fatal("dev key verified a token signed with the configured secret")
	}
	if _, err := verifier(secret, "someone-else").Verify(tok); err == nil {
		t.Fatal("wrong audience accepted")
	}
	if p := payload(t, tok); p["aud"] != "abc123client" {
		t.Fatalf("aud = %v", p["aud"])
	}
	if _, err := DecodeExtensionSecret("not base64 !!"); err == nil {
		t.Fatal("bad base64 accepted")
	}
}

func TestJWTBadRequests(t *testing.T) {
	srv := newJWTServer(t, JWTOptions{})
	r := get(t, srv.URL+"/token")
	if r.status != http.StatusBadRequest || trimNL(r.body) != `{"error":"userId is required."}` {
		t.Fatalf("no userId: %d %q", r.status, r.body)
	}
	for _, q := range []string{"userId=&opaque=false", "userId=1&opaque=maybe", "userId=1&expiresIn=soon", "userId=1&expiresIn=999999999"} {
		if r := get(t, srv.URL+"/token?"+q); r.status != http.StatusBadRequest || r.json(t)["error"] == "" {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}
