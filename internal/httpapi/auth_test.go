package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

func TestViewerTokenRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	now := ts.clock.Now()
	validClaims := map[string]any{
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "user_id": "1001",
		"opaque_user_id": "U1001", "channel_id": testBroadcaster, "role": "viewer",
	}
	past := now.Add(-10 * time.Minute)
	future := now.Add(10 * time.Minute)

	cases := []struct {
		name          string
		authorization string // the whole Authorization header; "" = none
	}{
		{"no header", ""},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic " + b64url([]byte("user:pass"))},
		{"token without scheme", ts.token("1001")},
		{"garbage token", "Bearer not.a.jwt"},
		{"random text", "Bearer hello"},
		{"expired beyond leeway", "Bearer " + ts.tokenWith(auth.TokenClaims{
			UserID: "1001", ChannelID: testBroadcaster, IssuedAt: past.Add(-time.Hour), Expires: now.Add(-61 * time.Second)})},
		{"expired long ago", "Bearer " + ts.tokenWith(auth.TokenClaims{
			UserID: "1001", ChannelID: testBroadcaster, IssuedAt: past.Add(-time.Hour), Expires: past})},
		{"no exp", "Bearer " + ts.tokenWith(auth.TokenClaims{
			UserID: "1001", ChannelID: testBroadcaster, Extra: map[string]any{"exp": nil}})},
		{"nbf in the future", "Bearer " + ts.tokenWith(auth.TokenClaims{
			UserID: "1001", ChannelID: testBroadcaster, NotBefore: &future})},
		{"no user and no opaque id", "Bearer " + ts.tokenWith(auth.TokenClaims{ChannelID: testBroadcaster})},
		{"alg none unsigned", "Bearer " + rawJWT(map[string]any{"alg": "none", "typ": "JWT"}, validClaims, nil)},
		{"alg none with HS256 signature", "Bearer " + rawJWT(map[string]any{"alg": "none", "typ": "JWT"}, validClaims, hmacSHA256(ts.key))},
		{"alg NONE", "Bearer " + rawJWT(map[string]any{"alg": "NONE", "typ": "JWT"}, validClaims, nil)},
		{"alg HS512 with the right key", "Bearer " + rawJWT(map[string]any{"alg": "HS512", "typ": "JWT"}, validClaims, hmacSHA512(ts.key))},
		{"header says HS256, signed HS512", "Bearer " + rawJWT(map[string]any{"alg": "HS256", "typ": "JWT"}, validClaims, hmacSHA512(ts.key))},
		{"signed with another key", "Bearer " + auth.SignViewerToken([]byte("some-other-extension-secret-key!"), auth.TokenClaims{
			UserID: "1001", ChannelID: testBroadcaster, IssuedAt: now, Expires: now.Add(time.Hour)})},
		{"tampered payload", "Bearer " + tamper(ts.token("1001"))},
	}
	routes := []struct{ method, path string }{
		{http.MethodGet, "/api/roulette/state"},
		{http.MethodGet, "/api/pool/me"},
		{http.MethodGet, "/api/payouts/my-last"},
		{http.MethodPost, "/api/payouts/claim"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, rt := range routes {
				h := hdr("Content-Type", "application/json")
				if tc.authorization != "" {
					h.Set("Authorization", tc.authorization)
				}
				var body []byte
				if rt.method == http.MethodPost {
					body = []byte(`{"characterName":"Norinn","enrollmentRequestId":"r1"}`)
				}
				r := ts.do(t, rt.method, rt.path, body, h)
				what := rt.method + " " + rt.path
				wantError(t, what, r, http.StatusUnauthorized, mgm.CodeUnauthorized)
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s: WWW-Authenticate %q, want Bearer", what, got)
				}
			}
		})
	}
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("refused claims enrolled %d viewers", n)
	}
}

// tamper changes the payload of a signed token without re-signing it.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	parts[1] = b64url([]byte(`{"exp":4102444800,"user_id":"admin","opaque_user_id":"Uadmin","role":"broadcaster"}`))
	return strings.Join(parts, ".")
}

