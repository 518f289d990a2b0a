//go:build windows

package desktop

import (
	"golang.org/x/sys/windows"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/engine"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
)

// elevation finds WoW's process through the injector's own window lookup
// and asks Windows whether it and the Desktop run as administrator.
func elevation(process string) *engine.DoctorElevation {
	el := &engine.DoctorElevation{Desktop: inject.SelfElevated()}
	hwnd, _, err := inject.FindWoW(process)
	if err != nil {
		el.Problem = err.Error()
		return el
	}
	var pid uint32
	if _, err := windows.GetWindowThreadProcessId(hwnd, &pid); err != nil || pid == 0 {
		el.Problem = "Windows did not name the process of WoW's window"
		if err != nil {
			el.Problem += ": " + err.Error()
		}
		return el
	}
	el.WoWPID = pid
	up, err := inject.Elevated(pid)
	if err != nil {
		el.Problem = err.Error()
		return el
	}
	el.WoWKnown, el.WoWElevated = true, up
	return el
}
