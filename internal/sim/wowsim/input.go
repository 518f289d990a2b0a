package wowsim

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// The keyboard, the chat edit box and the streamer at the keyboard: what the
// Desktop's typing guard (docs/bridge.md) must see before it types a line.

// desk is the Client's state outside the Lua UI: the window, the screen, the
// keyboard and the simulated streamer.
type desk struct {
	screenW, screenH int
	window           WindowState
	lastInput        time.Time // last keyboard input, as GetLastInputInfo counts it

	rng           *rand.Rand
	episode       *TypingEpisode // the streamer's typing now, if any
	episodeTyped  int            // characters of it typed so far
	boxByStreamer bool           // the chat box's text is the streamer's, unsent
	trampled      []string
}

// initDesk reads the screen and streamer settings from the Config.
func (c *Client) initDesk() error {
	if c.cfg.Resolution == "" {
		c.cfg.Resolution = DefaultResolution
	}
	w, h, err := ParseResolution(c.cfg.Resolution)
	if err != nil {
		return err
	}
	if c.cfg.UIScale == 0 {
		c.cfg.UIScale = 1
	}
	if c.cfg.UIScale < 0.64 || c.cfg.UIScale > 1 {
		return errors.New("UI scale must be between 0.64 and 1, like the client's slider")
	}
	c.desk = desk{screenW: w, screenH: h, window: c.cfg.Window, lastInput: c.now,
		rng: rand.New(rand.NewPCG(c.cfg.StreamerSeed, 0x6d676d))}
	c.scheduleStreamerTyping()
	return nil
}

// touchInput records keyboard input now.
func (c *Client) touchInput() { c.desk.lastInput = c.now }

// IdleTime is how long ago the last keyboard input was, on the client's clock
// (what GetLastInputInfo tells the Desktop).
func (c *Client) IdleTime() time.Duration { return c.now.Sub(c.desk.lastInput) }

// Window is the WoW window's state.
func (c *Client) Window() WindowState { return c.desk.window }

// SetWindow changes the WoW window's state.
func (c *Client) SetWindow(s WindowState) { c.desk.window = s }

// Focus is the name of the edit box with the keyboard focus ("" for none,
// "(unnamed)" for an edit box without a name).
func (c *Client) Focus() string {
	f := c.vm.focus
	switch {
	case f == nil:
		return ""
	case f.name == "":
		return "(unnamed)"
	}
	return f.name
}

// TrampledStreamerText lists the streamer's half-typed chat lines that the
// injector sent or typed into: each is a line the Desktop's typing guard
// should have waited for.
func (c *Client) TrampledStreamerText() []string { return append([]string(nil), c.desk.trampled...) }

// setFocus gives w the keyboard focus, as EditBox:SetFocus does.
func (v *vm) setFocus(w *widget) {
	if v.focus == w {
		return
	}
	if old := v.focus; old != nil {
		v.clearFocus(old)
	}
	v.focus = w
	v.callScript(w, "OnEditFocusGained")
}

// clearFocus takes the focus from w; the chat edit box closes with it, as
// ChatEdit_OnEditFocusLost does.
func (v *vm) clearFocus(w *widget) {
	if v.focus != w {
		return
	}
	v.focus = nil
	v.callScript(w, "OnEditFocusLost")
	if w == v.chatEdit {
		v.hide(w)
	}
}

// loseHiddenFocus drops the focus from an edit box that is no longer visible.
func (v *vm) loseHiddenFocus() {
	if v.focus != nil && !v.focus.visible() {
		v.clearFocus(v.focus)
	}
}

func (v *vm) focusMethods() methods {
	return methods{
		"SetFocus": func(L *lua.LState, w *widget) int {
			if w == v.chatEdit {
				v.show(w) // ChatEdit_ActivateChat shows the box first
			}
			v.setFocus(w)
			return 0
		},
		"ClearFocus": func(L *lua.LState, w *widget) int { v.clearFocus(w); return 0 },
		"HasFocus":   func(L *lua.LState, w *widget) int { L.Push(luaFlag(v.focus == w)); return 1 },
	}
}