func TestViewerTokenAccepted(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	now := ts.clock.Now()
	cases := []struct {
		name  string
		token string
	}{
		{"plain", ts.token("1001")},
		{"expired within the 60 s leeway", ts.tokenWith(auth.TokenClaims{
			UserID: "1001", ChannelID: testBroadcaster, IssuedAt: now.Add(-time.Hour), Expires: now.Add(-30 * time.Second)})},
		{"nbf in the past", ts.tokenWith(auth.TokenClaims{
			UserID: "1001", ChannelID: testBroadcaster, NotBefore: timeAt(now.Add(-time.Minute))})},
		{"nbf within the leeway", ts.tokenWith(auth.TokenClaims{
			UserID: "1001", ChannelID: testBroadcaster, NotBefore: timeAt(now.Add(30 * time.Second))})},
		{"no channel_id (older tools)", ts.tokenWith(auth.TokenClaims{UserID: "1001"})},
		{"sub instead of user_id", ts.tokenWith(auth.TokenClaims{
			OpaqueUserID: "U1001", ChannelID: testBroadcaster, Extra: map[string]any{"sub": "1001"}})},
		{"aud not checked by default", ts.tokenWith(auth.TokenClaims{UserID: "1001", ChannelID: testBroadcaster, Audience: "someone-else"})},
		{"broadcaster role", ts.tokenWith(auth.TokenClaims{UserID: "b1", ChannelID: testBroadcaster, Role: "broadcaster"})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.get(t, "/api/pool/me", bearerHdr(tc.token))
			wantStatus(t, "GET /api/pool/me", r, http.StatusOK)
		})
	}
	// The scheme is case-insensitive.
	r := ts.get(t, "/api/pool/me", hdr("Authorization", "bearer "+ts.token("1001")))
	wantStatus(t, "lower-case bearer scheme", r, http.StatusOK)
}

func TestWrongChannel(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	tok := ts.tokenWith(auth.TokenClaims{UserID: "1001", ChannelID: "other"})
	for _, rt := range []struct{ method, path string }{
		{http.MethodGet, "/api/roulette/state"},
		{http.MethodGet, "/api/pool/me"},
		{http.MethodGet, "/api/payouts/my-last"},
		{http.MethodPost, "/api/payouts/claim"},
	} {
		var body []byte
		if rt.method == http.MethodPost {
			body = []byte(`{"characterName":"Norinn","enrollmentRequestId":"r1"}`)
		}
		r := ts.do(t, rt.method, rt.path, body, bearerHdr(tok, "Content-Type", "application/json"))
		wantError(t, rt.method+" "+rt.path+" with another channel's token", r, http.StatusForbidden, mgm.CodeWrongChannel)
	}
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("a wrong-channel claim enrolled someone (pool size %d)", n)
	}

	// Without a configured broadcaster any channel is accepted.
	open := newTestServer(t, func(c *config.Config) { c.BroadcasterUserID = "" })
	r := open.get(t, "/api/pool/me", bearerHdr(open.tokenWith(auth.TokenClaims{UserID: "1001", ChannelID: "other"})))
	wantStatus(t, "no broadcaster configured", r, http.StatusOK)
}

func TestIdentityNotShared(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	tok := ts.opaqueToken("UopaqueViewer")

	r := ts.get(t, "/api/roulette/state", bearerHdr(tok))
	wantStatus(t, "GET /api/roulette/state with an opaque-only token", r, http.StatusOK)

	r = ts.get(t, "/api/pool/me", bearerHdr(tok))
	wantError(t, "GET /api/pool/me opaque", r, http.StatusForbidden, mgm.CodeIdentityNotShared)

	r = ts.get(t, "/api/payouts/my-last", bearerHdr(tok))
	wantError(t, "GET /api/payouts/my-last opaque", r, http.StatusForbidden, mgm.CodeIdentityNotShared)

	r = ts.do(t, http.MethodPost, "/api/payouts/claim", []byte(`{"characterName":"Norinn","enrollmentRequestId":"r1"}`),
		bearerHdr(tok, "Content-Type", "application/json"))
	wantError(t, "POST /api/payouts/claim opaque", r, http.StatusForbidden, mgm.CodeIdentityNotShared)
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("an opaque viewer was enrolled (pool size %d)", n)
	}
}

