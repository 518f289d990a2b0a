package wowsim

import (
	"fmt"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// widget is a frame, font string or texture. Like in the client, the Lua side
// is a table holding the object at index 0, with the type's methods reached
// through its metatable, so addons may store their own fields on it.
type widget struct {
	vm       *vm
	kind     string
	name     string
	parent   *widget
	children []*widget
	tbl      *lua.LTable
	scripts  map[string]*lua.LFunction
	events   map[string]bool

	shown, enabled, checked bool
	text                    string
	alpha                   float64
	width, height           float64
	id                      int
	maxLetters              int
	textString              *widget // a button's label (UIPanelButtonTemplate)

	// Geometry and drawing, for the virtual screen (screen.go).
	seq        int      // creation order, the last tie-break when drawing
	points     []anchor // SetPoint anchors, at most one per point
	scale      float64  // SetScale (frames); 1 otherwise
	strata     string   // SetFrameStrata; "" follows the parent
	level      int      // SetFrameLevel; -1 follows the parent
	layer      string   // a texture's draw layer
	fullscreen bool     // UIParent and WorldFrame cover the screen without anchors
	solid      bool     // the texture is a solid colour (SetTexture(r, g, b [, a]))
	color      [4]float64
	vertex     [4]float64 // SetVertexColor, multiplied into the colour

	// GameTooltip
	owner    *widget
	tipLines []string
}

func (w *widget) visible() bool {
	for x := w; x != nil; x = x.parent {
		if !x.shown {
			return false
		}
	}
	return true
}

func (w *widget) registered(event string) bool { return w.events[event] }

// Object types CreateFrame accepts (case-insensitively, as the client does).
var frameTypes = map[string]string{
	"frame":                 "Frame",
	"button":                "Button",
	"checkbutton":           "CheckButton",
	"editbox":               "EditBox",
	"gametooltip":           "GameTooltip",
	"scrollingmessageframe": "ScrollingMessageFrame",
	"messageframe":          "MessageFrame",
	"scrollframe":           "ScrollFrame",
	"slider":                "Slider",
	"statusbar":             "StatusBar",
}

// Templates the simulator knows; CreateFrame with another one is an error,
// because the client would fail to find the inherited XML node.
var knownTemplates = map[string]bool{
	"UIPanelButtonTemplate":      true,
	"UIPanelCloseButton":         true,
	"GameTooltipTemplate":        true,
	"InputBoxTemplate":           true,
	"OptionsCheckButtonTemplate": true,
	"UICheckButtonTemplate":      true,
}

// Script handlers each object type supports; SetScript with another name
// raises, like the client.
var (
	frameScripts = []string{"OnEvent", "OnUpdate", "OnShow", "OnHide", "OnLoad", "OnEnter", "OnLeave",
		"OnMouseDown", "OnMouseUp", "OnMouseWheel", "OnDragStart", "OnDragStop", "OnReceiveDrag",
		"OnSizeChanged", "OnKeyDown", "OnKeyUp", "OnAttributeChanged"}
	buttonScripts  = []string{"OnClick", "PreClick", "PostClick", "OnDoubleClick"}
	editBoxScripts = []string{"OnEnterPressed", "OnEscapePressed", "OnTextChanged", "OnEditFocusGained",
		"OnEditFocusLost", "OnTabPressed", "OnSpacePressed", "OnChar", "OnTextSet", "OnCursorChanged"}
	tooltipScripts = []string{"OnTooltipSetItem", "OnTooltipCleared", "OnTooltipSetUnit", "OnTooltipSetSpell",
		"OnTooltipAddMoney"}
)

func scriptSet(kind string) map[string]bool {
	set := map[string]bool{}
	add := func(names []string) {
		for _, n := range names {
			set[n] = true
		}
	}
	switch kind {
	case "FontString", "Texture":
		return set
	}
	add(frameScripts)
	switch kind {
	case "Button", "CheckButton":
		add(buttonScripts)
	case "EditBox":
		add(editBoxScripts)
	case "GameTooltip":
		add(tooltipScripts)
	}
	return set
}

// newWidget creates the object and, when named, its global.
func (v *vm) newWidget(kind, name string, parent *widget) *widget {
	w := &widget{
		vm:      v,
		kind:    kind,
		parent:  parent,
		shown:   true,
		enabled: true,
		alpha:   1,
		scripts: map[string]*lua.LFunction{},
		events:  map[string]bool{},
		seq:     len(v.widgets),
		scale:   1,
		level:   -1,
		layer:   "ARTWORK",
		vertex:  [4]float64{1, 1, 1, 1},
	}
	w.tbl = v.L.NewTable()
	ud := v.L.NewUserData()
	ud.Value = w
	w.tbl.RawSetH(lua.LNumber(0), ud)
	v.L.SetMetatable(w.tbl, v.metas[kind])
	if parent != nil {
		parent.children = append(parent.children, w)
	}
	if name != "" {
		if parent != nil {
			name = strings.ReplaceAll(name, "$parent", parent.name)
		}
		w.name = name
		v.named[name] = w
		v.L.SetGlobal(name, w.tbl)
	}
	v.widgets = append(v.widgets, w)
	return w
}

func (v *vm) toWidget(lv lua.LValue) *widget {
	t, ok := lv.(*lua.LTable)
	if !ok {
		return nil
	}
	ud, ok := t.RawGetH(lua.LNumber(0)).(*lua.LUserData)
	if !ok {
		return nil
	}
	w, _ := ud.Value.(*widget)
	return w
}

func (v *vm) self(L *lua.LState) *widget {
	w := v.toWidget(L.Get(1))
	if w == nil {
		L.RaiseError("Attempt to find 'this' in non-table object (used '.' instead of ':' ?)")
	}
	return w
}

func luaFlag(b bool) lua.LValue {
	// 3.3.5a API predicates answer 1 or nil, not booleans.
	if b {
		return lua.LNumber(1)
	}
	return lua.LNil
}

func (v *vm) show(w *widget) {
	if w.shown {
		return
	}
	w.shown = true
	if w.visible() {
		v.visibilityChanged(w, "OnShow")
	}
}

func (v *vm) hide(w *widget) {
	if !w.shown {
		return
	}
	wasVisible := w.visible()
	w.shown = false
	if w.kind == "GameTooltip" {
		w.owner = nil
		v.setTooltipLines(w, nil)
	}
	if wasVisible {
		v.visibilityChanged(w, "OnHide")
		v.loseHiddenFocus()
	}
}

// visibilityChanged fires OnShow/OnHide on w and on its shown descendants,
// whose visibility followed w's.
func (v *vm) visibilityChanged(w *widget, script string) {
	v.callScript(w, script)
	for _, ch := range w.children {
		if ch.shown {
			v.visibilityChanged(ch, script)
		}
	}
}

func (v *vm) setText(w *widget, s string) {
	if w.maxLetters > 0 && utf8.RuneCountInString(s) > w.maxLetters {
		s = truncateRunes(s, w.maxLetters)
	}
	w.text = s
	if w.textString != nil {
		w.textString.text = s
	}
	if w.kind == "EditBox" {
		v.callScript(w, "OnTextChanged", lua.LFalse)
	}
}

// optText reads a text argument the way SetText does: strings and numbers,
// nil meaning empty.
func optText(L *lua.LState, n int) string {
	switch lv := L.Get(n).(type) {
	case lua.LString:
		return string(lv)
	case lua.LNumber:
		return lv.String()
	case *lua.LNilType:
		return ""
	default:
		L.ArgError(n, "string expected, got "+lv.Type().String())
		return ""
	}
}

type methods map[string]func(L *lua.LState, w *widget) int

func merge(parts ...methods) methods {
	out := methods{}
	for _, p := range parts {
		for k, f := range p {
			out[k] = f
		}
	}
	return out
}

func noop(L *lua.LState, w *widget) int { return 0 }

// widgetKinds lists each object type with its methods. Only methods that
// exist in 3.3.5a are provided — notably no Button:SetEnabled, SetShown or
// SetSize — so an addon using a later API fails here as it would in the game.
// A kind's methods include those of the types it derives from, as in the
// client (Region → Frame → Button → CheckButton).
var widgetKinds = []struct {
	kind    string
	methods func(*vm) methods
}{
	{"FontString", (*vm).fontStringMethods},
	{"Texture", (*vm).textureMethods},
	{"Frame", (*vm).frameMethods},
	{"Button", (*vm).buttonMethods},
	{"CheckButton", (*vm).checkButtonMethods},
	{"EditBox", (*vm).editBoxMethods},
	{"ScrollingMessageFrame", (*vm).messageFrameMethods},
	{"MessageFrame", (*vm).messageFrameMethods},
	{"GameTooltip", (*vm).tooltipMethods},
	{"ScrollFrame", (*vm).frameMethods},
	{"Slider", (*vm).frameMethods},
	{"StatusBar", (*vm).frameMethods},
}

// installWidgets builds one metatable per object type from widgetKinds.
func (v *vm) installWidgets() {
	for _, k := range widgetKinds {
		index := v.L.NewTable()
		for name, fn := range k.methods(v) {
			index.RawSetString(name, v.L.NewFunction(func(L *lua.LState) int { return fn(L, v.self(L)) }))
		}
		mt := v.L.NewTable()
		mt.RawSetString("__index", index)
		v.metas[k.kind] = mt
	}
}

func (v *vm) regionMethods() methods {
	return methods{
		"GetName":   func(L *lua.LState, w *widget) int { L.Push(nilIfEmpty(w.name)); return 1 },
		"GetParent": func(L *lua.LState, w *widget) int { L.Push(tableOrNil(w.parent)); return 1 },
		"GetObjectType": func(L *lua.LState, w *widget) int {
			L.Push(lua.LString(w.kind))
			return 1
		},
		"IsObjectType": func(L *lua.LState, w *widget) int {
			t := L.CheckString(2)
			is := strings.EqualFold(t, w.kind) || (strings.EqualFold(t, "Frame") && w.kind != "FontString" && w.kind != "Texture") ||
				(strings.EqualFold(t, "Button") && w.kind == "CheckButton") || strings.EqualFold(t, "Region")
			L.Push(luaFlag(is))
			return 1
		},
		"Show":           func(L *lua.LState, w *widget) int { v.show(w); return 0 },
		"Hide":           func(L *lua.LState, w *widget) int { v.hide(w); return 0 },
		"IsShown":        func(L *lua.LState, w *widget) int { L.Push(luaFlag(w.shown)); return 1 },
		"IsVisible":      func(L *lua.LState, w *widget) int { L.Push(luaFlag(w.visible())); return 1 },
		"SetPoint":       func(L *lua.LState, w *widget) int { v.setPoint(L, w); return 0 },
		"ClearAllPoints": func(L *lua.LState, w *widget) int { w.points = nil; return 0 },
		"SetAllPoints":   func(L *lua.LState, w *widget) int { v.setAllPoints(L, w); return 0 },
		"GetNumPoints":   func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(len(w.points))); return 1 },
		"GetPoint":       func(L *lua.LState, w *widget) int { return v.getPoint(L, w) },
		"GetLeft":        func(L *lua.LState, w *widget) int { return v.pushEdge(L, w, edgeLeft) },
		"GetRight":       func(L *lua.LState, w *widget) int { return v.pushEdge(L, w, edgeRight) },
		"GetTop":         func(L *lua.LState, w *widget) int { return v.pushEdge(L, w, edgeTop) },
		"GetBottom":      func(L *lua.LState, w *widget) int { return v.pushEdge(L, w, edgeBottom) },
		"GetCenter": func(L *lua.LState, w *widget) int {
			if v.pushEdge(L, w, edgeCenterX) == 1 && L.Get(-1) != lua.LNil {
				return 1 + v.pushEdge(L, w, edgeCenterY)
			}
			return 1
		},
		"SetWidth":  func(L *lua.LState, w *widget) int { w.width = float64(L.CheckNumber(2)); return 0 },
		"SetHeight": func(L *lua.LState, w *widget) int { w.height = float64(L.CheckNumber(2)); return 0 },
		"GetWidth":  func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(w.width)); return 1 },
		"GetHeight": func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(w.height)); return 1 },
		"SetAlpha":  func(L *lua.LState, w *widget) int { w.alpha = float64(L.CheckNumber(2)); return 0 },
		"GetAlpha":  func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(w.alpha)); return 1 },
		"SetParent": func(L *lua.LState, w *widget) int {
			w.parent = v.toWidget(L.Get(2))
			return 0
		},
	}
}

