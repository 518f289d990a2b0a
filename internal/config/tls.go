package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/config/option"
)

// TLS is built-in HTTPS: a certificate for one domain from an ACME CA,
// served by the EBS itself. The zero value (no Domain) serves plain HTTP on
// Config.Listen, for a reverse proxy or a tunnel to terminate TLS.
type TLS struct {
	// Domain is the DNS name the certificate is for; "" = no built-in HTTPS.
	Domain string
	// Listen serves HTTPS (Config.Listen is set to it). HTTPListen answers
	// the CA's HTTP-01 challenges and redirects everything else to HTTPS.
	Listen     string
	HTTPListen string
	// DirectoryURL is the ACME server's directory.
	DirectoryURL string
	// Email is the contact given to the CA; "" = none.
	Email string
	// CARootsFile, when set, is a PEM file of certificates trusted besides
	// the system's roots for the connection to the ACME server only.
	CARootsFile string
}

// Enabled reports whether the EBS serves HTTPS itself.
func (t TLS) Enabled() bool { return t.Domain != "" }

// Built-in HTTPS defaults.
const (
	DefaultTLSListen  = ":443"
	DefaultHTTPListen = ":80"
	// DefaultACMEDirectoryURL is Let's Encrypt's production directory.
	DefaultACMEDirectoryURL = "https://acme-v02.api.letsencrypt.org/directory"
	// LetsEncryptStagingURL issues untrusted certificates under far higher
	// rate limits: for trying a setup out.
	LetsEncryptStagingURL = "https://acme-staging-v02.api.letsencrypt.org/directory"
)

// tlsOnlyKeys only mean something with Mgm__TlsDomain.
var tlsOnlyKeys = []string{keyTLSListen, keyHTTPListen, keyACMEDirectoryURL, keyACMEEmail, keyACMECARoots}

// settleTLS applies what Mgm__TlsDomain changes once every value is parsed:
// the listeners' defaults, Listen becoming the HTTPS address, and the public
// address Twitch is told about. It runs before the fallbacks, so that the
// development CORS origins and the loopback rule see the real listener.
func (l *loader) settleTLS(c *Config) {
	if !c.TLS.Enabled() {
		for _, k := range tlsOnlyKeys {
			if v, _ := l.src.Lookup(k); v != "" {
				l.problemf("%s is set but %s is not: it only applies to built-in HTTPS", k, keyTLSDomain)
			}
		}
		return
	}
	if v, k := l.src.Get(l.option(keyListen)); v != "" {
		// Two meanings for one address would leave the operator guessing
		// which one serves: with built-in HTTPS nothing plain is served.
		l.problemf("%s is set, but with %s the EBS serves HTTPS on %s (default %s) and the ACME challenge and "+
			"redirect on %s (default %s); remove %s", k, keyTLSDomain, keyTLSListen, DefaultTLSListen, keyHTTPListen, DefaultHTTPListen, k)
	}
	if c.TLS.Listen == "" {
		c.TLS.Listen = DefaultTLSListen
	}
	if c.TLS.HTTPListen == "" {
		c.TLS.HTTPListen = DefaultHTTPListen
	}
	if c.TLS.DirectoryURL == "" {
		c.TLS.DirectoryURL = DefaultACMEDirectoryURL
	}
	c.Listen, c.listenKey = c.TLS.Listen, keyTLSListen
	if c.PublicURL == "" {
		c.PublicURL = "https://" + c.TLS.Domain
		if _, port, _ := net.SplitHostPort(c.TLS.Listen); port != "443" && port != "0" {
			c.PublicURL = "https://" + net.JoinHostPort(c.TLS.Domain, port)
		}
	}
}

// option is the table row for key, with its aliases.
func (l *loader) option(key string) option.Option {
	for _, s := range l.settings {
		if s.Key == key {
			return s.Option
		}
	}
	return option.Option{Key: key}
}

func parseTLSDomain(l *loader, c *Config, v, key string) {
	d, err := checkDomain(v)
	if err != nil {
		l.problemf("%s: %v", key, err)
		return
	}
	c.TLS.Domain = d
}

// checkDomain accepts one DNS name the public CA can issue for by HTTP-01 or
// TLS-ALPN-01: at least two labels, letters, digits and hyphens, no IP
// address, no wildcard (those need DNS-01), no scheme, port or path.
func checkDomain(v string) (string, error) {
	example := "give only the DNS name, e.g. ebs.example.com"
	switch {
	case strings.Contains(v, "://"):
		return "", fmt.Errorf("%q is a URL; %s", v, example)
	case strings.ContainsAny(v, "/:?#@ "):
		return "", fmt.Errorf("%q is not a DNS name (no port, path or user); %s", v, example)
	case net.ParseIP(strings.Trim(v, "[]")) != nil:
		return "", fmt.Errorf("%q is an IP address; the CA issues certificates for DNS names only: %s", v, example)
	case strings.HasPrefix(v, "*."):
		return "", fmt.Errorf("%q is a wildcard, which needs the DNS-01 challenge; %s", v, example)
	}
	d := strings.ToLower(strings.TrimSuffix(v, "."))
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return "", fmt.Errorf("%q is not a fully qualified DNS name; %s", v, example)
	}
	for _, label := range labels {
		if !isDNSLabel(label) {
			return "", fmt.Errorf("%q is not a DNS name (each dot-separated part: 1–63 letters, digits or inner hyphens; "+
				"an internationalised name in its xn-- form); %s", v, example)
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", fmt.Errorf("%q ends in a number, which no top-level domain does; %s", v, example)
	}
	return d, nil
}

func isDNSLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func parseTLSListen(l *loader, c *Config, v, key string) {
	if addr, err := splitListen(v, v); err != nil {
		l.problemf("%s: %v", key, err)
	} else {
		c.TLS.Listen = addr
	}
}

func parseHTTPListen(l *loader, c *Config, v, key string) {
	if addr, err := splitListen(v, v); err != nil {
		l.problemf("%s: %v", key, err)
	} else {
		c.TLS.HTTPListen = addr
	}
}

func parseACMEDirectory(l *loader, c *Config, v, key string) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		l.problemf("%s must be the https:// URL of an ACME directory, e.g. %s (Let's Encrypt) or %s (its staging), got %q",
			key, DefaultACMEDirectoryURL, LetsEncryptStagingURL, v)
		return
	}
	c.TLS.DirectoryURL = v
}

func parseACMEEmail(l *loader, c *Config, v, key string) {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" {
		l.problemf("%s must be a plain e-mail address such as ops@example.com, got %q", key, v)
		return
	}
	c.TLS.Email = v
}
