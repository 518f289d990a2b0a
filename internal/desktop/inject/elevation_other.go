//go:build !windows

package inject

import (
	"fmt"
	"runtime"
)

// Elevated needs Windows.
func Elevated(pid uint32) (bool, error) {
	return false, fmt.Errorf("whether a process runs as administrator is only available on Windows (this is %s)", runtime.GOOS)
}

// SelfElevated is false outside Windows.
func SelfElevated() bool { return false }
