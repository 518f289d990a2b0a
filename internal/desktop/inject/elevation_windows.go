//go:build windows

package inject

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Elevated reports whether process pid runs elevated (as administrator).
// Windows drops synthetic input sent from a less elevated process (UIPI), so
// the Desktop must not run below WoW.
func Elevated(pid uint32) (bool, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return false, elevationError(pid, "open the process", err)
	}
	defer func() { _ = windows.CloseHandle(h) }() // a query handle: nothing to lose
	var tok windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok); err != nil {
		return false, elevationError(pid, "open its token", err)
	}
	defer func() { _ = tok.Close() }()
	// TOKEN_ELEVATION is a single DWORD, TokenIsElevated.
	var elevated, n uint32
	if err := windows.GetTokenInformation(tok, windows.TokenElevation, (*byte)(unsafe.Pointer(&elevated)), uint32(unsafe.Sizeof(elevated)), &n); err != nil {
		return false, elevationError(pid, "read its token", err)
	}
	return elevated != 0, nil
}

func elevationError(pid uint32, step string, err error) error {
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return fmt.Errorf("%w (process %d: could not %s: %v)", ErrAccessDenied, pid, step, err)
	}
	return fmt.Errorf("could not tell whether process %d runs as administrator (%s: %v)", pid, step, err)
}

// SelfElevated reports whether the Desktop itself runs elevated.
func SelfElevated() bool { return windows.GetCurrentProcessToken().IsElevated() }
