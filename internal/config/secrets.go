package config

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
)

// Limits a Production secret must meet. A shorter HMAC key is brute-forced
// offline from one signed token; the EventSub bounds are Twitch's own for
// transport.secret ("an ASCII string that's a minimum of 10 characters long
// and a maximum of 100 characters long",
// https://dev.twitch.tv/docs/api/reference/eventsub/#create-eventsub-subscription),
// so a secret outside them could never have been registered with Twitch.
const (
	MinExtensionSecretBytes = 32
	MinEventSubSecretLength = 10
	MaxEventSubSecretLength = 100
)

// placeholderWords are values copied from examples and templates rather than
// generated; compared case-insensitively with the whole value.
var placeholderWords = map[string]bool{
	"changeme": true, "change-me": true, "change_me": true, "secret": true, "password": true, "passw0rd": true,
	"test": true, "example": true, "default": true, "token": true, "apikey": true, "api-key": true, "api_key": true,
	"key": true, "todo": true, "none": true, "null": true, "dev": true, "development": true, "production": true,
}

// placeholderParts mark a template anywhere in a value: the README's
// "…base64…" examples, "<your key>", "replace-me" and the development key's
// own text. Each is unlikely enough in a generated secret ("<" alone is not:
// password generators use it) that a false refusal is not a concern.
var placeholderParts = []string{
	"…", "<your", "changeme", "change-me", "change_me", "replaceme", "replace-me", "replace_me",
	"placeholder", "mgm-dev-extension-secret",
}

// devKeyForms are the development JWT key as it might be pasted into any
// secret: its SHA-256 in hex and base64.
var devKeyForms = func() []string {
	k := auth.DevExtensionSecret()
	return []string{
		hex.EncodeToString(k),
		base64.StdEncoding.EncodeToString(k), base64.RawStdEncoding.EncodeToString(k),
		base64.URLEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k),
	}
}()

// isPlaceholder reports whether v is a known placeholder rather than a
// generated secret.
func isPlaceholder(v string) bool {
	l := strings.ToLower(strings.TrimSpace(v))
	if placeholderWords[l] {
		return true
	}
	for _, p := range placeholderParts {
		if strings.Contains(l, p) {
			return true
		}
	}
	for _, p := range []string{"your-", "your_", "your "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	for _, f := range devKeyForms {
		if l == strings.ToLower(f) {
			return true
		}
	}
	return oneRune(l)
}

// oneRune reports whether s repeats a single character ("xxxxxxxx").
func oneRune(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && strings.Trim(s, string(r)) == ""
}

// isDevKey reports whether a decoded extension secret is the development
// key, which is public: anyone can sign viewer tokens with it.
func isDevKey(b []byte) bool { return bytes.Equal(b, auth.DevExtensionSecret()) }

// isText reports whether a decoded secret is printable ASCII, i.e. words
// someone encoded rather than random bytes (which may contain anything).
func isText(b []byte) bool {
	for _, c := range b {
		if c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// secretStrength refuses, in Production, every secret a forger can guess or
// brute-force, one problem per line and never with the value.
func (l *loader) secretStrength(c *Config) {
	if raw, key := l.src.Lookup(keyExtSecret); len(c.ExtensionSecret) > 0 {
		if n := len(c.ExtensionSecret); n < MinExtensionSecretBytes {
			l.problemf("%s is too short (%d bytes decoded; Production requires at least %d: the secret the Twitch developer console generates)", key, n, MinExtensionSecretBytes)
		}
		switch {
		case isDevKey(c.ExtensionSecret):
			l.problemf("%s is the development key, which is public (use the secret the Twitch developer console generates)", key)
		case isPlaceholder(raw) || isText(c.ExtensionSecret) && isPlaceholder(string(c.ExtensionSecret)):
			l.problemf("%s is a placeholder, not a generated secret", key)
		}
	}
	if s, key := c.EventSubSecret, keyOf(l, keyEventSubSecret); s != "" {
		switch n := utf8.RuneCountInString(s); {
		case !isASCII(s):
			l.problemf("%s must be ASCII (Twitch requires it)", key)
		case n < MinEventSubSecretLength:
			l.problemf("%s is too short (%d characters; Twitch requires %d to %d)", key, n, MinEventSubSecretLength, MaxEventSubSecretLength)
		case n > MaxEventSubSecretLength:
			l.problemf("%s is too long (%d characters; Twitch requires %d to %d)", key, n, MinEventSubSecretLength, MaxEventSubSecretLength)
		}
		if isPlaceholder(s) {
			l.problemf("%s is a placeholder, not a generated secret", key)
		}
	}
	for i, k := range c.APIKeys {
		if n := utf8.RuneCountInString(k); n < MinAPIKeyLength {
			l.problemf("%s: key #%d is too short (%d characters; Production requires at least %d)", keyOf(l, keyAPIKey), i+1, n, MinAPIKeyLength)
		}
		if isPlaceholder(k) {
			l.problemf("%s: key #%d is a placeholder, not a generated key", keyOf(l, keyAPIKey), i+1)
		}
	}
	if c.MetricsToken != "" && isPlaceholder(c.MetricsToken) {
		l.problemf("%s is a placeholder, not a generated token", keyOf(l, keyMetricsToken))
	}
}

// keyOf is the name k was read under, for messages.
func keyOf(l *loader, k string) string {
	_, key := l.src.Lookup(k)
	return key
}
