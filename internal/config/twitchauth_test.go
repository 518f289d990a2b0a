package config

import (
	"fmt"
	"strings"
	"testing"
)

// The Twitch sign-in settings: defaults, checks, and that the secrets never
// show in the banner or in an error.
func TestTwitchSignInSettings(t *testing.T) {
	const key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=" // 32 bytes
	c := mustLoad(t, dev)
	if c.AuthBaseURL != "https://id.twitch.tv" || c.ClientSecret != "" || c.TokenEncryptionKey != nil {
		t.Fatalf("defaults: %q %q %v", c.AuthBaseURL, c.ClientSecret, c.TokenEncryptionKey)
	}
	c = mustLoad(t, dev.with("Twitch__ClientSecret", "cs-very-secret", "Twitch__AuthBaseUrl", "http://127.0.0.1:9055/", "Twitch__TokenEncryptionKey", key))
	if c.Environment != Development {
		t.Fatalf("sign-in settings selected %s", c.Environment)
	}
	if c.AuthBaseURL != "http://127.0.0.1:9055" || c.ClientSecret != "cs-very-secret" || len(c.TokenEncryptionKey) != 32 {
		t.Fatalf("parsed: %q %q %d", c.AuthBaseURL, c.ClientSecret, len(c.TokenEncryptionKey))
	}
	if r := fmt.Sprint(c.Redacted()); strings.Contains(r, "cs-very-secret") || strings.Contains(r, key) {
		t.Fatalf("banner shows a secret:\n%s", r)
	}
	for _, tt := range []struct {
		env  env
		want string
	}{
		{dev.with("Twitch__TokenEncryptionKey", "QQ=="), "must decode to 32 bytes, got 1"},
		{dev.with("Twitch__TokenEncryptionKey", "not base64!"), "not valid base64"},
		{dev.with("Twitch__AuthBaseUrl", "https://id.twitch.tv/oauth2"), "without the trailing /oauth2"},
		{dev.with("Twitch__AuthBaseUrl", "id.twitch.tv"), "absolute http(s) URL"},
	} {
		if msg := mustFail(t, tt.env); !strings.Contains(msg, tt.want) || strings.Contains(msg, "not base64!") {
			t.Errorf("error %q, want %q", msg, tt.want)
		}
	}
}
