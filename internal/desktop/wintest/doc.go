// Package wintest runs the Desktop's real Windows code under Wine with a
// virtual X display (Xvfb): the injector typing into a window that models
// WoW's chat box, the DPAPI secret store, and the screen capture reading
// the strip from that window. It builds the Windows pieces (testwindow, the winside test binary,
// and a test-only bcryptprimitives.dll shim from prngshim) at run time; it is
// skipped when Wine, Xvfb or the MinGW cross compiler is missing, unless
// MGM_REQUIRE_WINE=1.
package wintest
