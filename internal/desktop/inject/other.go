//go:build !windows

package inject

import (
	"fmt"
	"runtime"
)

// NativeAvailable reports whether this build can type into a real WoW client.
const NativeAvailable = false

// NewNative has no native injector to offer outside Windows.
func NewNative(NativeOptions) (Injector, error) {
	return nil, fmt.Errorf("typing into WoW needs Windows; on %s use the WoW client simulator (--injector=simulator --wow-sim-url=http://127.0.0.1:5001)", runtime.GOOS)
}

// ListWindows lists nothing outside Windows.
func ListWindows() ([]Window, error) { return nil, nil }