// textMethods are SetText/GetText as font strings and buttons have them;
// GetText answers nil for no text.
func (v *vm) textMethods() methods {
	return methods{
		"SetText": func(L *lua.LState, w *widget) int { v.setText(w, optText(L, 2)); return 0 },
		"GetText": func(L *lua.LState, w *widget) int { L.Push(nilIfEmpty(w.text)); return 1 },
	}
}

func (v *vm) fontStringMethods() methods {
	return merge(v.regionMethods(), v.textMethods(), methods{
		"SetFormattedText": func(L *lua.LState, w *widget) int {
			n := L.GetTop()
			L.Push(L.GetGlobal("string").(*lua.LTable).RawGetString("format"))
			for i := 2; i <= n; i++ {
				L.Push(L.Get(i))
			}
			L.Call(n-1, 1)
			s := L.ToString(-1)
			L.Pop(1)
			v.setText(w, s)
			return 0
		},
		"SetTextColor": noop, "SetJustifyH": noop, "SetJustifyV": noop, "SetFont": noop,
		"SetFontObject": noop, "SetNonSpaceWrap": noop, "SetShadowColor": noop, "SetShadowOffset": noop,
		"SetDrawLayer": noop, "SetVertexColor": noop,
		"GetStringWidth": func(L *lua.LState, w *widget) int {
			L.Push(lua.LNumber(7 * utf8.RuneCountInString(w.text)))
			return 1
		},
	})
}

