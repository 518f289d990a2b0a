//go:build !windows

package settings

import "path/filepath"

// NewSecretStore keeps the API key in dir/api-key with mode 0600.
func NewSecretStore(dir string) SecretStore {
	return FileSecretStore{Path: filepath.Join(dir, "api-key")}
}
