package twitchauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// Cipher seals stored tokens with AES-256-GCM. The zero of *Cipher (nil)
// stores them as given.
type Cipher struct {
	aead  cipher.AEAD
	keyID string
}

// NewCipher takes the 32-byte key (Twitch__TokenEncryptionKey, decoded).
func NewCipher(key []byte) (*Cipher, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("twitch token encryption key: want 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// A fingerprint, not the key: rows name the key they were sealed with,
	// so that a different key is reported as such rather than as corruption.
	sum := sha256.Sum256(append([]byte("mgm twitch token key id\x00"), key...))
	return &Cipher{aead: aead, keyID: hex.EncodeToString(sum[:8])}, nil
}

// KeyID fingerprints the key ("" for a nil Cipher).
func (c *Cipher) KeyID() string {
	if c == nil {
		return ""
	}
	return c.keyID
}

// seal encrypts plain, bound to what it is (aad: grant name and column), so a
// value copied to another row or column does not open.
func (c *Cipher) seal(plain, aad string) (string, error) {
	nonce := make([]byte, c.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(c.aead.Seal(nonce, nonce, []byte(plain), []byte(aad))), nil
}

func (c *Cipher) open(sealed, aad string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < c.aead.NonceSize() {
		return "", errors.New("not an encrypted value")
	}
	n := c.aead.NonceSize()
	plain, err := c.aead.Open(nil, raw[:n], raw[n:], []byte(aad))
	if err != nil {
		return "", errors.New("it does not decrypt with this key")
	}
	return string(plain), nil
}
