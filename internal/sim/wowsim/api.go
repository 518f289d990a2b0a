package wowsim

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Functions only Blizzard code may call. From addon code (or /run) the client
// blocks them and fires ADDON_ACTION_BLOCKED; the simulator also raises, so a
// test that reaches one fails loudly instead of silently doing nothing.
var protectedFunctions = []string{
	"RunMacroText", "RunMacro", "CastSpellByName", "CastSpellByID", "UseAction", "TargetUnit",
	"AssistUnit", "FocusUnit", "SpellStopCasting", "CancelUnitBuff", "JumpOrAscendStart",
}

// mailPostage is what sending one mail costs on 3.3.5a (30 copper).
const mailPostage = 30

// api is one area of the global API: function names and their Go bodies.
type api map[string]lua.LGFunction

// apiAreas are the areas of the global API. Like the widget methods, only
// functions that exist in 3.3.5a are provided (no C_Timer, no C_Container).
var apiAreas = []func(*vm) api{
	(*vm).timeAPI, (*vm).identityAPI, (*vm).chatAPI, (*vm).whoAPI, (*vm).mailAPI, (*vm).mailItemAPI,
	(*vm).itemAPI, (*vm).securityAPI, (*vm).uiAPI,
}

// installAPI registers the global functions of every area.
func (v *vm) installAPI() {
	for _, area := range apiAreas {
		for name, fn := range area(v) {
			v.L.SetGlobal(name, v.L.NewFunction(fn))
		}
	}
}

func (v *vm) timeAPI() api {
	c := v.c
	return api{
		"GetTime": func(L *lua.LState) int { L.Push(lua.LNumber(math.Round(c.getTime()*1000) / 1000)); return 1 },
		"time":    c.luaTime,
		"date":    c.luaDate,
		"difftime": func(L *lua.LState) int {
			L.Push(lua.LNumber(float64(L.CheckNumber(1)) - float64(L.OptNumber(2, 0))))
			return 1
		},
	}
}

// identityAPI is who and where the player is.
func (v *vm) identityAPI() api {
	c := v.c
	return api{
		"UnitName": func(L *lua.LState) int {
			if strings.EqualFold(L.CheckString(1), "player") {
				L.Push(lua.LString(c.cfg.PlayerName))
				L.Push(lua.LNil)
				return 2
			}
			return 0
		},
		"GetRealmName": func(L *lua.LState) int { L.Push(lua.LString(c.cfg.Realm)); return 1 },
		"GetLocale":    func(L *lua.LState) int { L.Push(lua.LString(c.cfg.Locale)); return 1 },
		"GetBuildInfo": func(L *lua.LState) int {
			L.Push(lua.LString("3.3.5"))
			L.Push(lua.LString("12340"))
			L.Push(lua.LString("Jun 24 2010"))
			L.Push(lua.LNumber(30300))
			return 4
		},
		"UnitAffectingCombat": func(L *lua.LState) int { L.Push(lua.LNil); return 1 },
		"InCombatLockdown":    func(L *lua.LState) int { L.Push(lua.LNil); return 1 },
		"IsLoggedIn":          func(L *lua.LState) int { L.Push(luaFlag(c.loggedIn)); return 1 },
		"GetMoney":            func(L *lua.LState) int { L.Push(lua.LNumber(c.money)); return 1 },
	}
}

func (v *vm) chatAPI() api {
	c := v.c
	return api{
		"SendChatMessage": c.luaSendChatMessage,
		"LoggingChat": func(L *lua.LState) int {
			if L.GetTop() >= 1 {
				c.setLoggingChat(L.ToBool(1))
			}
			L.Push(luaFlag(c.loggingChat))
			return 1
		},
	}
}