// deskAPI is the global API about the screen and the keyboard.
func (v *vm) deskAPI() api {
	c := v.c
	return api{
		"GetCurrentKeyBoardFocus": func(L *lua.LState) int {
			L.Push(tableOrNil(v.focus))
			return 1
		},
		"GetScreenWidth": func(L *lua.LState) int {
			w, h := c.screenSize()
			L.Push(lua.LNumber(uiHeight * float64(w) / float64(h) / v.uiParent.effectiveScale()))
			return 1
		},
		"GetScreenHeight": func(L *lua.LState) int {
			L.Push(lua.LNumber(uiHeight / v.uiParent.effectiveScale()))
			return 1
		},
		"GetCVar": func(L *lua.LState) int {
			switch L.CheckString(1) {
			case "gxResolution":
				w, h := c.screenSize()
				L.Push(lua.LString(strconv.Itoa(w) + "x" + strconv.Itoa(h)))
			case "uiScale":
				L.Push(lua.LString(strconv.FormatFloat(c.cfg.UIScale, 'f', -1, 64)))
			case "useUiScale":
				L.Push(lua.LString(map[bool]string{true: "1", false: "0"}[c.cfg.UIScale != 1]))
			default:
				L.Push(lua.LNil)
			}
			return 1
		},
	}
}

// deskAPIAreas are installed next to api.go's apiAreas.
var deskAPIAreas = []func(*vm) api{(*vm).deskAPI}

// ChatBoxOpen reports whether the chat edit box is open (it has the focus).
func (c *Client) ChatBoxOpen() bool { return c.vm.chatEdit != nil && c.vm.focus == c.vm.chatEdit }

// openChat opens the chat edit box, as the Enter key binding does.
func (c *Client) openChat() {
	v := c.vm
	v.show(v.chatEdit)
	v.setFocus(v.chatEdit)
}

// closeChat closes the chat edit box, keeping its text.
func (c *Client) closeChat() { c.vm.clearFocus(c.vm.chatEdit) }

// chatText is what the chat edit box holds.
func (c *Client) chatText() string { return c.vm.chatEdit.text }

// typeIntoChat appends typed characters to the chat edit box; characters past
// its 255 letters are ignored, as the edit box ignores keystrokes. It reports
// whether some were.
func (c *Client) typeIntoChat(s string) (truncated bool) {
	box := c.vm.chatEdit
	room := box.maxLetters - utf8.RuneCountInString(box.text)
	if box.maxLetters > 0 && utf8.RuneCountInString(s) > room {
		s, truncated = truncateRunes(s, max(0, room)), true
	}
	if s != "" {
		c.vm.setText(box, box.text+s)
	}
	return truncated
}

// injectorTouchesBox records a violation when the injector's keys reach the
// streamer's unsent text: appended to it, or Enter sending it.
func (c *Client) injectorTouchesBox() {
	if c.desk.boxByStreamer && c.chatText() != "" {
		c.desk.trampled = append(c.desk.trampled, c.chatText())
	}
	c.desk.boxByStreamer = false
}

// sendChat is Enter in the open chat box: the box's whole text is sent and
// the box closes.
func (c *Client) sendChat() TypeResult {
	text := c.chatText()
	c.desk.boxByStreamer = false
	c.vm.setText(c.vm.chatEdit, "")
	c.closeChat()
	return c.runChatLine(text)
}

// typeAndSend is typing line into the chat box (opening it first) and
// pressing Enter; the injector's keys may trample the streamer's text.
func (c *Client) typeAndSend(line string, injector bool) TypeResult {
	if !c.ChatBoxOpen() {
		c.openChat()
	}
	if injector {
		c.injectorTouchesBox()
	}
	truncated := c.typeIntoChat(line)
	res := c.sendChat()
	res.Truncated = res.Truncated || truncated
	return res
}

// EnterResult says what a real Enter key did.
type EnterResult struct {
	// Dropped says why the client ignored the key, if it did.
	Dropped string `json:"dropped,omitempty"`
	// Sent is set when the chat box was open: Enter sent its text.
	Sent *TypeResult `json:"sent,omitempty"`
}

// PressEnter is the injector pressing the real Enter key: it opens a closed
// chat box and sends an open one's text (the streamer's, if they were typing).
func (c *Client) PressEnter() EnterResult {
	if c.cfg.Keys == KeysIgnored {
		return EnterResult{} // blocked before WoW: no trace, no input
	}
	c.touchInput()
	if c.Loading() {
		return EnterResult{Dropped: DroppedLoadingScreen}
	}
	if !c.ChatBoxOpen() {
		c.openChat()
		return EnterResult{}
	}
	c.injectorTouchesBox()
	res := c.sendChat()
	c.settle()
	return EnterResult{Sent: &res}
}

