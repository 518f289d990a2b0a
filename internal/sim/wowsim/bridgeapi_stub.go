package wowsim

// TEMPORARY — DELETE THIS FILE AT MERGE.
//
// The h-addon branch's addon draws the screen strip with 3.3.5a API that the
// h-screen branch adds to the simulator properly (widgets.go, input.go:
// GetCVar("gxResolution"), GetCurrentKeyBoardFocus, Frame:GetEffectiveScale,
// Texture:SetTexture(r, g, b, a)). Until that lands, this stands in with the
// minimum: the screen is 1280x720, nothing has the keyboard focus, every
// frame's effective scale is 1, and a colour texture keeps no colour. It
// works per object (wrapping CreateFrame) and installs its globals itself so
// that the API surface tests, which pin the real areas, stay as they are.

import (
	lua "github.com/yuin/gopher-lua"
)

func init() { apiAreas = append(apiAreas, (*vm).bridgeStubAPI) }

func (v *vm) bridgeStubAPI() api {
	L := v.L
	if L.GetGlobal("GetCVar") != lua.LNil {
		return api{} // installed already (the surface test lists the areas again)
	}
	createFrame := L.GetGlobal("CreateFrame")
	L.SetGlobal("CreateFrame", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		L.Push(createFrame)
		for i := 1; i <= n; i++ {
			L.Push(L.Get(i))
		}
		L.Call(n, 1)
		if t, ok := L.Get(-1).(*lua.LTable); ok {
			v.stubFrame(t)
		}
		return 1
	}))
	L.SetGlobal("GetCVar", L.NewFunction(func(L *lua.LState) int {
		if L.CheckString(1) == "gxResolution" {
			L.Push(lua.LString("1280x720"))
			return 1
		}
		L.Push(lua.LNil)
		return 1
	}))
	L.SetGlobal("GetCurrentKeyBoardFocus", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNil)
		return 1
	}))
	return api{}
}

func (v *vm) stubFrame(t *lua.LTable) {
	L := v.L
	t.RawSetString("GetEffectiveScale", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(1))
		return 1
	}))
	createTexture := L.GetField(t, "CreateTexture")
	if createTexture.Type() != lua.LTFunction {
		return
	}
	t.RawSetString("CreateTexture", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		L.Push(createTexture)
		for i := 1; i <= n; i++ {
			L.Push(L.Get(i))
		}
		L.Call(n, 1)
		tx, ok := L.Get(-1).(*lua.LTable)
		if !ok {
			return 1
		}
		setTexture := L.GetField(tx, "SetTexture")
		tx.RawSetString("SetTexture", L.NewFunction(func(L *lua.LState) int {
			if _, ok := L.Get(2).(lua.LNumber); ok {
				L.CheckNumber(3)
				L.CheckNumber(4)
				return 0
			}
			n := L.GetTop()
			L.Push(setTexture)
			for i := 1; i <= n; i++ {
				L.Push(L.Get(i))
			}
			L.Call(n, 0)
			return 0
		}))
		return 1
	}))
}