func (v *vm) whoAPI() api {
	c := v.c
	a := api{
		"SendWho": func(L *lua.LState) int { c.sendWho(L.CheckString(1)); return 0 },
		"SetWhoToUI": func(L *lua.LState) int {
			if x, ok := L.Get(1).(lua.LNumber); ok {
				c.whoToUI = int(x)
			} else if L.ToBool(1) {
				c.whoToUI = 1
			} else {
				c.whoToUI = 0
			}
			if c.whoToUI != 0 {
				c.whoToUI = 1
			}
			return 0
		},
		"GetNumWhoResults": func(L *lua.LState) int {
			L.Push(lua.LNumber(len(c.whoList)))
			L.Push(lua.LNumber(len(c.whoList)))
			return 2
		},
		"GetWhoInfo": func(L *lua.LState) int {
			i := L.CheckInt(1)
			if i < 1 || i > len(c.whoList) {
				return 0
			}
			p := c.whoList[i-1]
			L.Push(lua.LString(p.Name))
			L.Push(lua.LString(p.Guild))
			L.Push(lua.LNumber(p.Level))
			L.Push(lua.LString(p.Race))
			L.Push(lua.LString(p.Class))
			L.Push(lua.LString(p.Zone))
			L.Push(lua.LString(strings.ToUpper(strings.ReplaceAll(p.Class, " ", ""))))
			return 7
		},
	}
	if c.cfg.ExposeGetWhoToUI {
		a["GetWhoToUI"] = func(L *lua.LState) int { L.Push(lua.LNumber(c.whoToUI)); return 1 }
	}
	return a
}

func (v *vm) mailAPI() api {
	c := v.c
	return api{
		"SendMail": func(L *lua.LState) int {
			c.sendMail(L.CheckString(1), L.OptString(2, ""), L.OptString(3, ""))
			return 0
		},
		"SetSendMailMoney": func(L *lua.LState) int {
			n := int64(L.CheckNumber(1))
			if n < 0 || n+mailPostage > c.money {
				c.uiError(c.gs["ERR_NOT_ENOUGH_MONEY"])
				L.Push(lua.LNil)
				return 1
			}
			c.sendMoney = n
			L.Push(lua.LNumber(1))
			return 1
		},
		"SetSendMailCOD":   func(L *lua.LState) int { c.sendCOD = int64(L.CheckNumber(1)); return 0 },
		"GetSendMailMoney": func(L *lua.LState) int { L.Push(lua.LNumber(c.sendMoney)); return 1 },
		"GetSendMailCOD":   func(L *lua.LState) int { L.Push(lua.LNumber(c.sendCOD)); return 1 },
		"CloseMail":        func(L *lua.LState) int { c.closeMail(); return 0 },
	}
}

// itemAPI is the bags and the item cache.
func (v *vm) itemAPI() api {
	c := v.c
	return api{
		"GetContainerNumSlots": func(L *lua.LState) int {
			bag := L.CheckInt(1)
			n := 0
			if bag >= 0 && bag < len(c.bagSizes) {
				n = c.bagSizes[bag]
			}
			L.Push(lua.LNumber(n))
			return 1
		},
		"GetContainerItemLink": c.containerItem(func(it Item) lua.LValue { return lua.LString(itemLink(it)) }),
		"GetContainerItemID":   c.containerItem(func(it Item) lua.LValue { return lua.LNumber(it.ID) }),
		"GetContainerItemInfo": func(L *lua.LState) int {
			it, ok := c.itemAt(L.CheckInt(1), L.CheckInt(2))
			if !ok {
				return 0
			}
			L.Push(lua.LString(itemTexture(it)))
			L.Push(lua.LNumber(itemCount(it)))
			L.Push(lua.LBool(c.locked(slotRef{it.Bag, it.Slot})))
			L.Push(lua.LNumber(it.Quality))
			L.Push(lua.LNil) // readable
			return 5
		},
		"GetItemInfo": c.luaGetItemInfo,
	}
}

