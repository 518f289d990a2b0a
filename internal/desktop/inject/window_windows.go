//go:build windows

package inject

import "golang.org/x/sys/windows"

// FindWoW finds WoW's main window exactly as the injector does, for the
// screen route to read the same window the keys go to. process is an
// executable name ("WoW.exe") or "pid:<n>"; "" means DefaultProcess. The
// string describes the process found ("WoW.exe pid 1234").
func FindWoW(process string) (windows.HWND, string, error) {
	return findWoW(NativeOptions{Process: func() string { return process }}.process())
}