func (v *vm) textureMethods() methods {
	return merge(v.regionMethods(), methods{
		"SetTexture": func(L *lua.LState, w *widget) int { setTexture(L, w); return 0 },
		"GetTexture": func(L *lua.LState, w *widget) int { L.Push(nilIfEmpty(w.text)); return 1 },
		"SetVertexColor": func(L *lua.LState, w *widget) int {
			w.vertex = checkColor(L, 2)
			return 0
		},
		"GetVertexColor": func(L *lua.LState, w *widget) int {
			for _, x := range w.vertex {
				L.Push(lua.LNumber(x))
			}
			return 4
		},
		"SetDrawLayer": func(L *lua.LState, w *widget) int { w.layer = checkLayer(L, 2, w.layer); return 0 },
		"GetDrawLayer": func(L *lua.LState, w *widget) int { L.Push(lua.LString(w.layer)); return 1 },
		"SetTexCoord":  noop, "SetBlendMode": noop, "SetDesaturated": noop,
	})
}

func (v *vm) frameMethods() methods {
	return merge(v.regionMethods(), v.scriptMethods(), v.eventMethods(), methods{
		"SetID": func(L *lua.LState, w *widget) int { w.id = L.CheckInt(2); return 0 },
		"GetID": func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(w.id)); return 1 },
		"SetFrameStrata": func(L *lua.LState, w *widget) int {
			// The client ignores a strata name it does not know.
			if s := strings.ToUpper(L.CheckString(2)); strataRank[s] > 0 {
				w.strata = s
			}
			return 0
		},
		"GetFrameStrata": func(L *lua.LState, w *widget) int { L.Push(lua.LString(w.frameStrata())); return 1 },
		"SetFrameLevel": func(L *lua.LState, w *widget) int {
			w.level = max(0, L.CheckInt(2))
			return 0
		},
		"GetFrameLevel": func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(w.frameLevel())); return 1 },
		"SetScale": func(L *lua.LState, w *widget) int {
			sc := float64(L.CheckNumber(2))
			if !(sc > 0) {
				L.RaiseError("Frame:SetScale(): Scale must be > 0")
			}
			w.scale = sc
			return 0
		},
		"GetScale":          func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(w.scale)); return 1 },
		"GetEffectiveScale": func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(w.effectiveScale())); return 1 },
		"SetBackdrop":       noop, "SetBackdropColor": noop, "SetBackdropBorderColor": noop,
		"SetMovable": noop, "IsMovable": func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(1)); return 1 },
		"EnableMouse": noop, "EnableMouseWheel": noop, "EnableKeyboard": noop, "RegisterForDrag": noop,
		"StartMoving": noop, "StopMovingOrSizing": noop, "SetClampedToScreen": noop, "SetToplevel": noop,
		"SetUserPlaced": noop, "Raise": noop, "Lower": noop, "SetHitRectInsets": noop,
		"CreateFontString": func(L *lua.LState, w *widget) int {
			fs := v.newWidget("FontString", L.OptString(2, ""), w)
			L.Push(fs.tbl)
			return 1
		},
		"CreateTexture": func(L *lua.LState, w *widget) int {
			tx := v.newWidget("Texture", L.OptString(2, ""), w)
			tx.layer = checkLayer(L, 3, tx.layer)
			L.Push(tx.tbl)
			return 1
		},
	})
}

