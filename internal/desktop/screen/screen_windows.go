//go:build windows

package screen

import (
	"context"
	"fmt"
	"image"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
)

var (
	user32                 = windows.NewLazySystemDLL("user32.dll")
	gdi32                  = windows.NewLazySystemDLL("gdi32.dll")
	procIsIconic           = user32.NewProc("IsIconic")
	procGetClientRect      = user32.NewProc("GetClientRect")
	procGetDC              = user32.NewProc("GetDC")
	procReleaseDC          = user32.NewProc("ReleaseDC")
	procPrintWindow        = user32.NewProc("PrintWindow")
	procCreateCompatibleDC = gdi32.NewProc("CreateCompatibleDC")
	procCreateDIBSection   = gdi32.NewProc("CreateDIBSection")
	procSelectObject       = gdi32.NewProc("SelectObject")
	procDeleteObject       = gdi32.NewProc("DeleteObject")
	procDeleteDC           = gdi32.NewProc("DeleteDC")
	procBitBlt             = gdi32.NewProc("BitBlt")
	procGdiFlush           = gdi32.NewProc("GdiFlush")
)

const (
	pwClientOnly = 0x1
	// pwRenderFullContent (PW_RENDERFULLCONTENT, Windows 8.1 and later) has
	// DWM copy the window's composed picture, DirectX content included,
	// instead of asking the window to paint itself with WM_PRINT, which a
	// Direct3D game such as WoW does not handle (the plain PrintWindow of
	// a game comes back black). It is missing from the PrintWindow page
	// (learn.microsoft.com/windows/win32/api/winuser/nf-winuser-printwindow)
	// but in winuser.h; see learn.microsoft.com/en-us/answers/questions/1611498.
	pwRenderFullContent = 0x2
	srcCopy             = 0x00CC0020
	biRGB               = 0
	dibRGBColors        = 0

	// nativeWidth captures wider than CaptureWidth: on Windows it costs
	// nothing and keeps the strip of a window scaled up to 2.5× readable.
	nativeWidth = 512
)

// bitmapInfo is BITMAPINFO with a BITMAPINFOHEADER and no colour table.
type bitmapInfo struct {
	size          uint32
	width         int32
	height        int32
	planes        uint16
	bitCount      uint16
	compression   uint32
	sizeImage     uint32
	xPelsPerMeter int32
	yPelsPerMeter int32
	clrUsed       uint32
	clrImportant  uint32
	colors        [1]uint32
}

// Window captures the client area of WoW's window, found as the injector
// finds it.
type Window struct{ process func() string }

// NewNative returns the Windows source; process names WoW's process as in
// the injector's settings ("WoW.exe" or "pid:<n>"; nil or "": WoW.exe).
func NewNative(process func() string) (Source, error) { return &Window{process: process}, nil }

func (w *Window) proc() string {
	if w.process != nil {
		if p := w.process(); p != "" {
			return p
		}
	}
	return inject.DefaultProcess
}

// Name implements Source.
func (w *Window) Name() string { return "WoW window (" + w.proc() + ")" }

// Capture implements Source: PrintWindow of the client area, falling back
// to BitBlt from the window's DC when PrintWindow fails or draws nothing.
func (w *Window) Capture(ctx context.Context) (image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hwnd, _, err := inject.FindWoW(w.proc())
	if err != nil {
		return nil, err
	}
	if r, _, _ := procIsIconic.Call(uintptr(hwnd)); r != 0 {
		return nil, ErrMinimised
	}
	var rc windows.Rect
	if r, _, err := procGetClientRect.Call(uintptr(hwnd), uintptr(unsafe.Pointer(&rc))); r == 0 {
		return nil, fmt.Errorf("reading the size of WoW's window (GetClientRect): %v", err)
	}
	cw, ch := int(rc.Right-rc.Left), int(rc.Bottom-rc.Top)
	if cw <= 0 || ch <= 0 {
		return nil, ErrMinimised
	}
	width, height := min(cw, nativeWidth), min(ch, CaptureHeight)

	memDC, _, err := procCreateCompatibleDC.Call(0)
	if memDC == 0 {
		return nil, fmt.Errorf("capturing WoW's window (CreateCompatibleDC): %v", err)
	}
	// Cleanup cannot fail in a way the capture could act on.
	defer func() { _, _, _ = procDeleteDC.Call(memDC) }()
	// A top-down (negative height) 32-bit DIB: rows in reading order, each
	// pixel B, G, R, unused; GDI clips whatever is drawn to its size.
	bi := bitmapInfo{width: int32(width), height: -int32(height), planes: 1, bitCount: 32, compression: biRGB}
	bi.size = uint32(unsafe.Offsetof(bi.colors))
	var bits unsafe.Pointer
	dib, _, err := procCreateDIBSection.Call(memDC, uintptr(unsafe.Pointer(&bi)), dibRGBColors, uintptr(unsafe.Pointer(&bits)), 0, 0)
	if dib == 0 || bits == nil {
		return nil, fmt.Errorf("capturing WoW's window (CreateDIBSection): %v", err)
	}
	defer func() { _, _, _ = procDeleteObject.Call(dib) }()
	old, _, _ := procSelectObject.Call(memDC, dib)
	defer func() { _, _, _ = procSelectObject.Call(memDC, old) }()
	pix := unsafe.Slice((*byte)(bits), width*height*4)

	if r, _, _ := procPrintWindow.Call(uintptr(hwnd), memDC, pwClientOnly|pwRenderFullContent); r != 0 {
		// GDI may batch drawing: flush before reading the DIB's memory
		// (CreateDIBSection remarks).
		_, _, _ = procGdiFlush.Call()
		if !black(pix) {
			return toRGBA(pix, width, height), nil
		}
	}
	// The window's DC: its client area as composed on screen (with DWM,
	// even where other windows cover it, for GDI-drawn content).
	wdc, _, err := procGetDC.Call(uintptr(hwnd))
	if wdc == 0 {
		return nil, fmt.Errorf("capturing WoW's window (GetDC): %v", err)
	}
	r, _, err := procBitBlt.Call(memDC, 0, 0, uintptr(width), uintptr(height), wdc, 0, 0, srcCopy)
	_, _, _ = procReleaseDC.Call(uintptr(hwnd), wdc)
	if r == 0 {
		return nil, fmt.Errorf("capturing WoW's window: PrintWindow drew nothing and BitBlt failed: %v", err)
	}
	_, _, _ = procGdiFlush.Call()
	return toRGBA(pix, width, height), nil
}

// black: no pixel has any colour (the DIB starts zeroed, so this is what a
// PrintWindow that drew nothing leaves).
func black(bgrx []byte) bool {
	for i := 0; i < len(bgrx); i += 4 {
		if bgrx[i]|bgrx[i+1]|bgrx[i+2] != 0 {
			return false
		}
	}
	return true
}

// toRGBA copies the DIB's B, G, R, unused pixels into an opaque RGBA image
// (the fourth byte is undefined for BI_RGB).
func toRGBA(bgrx []byte, width, height int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for i := 0; i < len(bgrx); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = bgrx[i+2], bgrx[i+1], bgrx[i], 0xFF
	}
	return img
}
