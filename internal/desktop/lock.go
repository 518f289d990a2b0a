package desktop

import (
	"os"
	"strings"
)

// instanceLock keeps a second Desktop off the same data folder: two would
// tail the same log and both act on every marker. The OS drops the lock
// when the process dies, even by kill -9, so a crash never blocks a restart.
type instanceLock struct{ f *os.File }

// writeURL records the UI's URL for a second start to point to.
func (l *instanceLock) writeURL(url string) error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	if _, err := l.f.WriteAt([]byte(url+"\n"), 0); err != nil {
		return err
	}
	return l.f.Sync()
}

// release gives the lock up at exit. Every step is best effort: the URL left
// behind is read only while another process holds the lock (so never a stale
// one), and closing the file (or exiting) drops the lock anyway.
func (l *instanceLock) release() {
	_ = l.f.Truncate(0)
	_ = unlockFile(l.f)
	_ = l.f.Close()
}

func acquireLock(path string) (*instanceLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		_ = f.Close() // best effort: nothing was written; the lock error is what the caller must see
		return nil, err
	}
	return &instanceLock{f: f}, nil
}

// readLockURL is the running Desktop's UI URL, or "" when it cannot be read
// (then the caller just reports ErrAlreadyRunning).
func readLockURL(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
