package config

import (
	"encoding/base64"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/pgdsn"
)

type env map[string]string

func (e env) get(k string) string { return e[k] }

// with returns a copy of e with kv (alternating keys and values) applied.
func (e env) with(kv ...string) env {
	out := maps.Clone(e)
	if out == nil {
		out = env{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

var (
	extSecretRaw   = []byte("0123456789abcdef0123456789ABCDEF")
	extSecretB64   = base64.StdEncoding.EncodeToString(extSecretRaw)
	eventSubSecret = "eventsub-s3cret-value-42"
	apiKey1        = "desktop-key-AAAAAAAAAAAAAAAAAAAAAA"
	apiKey2        = "desktop-key-BBBBBBBBBBBBBBBBBBBBBB"
)

// prod is a minimal valid Production configuration.
var prod = env{
	"Mgm__Environment":        "Production",
	"Twitch__ExtensionSecret": extSecretB64,
	"Twitch__EventSubSecret":  eventSubSecret,
	"Mgm__ApiKey":             apiKey1,
}

var dev = env{"Mgm__Environment": "Development"}

func mustLoad(t *testing.T, e env, args ...string) Config {
	t.Helper()
	c, err := Load(e.get, args)
	if err != nil {
		t.Fatalf("Load: unexpected error:\n%v", err)
	}
	return c
}

func mustFail(t *testing.T, e env, args ...string) string {
	t.Helper()
	_, err := Load(e.get, args)
	if err == nil {
		t.Fatal("Load: expected an error, got none")
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Load: error is %T, want *config.Error: %v", err, err)
	}
	return err.Error()
}

func TestZeroConfig(t *testing.T) {
	for _, name := range []string{"nil getenv map", "empty values"} {
		t.Run(name, func(t *testing.T) {
			e := env{}
			if name == "empty values" {
				e = env{"Mgm__ApiKey": "", "Mgm__Listen": "  "}
			}
			c := mustLoad(t, e)
			if c.Environment != Development || !c.Development() {
				t.Errorf("Environment = %q, want Development", c.Environment)
			}
			checks := map[string][2]any{
				"Listen":          {c.Listen, "127.0.0.1:8080"},
				"DataDir":         {c.DataDir, "./mgm-data"},
				"PostgresDSN":     {c.PostgresDSN, ""},
				"SpinInterval":    {c.SpinInterval, 300 * time.Second},
				"HelixAPIBaseURL": {c.HelixAPIBaseURL, "https://api.twitch.tv"},
				"LogLevel":        {c.LogLevel, "info"},
				"RateLimits":      {c.RateLimits, RateLimits{ViewerReads: 120, ViewerWrites: 5, Desktop: 600, Anonymous: 120}},
				"APIKeys":         {len(c.APIKeys), 0},
				"ExtensionSecret": {len(c.ExtensionSecret), 0},
				"EventSubSecret":  {c.EventSubSecret, ""},
				"E2e":             {c.EnableE2eHarness, false},
				"DevSkip":         {c.DevSkipSubscriberCheck, false},
				"ValidateAud":     {c.ValidateAudience, false},
				"MetricsToken":    {c.MetricsToken, ""},
				"Version":         {c.Version, VersionInfo{}},
			}
			for field, v := range checks {
				if v[0] != v[1] {
					t.Errorf("%s = %v, want %v", field, v[0], v[1])
				}
			}
			wantCors := []string{"http://localhost:8080", "http://127.0.0.1:8080", "http://localhost:5173", "http://127.0.0.1:5173"}
			if !slices.Equal(c.CorsOrigins, wantCors) {
				t.Errorf("CorsOrigins = %q, want %q", c.CorsOrigins, wantCors)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		env     env
		want    Environment
		wantErr string
	}{
		{"ASPNETCORE Development", env{"ASPNETCORE_ENVIRONMENT": "Development"}, Development, ""},
		{"ASPNETCORE lower-case dev", env{"ASPNETCORE_ENVIRONMENT": "dev"}, Development, ""},
		{"Mgm prod short", prod.with("Mgm__Environment", "PROD"), Production, ""},
		{"Mgm production lower", prod.with("Mgm__Environment", "production"), Production, ""},
		{"ASPNETCORE Production", prod.with("Mgm__Environment", "", "ASPNETCORE_ENVIRONMENT", "Production"), Production, ""},
		{"Mgm wins over ASPNETCORE", env{"Mgm__Environment": "Development", "ASPNETCORE_ENVIRONMENT": "Production"}, Development, ""},
		{"Mgm wins over ASPNETCORE (prod)", prod.with("ASPNETCORE_ENVIRONMENT", "Development"), Production, ""},
		{"all-caps env var", env{"MGM__ENVIRONMENT": "Development", "Mgm__ApiKey": "k"}, Development, ""},
		{"anything configured means Production", prod.with("Mgm__Environment", ""), Production, ""},
		{"only Listen set stays Development", env{"Mgm__Listen": "127.0.0.1:9000"}, Development, ""},
		{"short cycles and the harness stay Development", env{"Mgm__SpinIntervalSeconds": "20", "Mgm__EnableE2eHarness": "true"}, Development, ""},
		{"Listen, data dir and log level stay Development", env{"ASPNETCORE_URLS": "http://127.0.0.1:9000", "Mgm__DataDir": "/tmp/x", "Mgm__LogLevel": "debug"}, Development, ""},
		{"an API key means Production", env{"Mgm__Listen": "127.0.0.1:9000", "Mgm__ApiKey": "k"}, "", "Production was assumed"},
		{"unknown name", env{"ASPNETCORE_ENVIRONMENT": "Staging"}, "", "ASPNETCORE_ENVIRONMENT must be Development or Production"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr != "" {
				msg := mustFail(t, tt.env)
				if !strings.Contains(msg, tt.wantErr) {
					t.Errorf("error %q does not contain %q", msg, tt.wantErr)
				}
				return
			}
			c := mustLoad(t, tt.env)
			if c.Environment != tt.want {
				t.Errorf("Environment = %q, want %q", c.Environment, tt.want)
			}
		})
	}
}

func TestListen(t *testing.T) {
	tests := []struct {
		name    string
		env     env
		want    string
		wantErr string
	}{
		{"default", dev, "127.0.0.1:8080", ""},
		{"Mgm__Listen", dev.with("Mgm__Listen", "0.0.0.0:9000"), "0.0.0.0:9000", ""},
		{"Mgm__Listen all interfaces", dev.with("Mgm__Listen", ":9000"), ":9000", ""},
		{"URLS loopback", dev.with("ASPNETCORE_URLS", "http://127.0.0.1:8080"), "127.0.0.1:8080", ""},
		{"URLS plus", dev.with("ASPNETCORE_URLS", "http://+:8080"), ":8080", ""},
		{"URLS star", dev.with("ASPNETCORE_URLS", "http://*:8081"), ":8081", ""},
		{"URLS 0.0.0.0", dev.with("ASPNETCORE_URLS", "http://0.0.0.0:8080"), "0.0.0.0:8080", ""},
		{"URLS localhost", dev.with("ASPNETCORE_URLS", "http://localhost:8080"), "localhost:8080", ""},
		{"URLS trailing slash", dev.with("ASPNETCORE_URLS", "http://localhost:8080/"), "localhost:8080", ""},
		{"URLS IPv6", dev.with("ASPNETCORE_URLS", "http://[::1]:8080"), "[::1]:8080", ""},
		{"URLS no port", dev.with("ASPNETCORE_URLS", "http://localhost"), "localhost:80", ""},
		{"URLS list takes first", dev.with("ASPNETCORE_URLS", "http://+:8080;http://localhost:9999"), ":8080", ""},
		{"Mgm__Listen wins over URLS", dev.with("ASPNETCORE_URLS", "http://+:8080", "Mgm__Listen", "127.0.0.1:7000"), "127.0.0.1:7000", ""},
		{"URLS https", dev.with("ASPNETCORE_URLS", "https://+:8443"), "", "reverse proxy"},
		{"URLS https first", dev.with("ASPNETCORE_URLS", "https://+:8443;http://+:8080"), "", "ASPNETCORE_URLS: https is not supported"},
		{"URLS path", dev.with("ASPNETCORE_URLS", "http://+:8080/base"), "", "path"},
		{"Mgm__Listen no port", dev.with("Mgm__Listen", "localhost"), "", "Mgm__Listen"},
		{"Mgm__Listen bad port", dev.with("Mgm__Listen", "localhost:http"), "", "invalid port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wantErr != "" {
				if msg := mustFail(t, tt.env); !strings.Contains(msg, tt.wantErr) {
					t.Errorf("error %q does not contain %q", msg, tt.wantErr)
				}
				return
			}
			if c := mustLoad(t, tt.env); c.Listen != tt.want {
				t.Errorf("Listen = %q, want %q", c.Listen, tt.want)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	base := dev.with("Mgm__Listen", "127.0.0.1:8080", "Mgm__DataDir", "/env/dir")
	tests := []struct {
		name   string
		env    env
		args   []string
		listen string
		data   string
	}{
		{"colon form", base, []string{"--Mgm:Listen=127.0.0.1:9000"}, "127.0.0.1:9000", "/env/dir"},
		{"double underscore form", base, []string{"--Mgm__Listen=127.0.0.1:9000"}, "127.0.0.1:9000", "/env/dir"},
		{"dotnet bare form", base, []string{"Mgm:Listen=127.0.0.1:9000"}, "127.0.0.1:9000", "/env/dir"},
		{"case-insensitive key", base, []string{"--mgm:listen=127.0.0.1:9000"}, "127.0.0.1:9000", "/env/dir"},
		{"space-separated value", base, []string{"--Mgm:Listen", "127.0.0.1:9000"}, "127.0.0.1:9000", "/env/dir"},
		{"short flags", base, []string{"--listen", "127.0.0.1:9000", "--data-dir=/flag/dir"}, "127.0.0.1:9000", "/flag/dir"},
		{"single-dash short flag", base, []string{"-listen=127.0.0.1:9000"}, "127.0.0.1:9000", "/env/dir"},
		{"last one wins", base, []string{"--listen=127.0.0.1:1", "--Mgm:Listen=127.0.0.1:2"}, "127.0.0.1:2", "/env/dir"},
		{"flag URLS beats env Mgm__Listen", base, []string{"--ASPNETCORE_URLS=http://+:7000"}, ":7000", "/env/dir"},
		{"empty flag restores default", base, []string{"--Mgm:DataDir="}, "127.0.0.1:8080", "./mgm-data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.env, tt.args...)
			if c.Listen != tt.listen || c.DataDir != tt.data {
				t.Errorf("Listen, DataDir = %q, %q; want %q, %q", c.Listen, c.DataDir, tt.listen, tt.data)
			}
		})
	}

	t.Run("postgres flag and environment flag", func(t *testing.T) {
		c := mustLoad(t, env{"Mgm__Environment": "Production"}, "--Mgm:Environment=Development", "--postgres", "postgres://u@h/db")
		if c.Environment != Development || c.PostgresDSN != "postgres://u@h/db" {
			t.Errorf("got %q %q", c.Environment, c.PostgresDSN)
		}
	})

	t.Run("secret flags count as configuration", func(t *testing.T) {
		msg := mustFail(t, env{}, "--listen=:9000", "--Twitch:ExtensionSecret="+extSecretB64)
		if !strings.Contains(msg, "Twitch__EventSubSecret") {
			t.Errorf("expected Production validation, got %q", msg)
		}
	})

	for _, args := range [][]string{{"-h"}, {"--help"}, {"--listen=:1", "-help"}} {
		if _, err := Load(env{}.get, args); !errors.Is(err, ErrHelp) {
			t.Errorf("Load(%q) error = %v, want ErrHelp", args, err)
		}
	}

	bad := []struct {
		name    string
		args    []string
		want    string
		notWant string
	}{
		{"unknown key", []string{"--Mgm:Nope=secretvalue"}, `unknown argument "--Mgm:Nope"`, "secretvalue"},
		{"unknown key space value", []string{"--apikey", "secretvalue"}, `unknown argument "--apikey"`, "secretvalue"},
		{"positional", []string{"secretvalue"}, "unexpected argument #1", "secretvalue"},
		{"missing value", []string{"--Mgm:Listen"}, `"--Mgm:Listen" needs a value`, ""},
		{"missing value before flag", []string{"--listen", "--data-dir=x"}, `"--listen" needs a value`, ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			msg := mustFail(t, dev, tt.args...)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if tt.notWant != "" && strings.Contains(msg, tt.notWant) {
				t.Errorf("error %q echoes %q", msg, tt.notWant)
			}
		})
	}
}

func TestAPIKeys(t *testing.T) {
	c := mustLoad(t, dev.with("Mgm__ApiKey", "  first-key , second-key,,  ,third-key ,first-key"))
	want := []string{"first-key", "second-key", "third-key"}
	if !slices.Equal(c.APIKeys, want) {
		t.Errorf("APIKeys = %q, want %q", c.APIKeys, want)
	}
	c = mustLoad(t, prod.with("Mgm__ApiKey", apiKey1+", "+apiKey2))
	if !slices.Equal(c.APIKeys, []string{apiKey1, apiKey2}) {
		t.Errorf("APIKeys = %q", c.APIKeys)
	}
}

func TestProduction(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		c := mustLoad(t, prod.with("Mgm__EnableE2eHarness", "true", "Mgm__DevSkipSubscriberCheck", "true"))
		if c.Development() {
			t.Error("Development() = true in Production")
		}
		if c.EnableE2eHarness || c.DevSkipSubscriberCheck {
			t.Error("EnableE2eHarness and DevSkipSubscriberCheck must be forced off in Production")
		}
		if string(c.ExtensionSecret) != string(extSecretRaw) {
			t.Error("ExtensionSecret not decoded")
		}
	})

	t.Run("missing everything", func(t *testing.T) {
		msg := mustFail(t, env{"Mgm__Environment": "Production"})
		lines := strings.Split(msg, "\n")
		if len(lines) != 3 {
			t.Errorf("want 3 lines, one per problem, got %d:\n%s", len(lines), msg)
		}
		for _, k := range []string{"Twitch__ExtensionSecret", "Twitch__EventSubSecret", "Mgm__ApiKey"} {
			if !strings.Contains(msg, k) {
				t.Errorf("error does not name %s:\n%s", k, msg)
			}
		}
	})

	tests := []struct {
		name    string
		env     env
		want    []string
		secrets []string
	}{
		{
			name:    "missing two, one set",
			env:     env{"Mgm__Environment": "Production", "Twitch__EventSubSecret": eventSubSecret, "Mgm__ApiKey": "tiny-key-9"},
			want:    []string{"Twitch__ExtensionSecret", "Mgm__ApiKey: key #1 is too short"},
			secrets: []string{eventSubSecret, "tiny-key-9"},
		},
		{
			name:    "short second key",
			env:     prod.with("Mgm__ApiKey", apiKey1+",short-but-secret"),
			want:    []string{"key #2 is too short (16 characters"},
			secrets: []string{apiKey1, "short-but-secret", extSecretB64, eventSubSecret},
		},
		{
			name: "spin interval in Production",
			env:  prod.with("Mgm__SpinIntervalSeconds", "10"),
			want: []string{"Mgm__SpinIntervalSeconds may differ from 300 only in Development"},
		},
		{
			name:    "inferred Production explains itself",
			env:     env{"Mgm__ApiKey": "secret-dev-key"},
			want:    []string{"Twitch__ExtensionSecret", "Twitch__EventSubSecret", "too short", "Mgm__Environment=Development"},
			secrets: []string{"secret-dev-key"},
		},
		{
			name: "every problem at once",
			env: env{
				"Mgm__Environment": "Production", "Mgm__DevSkipSubscriberCheck": "maybe",
				"Mgm__RateLimits__DesktopPerMinute": "-1", "Twitch__HelixApiBaseUrl": "https://api.twitch.tv/helix",
			},
			want: []string{"Mgm__DevSkipSubscriberCheck", "Mgm__RateLimits__DesktopPerMinute", "Twitch__HelixApiBaseUrl",
				"Twitch__ExtensionSecret", "Twitch__EventSubSecret", "Mgm__ApiKey"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantRefusal(t, mustFail(t, tt.env), tt.want, tt.secrets)
		})
	}
}

func TestSpinInterval(t *testing.T) {
	tests := []struct {
		env     env
		want    time.Duration
		wantErr string
	}{
		{dev.with("Mgm__SpinIntervalSeconds", "10"), 10 * time.Second, ""},
		{dev.with("Mgm__SpinIntervalSeconds", "3600"), time.Hour, ""},
		{prod.with("Mgm__SpinIntervalSeconds", "300"), 300 * time.Second, ""},
		{dev.with("Mgm__SpinIntervalSeconds", "9"), 0, "between 10 and 3600"},
		{dev.with("Mgm__SpinIntervalSeconds", "3601"), 0, "between 10 and 3600"},
		{dev.with("Mgm__SpinIntervalSeconds", "12.5"), 0, "whole number"},
		{prod.with("Mgm__SpinIntervalSeconds", "60"), 0, "only in Development"},
	}
	for _, tt := range tests {
		v := tt.env["Mgm__SpinIntervalSeconds"] + "/" + tt.env["Mgm__Environment"]
		t.Run(v, func(t *testing.T) {
			if tt.wantErr != "" {
				if msg := mustFail(t, tt.env); !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, "Mgm__SpinIntervalSeconds") {
					t.Errorf("error %q does not contain key and %q", msg, tt.wantErr)
				}
				return
			}
			if c := mustLoad(t, tt.env); c.SpinInterval != tt.want {
				t.Errorf("SpinInterval = %v, want %v", c.SpinInterval, tt.want)
			}
		})
	}
}

// The forms themselves are pgdsn's tests; here, that the setting is read
// through it and its problems name the key without the password.
func TestPostgres(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Host=localhost;Port=5432;Database=mgm;Username=postgres;Password=postgres", "postgres://postgres:postgres@localhost:5432/mgm"},
		{"postgres://u:p%40ss@db:5432/mgm?sslmode=require", "postgres://u:p%40ss@db:5432/mgm?sslmode=require"},
		{"host=localhost port=5432 dbname=mgm user=postgres password='a b;c' sslmode=disable", "host=localhost port=5432 dbname=mgm user=postgres password='a b;c' sslmode=disable"},
	}
	for _, tt := range tests {
		if c := mustLoad(t, dev.with("ConnectionStrings__PostgreSQL", tt.in)); c.PostgresDSN != tt.want {
			t.Errorf("PostgresDSN = %q, want %q", c.PostgresDSN, tt.want)
		}
	}
	for _, in := range []string{"Host=h;Password=hunter2secret;Frobnicate=yes", "mysql://u:hunter2secret@h/db", "host=h password='hunter2secret"} {
		msg := mustFail(t, dev.with("ConnectionStrings__PostgreSQL", in))
		if !strings.HasPrefix(msg, "ConnectionStrings__PostgreSQL: ") || strings.Contains(msg, "hunter2secret") {
			t.Errorf("error %q does not name the key, or leaks the password", msg)
		}
	}
}

func TestHelixBaseURL(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{"", "https://api.twitch.tv", ""},
		{"https://api.twitch.tv/", "https://api.twitch.tv", ""},
		{"http://127.0.0.1:9053///", "http://127.0.0.1:9053", ""},
		{"http://127.0.0.1:9053/mock/", "http://127.0.0.1:9053/mock", ""},
		{"https://api.twitch.tv/helix", "", "without the trailing /helix"},
		{"https://api.twitch.tv/HELIX/", "", "without the trailing /helix"},
		{"api.twitch.tv", "", "absolute http(s) URL"},
		{"ftp://api.twitch.tv", "", "absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e := dev.with("Twitch__HelixApiBaseUrl", tt.in)
			if tt.wantErr != "" {
				if msg := mustFail(t, e); !strings.Contains(msg, "Twitch__HelixApiBaseUrl") || !strings.Contains(msg, tt.wantErr) {
					t.Errorf("error %q", msg)
				}
				return
			}
			if c := mustLoad(t, e); c.HelixAPIBaseURL != tt.want {
				t.Errorf("HelixAPIBaseURL = %q, want %q", c.HelixAPIBaseURL, tt.want)
			}
		})
	}
}

