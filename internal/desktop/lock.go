package desktop

import (
	"errors"

	"github.com/mimirons-goldomatic/mgm/internal/lockfile"
)

// instanceLock keeps a second Desktop off the same data folder: two would
// tail the same log and both act on every marker. The lock file also holds
// the UI's URL, for a second start to point to.
type instanceLock struct{ l *lockfile.Lock }

// writeURL records the UI's URL for a second start to point to.
func (l *instanceLock) writeURL(url string) error { return l.l.Write(url) }

// release gives the lock up at exit (best effort, see lockfile.Lock.Release).
func (l *instanceLock) release() { l.l.Release() }

func acquireLock(path string) (*instanceLock, error) {
	l, err := lockfile.Acquire(path)
	if errors.Is(err, lockfile.ErrLocked) {
		return nil, ErrAlreadyRunning
	}
	if err != nil {
		return nil, err
	}
	return &instanceLock{l: l}, nil
}

// readLockURL is the running Desktop's UI URL, or "" when it cannot be read
// (then the caller just reports ErrAlreadyRunning).
func readLockURL(path string) string { return lockfile.Read(path) }