// containerItem is a GetContainerItem…(bag, slot) function answering one
// value of the item there, or nil for an empty slot.
func (c *Client) containerItem(value func(Item) lua.LValue) lua.LGFunction {
	return func(L *lua.LState) int {
		it, ok := c.itemAt(L.CheckInt(1), L.CheckInt(2))
		if !ok {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(value(it))
		return 1
	}
}

// luaGetItemInfo is GetItemInfo(id, link or name).
func (c *Client) luaGetItemInfo(L *lua.LState) int {
	var it Item
	var ok bool
	switch x := L.Get(1).(type) {
	case lua.LNumber:
		it, ok = c.itemByRef(x.String())
	case lua.LString:
		it, ok = c.itemByRef(string(x))
	}
	if !ok {
		return 0
	}
	class := "Trade Goods"
	if it.Quest {
		class = "Quest"
	}
	for _, lv := range []lua.LValue{
		lua.LString(it.Name), lua.LString(itemLink(it)), lua.LNumber(it.Quality), lua.LNumber(80), lua.LNumber(0),
		lua.LString(class), lua.LString("Other"), lua.LNumber(20), lua.LString(""), lua.LString(itemTexture(it)),
		lua.LNumber(0),
	} {
		L.Push(lv)
	}
	return 11
}

// securityAPI is secure hooks, the error handler and the protected functions.
func (v *vm) securityAPI() api {
	c := v.c
	errorHandler := v.L.NewFunction(func(L *lua.LState) int {
		c.recordError(L.ToString(1))
		return 0
	})
	a := api{
		"hooksecurefunc": v.hooksecurefunc,
		"issecure":       func(L *lua.LState) int { L.Push(lua.LNil); return 1 },
		"securecall": func(L *lua.LState) int {
			fn := L.Get(1)
			if s, ok := fn.(lua.LString); ok {
				fn = L.GetGlobal(string(s))
			}
			args := make([]lua.LValue, 0, L.GetTop())
			for i := 2; i <= L.GetTop(); i++ {
				args = append(args, L.Get(i))
			}
			v.run(fn, args...)
			return 0
		},
		"geterrorhandler": func(L *lua.LState) int { L.Push(errorHandler); return 1 },
		"seterrorhandler": func(L *lua.LState) int { L.CheckFunction(1); return 0 },
	}
	for _, name := range protectedFunctions {
		a[name] = func(L *lua.LState) int {
			c.blocked = append(c.blocked, name+"()")
			v.fire("ADDON_ACTION_BLOCKED", lua.LString(c.addon), lua.LString(name+"()"))
			L.RaiseError("action blocked: %s() is protected and only Blizzard code may call it (ADDON_ACTION_BLOCKED)", name)
			return 0
		}
	}
	return a
}

func (v *vm) uiAPI() api {
	c := v.c
	return api{
		"CreateFrame":   v.createFrame,
		"ReloadUI":      func(L *lua.LState) int { c.reloadUI = true; return 0 },
		"PlaySound":     func(L *lua.LState) int { return 0 },
		"PlaySoundFile": func(L *lua.LState) int { return 0 },
	}
}

// hooksecurefunc([table,] name, hook) replaces the function with one that
// calls the original and then the hook with the same arguments, returning the
// original's results — a post-hook that cannot change what the original does.
func (v *vm) hooksecurefunc(L *lua.LState) int {
	target := L.G.Global
	i := 1
	if t, ok := L.Get(1).(*lua.LTable); ok {
		target, i = t, 2
	}
	name := L.CheckString(i)
	hook := L.CheckFunction(i + 1)
	orig := L.GetField(target, name)
	if orig.Type() != lua.LTFunction {
		L.RaiseError("hooksecurefunc(): %s is not a function", name)
	}
	L.SetField(target, name, postHook(L, orig, hook, lua.MultRet))
	return 0
}

// postHook returns a function that calls orig and then hook with its
// arguments, answering orig's first nret results (all for lua.MultRet).
func postHook(L *lua.LState, orig, hook lua.LValue, nret int) *lua.LFunction {
	return L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		callWithArgs(L, orig, n, nret)
		nres := L.GetTop() - n
		callWithArgs(L, hook, n, 0)
		return nres
	})
}

// callWithArgs calls fn with the current function's first n arguments,
// leaving its results on the stack.
func callWithArgs(L *lua.LState, fn lua.LValue, n, nret int) {
	L.Push(fn)
	for i := 1; i <= n; i++ {
		L.Push(L.Get(i))
	}
	L.Call(n, nret)
}

