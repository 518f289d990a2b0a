package config

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// Production refuses secrets a forger can guess or brute-force, naming each
// problem on its own line and never echoing a value.
func TestProductionRefusesWeakSecrets(t *testing.T) {
	devSum := sha256.Sum256([]byte("mgm-dev-extension-secret-change-me"))
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	long := strings.Repeat("k9", 51) // 102 characters
	tests := []struct {
		name    string
		env     env
		want    []string
		secrets []string
	}{
		{
			name: "changeme as every secret",
			env:  env{"Mgm__Environment": "Production", "Twitch__ExtensionSecret": "changeme", "Twitch__EventSubSecret": "changeme", "Mgm__ApiKey": "changeme"},
			want: []string{
				"Twitch__ExtensionSecret is too short (6 bytes decoded; Production requires at least 32",
				"Twitch__ExtensionSecret is a placeholder",
				"Twitch__EventSubSecret is too short (8 characters; Twitch requires 10 to 100)",
				"Twitch__EventSubSecret is a placeholder",
				"Mgm__ApiKey: key #1 is too short",
				"Mgm__ApiKey: key #1 is a placeholder",
			},
			secrets: []string{"changeme"},
		},
		{
			name:    "a one-byte extension secret",
			env:     prod.with("Twitch__ExtensionSecret", "QQ=="),
			want:    []string{"Twitch__ExtensionSecret is too short (1 bytes decoded"},
			secrets: []string{"QQ=="},
		},
		{
			name: "the development key, as base64 and hex",
			env:  prod.with("Twitch__ExtensionSecret", base64.StdEncoding.EncodeToString(devSum[:]), "Twitch__EventSubSecret", hex.EncodeToString(devSum[:])),
			want: []string{"Twitch__ExtensionSecret is the development key", "Twitch__EventSubSecret is a placeholder"},
		},
		{
			name:    "the development text itself",
			env:     prod.with("Twitch__EventSubSecret", "mgm-dev-extension-secret-change-me", "Mgm__ApiKey", "MGM-DEV-EXTENSION-SECRET-CHANGE-ME"),
			want:    []string{"Twitch__EventSubSecret is a placeholder", "Mgm__ApiKey: key #1 is a placeholder"},
			secrets: []string{"mgm-dev", "MGM-DEV"},
		},
		{
			name:    "README example values",
			env:     prod.with("Mgm__ApiKey", "…at least 24 characters…", "Twitch__ExtensionSecret", "…base64…", "Twitch__EventSubSecret", "…"),
			want:    []string{"Mgm__ApiKey: key #1 is a placeholder", "Twitch__ExtensionSecret", "Twitch__EventSubSecret is a placeholder"},
			secrets: []string{"at least 24", "base64…"},
		},
		{
			name: "your-… values, any case",
			env: prod.with("Mgm__ApiKey", apiKey1+",Your-Desktop-Api-Key-Goes-Here",
				"Twitch__ExtensionSecret", b64("your-extension-secret-from-the-console"), "Twitch__EventSubSecret", "YOUR_EVENTSUB_SECRET"),
			want:    []string{"Mgm__ApiKey: key #2 is a placeholder", "Twitch__ExtensionSecret is a placeholder", "Twitch__EventSubSecret is a placeholder"},
			secrets: []string{"Goes-Here", "YOUR_EVENTSUB"},
		},
		{
			name:    "one character repeated",
			env:     prod.with("Mgm__ApiKey", strings.Repeat("x", 30), "Twitch__EventSubSecret", "aaaaaaaaaaaa"),
			want:    []string{"Mgm__ApiKey: key #1 is a placeholder", "Twitch__EventSubSecret is a placeholder"},
			secrets: []string{"xxxxxxxx", "aaaaaaaa"},
		},
		{
			name:    "EventSub secret too long and not ASCII",
			env:     prod.with("Twitch__EventSubSecret", long),
			want:    []string{"Twitch__EventSubSecret is too long (102 characters; Twitch requires 10 to 100)"},
			secrets: []string{long[:20]},
		},
		{
			name:    "EventSub secret not ASCII",
			env:     prod.with("Twitch__EventSubSecret", "geheimnis-über-alles"),
			want:    []string{"Twitch__EventSubSecret must be ASCII"},
			secrets: []string{"geheimnis"},
		},
		{
			name:    "password and secret",
			env:     prod.with("Twitch__EventSubSecret", "Password", "Mgm__MetricsToken", "secret"),
			want:    []string{"Twitch__EventSubSecret is a placeholder", "Mgm__MetricsToken is a placeholder"},
			secrets: []string{"Password"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantRefusal(t, mustFail(t, tt.env), tt.want, tt.secrets)
		})
	}

	// Development keeps accepting whatever a newcomer types.
	c := mustLoad(t, dev.with("Twitch__ExtensionSecret", "changeme", "Twitch__EventSubSecret", "changeme", "Mgm__ApiKey", "k"))
	if c.EventSubSecret != "changeme" {
		t.Errorf("Development EventSubSecret = %q", c.EventSubSecret)
	}
	// The boundaries themselves pass.
	mustLoad(t, prod.with("Twitch__EventSubSecret", "k7Qz-9vXw2", "Twitch__ExtensionSecret", base64.StdEncoding.EncodeToString(extSecretRaw)))
	mustLoad(t, prod.with("Twitch__EventSubSecret", strings.Repeat("k9", 50)))
}

