// Package lockfile keeps a second process off a data folder: an exclusive
// lock on a file inside it, held for the process's lifetime. The operating
// system drops the lock when the process dies, even by kill -9, so a crash
// never blocks a restart. The file's text (a pid, a URL) tells a second
// process who holds it; the lock itself lies elsewhere so that text stays
// readable on Windows, where a locked range cannot be read.
package lockfile

import (
	"errors"
	"os"
	"strings"
)

// ErrLocked means another process holds the lock.
var ErrLocked = errors.New("lockfile: held by another process")

// Lock is a held lock file.
type Lock struct{ f *os.File }

// Acquire creates path if needed (owner-only) and locks it without waiting;
// it returns ErrLocked when another process (or another Acquire in this
// one) holds it.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		_ = f.Close() // best effort: nothing was written; the lock error is what the caller must see
		return nil, err
	}
	return &Lock{f: f}, nil
}

// Write replaces the file's text, for a second process to read.
func (l *Lock) Write(text string) error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	if _, err := l.f.WriteAt([]byte(text+"\n"), 0); err != nil {
		return err
	}
	return l.f.Sync()
}

// Release gives the lock up. Every step is best effort: the text left behind
// is read only while another process holds the lock (so never a stale one),
// and closing the file (or exiting) drops the lock anyway.
func (l *Lock) Release() {
	_ = l.f.Truncate(0)
	_ = unlockFile(l.f)
	_ = l.f.Close()
}

// Read is the text the holder wrote, or "" when it cannot be read.
func Read(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