// luaSendChatMessage is SendChatMessage(msg [, chatType [, language [, target]]]).
func (c *Client) luaSendChatMessage(L *lua.LState) int {
	msg := L.CheckString(1)
	chatType := strings.ToUpper(L.OptString(2, "SAY"))
	target := L.OptString(4, "")
	if len(msg) > 255 {
		// The server would not accept it; the client refuses to send it.
		L.RaiseError("SendChatMessage(): message too long (%d bytes; at most 255)", len(msg))
	}
	switch chatType {
	case "WHISPER":
		if strings.TrimSpace(target) == "" {
			L.RaiseError(`Usage: SendChatMessage(text, "WHISPER", language, target)`)
		}
		c.sendWhisper(target, msg)
	case "SAY", "YELL", "EMOTE", "GUILD", "PARTY", "RAID":
		c.vm.fire("CHAT_MSG_"+chatType, lua.LString(msg), lua.LString(c.cfg.PlayerName))
	default:
		L.RaiseError("SendChatMessage(): unknown chat type %q", chatType)
	}
	return 0
}

// sendWhisper is the server's answer to a whisper: the echo
// CHAT_MSG_WHISPER_INFORM (the chat frame shows and logs "To [Name]: text")
// for an online player, ERR_CHAT_PLAYER_NOT_FOUND_S as a system message for
// anyone else. A whisper to the player's own character follows
// Config.SelfWhisper.
func (c *Client) sendWhisper(target, msg string) {
	w := Whisper{To: target, Text: msg, At: c.now}
	c.whispers = append(c.whispers, w)
	if strings.EqualFold(shortName(target), c.cfg.PlayerName) {
		if c.cfg.SelfWhisper == SelfWhisperRelayed {
			me := c.cfg.PlayerName
			c.After(c.cfg.SelfWhisperDelay, func() {
				c.vm.fire("CHAT_MSG_WHISPER_INFORM", lua.LString(msg), lua.LString(me))
				c.vm.fire("CHAT_MSG_WHISPER", c.whisperArgs(me, msg)...)
			})
		}
		return
	}
	if !c.isOnline(target) {
		c.systemMessage(wowFormat(c.gs["ERR_CHAT_PLAYER_NOT_FOUND_S"], shortName(target)))
		return
	}
	c.vm.fire("CHAT_MSG_WHISPER_INFORM", lua.LString(msg), lua.LString(target))
	if c.OnWhisperSent != nil {
		c.OnWhisperSent(w)
	}
}

func (c *Client) uiError(text string) {
	if text == "" {
		return
	}
	c.uiErrors = append(c.uiErrors, text)
}

// sendWho is SendWho(filter): the server answers after Latency, by the route
// in effect then.
func (c *Client) sendWho(filter string) {
	c.whoQueries = append(c.whoQueries, filter)
	if c.cfg.WhoThrottle > 0 && !c.lastWho.IsZero() && c.now.Sub(c.lastWho) < c.cfg.WhoThrottle {
		return // dropped silently, like the server does
	}
	c.lastWho = c.now
	if c.whoRoute == WhoRouteDrop {
		return
	}
	results := c.whoMatch(filter)
	c.After(c.cfg.Latency, func() { c.deliverWho(results) })
}

func (c *Client) deliverWho(results []Player) {
	route := c.whoRoute
	switch {
	case route == WhoRouteDrop:
		return
	case route == WhoRouteUI, route == WhoRouteAuto && (c.whoToUI == 1 || len(results) > 3):
		c.whoList = results
		c.vm.fire("WHO_LIST_UPDATE")
	default:
		for _, p := range results {
			if p.Guild == "" {
				c.systemMessage(wowFormat(c.gs["WHO_LIST_FORMAT"], p.Name, p.Name, p.Level, p.Race, p.Class, p.Zone))
			} else {
				c.systemMessage(wowFormat(c.gs["WHO_LIST_GUILD_FORMAT"], p.Name, p.Name, p.Level, p.Race, p.Class, p.Guild, p.Zone))
			}
		}
		c.systemMessage(resolveGrammar(wowFormat(c.gs["WHO_NUM_RESULTS"], len(results)), len(results), c.cfg.Locale))
	}
}

