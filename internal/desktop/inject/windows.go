//go:build windows

package inject

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unsafe"

	"golang.org/x/sys/windows"
)

// NativeAvailable reports whether this build can type into a real WoW client.
const NativeAvailable = true

var (
	user32               = windows.NewLazySystemDLL("user32.dll")
	procPostMessageW     = user32.NewProc("PostMessageW")
	procSendInput        = user32.NewProc("SendInput")
	procSetForeground    = user32.NewProc("SetForegroundWindow")
	procFindWindowExW    = user32.NewProc("FindWindowExW")
	procGetWindowTextW   = user32.NewProc("GetWindowTextW")
	procGetWindow        = user32.NewProc("GetWindow")
	procIsIconic         = user32.NewProc("IsIconic")
	procAllowSetForegrnd = user32.NewProc("AllowSetForegroundWindow")
)

const (
	wmKeyDown = 0x0100
	wmKeyUp   = 0x0101
	wmChar    = 0x0102

	vkReturn = 0x0D
	vkEscape = 0x1B

	// scanReturn is Enter's set-1 scan code, which WM_KEYDOWN/WM_KEYUP
	// carry in bits 16-23 of lParam as the real keyboard's messages do.
	scanReturn = 0x1C

	inputKeyboard     = 1
	keyeventfKeyUp    = 0x0002
	keyeventfUnicode  = 0x0004
	gwOwner           = 4
	asfwAny           = ^uintptr(0) // ASFW_ANY
	maxWindowTitleLen = 256
)

// keyboardInput is KEYBDINPUT.
type keyboardInput struct {
	wVk         uint16
	wScan       uint16
	dwFlags     uint32
	time        uint32
	dwExtraInfo uintptr
}

// input is INPUT with the keyboard member of its union. The union is as
// large as its biggest member, MOUSEINPUT, which is 8 bytes longer than
// KEYBDINPUT on every architecture; SendInput rejects any other cbSize (the
// predecessor passed 32 on x64 and its fallback never worked).
type input struct {
	typ uint32
	ki  keyboardInput
	_   [8]byte
}

// inputSize is sizeof(INPUT): 40 on 64-bit Windows, 28 on 32-bit.
const inputSize = 28 + 12*(unsafe.Sizeof(uintptr(0))/8)

// Compile-time assertion: the build fails if input is not exactly inputSize.
var (
	_ [inputSize - unsafe.Sizeof(input{})]byte
	_ [unsafe.Sizeof(input{}) - inputSize]byte
)

// Windows types into the WoW window found by its process, by posting WM_CHAR
// messages (no focus race: the window is found by process, not by whatever
// happens to be in front), falling back to SendInput with KEYEVENTF_UNICODE.
type Windows struct {
	o  NativeOptions
	mu sync.Mutex
}

// NewNative returns the Windows injector.
func NewNative(o NativeOptions) (Injector, error) { return &Windows{o: o}, nil }

// Name implements Injector.
func (w *Windows) Name() string {
	return "Windows (" + w.o.strategy() + ", fallback " + other(w.o.strategy()) + ")"
}

func other(strategy string) string {
	if strings.EqualFold(strategy, "SendInput") {
		return "PostMessage"
	}
	return "SendInput"
}

// Target implements Injector.
func (w *Windows) Target(context.Context) (string, error) {
	hwnd, desc, err := findWoW(w.o.process())
	if err != nil {
		return desc, err
	}
	if r, _, _ := procIsIconic.Call(uintptr(hwnd)); r != 0 {
		return desc, ErrWoWMinimised
	}
	return desc, nil
}

// ErrWoWMinimised: lines wait while WoW is minimised. Restoring the window
// for every line would pull it in front of the streamer's other windows
// several times a minute; the streamer restores it once, and the screen
// route needs it visible anyway.
var ErrWoWMinimised = errors.New("WoW's window is minimised: restore it (it must stay visible, not minimised, for the Desktop to type and to read the addon's answers); lines wait until then")

// Inject implements Injector.
func (w *Windows) Inject(ctx context.Context, line string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	hwnd, _, err := findWoW(w.o.process())
	if err != nil {
		return err
	}
	if r, _, _ := procIsIconic.Call(uintptr(hwnd)); r != 0 {
		return ErrWoWMinimised
	}
	primary, fallback := w.postMessage, w.sendInput
	if strings.EqualFold(w.o.strategy(), "SendInput") {
		primary, fallback = w.sendInput, w.postMessage
	}
	err1 := primary(ctx, hwnd, line)
	if err1 == nil || ctx.Err() != nil {
		return err1
	}
	// Whatever the primary typed before failing is still in the edit box:
	// Escape clears and closes it so the fallback starts clean.
	postKey(hwnd, vkEscape)
	w.o.sleep(50 * time.Millisecond)
	if err2 := fallback(ctx, hwnd, line); err2 != nil {
		return fmt.Errorf("%v; fallback: %w", err1, err2)
	}
	return nil
}

