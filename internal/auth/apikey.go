package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// APIKeys holds the Desktop's configured API keys (X-MGM-ApiKey). Only their
// SHA-256 digests are kept. The zero value has no keys and refuses everything.
type APIKeys struct {
	digests [][sha256.Size]byte
}

// NewAPIKeys builds the key set. Keys are trimmed of surrounding whitespace;
// empty entries are skipped (so a config value "a, b," yields two keys).
func NewAPIKeys(keys []string) APIKeys {
	var k APIKeys
	for _, key := range keys {
		key = strings.TrimSpace(key)
		if key == "" {
			continue
		}
		k.digests = append(k.digests, sha256.Sum256([]byte(key)))
	}
	return k
}

// Len is the number of configured keys.
func (k APIKeys) Len() int { return len(k.digests) }

// Check validates the X-MGM-ApiKey header value. An empty (or whitespace-only)
// header → mgm code unauthorized; a value matching no configured key (or no key
// configured at all) → forbidden_apikey; a match → nil.
//
// The header's SHA-256 digest is compared with crypto/subtle against every
// configured key's digest, without returning early, so neither which key
// matched nor the keys' lengths leak through timing.
func (k APIKeys) Check(header string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return mgm.Errorf(mgm.CodeUnauthorized, "missing X-MGM-ApiKey header")
	}
	sum := sha256.Sum256([]byte(header))
	match := 0
	for i := range k.digests {
		match |= subtle.ConstantTimeCompare(sum[:], k.digests[i][:])
	}
	if match != 1 {
		return mgm.Errorf(mgm.CodeForbiddenAPIKey, "invalid API key")
	}
	return nil
}

// Fingerprint identifies an API key for rate limiting and logs without
// revealing it: the first 12 hex characters of SHA-256 of the (trimmed) key.
// Call it only with a key that passed Check.
func Fingerprint(key string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	return hex.EncodeToString(sum[:])[:12]
}

// ConstantTimeEqual compares two secrets without leaking where they differ
// or, through the digests, how long they are.
func ConstantTimeEqual(a, b string) bool {
	da, db := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(da[:], db[:]) == 1
}
