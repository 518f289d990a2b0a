package desktop

import (
	"os"
	"strings"
)

// instanceLock keeps a second Desktop off the same data folder: two would
// tail the same log and both act on every marker. The OS drops the lock
// when the process dies, even by kill -9, so a crash never blocks a restart.
type instanceLock struct{ f *os.File }

func (l *instanceLock) writeURL(url string) {
	l.f.Truncate(0)
	l.f.WriteAt([]byte(url+"\n"), 0)
	l.f.Sync()
}

func (l *instanceLock) release() {
	l.f.Truncate(0)
	unlockFile(l.f)
	l.f.Close()
}

func acquireLock(path string) (*instanceLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return &instanceLock{f: f}, nil
}

func readLockURL(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
