package wowsim

import (
	"slices"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The simulator's API surface is the 3.3.5a one the addon may rely on. These
// tables pin it, so a refactoring cannot silently drop a method the addon
// calls or gain one that only later clients have.

var (
	regionAPI = []string{"ClearAllPoints", "GetAlpha", "GetBottom", "GetCenter", "GetHeight", "GetLeft",
		"GetName", "GetNumPoints", "GetObjectType", "GetParent", "GetPoint", "GetRight", "GetTop", "GetWidth",
		"Hide", "IsObjectType", "IsShown", "IsVisible", "SetAllPoints", "SetAlpha", "SetHeight", "SetParent",
		"SetPoint", "SetWidth", "Show"}
	fontStringAPI = join(regionAPI, "GetStringWidth", "GetText", "SetDrawLayer", "SetFont", "SetFontObject",
		"SetFormattedText", "SetJustifyH", "SetJustifyV", "SetNonSpaceWrap", "SetShadowColor", "SetShadowOffset",
		"SetText", "SetTextColor", "SetVertexColor")
	textureAPI = join(regionAPI, "GetDrawLayer", "GetTexture", "GetVertexColor", "SetBlendMode", "SetDesaturated",
		"SetDrawLayer", "SetTexCoord", "SetTexture", "SetVertexColor")
	frameAPI = join(regionAPI, "CreateFontString", "CreateTexture", "EnableKeyboard", "EnableMouse",
		"EnableMouseWheel", "GetEffectiveScale", "GetFrameLevel", "GetFrameStrata", "GetID", "GetScale", "GetScript", "HasScript",
		"HookScript", "IsEventRegistered", "IsMovable", "Lower", "Raise", "RegisterEvent", "RegisterForDrag",
		"SetBackdrop", "SetBackdropBorderColor", "SetBackdropColor", "SetClampedToScreen", "SetFrameLevel",
		"SetFrameStrata", "SetHitRectInsets", "SetID", "SetMovable", "SetScale", "SetScript", "SetToplevel",
		"SetUserPlaced", "StartMoving", "StopMovingOrSizing", "UnregisterAllEvents", "UnregisterEvent")
	buttonAPI = join(frameAPI, "Click", "Disable", "Enable", "GetFontString", "GetText", "IsEnabled",
		"LockHighlight", "RegisterForClicks", "SetButtonState", "SetDisabledTexture", "SetHighlightTexture",
		"SetNormalTexture", "SetPushedTexture", "SetText", "UnlockHighlight")
	checkButtonAPI = join(buttonAPI, "GetChecked", "SetChecked")
	editBoxAPI     = join(frameAPI, "ClearFocus", "GetMaxLetters", "GetNumLetters", "GetNumber", "GetText",
		"HasFocus", "HighlightText", "Insert", "SetAutoFocus", "SetFocus", "SetFontObject", "SetJustifyH",
		"SetMaxLetters", "SetMultiLine", "SetNumber", "SetNumeric", "SetText", "SetTextInsets")
	messageFrameAPI = join(frameAPI, "AddMessage", "Clear", "SetFadeDuration", "SetFading", "SetFontObject",
		"SetJustifyH", "SetMaxLines", "SetTimeVisible")
	tooltipAPI = join(frameAPI, "AddDoubleLine", "AddLine", "ClearLines", "GetOwner", "IsOwned", "NumLines",
		"SetBagItem", "SetHyperlink", "SetMinimumWidth", "SetOwner", "SetPadding", "SetText")

	widgetAPI = map[string][]string{
		"FontString": fontStringAPI, "Texture": textureAPI, "Frame": frameAPI, "Button": buttonAPI,
		"CheckButton": checkButtonAPI, "EditBox": editBoxAPI, "ScrollingMessageFrame": messageFrameAPI,
		"MessageFrame": messageFrameAPI, "GameTooltip": tooltipAPI, "ScrollFrame": frameAPI,
		"Slider": frameAPI, "StatusBar": frameAPI,
	}

	// Methods later clients added; the addon must not depend on them.
	laterWidgetAPI = []string{"SetShown", "SetEnabled", "SetSize", "GetSize", "SetColorTexture", "SetAtlas",
		"SetIgnoreParentAlpha", "SetFixedFrameStrata", "SetObeyStepOnDrag"}

	globalAPI = []string{"CloseMail", "CreateFrame", "GetBuildInfo", "GetCVar", "GetCurrentKeyBoardFocus",
		"GetScreenHeight", "GetScreenWidth", "GetContainerItemID",
		"GetContainerItemInfo", "GetContainerItemLink", "GetContainerNumSlots", "GetItemInfo", "GetLocale",
		"GetMoney", "GetNumWhoResults", "GetRealmName", "GetSendMailCOD", "GetSendMailMoney", "GetTime",
		"GetWhoInfo", "InCombatLockdown", "IsLoggedIn", "LoggingChat", "PlaySound", "PlaySoundFile", "ReloadUI",
		"SendChatMessage", "SendMail", "SendWho", "SetSendMailCOD", "SetSendMailMoney", "SetWhoToUI",
		"UnitAffectingCombat", "UnitName", "date", "difftime", "geterrorhandler", "hooksecurefunc", "issecure",
		"securecall", "seterrorhandler", "time",
		// The cursor and the Send Mail attachments.
		"ClearCursor", "ClickSendMailItemButton", "CursorHasItem", "GetSendMailItem", "GetSendMailItemLink",
		"HasSendMailItem", "PickupContainerItem"}

	// Globals later clients added.
	laterGlobalAPI = []string{"C_Timer", "C_Container", "C_FriendList", "C_ChatInfo", "C_Item",
		"GetItemInfoInstant", "Mixin", "CreateFromMixins"}
)

func join(base []string, more ...string) []string {
	out := append(slices.Clone(base), more...)
	sort.Strings(out)
	return slices.Compact(out)
}

func TestWidgetAPISurface(t *testing.T) {
	c := newTestClient(t)
	if len(c.vm.metas) != len(widgetAPI) {
		t.Errorf("%d widget kinds, want %d", len(c.vm.metas), len(widgetAPI))
	}
	for kind, want := range widgetAPI {
		mt := c.vm.metas[kind]
		if mt == nil {
			t.Errorf("no %s", kind)
			continue
		}
		var got []string
		mt.RawGetString("__index").(*lua.LTable).ForEach(func(k, _ lua.LValue) {
			got = append(got, lua.LVAsString(k))
		})
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s methods:\n got %s\nwant %s", kind, strings.Join(got, " "), strings.Join(want, " "))
		}
		for _, m := range laterWidgetAPI {
			if slices.Contains(want, m) {
				t.Errorf("%s:%s is not 3.3.5a API", kind, m)
			}
		}
	}
	// Every type CreateFrame accepts has its methods.
	for _, kind := range frameTypes {
		if widgetAPI[kind] == nil {
			t.Errorf("CreateFrame(%q) has no method table", kind)
		}
	}
}