// TypingEpisode is the streamer typing in the chat box: Text character by
// character, then a pause, then Rest and Enter when Send is set, otherwise
// Escape (the text is cleared).
type TypingEpisode struct {
	Text      string
	Rest      string
	CharDelay time.Duration
	Hold      time.Duration
	Send      bool
}

// ErrStreamerBusy is StreamerTypes' answer while an episode runs or keys are
// swallowed.
var ErrStreamerBusy = errors.New("the streamer is already typing, or a loading screen is showing")

// StreamerTyping reports whether a typing episode is under way.
func (c *Client) StreamerTyping() bool {
	return c.desk.episode != nil && c.episodeAlive(c.desk.episode)
}

// StreamerTypes starts a typing episode now: the streamer opens the chat box
// (unless it is open), types ep.Text one character every ep.CharDelay, leaves
// it for ep.Hold, then sends or clears it. The episode ends early once its
// text left the box (sent by the injector, or the box closed).
func (c *Client) StreamerTypes(ep TypingEpisode) error {
	if c.StreamerTyping() || c.Loading() {
		return ErrStreamerBusy
	}
	if ep.Text == "" {
		return errors.New("the streamer needs some text to type")
	}
	if ep.CharDelay <= 0 {
		ep.CharDelay = 100 * time.Millisecond
	}
	e := &ep
	c.desk.episode, c.desk.episodeTyped = e, 0
	c.touchInput()
	if !c.ChatBoxOpen() {
		c.openChat()
	}
	c.streamerKeys(e, []rune(ep.Text), func() { c.After(ep.Hold, func() { c.streamerFinishes(e) }) })
	return nil
}

// episodeAlive: the episode is current and its text is still in the open box.
func (c *Client) episodeAlive(e *TypingEpisode) bool {
	if c.desk.episode != e {
		return false
	}
	if c.ChatBoxOpen() && (c.desk.episodeTyped == 0 || c.desk.boxByStreamer) {
		return true
	}
	c.desk.episode = nil
	return false
}

// streamerKeys types rs one character at a time, then calls then.
func (c *Client) streamerKeys(e *TypingEpisode, rs []rune, then func()) {
	if !c.episodeAlive(e) {
		return
	}
	if len(rs) == 0 {
		then()
		return
	}
	c.touchInput()
	c.typeIntoChat(string(rs[0]))
	c.desk.boxByStreamer = true
	c.desk.episodeTyped++
	c.After(e.CharDelay, func() { c.streamerKeys(e, rs[1:], then) })
}

func (c *Client) streamerFinishes(e *TypingEpisode) {
	if !c.episodeAlive(e) {
		return
	}
	if !e.Send {
		// Escape: ChatEdit_OnEscapePressed clears the text and closes the box.
		c.touchInput()
		c.desk.boxByStreamer = false
		c.vm.setText(c.vm.chatEdit, "")
		c.closeChat()
		c.desk.episode = nil
		return
	}
	c.streamerKeys(e, []rune(e.Rest), func() {
		c.touchInput()
		c.desk.episode = nil
		c.sendChat()
		c.settle()
	})
}

// streamerLines are what the simulated streamer starts typing.
var streamerLines = []string{
	"brb, getting coffee",
	"gg everyone, thanks for watching",
	"anyone up for a heroic run later?",
	"lol that was close",
	"one sec, someone at the door",
	"who wants to see the next giveaway?",
}

// scheduleStreamerTyping plans the next random episode (Config.StreamerTyping:
// on average one per that much client time).
func (c *Client) scheduleStreamerTyping() {
	mean := c.cfg.StreamerTyping
	if mean <= 0 {
		return
	}
	d := time.Duration(c.desk.rng.ExpFloat64() * float64(mean))
	c.After(max(d, time.Second), func() {
		defer c.scheduleStreamerTyping()
		if c.desk.episode != nil || c.Loading() || c.ChatBoxOpen() {
			return // busy typing already
		}
		r := c.desk.rng
		line := []rune(streamerLines[r.IntN(len(streamerLines))])
		half := len(line) / 2
		_ = c.StreamerTypes(TypingEpisode{
			Text:      string(line[:half]),
			Rest:      string(line[half:]),
			CharDelay: time.Duration(80+r.IntN(120)) * time.Millisecond,
			Hold:      time.Duration(3000+r.IntN(5000)) * time.Millisecond,
			Send:      r.IntN(2) == 0,
		})
	})
}
