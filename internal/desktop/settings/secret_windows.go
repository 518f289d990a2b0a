//go:build windows

package settings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/statefile"
)

// DPAPIStore keeps the API key encrypted with the Windows user's DPAPI key
// (CurrentUser scope), in the predecessor's file name api-key.dpapi.
type DPAPIStore struct{ Path string }

// NewSecretStore keeps the API key in dir/api-key.dpapi, protected by DPAPI.
func NewSecretStore(dir string) SecretStore {
	return DPAPIStore{Path: filepath.Join(dir, "api-key.dpapi")}
}

// cryptprotectUIForbidden: never show a DPAPI prompt.
const cryptprotectUIForbidden = 0x1

func blob(b []byte) *windows.DataBlob {
	if len(b) == 0 {
		return &windows.DataBlob{}
	}
	return &windows.DataBlob{Size: uint32(len(b)), Data: &b[0]}
}

func takeBlob(out *windows.DataBlob) []byte {
	// Freeing the buffer DPAPI allocated cannot fail in a way we could act on.
	defer func() { _, _ = windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data))) }()
	return append([]byte(nil), unsafe.Slice(out.Data, out.Size)...)
}

// Load implements SecretStore.
func (d DPAPIStore) Load() (string, error) {
	enc, err := os.ReadFile(d.Path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var out windows.DataBlob
	if err := windows.CryptUnprotectData(blob(enc), nil, nil, 0, nil, cryptprotectUIForbidden, &out); err != nil {
		return "", fmt.Errorf("the saved API key cannot be decrypted by this Windows user (%v); enter it again", err)
	}
	return string(takeBlob(&out)), nil
}

// Save implements SecretStore.
func (d DPAPIStore) Save(key string) error {
	name, _ := windows.UTF16PtrFromString("Mimiron's Gold-o-Matic API key")
	var out windows.DataBlob
	if err := windows.CryptProtectData(blob([]byte(key)), name, nil, 0, nil, cryptprotectUIForbidden, &out); err != nil {
		return fmt.Errorf("DPAPI could not protect the API key: %w", err)
	}
	return statefile.WriteFile(d.Path, takeBlob(&out), 0o600)
}

// Clear implements SecretStore.
func (d DPAPIStore) Clear() error {
	if err := os.Remove(d.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Describe implements SecretStore.
func (d DPAPIStore) Describe() string { return "encrypted with Windows DPAPI: " + d.Path }
