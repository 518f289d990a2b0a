package wowsim

import "fmt"

// The modes below are behaviours the real 3.3.5a client may have and nobody
// has measured (issue 13, "What is doubtful"). Each zero value is the
// pessimistic one — the client at its least helpful — so a test that does
// not choose proves the product works against it; a test that needs a
// kinder client says so.

// LogWriteMode is when chat-log lines reach WoWChatLog.txt.
type LogWriteMode int

const (
	// LogUntilExit writes nothing until the client exits (ChatLog.Close),
	// as a current client was seen doing with a ~48 KB buffer.
	LogUntilExit LogWriteMode = iota
	// LogChunked buffers lines and writes them once ChunkBytes are pending or
	// the oldest pending line is ChunkDelay old (on the client's clock).
	LogChunked
	// LogLineByLine writes every line as it is logged.
	LogLineByLine
)

func (m LogWriteMode) String() string {
	switch m {
	case LogLineByLine:
		return "line"
	case LogChunked:
		return "chunked"
	case LogUntilExit:
		return "exit"
	}
	return fmt.Sprintf("LogWriteMode(%d)", int(m))
}

// ParseLogWriteMode reads "line", "chunked" or "exit".
func ParseLogWriteMode(s string) (LogWriteMode, error) {
	for _, m := range []LogWriteMode{LogLineByLine, LogChunked, LogUntilExit} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("chat log write mode %q: want line, chunked or exit", s)
}

// PrintMode is whether lines an addon prints (DEFAULT_CHAT_FRAME:AddMessage,
// print) are logged, or only the chat events the chat frame shows.
type PrintMode int

const (
	// PrintsNotLogged logs only chat events (system messages, whispers, /say).
	PrintsNotLogged PrintMode = iota
	// PrintsLogged logs everything the chat frame shows.
	PrintsLogged
)

func (m PrintMode) String() string {
	switch m {
	case PrintsLogged:
		return "logged"
	case PrintsNotLogged:
		return "not-logged"
	}
	return fmt.Sprintf("PrintMode(%d)", int(m))
}

// ParsePrintMode reads "logged" or "not-logged".
func ParsePrintMode(s string) (PrintMode, error) {
	for _, m := range []PrintMode{PrintsLogged, PrintsNotLogged} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("print mode %q: want logged or not-logged", s)
}

// FlushToggleMode is what LoggingChat(false) then LoggingChat(true) does to
// the chat log's buffer: some tools rely on it to force a flush, a current
// client was seen ignoring it.
type FlushToggleMode int

const (
	// ToggleNoop leaves the buffer alone.
	ToggleNoop FlushToggleMode = iota
	// ToggleFlushes writes the pending lines when logging is switched back on.
	ToggleFlushes
)

func (m FlushToggleMode) String() string {
	switch m {
	case ToggleFlushes:
		return "flushes"
	case ToggleNoop:
		return "noop"
	}
	return fmt.Sprintf("FlushToggleMode(%d)", int(m))
}

// ParseFlushToggleMode reads "flushes" or "noop".
func ParseFlushToggleMode(s string) (FlushToggleMode, error) {
	for _, m := range []FlushToggleMode{ToggleFlushes, ToggleNoop} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("flush toggle mode %q: want flushes or noop", s)
}

// KeyMode is what happens to characters posted to the window (the
// injector's keys) while the chat edit box is closed.
type KeyMode int

const (
	// KeysNeedOpenBox drops a posted line unless the chat box was opened
	// first (Client.OpenChatBox, the real Enter key): a posted "/" does not
	// trigger the key binding that opens it.
	KeysNeedOpenBox KeyMode = iota
	// KeysOpenBox treats a posted line as typed into an open chat box and
	// sent, whether or not the box was opened first.
	KeysOpenBox
	// KeysIgnored drops every key without a trace, as Windows does for keys
	// sent to a program running as administrator from one that is not: the
	// injector cannot tell.
	KeysIgnored
)

func (m KeyMode) String() string {
	switch m {
	case KeysOpenBox:
		return "open-box"
	case KeysNeedOpenBox:
		return "need-open-box"
	case KeysIgnored:
		return "ignored"
	}
	return fmt.Sprintf("KeyMode(%d)", int(m))
}

// ParseKeyMode reads "open-box", "need-open-box" or "ignored".
func ParseKeyMode(s string) (KeyMode, error) {
	for _, m := range []KeyMode{KeysOpenBox, KeysNeedOpenBox, KeysIgnored} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("key mode %q: want open-box, need-open-box or ignored", s)
}

// WindowState is what the streamer's desktop does to the WoW window, which
// decides whether a screen capture of the window can read the strip. Unlike
// the modes above, the zero value is simply the usual case: visible.
type WindowState int

const (
	// WindowVisible: the window is shown and nothing covers the strip.
	WindowVisible WindowState = iota
	// WindowCovered: another window covers the top-left 400×200 pixels; a
	// capture of that region returns the other window's content.
	WindowCovered
	// WindowMinimised: the window is minimised; a capture fails.
	WindowMinimised
)

func (m WindowState) String() string {
	switch m {
	case WindowVisible:
		return "visible"
	case WindowCovered:
		return "covered"
	case WindowMinimised:
		return "minimised"
	}
	return fmt.Sprintf("WindowState(%d)", int(m))
}

// ParseWindowState reads "visible", "covered" or "minimised".
func ParseWindowState(s string) (WindowState, error) {
	for _, m := range []WindowState{WindowVisible, WindowCovered, WindowMinimised} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("window state %q: want visible, covered or minimised", s)
}
