//go:build !windows

package screen

import (
	"fmt"
	"runtime"
)

// NewNative has no window to read outside Windows.
func NewNative(func() string) (Source, error) {
	return nil, fmt.Errorf("reading WoW's window needs Windows; on %s use the WoW client simulator's screen (--wow-sim-url=http://127.0.0.1:5001)", runtime.GOOS)
}
