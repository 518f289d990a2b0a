package config

import (
	"strings"
	"testing"
)

func TestTLSSettings(t *testing.T) {
	c := mustLoad(t, prod.with("Mgm__TlsDomain", "EBS.Example.com."))
	want := TLS{Domain: "ebs.example.com", Listen: ":443", HTTPListen: ":80", DirectoryURL: DefaultACMEDirectoryURL}
	if c.TLS != want {
		t.Errorf("defaults: got %+v, want %+v", c.TLS, want)
	}
	if c.Listen != ":443" || c.PublicURL != "https://ebs.example.com" {
		t.Errorf("Listen %q PublicUrl %q, want :443 and https://ebs.example.com", c.Listen, c.PublicURL)
	}

	c = mustLoad(t, dev.with("Mgm__TlsDomain", "ebs.example.com", "Mgm__TlsListen", "127.0.0.1:8443", "Mgm__HttpListen", "127.0.0.1:8080",
		"Mgm__AcmeDirectoryUrl", "https://127.0.0.1:14000/dir", "Mgm__AcmeEmail", "ops@example.com", "Mgm__AcmeCaRoots", "/etc/pebble.pem",
		"Mgm__PublicUrl", "https://ebs.example.com"))
	want = TLS{Domain: "ebs.example.com", Listen: "127.0.0.1:8443", HTTPListen: "127.0.0.1:8080", DirectoryURL: "https://127.0.0.1:14000/dir",
		Email: "ops@example.com", CARootsFile: "/etc/pebble.pem"}
	if c.TLS != want || c.Listen != "127.0.0.1:8443" || c.PublicURL != "https://ebs.example.com" {
		t.Errorf("set: got %+v, Listen %q, PublicUrl %q", c.TLS, c.Listen, c.PublicURL)
	}
	if c := mustLoad(t, dev.with("Mgm__TlsDomain", "ebs.example.com", "Mgm__TlsListen", "127.0.0.1:8443")); c.PublicURL != "https://ebs.example.com:8443" {
		t.Errorf("PublicUrl on another port: %q", c.PublicURL)
	}
	if c := mustLoad(t, env{}); c.TLS.Enabled() || c.Listen != DefaultListen {
		t.Errorf("without a domain: %+v, Listen %q", c.TLS, c.Listen)
	}
}

// The domain alone selects Production: it means a server the internet reaches.
func TestTLSDomainSelectsProduction(t *testing.T) {
	msg := mustFail(t, env{"Mgm__TlsDomain": "ebs.example.com"})
	if !strings.Contains(msg, "Production was assumed because Mgm__TlsDomain is set") {
		t.Errorf("error does not name the rule:\n%s", msg)
	}
}

func TestTLSSettingsRefused(t *testing.T) {
	tests := []struct {
		name string
		env  env
		want string
	}{
		{"URL", prod.with("Mgm__TlsDomain", "https://ebs.example.com"), "is a URL"},
		{"port", prod.with("Mgm__TlsDomain", "ebs.example.com:443"), "not a DNS name"},
		{"IPv4", prod.with("Mgm__TlsDomain", "203.0.113.7"), "is an IP address"},
		{"IPv6", prod.with("Mgm__TlsDomain", "2001:db8::1"), "not a DNS name"},
		{"single label", prod.with("Mgm__TlsDomain", "localhost"), "not a fully qualified"},
		{"wildcard", prod.with("Mgm__TlsDomain", "*.example.com"), "wildcard"},
		{"underscore", prod.with("Mgm__TlsDomain", "my_ebs.example.com"), "not a DNS name"},
		{"hyphen edge", prod.with("Mgm__TlsDomain", "-ebs.example.com"), "not a DNS name"},
		{"unicode", prod.with("Mgm__TlsDomain", "ебс.example.com"), "xn--"},
		{"numeric TLD", prod.with("Mgm__TlsDomain", "ebs.example.123"), "ends in a number"},
		{"listen too", prod.with("Mgm__TlsDomain", "ebs.example.com", "Mgm__Listen", ":8080"), "Mgm__Listen is set, but with Mgm__TlsDomain"},
		{"ASP.NET listen too", prod.with("Mgm__TlsDomain", "ebs.example.com", "ASPNETCORE_URLS", "http://+:8080"), "ASPNETCORE_URLS is set, but with Mgm__TlsDomain"},
		{"http directory", prod.with("Mgm__TlsDomain", "ebs.example.com", "Mgm__AcmeDirectoryUrl", "http://ca.example/dir"), "Mgm__AcmeDirectoryUrl must be the https://"},
		{"email with name", prod.with("Mgm__TlsDomain", "ebs.example.com", "Mgm__AcmeEmail", "Ops <ops@example.com>"), "plain e-mail address"},
		{"bad listen", prod.with("Mgm__TlsDomain", "ebs.example.com", "Mgm__HttpListen", "80"), "Mgm__HttpListen"},
		{"without a domain", prod.with("Mgm__TlsListen", ":443", "Mgm__AcmeEmail", "ops@example.com"), "Mgm__TlsListen is set but Mgm__TlsDomain is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := mustFail(t, tt.env); !strings.Contains(msg, tt.want) {
				t.Errorf("error does not say %q:\n%s", tt.want, msg)
			}
		})
	}
}
