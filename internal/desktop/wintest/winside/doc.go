// Package winside holds the Windows-side checks of the Wine test: its tests
// (Windows only) are built with GOOS=windows go test -c and run under Wine by
// the wintest package, against the test window (../testwindow) standing in
// for WoW.
package winside
