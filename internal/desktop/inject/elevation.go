package inject

import "errors"

// ErrAccessDenied: Windows refused to show another process's elevation. A
// process run as administrator refuses this to one that is not, so when the
// Desktop is not elevated it most likely means WoW runs as administrator,
// and then Windows also drops the keys the Desktop sends it (UIPI).
var ErrAccessDenied = errors.New("Windows refused to tell whether WoW runs as administrator, which usually means it does: " +
	"run WoW and the Desktop the same way (both normally, or both as administrator)")