// scriptMethods are a frame's script handler methods; a handler name the
// object type does not have raises, like the client.
func (v *vm) scriptMethods() methods {
	check := func(L *lua.LState, w *widget, name string) {
		if !scriptSet(w.kind)[name] {
			L.RaiseError("%s doesn't have a %q script", w.kind, name)
		}
	}
	return methods{
		"SetScript": func(L *lua.LState, w *widget) int {
			name := L.CheckString(2)
			check(L, w, name)
			switch fn := L.Get(3).(type) {
			case *lua.LFunction:
				w.scripts[name] = fn
			case *lua.LNilType:
				delete(w.scripts, name)
			default:
				L.ArgError(3, "function or nil expected")
			}
			return 0
		},
		"GetScript": func(L *lua.LState, w *widget) int {
			if fn := w.scripts[L.CheckString(2)]; fn != nil {
				L.Push(fn)
			} else {
				L.Push(lua.LNil)
			}
			return 1
		},
		"HasScript": func(L *lua.LState, w *widget) int {
			L.Push(luaFlag(scriptSet(w.kind)[L.CheckString(2)]))
			return 1
		},
		"HookScript": func(L *lua.LState, w *widget) int {
			name := L.CheckString(2)
			hook := L.CheckFunction(3)
			check(L, w, name)
			if prev := w.scripts[name]; prev != nil {
				w.scripts[name] = postHook(L, prev, hook, 0)
			} else {
				w.scripts[name] = hook
			}
			return 0
		},
	}
}