func TestExtensionSecret(t *testing.T) {
	raw := []byte{0xfb, 0xff, 0x01, 0x02, 0x03}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		s := enc.EncodeToString(raw)
		c := mustLoad(t, dev.with("Twitch__ExtensionSecret", s))
		if string(c.ExtensionSecret) != string(raw) {
			t.Errorf("%q decoded to %x", s, c.ExtensionSecret)
		}
	}
	const bad = "not-base64!!s3cr3t"
	for _, e := range []env{dev, prod} {
		msg := mustFail(t, e.with("Twitch__ExtensionSecret", bad))
		if !strings.Contains(msg, "Twitch__ExtensionSecret is not valid base64") {
			t.Errorf("error %q does not name the key", msg)
		}
		if strings.Contains(msg, bad) || strings.Contains(msg, "s3cr3t") {
			t.Errorf("error %q echoes the secret", msg)
		}
		if strings.Count(msg, "Twitch__ExtensionSecret") != 1 {
			t.Errorf("bad secret reported more than once:\n%s", msg)
		}
	}
}

func TestBooleans(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "TRUE": true, "1": true, "Yes": true, "false": false, "0": false, "no": false, "NO": false} {
		c := mustLoad(t, dev.with("Mgm__DevSkipSubscriberCheck", in, "Mgm__EnableE2eHarness", in))
		if c.DevSkipSubscriberCheck != want || c.EnableE2eHarness != want {
			t.Errorf("%q → %v/%v, want %v", in, c.DevSkipSubscriberCheck, c.EnableE2eHarness, want)
		}
	}
	msg := mustFail(t, dev.with("Twitch__ValidateAudience", "maybe"))
	if !strings.Contains(msg, "Twitch__ValidateAudience must be true or false") {
		t.Errorf("error %q", msg)
	}
	msg = mustFail(t, dev.with("Twitch__ValidateAudience", "true"))
	if !strings.Contains(msg, "Twitch__ExtensionClientId") {
		t.Errorf("ValidateAudience without client id: error %q", msg)
	}
	c := mustLoad(t, dev.with("Twitch__ValidateAudience", "yes", "Twitch__ExtensionClientId", "abc123"))
	if !c.ValidateAudience || c.ExtensionClientID != "abc123" {
		t.Errorf("got %v %q", c.ValidateAudience, c.ExtensionClientID)
	}
}