func TestDesktopAPIKey(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)

	r := ts.get(t, "/api/payouts/pending", nil)
	wantError(t, "no API key", r, http.StatusUnauthorized, mgm.CodeUnauthorized)

	r = ts.get(t, "/api/payouts/pending", apiKeyHdr("   "))
	wantError(t, "blank API key", r, http.StatusUnauthorized, mgm.CodeUnauthorized)

	for _, wrong := range []string{
		"wrong-key",
		testAPIKeyA + "x",
		testAPIKeyA[:len(testAPIKeyA)-1],
		strings.ToUpper(testAPIKeyA),
		testAPIKeyA + "," + testAPIKeyB,
	} {
		r = ts.get(t, "/api/payouts/pending", apiKeyHdr(wrong))
		wantError(t, "wrong API key "+wrong, r, http.StatusForbidden, mgm.CodeForbiddenAPIKey)
	}

	// A viewer token is not a Desktop credential.
	r = ts.get(t, "/api/payouts/pending", bearerHdr(ts.token("1001")))
	wantError(t, "viewer token on a Desktop route", r, http.StatusUnauthorized, mgm.CodeUnauthorized)

	for _, key := range []string{testAPIKeyA, testAPIKeyB} {
		r = ts.get(t, "/api/payouts/pending", apiKeyHdr(key))
		wantBody(t, "configured key", r, http.StatusOK, `[]`)
	}

	for _, q := range []string{"Pending", "Pending,inProgress", "pending,INPROGRESS", "SENT", " Pending , InProgress ", "failed,cancelled,expired"} {
		r = ts.get(t, "/api/payouts/pending?status="+url.QueryEscape(q), apiKeyHdr(testAPIKeyA))
		wantBody(t, "status="+q, r, http.StatusOK, `[]`)
	}
	for _, q := range []string{"Bogus", "Pending,Bogus", "Pending,", "1"} {
		r = ts.get(t, "/api/payouts/pending?status="+url.QueryEscape(q), apiKeyHdr(testAPIKeyA))
		wantError(t, "status="+q, r, http.StatusBadRequest, mgm.CodeInvalidPayload)
	}
}

func TestPendingPayoutsListing(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	t0 := ts.clock.Now()
	accepted := t0.Add(90 * time.Second)
	ts.insertPayout(t, mgm.Payout{
		ID: "10000000-0000-4000-8000-000000000001", TwitchUserID: "2001", TwitchDisplayName: "Первый",
		CharacterName: "Тралл", GoldAmount: mgm.PayoutGold, EnrollmentRequestID: "req-a",
		Status: mgm.PayoutInProgress, CreatedAt: t0, UpdatedAt: t0.Add(time.Minute), AcceptedAt: &accepted,
	})
	ts.insertPayout(t, mgm.Payout{
		ID: "10000000-0000-4000-8000-000000000002", TwitchUserID: "2002", TwitchDisplayName: "Second",
		CharacterName: "Norinn", GoldAmount: mgm.PayoutGold, EnrollmentRequestID: "req-b",
		Status: mgm.PayoutPending, CreatedAt: t0.Add(time.Second), UpdatedAt: t0.Add(time.Second),
	})
	ts.insertPayout(t, mgm.Payout{
		ID: "10000000-0000-4000-8000-000000000003", TwitchUserID: "2003", TwitchDisplayName: "Third",
		CharacterName: "Jaina", GoldAmount: mgm.PayoutGold, EnrollmentRequestID: "req-c",
		Status: mgm.PayoutPending, CreatedAt: t0.Add(2 * time.Second), UpdatedAt: t0.Add(2 * time.Second),
	})

	second := `{"id":"10000000-0000-4000-8000-000000000002","twitchUserId":"2002","twitchDisplayName":"Second",` +
		`"characterName":"Norinn","goldAmount":1000,"enrollmentRequestId":"req-b","status":"Pending",` +
		`"createdAt":"2026-04-04T12:01:24.456Z","isRewardSentAnnouncedToChat":false,` +
		`"updatedAt":"2026-04-04T12:01:24.456Z","acceptedAt":null,"spinCycleId":null}`
	third := `{"id":"10000000-0000-4000-8000-000000000003","twitchUserId":"2003","twitchDisplayName":"Third",` +
		`"characterName":"Jaina","goldAmount":1000,"enrollmentRequestId":"req-c","status":"Pending",` +
		`"createdAt":"2026-04-04T12:01:25.456Z","isRewardSentAnnouncedToChat":false,` +
		`"updatedAt":"2026-04-04T12:01:25.456Z","acceptedAt":null,"spinCycleId":null}`
	first := `{"id":"10000000-0000-4000-8000-000000000001","twitchUserId":"2001","twitchDisplayName":"Первый",` +
		`"characterName":"Тралл","goldAmount":1000,"enrollmentRequestId":"req-a","status":"InProgress",` +
		`"createdAt":"2026-04-04T12:01:23.456Z","isRewardSentAnnouncedToChat":false,` +
		`"updatedAt":"2026-04-04T12:02:23.456Z","acceptedAt":"2026-04-04T12:02:53.456Z","spinCycleId":null}`

	r := ts.get(t, "/api/payouts/pending", apiKeyHdr(testAPIKeyA))
	wantBody(t, "default: Pending only, oldest first", r, http.StatusOK, "["+second+","+third+"]")

	r = ts.get(t, "/api/payouts/pending?status=pending,inprogress", apiKeyHdr(testAPIKeyB))
	wantBody(t, "Pending and InProgress, oldest first", r, http.StatusOK, "["+first+","+second+","+third+"]")

	// The viewer's own newest payout.
	r = ts.get(t, "/api/payouts/my-last", bearerHdr(ts.token("2001")))
	wantBody(t, "GET /api/payouts/my-last", r, http.StatusOK, first)
}