// whoMatch answers a /who filter from the roster: n-"Name" is an exact name,
// n-Name a name substring, anything else a substring of name, guild, zone,
// race or class. Everyone is online in all-online mode for exact-name queries.
func (c *Client) whoMatch(filter string) []Player {
	f := strings.TrimSpace(filter)
	tag := c.gs["WHO_TAG_NAME"]
	var exact, sub, free string
	switch {
	case tag != "" && len(f) >= len(tag) && strings.EqualFold(f[:len(tag)], tag):
		rest := strings.TrimSpace(f[len(tag):])
		if len(rest) >= 2 && strings.HasPrefix(rest, `"`) && strings.HasSuffix(rest, `"`) {
			exact = rest[1 : len(rest)-1]
		} else {
			sub = strings.ToLower(rest)
		}
	default:
		free = strings.ToLower(f)
	}
	var out []Player
	for _, p := range c.roster {
		p = fillPlayer(p)
		switch {
		case exact != "" && strings.EqualFold(p.Name, exact),
			exact == "" && sub != "" && strings.Contains(strings.ToLower(p.Name), sub),
			exact == "" && sub == "" && (free == "" || strings.Contains(strings.ToLower(p.Name+" "+p.Guild+" "+p.Zone+" "+p.Race+" "+p.Class), free)):
			out = append(out, p)
		}
	}
	if exact != "" && len(out) == 0 && c.allOnline {
		out = append(out, fillPlayer(Player{Name: exact}))
	}
	if len(out) > 50 {
		out = out[:50]
	}
	return out
}

// sendMail is SendMail(recipient, subject, body); the server's answer
// (MAIL_SEND_SUCCESS or MAIL_FAILED) arrives after Latency.
func (c *Client) sendMail(recipient, subject, body string) {
	m := Mail{To: strings.TrimSpace(recipient), Subject: subject, Body: body, Copper: c.sendMoney, COD: c.sendCOD, At: c.now, Result: "pending",
		Items: c.attachedItems()}
	c.sendMoney, c.sendCOD = 0, 0
	failure := c.nextMailFailure
	c.nextMailFailure = ""
	switch {
	case !c.mailboxOpen:
		failure = "not at a mailbox"
	case m.To == "":
		failure = c.gs["ERR_MAIL_TO_NO_RECIPIENT"]
	}
	// Postage is charged per attached item, at least once.
	postage := int64(mailPostage * max(1, len(m.Items)))
	idx := len(c.mails)
	c.mails = append(c.mails, m)
	c.After(c.cfg.Latency, func() {
		if failure == "" && m.Copper+postage > c.money {
			failure = c.gs["ERR_NOT_ENOUGH_MONEY"]
		}
		if failure != "" {
			c.mails[idx].Result = "failed: " + failure
			c.uiError(failure)
			c.vm.fire("MAIL_FAILED")
			return
		}
		c.money -= m.Copper + postage
		c.removeItems(m.Items)
		c.attachments = [attachmentsMax]*slotRef{}
		c.mails[idx].Result = "sent"
		c.vm.fire("MAIL_SEND_SUCCESS")
	})
}

func (c *Client) itemAt(bag, slot int) (Item, bool) {
	for _, it := range c.items {
		if it.Bag == bag && it.Slot == slot {
			return it, true
		}
	}
	return Item{}, false
}

var itemIDInLink = regexp.MustCompile(`item:(\d+)`)

// itemByRef finds an item by id, item link or name, like GetItemInfo.
func (c *Client) itemByRef(ref string) (Item, bool) {
	id := 0
	if m := itemIDInLink.FindStringSubmatch(ref); m != nil {
		id, _ = strconv.Atoi(m[1])
	} else if n, err := strconv.Atoi(strings.TrimSpace(ref)); err == nil {
		id = n
	}
	for _, it := range c.items {
		if (id != 0 && it.ID == id) || (id == 0 && it.Name == ref) {
			return it, true
		}
	}
	return Item{}, false
}

