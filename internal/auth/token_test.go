package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func decodePayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var hdr map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr["alg"] != "HS256" || hdr["typ"] != "JWT" {
		t.Fatalf("header = %s (%v)", hb, err)
	}
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

func TestSignViewerTokenShape(t *testing.T) {
	nbf := testNow.Add(-time.Minute)
	tok := SignViewerToken(DevExtensionSecret(), TokenClaims{
		UserID: "42", ChannelID: "1000", DisplayName: "Thrall",
		Expires: testNow.Add(time.Hour), IssuedAt: testNow, NotBefore: &nbf, Audience: "client-1",
	})
	got := decodePayload(t, tok)
	want := map[string]any{
		"exp":            float64(testNow.Add(time.Hour).Unix()),
		"iat":            float64(testNow.Unix()),
		"nbf":            float64(nbf.Unix()),
		"opaque_user_id": "U42",
		"user_id":        "42",
		"channel_id":     "1000",
		"role":           "viewer",
		"unique_name":    "Thrall",
		"aud":            "client-1",
		"pubsub_perms": map[string]any{
			"listen": []any{"broadcast", "whisper-U42", "global"},
			"send":   []any{"broadcast", "whisper-*"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("payload =\n%v\nwant\n%v", got, want)
	}
}

func TestSignViewerTokenOmissions(t *testing.T) {
	tok := SignViewerToken(DevExtensionSecret(), TokenClaims{
		OpaqueUserID: "A-anon", Role: "broadcaster", Expires: testNow.Add(time.Hour),
		Extra: map[string]any{"iat": nil, "custom": "x"},
	})
	got := decodePayload(t, tok)
	for _, k := range []string{"user_id", "channel_id", "unique_name", "aud", "nbf", "iat"} {
		if _, ok := got[k]; ok {
			t.Errorf("claim %q present", k)
		}
	}
	if got["role"] != "broadcaster" || got["opaque_user_id"] != "A-anon" || got["custom"] != "x" {
		t.Errorf("payload = %v", got)
	}
	perms := got["pubsub_perms"].(map[string]any)
	if perms["listen"].([]any)[1] != "whisper-A-anon" {
		t.Errorf("pubsub_perms = %v", perms)
	}
}
