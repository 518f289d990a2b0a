package lockfile_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/lockfile"
)

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	a, err := lockfile.Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write("pid 42"); err != nil {
		t.Fatal(err)
	}
	if err := a.Write("4242"); err != nil { // replaces, not appends
		t.Fatal(err)
	}
	if _, err := lockfile.Acquire(path); !errors.Is(err, lockfile.ErrLocked) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	if got := lockfile.Read(path); got != "4242" {
		t.Errorf("Read while held = %q", got)
	}
	a.Release()
	if got := lockfile.Read(path); got != "" {
		t.Errorf("Read after release = %q, want nothing left behind", got)
	}
	b, err := lockfile.Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	b.Release()
	if got := lockfile.Read(filepath.Join(t.TempDir(), "none")); got != "" {
		t.Errorf("Read of a missing file = %q", got)
	}
}