func TestRateLimitsAndMisc(t *testing.T) {
	c := mustLoad(t, dev.with(
		"Mgm__RateLimits__ViewerReadsPerMinute", "0",
		"Mgm__RateLimits__ViewerWritesPerMinute", "10",
		"Mgm__RateLimits__DesktopPerMinute", "1200",
		"Mgm__RateLimits__AnonymousPerMinute", " 60 ",
		"Mgm__LogLevel", "DEBUG",
		"Mgm__MetricsToken", "metrics-token",
		"Version__CurrentVersion", "1.2.3",
		"Version__ReleaseNotesUrl", "https://example.com/notes",
		"Version__MinimumDesktopVersion", "1.0.0",
		"Version__MinimumAddonVersion", "1.1.0",
		"Version__MinimumExtensionVersion", "1.2.0",
		"Twitch__HelixClientId", "helixid",
		"Twitch__BroadcasterAccessToken", "token",
		"Twitch__BroadcasterUserId", "12345",
	))
	if want := (RateLimits{ViewerReads: 0, ViewerWrites: 10, Desktop: 1200, Anonymous: 60}); c.RateLimits != want {
		t.Errorf("RateLimits = %+v, want %+v", c.RateLimits, want)
	}
	if want := (VersionInfo{"1.2.3", "https://example.com/notes", "1.0.0", "1.1.0", "1.2.0"}); c.Version != want {
		t.Errorf("Version = %+v, want %+v", c.Version, want)
	}
	if c.LogLevel != "debug" || c.MetricsToken != "metrics-token" || c.HelixClientID != "helixid" ||
		c.BroadcasterAccessToken != "token" || c.BroadcasterUserID != "12345" {
		t.Errorf("misc fields wrong: %+v", c)
	}
	for k, v := range map[string]string{
		"Mgm__RateLimits__AnonymousPerMinute": "-5",
		"Mgm__RateLimits__DesktopPerMinute":   "lots",
		"Mgm__LogLevel":                       "loud",
		"Version__ReleaseNotesUrl":            "notes.html",
	} {
		if msg := mustFail(t, dev.with(k, v)); !strings.Contains(msg, k) {
			t.Errorf("%s=%q: error %q does not name the key", k, v, msg)
		}
	}
}