// tooltipLines is what GameTooltip:SetBagItem shows for an item.
func (c *Client) tooltipLines(it Item) []string {
	lines := []string{it.Name}
	if it.Soulbound {
		lines = append(lines, c.gs["ITEM_SOULBOUND"])
	}
	if it.AccountBound {
		lines = append(lines, c.gs["ITEM_ACCOUNTBOUND"])
	}
	if it.Quest {
		lines = append(lines, c.gs["ITEM_BIND_QUEST"])
	}
	if it.Conjured {
		lines = append(lines, c.gs["ITEM_CONJURED"])
	}
	return lines
}

var qualityColors = []string{"ff9d9d9d", "ffffffff", "ff1eff00", "ff0070dd", "ffa335ee", "ffff8000", "ffe6cc80", "ffe6cc80"}

// itemLink renders a 3.3.5a item link: |cffRRGGBB|Hitem:id:0:0:0:0:0:0:0:80|h[Name]|h|r.
func itemLink(it Item) string {
	q := it.Quality
	if q < 0 || q >= len(qualityColors) {
		q = 1
	}
	return fmt.Sprintf("|c%s|Hitem:%d:0:0:0:0:0:0:0:80|h[%s]|h|r", qualityColors[q], it.ID, it.Name)
}

func itemTexture(it Item) string {
	if it.Texture != "" {
		return it.Texture
	}
	return `Interface\Icons\INV_Misc_QuestionMark`
}

func itemCount(it Item) int {
	if it.Count <= 0 {
		return 1
	}
	return it.Count
}

// luaTime is time([t]): the fake clock, or the date table t in local time.
func (c *Client) luaTime(L *lua.LState) int {
	t, ok := L.Get(1).(*lua.LTable)
	if !ok {
		L.Push(lua.LNumber(c.now.Unix()))
		return 1
	}
	field := func(name string, def int) int {
		if n, ok := t.RawGetString(name).(lua.LNumber); ok {
			return int(n)
		}
		if def < 0 {
			L.RaiseError("field '%s' missing in date table", name)
		}
		return def
	}
	tm := time.Date(field("year", -1), time.Month(field("month", -1)), field("day", -1),
		field("hour", 12), field("min", 0), field("sec", 0), 0, c.cfg.Location)
	L.Push(lua.LNumber(tm.Unix()))
	return 1
}

// luaDate is date([format [, t]]) with a leading "!" for UTC and "*t" for a table.
func (c *Client) luaDate(L *lua.LState) int {
	format := L.OptString(1, "%c")
	t := c.now
	if L.GetTop() >= 2 {
		t = time.Unix(int64(L.CheckNumber(2)), 0)
	}
	if strings.HasPrefix(format, "!") {
		format = format[1:]
		t = t.UTC()
	} else {
		t = t.In(c.cfg.Location)
	}
	if strings.HasPrefix(format, "*t") {
		tbl := L.NewTable()
		tbl.RawSetString("year", lua.LNumber(t.Year()))
		tbl.RawSetString("month", lua.LNumber(t.Month()))
		tbl.RawSetString("day", lua.LNumber(t.Day()))
		tbl.RawSetString("hour", lua.LNumber(t.Hour()))
		tbl.RawSetString("min", lua.LNumber(t.Minute()))
		tbl.RawSetString("sec", lua.LNumber(t.Second()))
		tbl.RawSetString("wday", lua.LNumber(int(t.Weekday())+1))
		tbl.RawSetString("yday", lua.LNumber(t.YearDay()))
		tbl.RawSetString("isdst", lua.LFalse)
		L.Push(tbl)
		return 1
	}
	L.Push(lua.LString(strftime(format, t)))
	return 1
}

func parseLuaNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		n, err := strconv.ParseInt(s[2:], 16, 64)
		return float64(n), err
	}
	return strconv.ParseFloat(s, 64)
}
