package wowsim

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests pin down the simulated client's own behaviour — the 3.3.5a
// facts the addon depends on — independently of the addon.

func TestNoSetEnabledOnButtons(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	res := c.Type(`/run local b = CreateFrame("Button", nil, UIParent, "UIPanelButtonTemplate") b:SetEnabled(true)`)
	if !strings.Contains(res.Error, "attempt to call") {
		t.Fatalf("Button:SetEnabled must not exist on 3.3.5a, got %q", res.Error)
	}
	c.ClearErrors()
	if got := evalString(t, c, `return tostring(CreateFrame("Button").SetEnabled) .. tostring(CreateFrame("CheckButton").SetEnabled)`); got != "nilnil" {
		t.Fatalf("SetEnabled = %s", got)
	}
	run(t, c, `local b = CreateFrame("Button") b:Disable() assert(not b:IsEnabled()) b:Enable() assert(b:IsEnabled() == 1)`)
}

func TestProtectedFunctionsAreBlocked(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	execLua(t, c, `BLOCKED = {} local f = CreateFrame("Frame") f:RegisterEvent("ADDON_ACTION_BLOCKED")
f:SetScript("OnEvent", function(self, event, addon, fn) BLOCKED[#BLOCKED + 1] = addon .. " " .. fn end)`)
	for _, fn := range []string{"RunMacroText", "CastSpellByName"} {
		res := c.Type("/run " + fn + `("/who Hero")`)
		if !strings.Contains(res.Error, "action blocked") {
			t.Fatalf("%s: want an action-blocked error, got %q", fn, res.Error)
		}
	}
	c.ClearErrors()
	if got := c.Blocked(); !slices.Equal(got, []string{"RunMacroText()", "CastSpellByName()"}) {
		t.Fatalf("blocked %q", got)
	}
	if got := evalString(t, c, "return BLOCKED[1]"); got != "MimironsGoldOMatic RunMacroText()" {
		t.Fatalf("ADDON_ACTION_BLOCKED args %q", got)
	}
	if len(c.WhoQueries()) != 0 {
		t.Fatal("a blocked call must not run")
	}
}

func TestWhisperLengthLimit(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	run(t, c, `SendChatMessage(string.rep("я", 127) .. "x", "WHISPER", nil, "Hero")`)   // 255 bytes
	res := c.Type(`/run SendChatMessage(string.rep("я", 128), "WHISPER", nil, "Hero")`) // 256 bytes
	if !strings.Contains(res.Error, "too long") {
		t.Fatalf("a 256-byte whisper must be refused, got %q", res.Error)
	}
	c.ClearErrors()
	if n := len(c.Whispers()); n != 1 {
		t.Fatalf("%d whispers sent, want 1", n)
	}
}

func TestWhisperToOfflinePlayer(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	run(t, c, `SendChatMessage("hi", "WHISPER", nil, "Ghost")`)
	if !slices.Contains(c.ChatLines(), "No player named 'Ghost' is currently playing.") {
		t.Fatalf("chat %q", c.ChatLines())
	}
}

func TestChatBoxLineLimit(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	// 255 characters (Cyrillic counts as one each) fit.
	code := `X = "` + strings.Repeat("ж", MaxChatLetters-len(`/run X = ""`)) + `"`
	res := c.Type("/run " + code)
	if res.Truncated || res.Error != "" {
		t.Fatalf("a 255-character line must run: %+v", res)
	}
	// One more character is cut off, leaving an unfinished string.
	res = c.Type("/run " + `X = "` + strings.Repeat("ж", MaxChatLetters-len(`/run X = ""`)+1) + `"`)
	if !res.Truncated || res.Error == "" {
		t.Fatalf("a 256-character line must be cut and fail: %+v", res)
	}
	if n := len([]rune(res.Line)); n != MaxChatLetters {
		t.Fatalf("kept %d characters", n)
	}
	c.ClearErrors()
}

func TestStringLowerIsByteWise(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	if got := evalString(t, c, `return string.lower("ABC Имя") .. ("XY"):lower()`); got != "abc Имяxy" {
		t.Fatalf("got %q: Cyrillic must not be folded by string.lower", got)
	}
	if got := evalString(t, c, `return tostring(string.match("abc", "%d+"))`); got != "nil" {
		t.Fatalf("string.match without a match: %q", got)
	}
}