func (v *vm) eventMethods() methods {
	return methods{
		"RegisterEvent": func(L *lua.LState, w *widget) int {
			ev := L.CheckString(2)
			if !w.events[ev] {
				w.events[ev] = true
				v.events[ev] = append(v.events[ev], w)
			}
			return 0
		},
		"UnregisterEvent": func(L *lua.LState, w *widget) int {
			v.unregister(w, L.CheckString(2))
			return 0
		},
		"UnregisterAllEvents": func(L *lua.LState, w *widget) int {
			for ev := range w.events {
				v.unregister(w, ev)
			}
			return 0
		},
		"IsEventRegistered": func(L *lua.LState, w *widget) int {
			L.Push(luaFlag(w.events[L.CheckString(2)]))
			return 1
		},
	}
}

func (v *vm) buttonMethods() methods {
	return merge(v.frameMethods(), v.textMethods(), methods{
		"Enable":    func(L *lua.LState, w *widget) int { w.enabled = true; return 0 },
		"Disable":   func(L *lua.LState, w *widget) int { w.enabled = false; return 0 },
		"IsEnabled": func(L *lua.LState, w *widget) int { L.Push(luaFlag(w.enabled)); return 1 },
		"Click": func(L *lua.LState, w *widget) int {
			v.click(w, L.OptString(2, "LeftButton"))
			return 0
		},
		"GetFontString": func(L *lua.LState, w *widget) int {
			L.Push(tableOrNil(w.textString))
			return 1
		},
		"RegisterForClicks": noop, "SetNormalTexture": noop, "SetPushedTexture": noop,
		"SetHighlightTexture": noop, "SetDisabledTexture": noop, "LockHighlight": noop, "UnlockHighlight": noop,
		"SetButtonState": noop,
	})
}

