// Package screen is the Desktop's side of the screen route (docs/bridge.md,
// "The strip"): a Source captures the top-left corner of WoW's window, and
// the Reader decodes the addon's strip from it a few times a second,
// delivers the bridge lines it carries and keeps the addon's live state
// (the typing flag) for the dashboard and the typing guard.
package screen

import (
	"context"
	"errors"
	"image"
)

// The region a Source captures: the top-left corner of WoW's client area.
// The strip is 198×3 pixels; the margin keeps it readable when the window
// is scaled.
const (
	CaptureWidth  = 256
	CaptureHeight = 16
)

// ErrMinimised: the window is minimised, so there is no picture to read.
var ErrMinimised = errors.New("WoW's window is minimised, so the Desktop cannot read the addon's strip: restore the window")

// Source captures the top-left corner of WoW's window, at least
// CaptureWidth×CaptureHeight pixels of it (less only if the window is
// smaller).
type Source interface {
	Capture(ctx context.Context) (image.Image, error)
	// Name says where the picture comes from, for the dashboard.
	Name() string
}