func TestWhoDeliveryRoutes(t *testing.T) {
	t.Parallel()
	five := []Player{{Name: "Aa"}, {Name: "Ab"}, {Name: "Ac"}, {Name: "Ad"}, {Name: "Ae"}}
	tests := []struct {
		name    string
		toUI    int
		filter  string
		route   WhoRoute
		wantUI  bool
		wantSys []string
	}{
		{"one result, who-to-UI 0: system chat", 0, `n-"Aa"`, WhoRouteAuto, false,
			[]string{"|Hplayer:Aa|h[Aa]|h: Level 80 Human Warrior - Dalaran", "1 player total"}},
		{"no result, who-to-UI 0: system chat", 0, `n-"Zz"`, WhoRouteAuto, false, []string{"0 players total"}},
		{"five results, who-to-UI 0: list update", 0, "A", WhoRouteAuto, true, nil},
		{"one result, who-to-UI 1: list update", 1, `n-"Aa"`, WhoRouteAuto, true, nil},
		{"forced chat", 1, "A", WhoRouteChat, false, nil},
		{"dropped", 1, `n-"Aa"`, WhoRouteDrop, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t)
			c.SetRoster(five, false)
			c.SetWhoRoute(tt.route)
			execLua(t, c, `UPDATES, SYSTEM = 0, {} local f = CreateFrame("Frame")
f:RegisterEvent("WHO_LIST_UPDATE") f:RegisterEvent("CHAT_MSG_SYSTEM")
f:SetScript("OnEvent", function(self, event, text)
  if event == "WHO_LIST_UPDATE" then UPDATES = UPDATES + 1 else SYSTEM[#SYSTEM + 1] = text end
end)`)
			run(t, c, "SetWhoToUI("+map[int]string{0: "0", 1: "1"}[tt.toUI]+")")
			run(t, c, "SendWho("+luaQuote(tt.filter)+")")
			c.Advance(100 * time.Millisecond)
			if got := evalString(t, c, "return UPDATES"); got != "0" {
				t.Fatal("the answer must take the server round trip")
			}
			c.Advance(time.Second)
			gotUI := evalString(t, c, "return UPDATES") == "1"
			if gotUI != tt.wantUI {
				t.Fatalf("WHO_LIST_UPDATE fired: %v, want %v", gotUI, tt.wantUI)
			}
			if tt.wantUI && !c.Frame("FriendsFrame").Shown {
				t.Fatal("WHO_LIST_UPDATE opens the Friends frame")
			}
			if tt.wantSys != nil {
				got := strings.Split(evalString(t, c, `return table.concat(SYSTEM, "\n")`), "\n")
				if !slices.Equal(got, tt.wantSys) {
					t.Fatalf("system lines %q, want %q", got, tt.wantSys)
				}
			}
		})
	}
}

func TestWhoInfo(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	c.SetRoster([]Player{{Name: "Hero", Guild: "Knights", Level: 71, Race: "Night Elf", Class: "Death Knight", Zone: "Wintergrasp"}}, false)
	run(t, c, `SetWhoToUI(1) SendWho('n-"hero"')`)
	c.Advance(time.Second)
	got := evalString(t, c, `return table.concat({GetWhoInfo(1)}, "|") .. "#" .. table.concat({GetNumWhoResults()}, ",")`)
	if got != "Hero|Knights|71|Night Elf|Death Knight|Wintergrasp|DEATHKNIGHT#1,1" {
		t.Fatalf("got %q", got)
	}
}

func TestLuaErrorsAreCaughtPerHandler(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	execLua(t, c, `HITS = 0
local a = CreateFrame("Frame") a:RegisterEvent("SIM_TEST") a:SetScript("OnEvent", function() error("boom") end)
local b = CreateFrame("Frame") b:RegisterEvent("SIM_TEST") b:SetScript("OnEvent", function() HITS = HITS + 1 end)`)
	c.Fire("SIM_TEST")
	if got := evalString(t, c, "return HITS"); got != "1" {
		t.Fatal("the next handler must still run after an error")
	}
	errs := c.Errors()
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "boom") {
		t.Fatalf("errors %+v", errs)
	}
	c.ClearErrors()
}

func TestHooksecurefunc(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	execLua(t, c, `ORDER = {}
function SimAdd(a, b) ORDER[#ORDER + 1] = "orig" return a + b, "x" end
hooksecurefunc("SimAdd", function(a, b) ORDER[#ORDER + 1] = "hook " .. a .. b end)
local t = { f = function(self, v) return v * 2 end }
hooksecurefunc(t, "f", function(self, v) ORDER[#ORDER + 1] = "method " .. v end)
R1, R2 = SimAdd(2, 3)
R3 = t:f(4)`)
	if got := evalString(t, c, `return table.concat(ORDER, ",") .. "=" .. R1 .. R2 .. R3`); got != "orig,hook 23,method 4=5x8" {
		t.Fatalf("got %q", got)
	}
	if res := c.Type(`/run hooksecurefunc("NoSuchFunction", print)`); !strings.Contains(res.Error, "not a function") {
		t.Fatalf("got %q", res.Error)
	}
	c.ClearErrors()
}