// The environment is chosen by one named rule, and only the settings that
// protect a public deployment select Production.
func TestEnvironmentRule(t *testing.T) {
	tests := []struct {
		name   string
		env    env
		args   []string
		want   Environment
		reason string
	}{
		{"nothing", env{}, nil, Development, "nothing configured"},
		{"only local settings", env{"Mgm__Listen": "127.0.0.1:9000", "Mgm__LogLevel": "debug"}, nil, Development, "no Production setting is set"},
		{"broadcaster id does not flip", env{"Twitch__BroadcasterUserId": "12345"}, nil, Development, "no Production setting is set"},
		{"Helix client id, CORS, rate limits, versions do not flip", env{
			"Twitch__HelixClientId": "abc", "Mgm__CorsOrigins": "http://localhost:3000", "Twitch__ExtensionClientId": "abc",
			"Twitch__HelixApiBaseUrl": "http://127.0.0.1:9053", "Mgm__RateLimits__DesktopPerMinute": "0", "Version__CurrentVersion": "1.0.0",
			"Mgm__DevSkipSubscriberCheck": "true",
		}, nil, Development, "no Production setting is set"},
		{"explicit", env{"Mgm__Environment": "Development", "Mgm__ApiKey": "k"}, nil, Development, "Mgm__Environment=Development"},
		{"explicit ASP.NET name", env{"ASPNETCORE_ENVIRONMENT": "dev"}, nil, Development, "ASPNETCORE_ENVIRONMENT=Development"},
		{"explicit flag", env{}, []string{"--Mgm:Environment=Production", "--Twitch:ExtensionSecret=" + extSecretB64, "--Twitch:EventSubSecret=" + eventSubSecret, "--Mgm:ApiKey=" + apiKey1}, Production, "Mgm__Environment=Production"},
		{"implied by one secret", prod.with("Mgm__Environment", "", "Twitch__EventSubSecret", "", "Mgm__ApiKey", "", "Twitch__ExtensionSecret", extSecretB64), nil, "", ""},
		{"implied", prod.with("Mgm__Environment", ""), nil, Production, "Mgm__ApiKey, Twitch__ExtensionSecret and Twitch__EventSubSecret are set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				msg := mustFail(t, tt.env, tt.args...)
				if !strings.Contains(msg, "Production was assumed because Twitch__ExtensionSecret is set") {
					t.Errorf("error does not name the rule:\n%s", msg)
				}
				return
			}
			c := mustLoad(t, tt.env, tt.args...)
			if c.Environment != tt.want || c.EnvironmentReason() != tt.reason {
				t.Errorf("got %s (%s), want %s (%s)", c.Environment, c.EnvironmentReason(), tt.want, tt.reason)
			}
		})
	}
}

// A non-loopback address never runs Development by default: anyone who can
// reach it could forge viewer tokens with the public development key.
func TestNonLoopbackDevelopment(t *testing.T) {
	for _, addr := range []string{":8080", "0.0.0.0:8080", "[::]:8080", "192.168.1.20:8080", "ebs.example.com:8080"} {
		t.Run(addr, func(t *testing.T) {
			msg := mustFail(t, env{}, "--listen", addr)
			for _, w := range []string{"Mgm__Listen", "not a loopback address", "Mgm__Environment=Development"} {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
			msg = mustFail(t, env{"Twitch__BroadcasterUserId": "1", "ASPNETCORE_URLS": "http://" + strings.Replace(addr, ":8080", "", 1) + ":8080"})
			if !strings.Contains(msg, "ASPNETCORE_URLS") {
				t.Errorf("error does not name the key the address came from:\n%s", msg)
			}

			c := mustLoad(t, dev, "--listen", addr)
			if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "not a loopback address") {
				t.Errorf("explicit Development on %s: warnings %q", addr, w)
			}
			if w := mustLoad(t, prod, "--listen", addr).Warnings(); len(w) != 0 {
				t.Errorf("Production warnings %q", w)
			}
		})
	}
	for _, addr := range []string{"127.0.0.1:8080", "127.0.0.2:9000", "localhost:8080", "LOCALHOST:1", "[::1]:8080"} {
		c := mustLoad(t, env{}, "--listen", addr)
		if c.Environment != Development || len(c.Warnings()) != 0 {
			t.Errorf("%s: %s, warnings %q", addr, c.Environment, c.Warnings())
		}
	}
}

// In Development the gift queue has a streamer even when none is configured.
func TestDevBroadcaster(t *testing.T) {
	c := mustLoad(t, env{})
	if c.BroadcasterUserID != "" || c.DevBroadcasterUserID != DevBroadcaster || DevBroadcaster == "" {
		t.Errorf("zero-config: BroadcasterUserID %q, DevBroadcasterUserID %q", c.BroadcasterUserID, c.DevBroadcasterUserID)
	}
	c = mustLoad(t, env{"Twitch__BroadcasterUserId": "12345"})
	if c.BroadcasterUserID != "12345" || c.DevBroadcasterUserID != "" {
		t.Errorf("configured: BroadcasterUserID %q, DevBroadcasterUserID %q", c.BroadcasterUserID, c.DevBroadcasterUserID)
	}
	if c := mustLoad(t, prod); c.DevBroadcasterUserID != "" {
		t.Errorf("Production DevBroadcasterUserID %q", c.DevBroadcasterUserID)
	}
}