func (v *vm) checkButtonMethods() methods {
	return merge(v.buttonMethods(), methods{
		"SetChecked": func(L *lua.LState, w *widget) int { w.checked = L.ToBool(2); return 0 },
		"GetChecked": func(L *lua.LState, w *widget) int { L.Push(luaFlag(w.checked)); return 1 },
	})
}

func (v *vm) editBoxMethods() methods {
	return merge(v.frameMethods(), v.textMethods(), methods{
		// An edit box's text is never nil, only empty.
		"GetText":       func(L *lua.LState, w *widget) int { L.Push(lua.LString(w.text)); return 1 },
		"SetMaxLetters": func(L *lua.LState, w *widget) int { w.maxLetters = L.CheckInt(2); return 0 },
		"GetMaxLetters": func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(w.maxLetters)); return 1 },
		"GetNumLetters": func(L *lua.LState, w *widget) int {
			L.Push(lua.LNumber(utf8.RuneCountInString(w.text)))
			return 1
		},
		"GetNumber": func(L *lua.LState, w *widget) int {
			n, err := parseLuaNumber(w.text)
			if err != nil {
				n = 0
			}
			L.Push(lua.LNumber(n))
			return 1
		},
		"SetNumber": func(L *lua.LState, w *widget) int {
			v.setText(w, L.CheckNumber(2).String())
			return 0
		},
		"Insert": func(L *lua.LState, w *widget) int {
			v.setText(w, w.text+L.CheckString(2))
			return 0
		},
		"SetAutoFocus": noop, "SetNumeric": noop, "HighlightText": noop,
		"SetFontObject": noop, "SetTextInsets": noop, "SetJustifyH": noop, "SetMultiLine": noop,
	}, v.focusMethods())
}

func (v *vm) messageFrameMethods() methods {
	return merge(v.frameMethods(), methods{
		"AddMessage": func(L *lua.LState, w *widget) int {
			var text string
			switch lv := L.Get(2).(type) {
			case lua.LString:
				text = string(lv)
			case lua.LNumber:
				text = lv.String()
			default:
				L.ArgError(2, "string expected, got "+lv.Type().String())
			}
			switch w {
			case v.chat:
				v.c.printed(text)
			case v.errFrame:
				v.c.uiErrors = append(v.c.uiErrors, text)
			}
			return 0
		},
		"Clear": noop, "SetMaxLines": noop, "SetFading": noop, "SetFadeDuration": noop, "SetTimeVisible": noop,
		"SetFontObject": noop, "SetJustifyH": noop,
	})
}

func (v *vm) tooltipMethods() methods {
	addLine := func(L *lua.LState, w *widget) int {
		v.setTooltipLines(w, append(append([]string(nil), w.tipLines...), optText(L, 2)))
		return 0
	}
	return merge(v.frameMethods(), v.tooltipItemMethods(), methods{
		"SetOwner": func(L *lua.LState, w *widget) int {
			owner := v.toWidget(L.Get(2))
			if owner == nil {
				L.ArgError(2, "frame expected")
			}
			w.owner = owner
			return 0
		},
		"IsOwned": func(L *lua.LState, w *widget) int {
			L.Push(luaFlag(w.owner != nil && w.owner == v.toWidget(L.Get(2))))
			return 1
		},
		"GetOwner":      func(L *lua.LState, w *widget) int { L.Push(tableOrNil(w.owner)); return 1 },
		"ClearLines":    func(L *lua.LState, w *widget) int { v.setTooltipLines(w, nil); return 0 },
		"AddLine":       addLine,
		"AddDoubleLine": addLine,
		"SetText": func(L *lua.LState, w *widget) int {
			v.setTooltipLines(w, []string{optText(L, 2)})
			return 0
		},
		"NumLines":   func(L *lua.LState, w *widget) int { L.Push(lua.LNumber(len(w.tipLines))); return 1 },
		"SetPadding": noop, "SetMinimumWidth": noop,
	})
}

