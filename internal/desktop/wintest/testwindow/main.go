//go:build windows

// Command testwindow stands in for the WoW 3.3.5a client in the Wine test:
// a top-level window of class GxWindowClassD3d titled "World of Warcraft"
// (built as WoW.exe, the process the Desktop's injector looks for) whose
// keyboard handling models WoW's chat box, and which paints the addon's strip
// (docs/bridge.md) in the top-left corner of its client area.
//
// The chat box: Enter (WM_KEYDOWN VK_RETURN) opens it when closed; typed
// characters (WM_CHAR) go into it only while it is open and are dropped
// otherwise; Enter while open sends the line (appended to the results file,
// one line each, nothing for an empty box) and closes the box; Escape clears
// and closes it. Those are the behaviours of the real client the injector
// depends on (see inject/windows.go).
//
// The strip shows one page of the bridge line given with -line, and its flag
// bit 0 (an edit box has the keyboard focus) while the chat box is open, as
// the addon's would.
//
// Usage: WoW.exe -results FILE -line LINE
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"unicode/utf16"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/strip"
)

// The messages the Windows-side test sends to read the box's state: it
// cannot see it otherwise, and it must know it before typing into an open box.
const (
	msgBoxOpen = 0x8000 + 1 // WM_APP+1: 1 when the chat box is open
	msgBoxLen  = 0x8000 + 2 // WM_APP+2: UTF-16 units typed into the open box
)

const (
	wmDestroy = 0x0002
	wmPaint   = 0x000F
	wmKeyDown = 0x0100
	wmChar    = 0x0102

	vkReturn = 0x0D
	vkEscape = 0x1B

	wsOverlappedWindow = 0x00CF0000
	wsVisible          = 0x10000000
	cwUseDefault       = 0x80000000
	swShow             = 5
)

var (
	user32               = windows.NewLazySystemDLL("user32.dll")
	gdi32                = windows.NewLazySystemDLL("gdi32.dll")
	procRegisterClassExW = user32.NewProc("RegisterClassExW")
	procCreateWindowExW  = user32.NewProc("CreateWindowExW")
	procDefWindowProcW   = user32.NewProc("DefWindowProcW")
	procGetMessageW      = user32.NewProc("GetMessageW")
	procTranslateMessage = user32.NewProc("TranslateMessage")
	procDispatchMessageW = user32.NewProc("DispatchMessageW")
	procPostQuitMessage  = user32.NewProc("PostQuitMessage")
	procShowWindow       = user32.NewProc("ShowWindow")
	procUpdateWindow     = user32.NewProc("UpdateWindow")
	procInvalidateRect   = user32.NewProc("InvalidateRect")
	procBeginPaint       = user32.NewProc("BeginPaint")
	procEndPaint         = user32.NewProc("EndPaint")
	procFillRect         = user32.NewProc("FillRect")
	procCreateSolidBrush = gdi32.NewProc("CreateSolidBrush")
	procDeleteObject     = gdi32.NewProc("DeleteObject")
)

type wndClassEx struct {
	size       uint32
	style      uint32
	wndProc    uintptr
	clsExtra   int32
	wndExtra   int32
	instance   windows.Handle
	icon       windows.Handle
	cursor     windows.Handle
	background windows.Handle
	menuName   *uint16
	className  *uint16
	iconSm     windows.Handle
}

type msg struct {
	hwnd    windows.HWND
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      struct{ x, y int32 }
	private uint32
}

type rect struct{ left, top, right, bottom int32 }

type paintStruct struct {
	hdc       uintptr
	erase     int32
	paint     rect
	restore   int32
	incUpdate int32
	reserved  [32]byte
}

// chatWindow is the window's state; the window procedure runs on the one
// thread that pumps messages, so it needs no lock.
type chatWindow struct {
	results string
	page    strip.Page
	open    bool
	typed   []uint16
}

// setOpen opens or closes the chat box and repaints the strip, whose typing
// flag follows the box.
func (c *chatWindow) setOpen(hwnd uintptr, open bool) {
	c.open, c.typed = open, nil
	c.page.Flags &^= strip.FlagTyping
	if open {
		c.page.Flags |= strip.FlagTyping
	}
	c.page.Heartbeat++
	_, _, _ = procInvalidateRect.Call(hwnd, 0, 0)
}