// bringToFront is best effort: Windows may refuse the foreground to a
// background process, and the keys are posted to the window either way. A
// minimised window is never restored here (see ErrWoWMinimised).
func bringToFront(hwnd windows.HWND) {
	_, _, _ = procAllowSetForegrnd.Call(asfwAny)
	_, _, _ = procSetForeground.Call(uintptr(hwnd))
}

func postMessage(hwnd windows.HWND, msg uint32, wparam uintptr) bool {
	r, _, _ := procPostMessageW.Call(uintptr(hwnd), uintptr(msg), wparam, 0)
	return r != 0
}

func postKey(hwnd windows.HWND, vk uintptr) {
	postMessage(hwnd, wmKeyDown, vk)
	postMessage(hwnd, wmKeyUp, vk)
}

// Why the chat box is opened with a real Enter before the characters: WoW
// opens its chat edit box through key bindings, OPENCHAT
// (ChatFrame_OpenChat("")) on Enter and OPENCHATSLASH (ChatFrame_OpenChat("/"))
// on "/" (FrameXML Bindings.xml). Bindings fire on key presses (WM_KEYDOWN of
// a virtual key); a posted WM_CHAR '/' is only text for an edit box that
// already has the focus, so with the box closed the characters of the line
// go nowhere and the final Enter merely opens an empty box. Pressing Enter
// first runs OPENCHAT; the line is then typed into the open box and the
// second Enter sends it. PostMessage and SendInput succeed either way, so
// this cannot be detected here.
const chatOpenWait = 150 * time.Millisecond

// returnLParam is WM_KEYDOWN's or WM_KEYUP's lParam for Enter: repeat count
// 1, the scan code, and for the release the previous-state and transition
// bits.
func returnLParam(up bool) uintptr {
	l := uintptr(1) | scanReturn<<16
	if up {
		l |= 1<<30 | 1<<31
	}
	return l
}

// postReturn posts a whole Enter press (down, then up) to the window.
func (w *Windows) postReturn(hwnd windows.HWND) error {
	if r, _, _ := procPostMessageW.Call(uintptr(hwnd), wmKeyDown, vkReturn, returnLParam(false)); r == 0 {
		return errors.New("PostMessage Enter failed (WoW may be blocking synthetic input)")
	}
	w.o.sleep(20 * time.Millisecond)
	if r, _, _ := procPostMessageW.Call(uintptr(hwnd), wmKeyUp, vkReturn, returnLParam(true)); r == 0 {
		return errors.New("PostMessage Enter failed (WoW may be blocking synthetic input)")
	}
	return nil
}

// sendReturn presses Enter through SendInput (to the foreground window).
func sendReturn() error {
	in := []input{
		{typ: inputKeyboard, ki: keyboardInput{wVk: vkReturn, wScan: scanReturn}},
		{typ: inputKeyboard, ki: keyboardInput{wVk: vkReturn, wScan: scanReturn, dwFlags: keyeventfKeyUp}},
	}
	if err := sendInputs(in); err != nil {
		return fmt.Errorf("SendInput (Enter): %w", err)
	}
	return nil
}