// tooltipItemMethods fill a tooltip with an item's lines. Without an owner
// the client does not fill the tooltip.
func (v *vm) tooltipItemMethods() methods {
	return methods{
		"SetBagItem": func(L *lua.LState, w *widget) int {
			bag, slot := L.CheckInt(2), L.CheckInt(3)
			if w.owner == nil {
				return 0
			}
			it, ok := v.c.itemAt(bag, slot)
			if !ok {
				v.setTooltipLines(w, nil)
				return 0
			}
			v.showTooltipItem(w, it)
			return 0
		},
		"SetHyperlink": func(L *lua.LState, w *widget) int {
			link := L.CheckString(2)
			if w.owner == nil {
				return 0
			}
			it, ok := v.c.itemByRef(link)
			if !ok {
				L.RaiseError("Unknown link type")
			}
			v.showTooltipItem(w, it)
			return 0
		},
	}
}

func (v *vm) showTooltipItem(w *widget, it Item) {
	v.setTooltipLines(w, v.c.tooltipLines(it))
	v.show(w)
}

func (v *vm) unregister(w *widget, ev string) {
	if !w.events[ev] {
		return
	}
	delete(w.events, ev)
	regs := v.events[ev]
	for i, x := range regs {
		if x == w {
			v.events[ev] = append(regs[:i:i], regs[i+1:]...)
			break
		}
	}
}

// createFrame is CreateFrame(frameType [, name [, parent [, template]]]).
func (v *vm) createFrame(L *lua.LState) int {
	kind, ok := frameTypes[strings.ToLower(L.CheckString(1))]
	if !ok {
		L.RaiseError("CreateFrame: Unknown frame type '%s'", L.CheckString(1))
	}
	name := ""
	if s, ok := L.Get(2).(lua.LString); ok {
		name = string(s)
	}
	var parent *widget
	if p := L.Get(3); p != lua.LNil {
		parent = v.toWidget(p)
		if parent == nil {
			L.ArgError(3, "frame expected")
		}
	}
	template := L.OptString(4, "")
	for _, t := range strings.Split(template, ",") {
		if t = strings.TrimSpace(t); t != "" && !knownTemplates[t] {
			L.RaiseError("CreateFrame: couldn't find inherited node %q", t)
		}
	}
	w := v.newWidget(kind, name, parent)
	v.applyTemplates(w, template)
	L.Push(w.tbl)
	return 1
}

// applyTemplates gives a frame what its XML template would create.
func (v *vm) applyTemplates(w *widget, template string) {
	for _, t := range strings.Split(template, ",") {
		switch strings.TrimSpace(t) {
		case "UIPanelButtonTemplate", "UICheckButtonTemplate", "OptionsCheckButtonTemplate":
			if w.kind == "Button" || w.kind == "CheckButton" {
				textName := ""
				if w.name != "" {
					textName = w.name + "Text"
				}
				w.textString = v.newWidget("FontString", textName, w)
			}
		case "UIPanelCloseButton":
			// The close button hides its parent.
			w.scripts["OnClick"] = v.L.NewFunction(func(L *lua.LState) int {
				if self := v.toWidget(L.Get(1)); self != nil && self.parent != nil {
					v.hide(self.parent)
				}
				return 0
			})
		case "InputBoxTemplate":
			w.maxLetters = 0
		}
	}
}

// setTooltipLines fills <name>TextLeft<i> for i = 1..len(lines), creating
// the font strings as GameTooltipTemplate does, and clears the rest.
func (v *vm) setTooltipLines(w *widget, lines []string) {
	w.tipLines = lines
	if w.name == "" {
		return
	}
	for i := 1; ; i++ {
		left := v.named[fmt.Sprintf("%sTextLeft%d", w.name, i)]
		if left == nil {
			if i > len(lines) {
				return
			}
			left = v.newWidget("FontString", fmt.Sprintf("%sTextLeft%d", w.name, i), w)
			v.newWidget("FontString", fmt.Sprintf("%sTextRight%d", w.name, i), w)
		}
		if i <= len(lines) {
			left.text = lines[i-1]
		} else {
			left.text = ""
		}
	}
}

func nilIfEmpty(s string) lua.LValue {
	if s == "" {
		return lua.LNil
	}
	return lua.LString(s)
}

func tableOrNil(w *widget) lua.LValue {
	if w == nil {
		return lua.LNil
	}
	return w.tbl
}
