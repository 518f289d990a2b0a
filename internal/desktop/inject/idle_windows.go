//go:build windows

package inject

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	procGetLastInputInfo = user32.NewProc("GetLastInputInfo")
	procGetTickCount     = windows.NewLazySystemDLL("kernel32.dll").NewProc("GetTickCount")
)

// lastInputInfo is LASTINPUTINFO.
type lastInputInfo struct {
	cbSize uint32
	dwTime uint32
}

// LastInputIdle is how long the streamer's keyboard and mouse have been idle
// (in this session: GetLastInputInfo sees all input, not only WoW's).
func LastInputIdle() (time.Duration, error) {
	li := lastInputInfo{cbSize: uint32(unsafe.Sizeof(lastInputInfo{}))}
	if r, _, err := procGetLastInputInfo.Call(uintptr(unsafe.Pointer(&li))); r == 0 {
		return 0, fmt.Errorf("reading the keyboard's idle time (GetLastInputInfo): %v", err)
	}
	// GetTickCount, not GetTickCount64: dwTime is the same 32-bit counter,
	// so both wrap together.
	now, _, _ := procGetTickCount.Call()
	return ticksBetween(li.dwTime, uint32(now)), nil
}
