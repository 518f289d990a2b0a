//go:build !windows

package inject

import (
	"fmt"
	"runtime"
	"time"
)

// LastInputIdle needs Windows; the WoW client simulator reports its own.
func LastInputIdle() (time.Duration, error) {
	return 0, fmt.Errorf("the keyboard's idle time is only available on Windows (this is %s); the WoW client simulator reports its own", runtime.GOOS)
}