func TestFramesShowHideAndScripts(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	execLua(t, c, `LOG = {}
P = CreateFrame("Frame", "SimParent", UIParent) P:Hide()
local k = CreateFrame("Frame", "$parentKid", P)
k:SetScript("OnShow", function() LOG[#LOG + 1] = "show" end)
k:SetScript("OnHide", function() LOG[#LOG + 1] = "hide" end)
k:SetScript("OnUpdate", function(self, e) TICKS = (TICKS or 0) + 1 end)`)
	if !c.Frame("SimParentKid").Exists || c.Frame("SimParentKid").Visible {
		t.Fatal("$parent must expand and a hidden parent hides the child")
	}
	c.Advance(time.Second)
	if got := evalString(t, c, "return TICKS"); got != "" {
		t.Fatal("OnUpdate runs only for visible frames")
	}
	run(t, c, `P:Show() P:Hide()`)
	c.Advance(0)
	if got := evalString(t, c, `return table.concat(LOG, ",")`); got != "show,hide" {
		t.Fatalf("got %q", got)
	}
	run(t, c, `P:Show()`)
	c.Advance(time.Second)
	if got := evalString(t, c, "return TICKS"); got != "20" {
		t.Fatalf("OnUpdate ran %s times in 1 s at 50 ms frames", got)
	}
	for _, bad := range []string{
		`CreateFrame("Frame"):SetScript("OnClick", print)`,
		`CreateFrame("Widget")`,
		`CreateFrame("Frame", nil, UIParent, "NoSuchTemplate")`,
		`UIParent.Show()`,
	} {
		if res := c.Type("/run " + bad); res.Error == "" {
			t.Errorf("%s: want an error", bad)
		}
	}
	c.ClearErrors()
}

func TestClockAndDate(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	c.Advance(90 * time.Second)
	got := evalString(t, c, `return date("!%Y-%m-%d %H:%M:%S") .. " " .. time() .. " " .. GetTime() .. " " .. date("!*t").min`)
	want := "2026-04-03 21:16:30 1775250990 1090 16"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestSavedVariablesRoundTrip(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	execLua(t, c, `MimironsGoldOMaticDB.extra = { s = 'q"uo\\te\nline я', n = 1.5, big = 10000000, b = false,
list = { "a", "b", { deep = true } }, [7] = "seven", f = print }`)
	sv := c.SavedVariables()
	for _, want := range []string{`["s"] = "q\"uo\\te\nline я",`, `["n"] = 1.5,`, `["big"] = 10000000,`, `"a", -- [1]`, `[7] = "seven",`} {
		if !strings.Contains(sv, want) {
			t.Errorf("missing %s in\n%s", want, sv)
		}
	}
	if strings.Contains(sv, `["f"]`) {
		t.Error("functions cannot be saved")
	}
	c2 := newTestClient(t, func(cfg *Config) { cfg.SavedVariables = sv + "\nNotDeclared = 1\n" })
	got := evalString(t, c2, `local e = MimironsGoldOMaticDB.extra
return e.s .. "|" .. e.n .. "|" .. e.big .. "|" .. tostring(e.b) .. "|" .. e.list[2] .. tostring(e.list[3].deep) .. "|" .. e[7] .. "|" .. tostring(NotDeclared)`)
	if got != "q\"uo\\te\nline я|1.5|10000000|false|btrue|seven|nil" {
		t.Fatalf("got %q", got)
	}
}

func TestChatLogFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "Logs", "WoWChatLog.txt")
	log, err := NewChatLog(path, ChatLogOptions{Mode: LogLineByLine})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, func(cfg *Config) {
		cfg.ChatLog, cfg.Prints = log, PrintsLogged
		cfg.Start = time.Date(2026, 4, 3, 9, 5, 7, 123e6, time.UTC)
	})
	run(t, c, `DEFAULT_CHAT_FRAME:AddMessage("[MGM_UPDATE_CHECK]")`)
	c.Type("/chatlog") // off: nothing is written
	run(t, c, `DEFAULT_CHAT_FRAME:AddMessage("not logged")`)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "4/3 09:05:07.123  MGM: chat logging turned on (Logs\\WoWChatLog.txt): the Desktop companion reads the addon's answers from it.\r\n" +
		"4/3 09:05:07.123  [MGM_UPDATE_CHECK]\r\n"
	if string(b) != want {
		t.Fatalf("log file:\n%q\nwant\n%q", b, want)
	}
	if got := TimestampPrefix(time.Date(2026, 12, 25, 23, 59, 58, 7e6, time.UTC)); got != "12/25 23:59:58.007  " {
		t.Fatalf("prefix %q", got)
	}
	if err := log.Truncate(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Fatal("truncate")
	}
}

func TestSetBagsValidates(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	for _, tt := range []struct {
		items []Item
		sizes []int
	}{
		{[]Item{{Bag: 5, Slot: 1, ID: 1, Name: "x"}}, nil},
		{[]Item{{Bag: 0, Slot: 17, ID: 1, Name: "x"}}, nil},
		{[]Item{{Bag: 0, Slot: 1, ID: 1, Name: "x"}, {Bag: 0, Slot: 1, ID: 2, Name: "y"}}, nil},
		{[]Item{{Bag: 0, Slot: 1, Name: "x"}}, nil},
		{[]Item{{Bag: 1, Slot: 1, ID: 1, Name: "x"}}, []int{16, 0}},
		{nil, []int{16, 16, 16, 16, 16, 16}},
	} {
		if err := c.SetBags(tt.items, tt.sizes); err == nil {
			t.Errorf("SetBags(%+v, %v) should fail", tt.items, tt.sizes)
		}
	}
}