func (c *chatWindow) proc(hwnd, message, wparam, lparam uintptr) uintptr {
	switch message {
	case wmKeyDown:
		switch wparam {
		case vkReturn:
			if c.open && len(c.typed) > 0 {
				c.send(string(utf16.Decode(c.typed)))
			}
			c.setOpen(hwnd, !c.open)
			return 0
		case vkEscape:
			c.setOpen(hwnd, false)
			return 0
		}
	case wmChar:
		// Control characters (the '\r' TranslateMessage makes of Enter)
		// are not text; closed-box characters go nowhere, as in WoW.
		if wparam >= 0x20 && c.open {
			c.typed = append(c.typed, uint16(wparam))
		}
		return 0
	case msgBoxOpen:
		if c.open {
			return 1
		}
		return 0
	case msgBoxLen:
		return uintptr(len(c.typed))
	case wmPaint:
		c.paint(hwnd)
		return 0
	case wmDestroy:
		_, _, _ = procPostQuitMessage.Call(0)
		return 0
	}
	r, _, _ := procDefWindowProcW.Call(hwnd, message, wparam, lparam)
	return r
}

// send appends the line to the results file; a failure ends the program so
// that the test sees it instead of a missing line.
func (c *chatWindow) send(line string) {
	f, err := os.OpenFile(c.results, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		_, err = f.WriteString(line + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "testwindow: writing the results file: %v\n", err)
		os.Exit(1)
	}
}

func (c *chatWindow) paint(hwnd uintptr) {
	var ps paintStruct
	hdc, _, _ := procBeginPaint.Call(hwnd, uintptr(unsafe.Pointer(&ps)))
	for i, col := range strip.Encode(c.page) {
		brush, _, _ := procCreateSolidBrush.Call(uintptr(col.R) | uintptr(col.G)<<8 | uintptr(col.B)<<16)
		x := int32(i * strip.Cell)
		r := rect{left: x, top: 0, right: x + strip.Cell, bottom: strip.Cell}
		_, _, _ = procFillRect.Call(hdc, uintptr(unsafe.Pointer(&r)), brush)
		_, _, _ = procDeleteObject.Call(brush)
	}
	_, _, _ = procEndPaint.Call(hwnd, uintptr(unsafe.Pointer(&ps)))
}

func main() {
	results := flag.String("results", "", "file the sent chat lines are appended to")
	line := flag.String("line", "", "the bridge line the strip shows (its first page)")
	flag.Parse()
	if err := run(*results, *line); err != nil {
		fmt.Fprintln(os.Stderr, "testwindow:", err)
		os.Exit(1)
	}
}

func run(results, line string) error {
	if results == "" {
		return fmt.Errorf("-results is required")
	}
	// A window belongs to the thread that created it, and only that thread
	// receives its messages.
	runtime.LockOSThread()
	page := strip.Page{Version: strip.Version, Flags: strip.FlagChatLog, Heartbeat: 1}
	if pages := strip.Pages(line); len(pages) > 0 {
		page.LineID, page.Count, page.Payload = 7, len(pages), pages[0]
	}
	c := &chatWindow{results: results, page: page}
	class, _ := windows.UTF16PtrFromString("GxWindowClassD3d")
	title, _ := windows.UTF16PtrFromString("World of Warcraft")
	var inst windows.Handle
	if err := windows.GetModuleHandleEx(0, nil, &inst); err != nil {
		return fmt.Errorf("GetModuleHandleEx: %w", err)
	}
	wc := wndClassEx{
		wndProc:    windows.NewCallback(c.proc),
		instance:   inst,
		background: 6, // COLOR_WINDOW+1
		className:  class,
	}
	wc.size = uint32(unsafe.Sizeof(wc))
	if r, _, err := procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))); r == 0 {
		return fmt.Errorf("RegisterClassEx: %w", err)
	}
	hwnd, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(class)), uintptr(unsafe.Pointer(title)),
		wsOverlappedWindow|wsVisible, cwUseDefault, cwUseDefault, 640, 480, 0, 0, uintptr(inst), 0)
	if hwnd == 0 {
		return fmt.Errorf("CreateWindowEx: %w", err)
	}
	_, _, _ = procShowWindow.Call(hwnd, swShow)
	_, _, _ = procUpdateWindow.Call(hwnd)
	var m msg
	for {
		r, _, err := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
		switch int32(r) {
		case 0:
			return nil
		case -1:
			return fmt.Errorf("GetMessage: %w", err)
		}
		_, _, _ = procTranslateMessage.Call(uintptr(unsafe.Pointer(&m)))
		_, _, _ = procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
	}
}
