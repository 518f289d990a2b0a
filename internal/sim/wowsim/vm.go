package wowsim

import (
	_ "embed"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// framexmlLua stands in for the parts of Blizzard's FrameXML the addon touches
// (chat frame, mail frame, Friends frame, print, a few helpers). It runs as
// "Blizzard" code before any addon, so its frames register for events first,
// as the real ones do.
//
//go:embed framexml.lua
var framexmlLua string

// vm is one Lua state with its frames; /reload replaces it wholesale.
type vm struct {
	c        *Client
	L        *lua.LState
	widgets  []*widget
	named    map[string]*widget
	events   map[string][]*widget
	metas    map[string]*lua.LTable
	chat     *widget
	errFrame *widget
	uiParent *widget
	chatEdit *widget // ChatFrame1EditBox
	focus    *widget // the edit box with the keyboard focus
}

func newVM(c *Client) (*vm, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	libs := []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	}
	for _, lib := range libs {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.fn), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			L.Close()
			return nil, fmt.Errorf("wowsim: open %q: %w", lib.name, err)
		}
	}
	// The client gives addons no file, OS or module access.
	for _, name := range []string{"dofile", "loadfile", "require", "module", "newproxy", "_printregs"} {
		L.SetGlobal(name, lua.LNil)
	}
	v := &vm{
		c:      c,
		L:      L,
		named:  map[string]*widget{},
		events: map[string][]*widget{},
		metas:  map[string]*lua.LTable{},
	}
	v.installStringLib()
	v.installWidgets()
	v.installAPI()
	for _, area := range deskAPIAreas {
		for name, fn := range area(v) {
			L.SetGlobal(name, L.NewFunction(fn))
		}
	}
	for k, s := range c.gs {
		L.SetGlobal(k, lua.LString(s))
	}
	L.SetGlobal("NUM_BAG_SLOTS", lua.LNumber(4))
	L.SetGlobal("SlashCmdList", L.NewTable())

	// The frames every UI has, created the way the client's own code would.
	v.uiParent = v.newWidget("Frame", "UIParent", nil)
	v.uiParent.fullscreen, v.uiParent.scale = true, c.cfg.UIScale
	v.newWidget("Frame", "WorldFrame", nil).fullscreen = true
	v.newWidget("Frame", "Minimap", v.uiParent)
	v.chat = v.newWidget("ScrollingMessageFrame", "ChatFrame1", v.uiParent)
	v.errFrame = v.newWidget("MessageFrame", "UIErrorsFrame", v.uiParent)
	// 3.3.5 gave each chat frame its own edit box; it is hidden while closed.
	v.chatEdit = v.newWidget("EditBox", "ChatFrame1EditBox", v.chat)
	v.chatEdit.maxLetters, v.chatEdit.shown = MaxChatLetters, false
	v.chat.tbl.RawSetString("editBox", v.chatEdit.tbl)
	L.SetGlobal("DEFAULT_CHAT_FRAME", v.chat.tbl)

	fn, err := L.Load(strings.NewReader(framexmlLua), "FrameXML")
	if err == nil {
		err = L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true})
	}
	if err != nil {
		L.Close()
		return nil, fmt.Errorf("wowsim: FrameXML stand-in: %w", err)
	}
	return v, nil
}

// installStringLib makes the string library behave like the client's Lua 5.1
// where gopher-lua differs: string.lower/upper fold ASCII bytes only, like the
// C library (gopher-lua's use Unicode case mapping, which would hide the
// Cyrillic case-folding problem the addon must solve itself), and
// string.match returns nil rather than nothing when there is no match.
func (v *vm) installStringLib() {
	L := v.L
	str := L.GetGlobal("string").(*lua.LTable)
	asciiMap := func(lower bool) lua.LGFunction {
		return func(L *lua.LState) int {
			s := []byte(L.CheckString(1))
			for i, ch := range s {
				if lower && ch >= 'A' && ch <= 'Z' {
					s[i] = ch + 32
				} else if !lower && ch >= 'a' && ch <= 'z' {
					s[i] = ch - 32
				}
			}
			L.Push(lua.LString(s))
			return 1
		}
	}
	str.RawSetString("lower", L.NewFunction(asciiMap(true)))
	str.RawSetString("upper", L.NewFunction(asciiMap(false)))

	// Lua 5.1's string.match returns one nil when nothing matches; gopher-lua
	// returns no value at all, which makes tonumber(string.match(…)) raise.
	match := str.RawGetString("match")
	str.RawSetString("match", L.NewFunction(func(L *lua.LState) int {
		top := L.GetTop()
		callWithArgs(L, match, top, lua.MultRet)
		if n := L.GetTop() - top; n > 0 {
			return n
		}
		L.Push(lua.LNil)
		return 1
	}))
}