func TestGlobalAPISurface(t *testing.T) {
	c := newTestClient(t)
	var got []string
	for _, area := range append(slices.Clone(apiAreas), deskAPIAreas...) {
		for name := range area(c.vm) {
			got = append(got, name)
		}
	}
	sort.Strings(got)
	want := join(globalAPI, protectedFunctions...)
	if !slices.Equal(got, want) {
		t.Errorf("global API:\n got %s\nwant %s", strings.Join(got, " "), strings.Join(want, " "))
	}
	for _, name := range append(slices.Clone(want), "GetWhoToUI") {
		present := name != "GetWhoToUI" // only with Config.ExposeGetWhoToUI
		if fn := c.vm.L.GetGlobal(name); (fn.Type() == lua.LTFunction) != present {
			t.Errorf("%s = %s", name, fn.Type())
		}
	}
	for _, name := range laterGlobalAPI {
		if fn := c.vm.L.GetGlobal(name); fn != lua.LNil {
			t.Errorf("%s = %s; it is not 3.3.5a API", name, fn.Type())
		}
	}

	exposed := newTestClient(t, func(cfg *Config) { cfg.ExposeGetWhoToUI = true })
	if fn := exposed.vm.L.GetGlobal("GetWhoToUI"); fn.Type() != lua.LTFunction {
		t.Errorf("GetWhoToUI = %s with ExposeGetWhoToUI", fn.Type())
	}
}
