// Package statefile holds the Desktop's small on-disk memories: JSON files
// written atomically (a crash leaves the old or the new file, never half of
// one) and bounded, ordered sets of keys that forget their oldest entries.
package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteJSON replaces path with v as indented JSON via a temporary file in the
// same directory, fsync and rename, so a kill at any moment leaves a whole
// file behind. perm applies to the new file.
func WriteJSON(path string, v any, perm fs.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return WriteFile(path, append(b, '\n'), perm)
}

// WriteFile is WriteJSON for raw bytes.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok { // the write already failed: that error is the one to report
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		// Windows ignores most mode bits; elsewhere a failed chmod would leave
		// a secret readable by others, so it is fatal.
		if filepath.Separator == '/' {
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	syncDir(dir)
	return nil
}

// ReadJSON decodes path into v. A missing file reports (false, nil).
func ReadJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	return true, nil
}

// syncDir makes the rename durable where the platform allows it (best effort:
// directories cannot be opened for sync on Windows).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Set is an insertion-ordered set of keys holding at most Max of them; adding
// beyond Max forgets the oldest. It marshals as a JSON array, oldest first.
// The zero value is unbounded until Max is set. Not safe for concurrent use.
type Set struct {
	Max  int
	keys []string
	idx  map[string]struct{}
}

// NewSet returns an empty set bounded to max keys.
func NewSet(max int) *Set { return &Set{Max: max} }

// Has reports whether key is remembered.
func (s *Set) Has(key string) bool {
	_, ok := s.idx[key]
	return ok
}

// Add remembers key (moving nothing if it is already there).
func (s *Set) Add(key string) {
	if s.Has(key) {
		return
	}
	if s.idx == nil {
		s.idx = map[string]struct{}{}
	}
	s.keys = append(s.keys, key)
	s.idx[key] = struct{}{}
	if s.Max > 0 && len(s.keys) > s.Max {
		drop := len(s.keys) - s.Max
		for _, k := range s.keys[:drop] {
			delete(s.idx, k)
		}
		s.keys = append([]string(nil), s.keys[drop:]...)
	}
}

// Len is the number of keys.
func (s *Set) Len() int { return len(s.keys) }

// Keys returns the keys, oldest first.
func (s *Set) Keys() []string { return append([]string(nil), s.keys...) }

// MarshalJSON writes the keys oldest first.
func (s *Set) MarshalJSON() ([]byte, error) {
	if s.keys == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(s.keys)
}

// UnmarshalJSON reads an array of keys, keeping Max (when already set) by
// dropping the oldest.
func (s *Set) UnmarshalJSON(b []byte) error {
	var keys []string
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	s.keys, s.idx = nil, nil
	for _, k := range keys {
		s.Add(k)
	}
	return nil
}