func timeAt(t time.Time) *time.Time { return &t }

// A validly signed token whose identity claims PostgreSQL cannot store (a
// NUL) is the client's mistake on every viewer route and on both stores: 400
// invalid_payload, never a 500 on PostgreSQL and a 200 on SQLite.
func TestUnstorableTokenClaimsAre400(t *testing.T) {
	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/api/roulette/state", ""},
		{http.MethodGet, "/api/pool/me", ""},
		{http.MethodGet, "/api/payouts/my-last", ""},
		{http.MethodPost, "/api/payouts/claim", `{"characterName":"Norinn","enrollmentRequestId":"r1"}`},
		{http.MethodGet, "/api/streamers/" + testBroadcaster + "/gift-queue", ""},
		{http.MethodPost, "/api/gift-requests", `{"streamerId":"` + testBroadcaster + `","characterName":"Norinn"}`},
	}
	claims := []struct {
		name string
		c    auth.TokenClaims
	}{
		{"user_id", auth.TokenClaims{UserID: "10\x0001", ChannelID: testBroadcaster}},
		{"sub", auth.TokenClaims{OpaqueUserID: "Uop", ChannelID: testBroadcaster, Extra: map[string]any{"sub": "10\x0001"}}},
		{"opaque_user_id", auth.TokenClaims{UserID: "1001", OpaqueUserID: "U\x00op", ChannelID: testBroadcaster}},
		{"opaque only", auth.TokenClaims{OpaqueUserID: "U\x00op", ChannelID: testBroadcaster}},
		{"channel_id", auth.TokenClaims{UserID: "1001", ChannelID: testBroadcaster + "\x00"}},
		{"role", auth.TokenClaims{UserID: "1001", ChannelID: testBroadcaster, Role: "vie\x00wer"}},
		{"unique_name", auth.TokenClaims{UserID: "1001", ChannelID: testBroadcaster, DisplayName: "No\x00rinn"}},
		{"display_name", auth.TokenClaims{UserID: "1001", ChannelID: testBroadcaster, Extra: map[string]any{"display_name": "No\x00rinn"}}},
	}
	for _, st := range bothStores {
		t.Run(st.name, func(t *testing.T) {
			ts := newTestServerOn(t, st.open, func(c *config.Config) { c.RateLimits = config.RateLimits{} }, nil)
			for _, c := range claims {
				tok := ts.tokenWith(c.c)
				for _, rt := range routes {
					var body []byte
					h := bearerHdr(tok)
					if rt.body != "" {
						body = []byte(rt.body)
						h.Set("Content-Type", "application/json")
					}
					r := ts.do(t, rt.method, rt.path, body, h)
					wantError(t, fmt.Sprintf("%s %s with a NUL in %s", rt.method, rt.path, c.name), r, http.StatusBadRequest, mgm.CodeInvalidPayload)
				}
			}
			if n := ts.poolCount(t); n != 0 {
				t.Fatalf("a refused token enrolled someone (pool size %d)", n)
			}
		})
	}
}