// runChunk loads and runs one addon file; errors go to the error list, and
// the next file still loads, as in the client.
func (v *vm) runChunk(src, name string) {
	fn, err := v.L.Load(strings.NewReader(src), name)
	if err != nil {
		v.c.recordError(err.Error())
		return
	}
	v.run(fn)
}

func (c *Client) runChunk(src, name string) { c.vm.runChunk(src, name) }

// runScript is RunScript / "/run": compile the text as a chunk and run it.
func (v *vm) runScript(code string) error {
	name := code
	if len(name) > 40 {
		name = name[:40] + "..."
	}
	fn, err := v.L.Load(strings.NewReader(code), fmt.Sprintf("[string %q]", name))
	if err != nil {
		v.c.recordError(err.Error())
		return err
	}
	return v.pcall(fn)
}

// run calls fn protected where the client would carry on regardless: an error
// goes to the error list (the client's error frame) and nowhere else.
func (v *vm) run(fn lua.LValue, args ...lua.LValue) { _ = v.pcall(fn, args...) }

// pcall runs fn protected, recording any error like the client's error frame.
func (v *vm) pcall(fn lua.LValue, args ...lua.LValue) error {
	err := v.L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}, args...)
	if err != nil {
		v.c.recordError(err.Error())
	}
	return err
}

func (v *vm) callGlobal(name string, args ...lua.LValue) {
	fn := v.L.GetGlobal(name)
	if fn.Type() != lua.LTFunction {
		v.c.recordError(fmt.Sprintf("%s is not a function", name))
		return
	}
	v.run(fn, args...)
}

// slashCommand finds cmd among SLASH_<KEY><n> aliases of SlashCmdList entries.
func (v *vm) slashCommand(cmd, rest string) bool {
	list, ok := v.L.GetGlobal("SlashCmdList").(*lua.LTable)
	if !ok {
		return false
	}
	var handler lua.LValue = lua.LNil
	list.ForEach(func(k, fn lua.LValue) {
		key, ok := k.(lua.LString)
		if !ok || handler != lua.LNil {
			return
		}
		for i := 1; ; i++ {
			alias := v.L.GetGlobal(fmt.Sprintf("SLASH_%s%d", string(key), i))
			if alias == lua.LNil {
				return
			}
			if strings.EqualFold(lua.LVAsString(alias), cmd) {
				handler = fn
				return
			}
		}
	})
	if handler.Type() != lua.LTFunction {
		return false
	}
	v.run(handler, lua.LString(rest), v.chatEdit.tbl)
	return true
}

// fire delivers an event to the registered frames in registration order.
func (v *vm) fire(event string, args ...lua.LValue) {
	regs := append([]*widget(nil), v.events[event]...)
	full := append([]lua.LValue{lua.LString(event)}, args...)
	for _, w := range regs {
		if !w.registered(event) {
			continue // unregistered by an earlier handler
		}
		if w == v.chat {
			v.c.chatEvent++ // what the chat frame shows now is chat, not a print
		}
		v.callScript(w, "OnEvent", full...)
		if w == v.chat {
			v.c.chatEvent--
		}
	}
}

// onUpdate runs OnUpdate for every visible frame that has one.
func (v *vm) onUpdate(elapsed float64) {
	var due []*widget
	for _, w := range v.widgets {
		if w.scripts["OnUpdate"] != nil {
			due = append(due, w)
		}
	}
	for _, w := range due {
		if w.visible() {
			v.callScript(w, "OnUpdate", lua.LNumber(elapsed))
		}
	}
}

func (v *vm) callScript(w *widget, script string, args ...lua.LValue) {
	fn := w.scripts[script]
	if fn == nil {
		return
	}
	v.run(fn, append([]lua.LValue{w.tbl}, args...)...)
}

func (v *vm) click(w *widget, button string) {
	if !w.enabled {
		return
	}
	v.callScript(w, "PreClick", lua.LString(button), lua.LFalse)
	v.callScript(w, "OnClick", lua.LString(button), lua.LFalse)
	v.callScript(w, "PostClick", lua.LString(button), lua.LFalse)
}