func TestCorsOrigins(t *testing.T) {
	tests := []struct {
		name string
		env  env
		want []string
	}{
		{"Production with client id", prod.with("Twitch__ExtensionClientId", "AbC123"), []string{"https://abc123.ext-twitch.tv"}},
		{"Production without client id", prod, nil},
		{"Development adds listen origin", dev.with("Mgm__Listen", "127.0.0.1:9000", "Twitch__ExtensionClientId", "abc"), []string{
			"https://abc.ext-twitch.tv", "http://localhost:8080", "http://127.0.0.1:8080", "http://localhost:5173", "http://127.0.0.1:5173", "http://127.0.0.1:9000"}},
		{"Development wildcard listen", dev.with("Mgm__Listen", ":9000"), []string{
			"http://localhost:8080", "http://127.0.0.1:8080", "http://localhost:5173", "http://127.0.0.1:5173", "http://localhost:9000", "http://127.0.0.1:9000"}},
		{"explicit list replaces defaults", prod.with("Twitch__ExtensionClientId", "abc", "Mgm__CorsOrigins", " https://A.example.com/ , http://localhost:3000,,"), []string{
			"https://a.example.com", "http://localhost:3000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c := mustLoad(t, tt.env); !slices.Equal(c.CorsOrigins, tt.want) {
				t.Errorf("CorsOrigins = %q, want %q", c.CorsOrigins, tt.want)
			}
		})
	}
	if msg := mustFail(t, dev.with("Mgm__CorsOrigins", "https://ok.example,https://x.example/path")); !strings.Contains(msg, "Mgm__CorsOrigins") {
		t.Errorf("error %q", msg)
	}
}