func (w *Windows) postMessage(ctx context.Context, hwnd windows.HWND, line string) error {
	bringToFront(hwnd)
	w.o.sleep(60 * time.Millisecond)
	if err := w.postReturn(hwnd); err != nil {
		return fmt.Errorf("opening the chat box: %w", err)
	}
	w.o.sleep(chatOpenWait)
	for _, u := range utf16.Encode([]rune(line)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !postMessage(hwnd, wmChar, uintptr(u)) {
			return errors.New("PostMessage WM_CHAR failed (WoW may be blocking synthetic input)")
		}
		w.o.sleep(22 * time.Millisecond)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.postReturn(hwnd); err != nil {
		return fmt.Errorf("sending the line: %w", err)
	}
	w.o.sleep(120 * time.Millisecond)
	return nil
}

func sendInputs(in []input) error {
	n, _, err := procSendInput.Call(uintptr(len(in)), uintptr(unsafe.Pointer(&in[0])), unsafe.Sizeof(in[0]))
	if int(n) != len(in) {
		return fmt.Errorf("SendInput sent %d of %d events: %v", n, len(in), err)
	}
	return nil
}

func (w *Windows) sendInput(ctx context.Context, hwnd windows.HWND, line string) error {
	bringToFront(hwnd)
	w.o.sleep(80 * time.Millisecond)
	if fg := windows.GetForegroundWindow(); fg != hwnd {
		return errors.New("SendInput needs WoW in front, and Windows did not let the Desktop bring it there; click into WoW and retry")
	}
	if err := sendReturn(); err != nil {
		return fmt.Errorf("opening the chat box: %w", err)
	}
	w.o.sleep(chatOpenWait)
	for _, u := range utf16.Encode([]rune(line)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		in := []input{
			{typ: inputKeyboard, ki: keyboardInput{wScan: u, dwFlags: keyeventfUnicode}},
			{typ: inputKeyboard, ki: keyboardInput{wScan: u, dwFlags: keyeventfUnicode | keyeventfKeyUp}},
		}
		if err := sendInputs(in); err != nil {
			return fmt.Errorf("SendInput (unicode): %w", err)
		}
		w.o.sleep(18 * time.Millisecond)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sendReturn(); err != nil {
		return fmt.Errorf("sending the line: %w", err)
	}
	w.o.sleep(120 * time.Millisecond)
	return nil
}

// processes maps process ids to executable names.
func processes() (map[uint32]string, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	defer func() { _ = windows.CloseHandle(snap) }() // a read-only snapshot: nothing to lose
	out := map[uint32]string{}
	var pe windows.ProcessEntry32
	pe.Size = uint32(unsafe.Sizeof(pe))
	for err = windows.Process32First(snap, &pe); err == nil; err = windows.Process32Next(snap, &pe) {
		out[pe.ProcessID] = windows.UTF16ToString(pe.ExeFile[:])
	}
	return out, nil
}

// topLevelWindows walks the visible, unowned top-level windows with
// FindWindowEx (no callback needed).
func topLevelWindows(procs map[uint32]string) []Window {
	var out []Window
	var hwnd uintptr
	for {
		h, _, _ := procFindWindowExW.Call(0, hwnd, 0, 0)
		if h == 0 {
			return out
		}
		hwnd = h
		hw := windows.HWND(h)
		if !windows.IsWindowVisible(hw) {
			continue
		}
		if owner, _, _ := procGetWindow.Call(h, gwOwner); owner != 0 {
			continue
		}
		var pid uint32
		if _, err := windows.GetWindowThreadProcessId(hw, &pid); err != nil || pid == 0 {
			continue
		}
		title := make([]uint16, maxWindowTitleLen)
		n, _, _ := procGetWindowTextW.Call(h, uintptr(unsafe.Pointer(&title[0])), uintptr(len(title)))
		class := make([]uint16, maxWindowTitleLen)
		cn, _ := windows.GetClassName(hw, &class[0], int32(len(class)))
		exe := procs[pid]
		out = append(out, Window{PID: pid, Exe: exe, Title: windows.UTF16ToString(title[:n]),
			Class: windows.UTF16ToString(class[:cn]), Default: strings.EqualFold(exe, DefaultProcess)})
	}
}

// ListWindows lists the windows the streamer may pick as the WoW target.
func ListWindows() ([]Window, error) {
	procs, err := processes()
	if err != nil {
		return nil, err
	}
	return topLevelWindows(procs), nil
}

// findWoW finds the main window of the configured process ("WoW.exe" or
// "pid:1234"), preferring the client's own window class (GxWindowClass…).
func findWoW(process string) (windows.HWND, string, error) {
	procs, err := processes()
	if err != nil {
		return 0, "", err
	}
	var wantPID uint32
	if p, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(process)), "pid:"); ok {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return 0, "", fmt.Errorf("WoW process %q: not a process id", process)
		}
		wantPID = uint32(n)
		if _, ok := procs[wantPID]; !ok {
			return 0, "", fmt.Errorf("the WoW process picked in Settings (pid %d) is not running; pick it again", wantPID)
		}
	}
	match := func(pid uint32) bool {
		if wantPID != 0 {
			return pid == wantPID
		}
		return strings.EqualFold(procs[pid], process)
	}
	var best *Window
	var bestH windows.HWND
	var hwnd uintptr
	for {
		h, _, _ := procFindWindowExW.Call(0, hwnd, 0, 0)
		if h == 0 {
			break
		}
		hwnd = h
		hw := windows.HWND(h)
		var pid uint32
		if _, err := windows.GetWindowThreadProcessId(hw, &pid); err != nil || !match(pid) || !windows.IsWindowVisible(hw) {
			continue
		}
		class := make([]uint16, maxWindowTitleLen)
		cn, _ := windows.GetClassName(hw, &class[0], int32(len(class)))
		c := windows.UTF16ToString(class[:cn])
		if best == nil || (strings.HasPrefix(c, "GxWindowClass") && !strings.HasPrefix(best.Class, "GxWindowClass")) {
			best, bestH = &Window{PID: pid, Exe: procs[pid], Class: c}, hw
		}
	}
	if best == nil {
		return 0, "", fmt.Errorf("WoW not found: no window of a running %s; start WoW (or pick its process in Settings)", process)
	}
	return bestH, fmt.Sprintf("%s pid %d", best.Exe, best.PID), nil
}

func (o NativeOptions) process() string {
	if o.Process != nil {
		if p := o.Process(); p != "" {
			return p
		}
	}
	return DefaultProcess
}

func (o NativeOptions) strategy() string {
	if o.Strategy != nil {
		return o.Strategy()
	}
	return "PostMessage"
}

func (o NativeOptions) sleep(d time.Duration) {
	if o.Sleep != nil {
		o.Sleep(d)
		return
	}
	time.Sleep(d)
}