func TestRedacted(t *testing.T) {
	const (
		dbPass       = "Db-P@ss;w0rd"
		accessToken  = "broadcaster-access-token-xyz"
		metricsToken = "metrics-bearer-token-xyz"
	)
	secrets := []string{apiKey1, apiKey2, extSecretB64, string(extSecretRaw), eventSubSecret, accessToken, metricsToken, dbPass, url.QueryEscape(dbPass)}

	dsns := map[string]string{
		"ADO.NET":       "Host=db;Port=5432;Database=mgm;Username=app;Password='" + dbPass + "';SSL Password=" + metricsToken,
		"URL":           "postgres://app:" + url.QueryEscape(dbPass) + "@db:5432/mgm?sslmode=require&password=" + url.QueryEscape(accessToken),
		"keyword/value": "host=db dbname=mgm user=app password='" + dbPass + "' sslpassword=" + metricsToken,
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			c := mustLoad(t, prod.with(
				"Mgm__ApiKey", apiKey1+","+apiKey2,
				"Twitch__BroadcasterAccessToken", accessToken,
				"Mgm__MetricsToken", metricsToken,
				"ConnectionStrings__PostgreSQL", dsn,
			))
			r := c.Redacted()
			for k, v := range r {
				for _, s := range secrets {
					if strings.Contains(v, s) {
						t.Errorf("Redacted()[%s] = %q contains secret %q", k, v, s)
					}
				}
			}
			for _, s := range settings {
				if _, ok := r[s.Key]; !ok {
					t.Errorf("Redacted() lacks %s", s.Key)
				}
			}
			want := map[string]string{
				"Mgm__ApiKey":                    "set (2 keys: 34, 34 chars)",
				"Twitch__ExtensionSecret":        "set (32 bytes)",
				"Twitch__EventSubSecret":         "set (24 chars)",
				"Twitch__BroadcasterAccessToken": "set (28 chars)",
				"Mgm__MetricsToken":              "set (24 chars)",
				"Mgm__Environment":               "Production (Mgm__Environment=Production)",
			}
			for k, w := range want {
				if r[k] != w {
					t.Errorf("Redacted()[%s] = %q, want %q", k, r[k], w)
				}
			}
			if pg := r["ConnectionStrings__PostgreSQL"]; !strings.Contains(pg, "db") || !strings.Contains(pg, "mgm") || !strings.Contains(pg, pgdsn.Mask) {
				t.Errorf("Redacted DSN %q should still show host and database", pg)
			}
		})
	}

	r := mustLoad(t, env{}).Redacted()
	for _, k := range []string{"Mgm__ApiKey", "Twitch__ExtensionSecret", "Twitch__EventSubSecret", "Mgm__MetricsToken"} {
		if r[k] != "not set" {
			t.Errorf("zero-config Redacted()[%s] = %q, want not set", k, r[k])
		}
	}
	if !strings.HasPrefix(r["ConnectionStrings__PostgreSQL"], "not set") {
		t.Errorf("zero-config DSN shown as %q", r["ConnectionStrings__PostgreSQL"])
	}

}

func TestUsage(t *testing.T) {
	u := Usage()
	for _, o := range options() {
		for _, k := range o.Names() {
			if !strings.Contains(u, k) {
				t.Errorf("Usage lacks %s", k)
			}
		}
	}
	for _, f := range []string{"--listen", "--data-dir", "--postgres", "--help"} {
		if !strings.Contains(u, f) {
			t.Errorf("Usage lacks %s", f)
		}
	}
}

// wantRefusal checks that a refusal names every problem in want and shows
// none of the secrets.
func wantRefusal(t *testing.T, msg string, want, secrets []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not contain %q:\n%s", w, msg)
		}
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("error leaks secret %q:\n%s", s, msg)
		}
	}
}
