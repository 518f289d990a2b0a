-- Mimiron's Gold-o-Matic: the in-game half of the bridge (WoW 3.3.5a, Lua 5.1).
--
-- The Desktop companion types "/run Func(…)" lines into the chat box; this file
-- answers by printing marker lines to DEFAULT_CHAT_FRAME, which the client
-- writes to Logs\WoWChatLog.txt while chat logging is on. Everything the spec
-- calls an entry point is a global function below; all other state is local.

local ADDON_NAME = "MimironsGoldOMatic"
local Core = MimironsGoldOMaticCore
if type(Core) ~= "table" then
	error("MimironsGoldOMatic: MimironsGoldOMatic_Core.lua must load before MimironsGoldOMatic.lua (check the .toc)")
end

local WHO_TIMEOUT = 8 -- seconds to wait for a /who answer before reporting offline
local WHO_MIN_GAP = 3 -- seconds between two /who queries: the server drops queries sent too quickly
local SEND_RESULT_GRACE = 10 -- seconds to wait for a mail result after the mailbox closed mid-send
local PENDING_TTL = 24 * 60 * 60 -- pending consents older than this are dropped (payouts expire after 24 h)
local TOAST_HOLD, TOAST_FADE = 2.5, 0.5
local PANEL_MAX_ROWS = 12
-- Mailed payout ids remembered to refuse a second ReceiveGold. Payouts expire
-- after 24 h at the EBS, so this covers far more than any replay window.
local MAX_MAILED = 1000

-- The streamer's own messages, one language at a time (/mgm lang en|ru).
-- What the winner sees stays Russian (Core's texts).
local STRINGS = {}
STRINGS.en = {
	PANEL_TITLE = "MGM Queue",
	PREPARE_MAIL = "Prepare Mail",
	OPEN_MAILBOX = "Open a mailbox to send queued gold.",
	EMPTY = "(empty)",
	MORE = "… and %d more",
	TOAST_SENT = "Mail sent: %s",
	LOGGING_ON = "chat logging turned on (Logs\\WoWChatLog.txt): the Desktop companion reads the addon's answers from it.",
	LOGGING_ALREADY = "chat logging is on (Logs\\WoWChatLog.txt).",
	QUEUED = "%d payout(s) added to the mail queue (%d waiting). Open a mailbox and press Prepare Mail.",
	MAIL_FAILED = "the mail to %s was not sent; press Prepare Mail to try again.",
	MAIL_LOST = "no answer from the server about the mail to %s; check your sent mail before preparing it again.",
	ALREADY_MAILED = "%s was already mailed (payout %s): not queued again.",
	MONEY_CHANGED = "the mail to %s does not carry the prepared amount, so it is not counted as a payout.",
	NO_MAIL_UI = "the Send Mail frame is not available.",
	GIFT_QUEUED = "gift %s for %s added to the mail queue. Open a mailbox and press Prepare Mail.",
	GIFT_ALREADY_MAILED = "the gift for %s was already mailed (gift %s): not queued again.",
	GIFT_MISSING = "the gift item (id %d) for %s is no longer in your bags: the gift cannot be mailed.",
	GIFT_NOT_ATTACHED = "the gift item for %s could not be attached; press Prepare Mail to try again.",
	GIFT_CHANGED = "the mail to %s does not carry exactly the prepared gift, so it is not counted as the gift.",
	TOAST_GIFT_SENT = "Gift sent: %s",
	UPDATE_1 = "checking for updates…",
	UPDATE_2 = "the answer comes from the Desktop companion; if nothing appears, make sure it is running.",
	GIFT_NOT_ALLOWED = "the gift item (id %d) for %s may not be gifted (gift allow/deny lists): not queued.",
	GIFT_ALLOWED = "item %d added to the gift allow-list: only allow-listed items may be gifted.",
	GIFT_DENIED = "item %d added to the gift deny-list: it is never offered as a gift.",
	GIFT_CLEARED = "gift allow-list and deny-list cleared: every mailable item may be gifted.",
	GIFT_ALLOW_LIST = "gift allow-list: %s.",
	GIFT_ALLOW_EMPTY = "gift allow-list: empty (every mailable item may be gifted unless denied).",
	GIFT_DENY_LIST = "gift deny-list: %s.",
	GIFT_DENY_EMPTY = "gift deny-list: empty.",
	GIFT_USAGE = "/mgm gift allow <item link or id>; /mgm gift deny <item link or id>; /mgm gift clear; /mgm gift list.",
	WHISPER_FAILED = "could not whisper %s: %s",
	BAD_COMMAND_ID = "ignored a command from the Desktop companion with an unusable command id (%s).",
	COMMAND_FAILED = "a command from the Desktop companion failed: %s",
	STRIP_FAILED = "the screen strip stopped after an error: %s",
	LANG_SET = "messages are now in English.",
	LANG_USAGE = "/mgm lang en or /mgm lang ru: the language of these messages.",
	HELP = "/mgm: show or hide the queue; /mgm update: check for updates; /mgm log: turn chat logging on; /mgm gift: the items that may be gifted; /mgm lang en|ru: the language of these messages.",
}
STRINGS.ru = {
	PANEL_TITLE = "Очередь MGM",
	PREPARE_MAIL = "Подготовить письмо",
	OPEN_MAILBOX = "Откройте почтовый ящик, чтобы отправить золото из очереди.",
	EMPTY = "(пусто)",
	MORE = "… и ещё %d",
	TOAST_SENT = "Письмо отправлено: %s",
	LOGGING_ON = "запись чата включена (Logs\\WoWChatLog.txt): из неё Desktop-компаньон читает ответы аддона.",
	LOGGING_ALREADY = "запись чата включена (Logs\\WoWChatLog.txt).",
	QUEUED = "выплат добавлено в очередь: %d (ожидают: %d). Откройте почтовый ящик и нажмите «Подготовить письмо».",
	MAIL_FAILED = "письмо для %s не отправлено; нажмите «Подготовить письмо», чтобы попробовать снова.",
	MAIL_LOST = "сервер не ответил о письме для %s; проверьте отправленную почту, прежде чем готовить его снова.",
	ALREADY_MAILED = "%s уже отправлено письмо (выплата %s): повторно в очередь не добавлено.",
	MONEY_CHANGED = "письмо для %s несёт не подготовленную сумму, поэтому оно не засчитано как выплата.",
	NO_MAIL_UI = "окно отправки почты недоступно.",
	GIFT_QUEUED = "подарок %s для %s добавлен в очередь. Откройте почтовый ящик и нажмите «Подготовить письмо».",
	GIFT_ALREADY_MAILED = "подарок для %s уже отправлен (подарок %s): повторно в очередь не добавлен.",
	GIFT_MISSING = "предмета-подарка (id %d) для %s больше нет в сумках: подарок нельзя отправить.",
	GIFT_NOT_ATTACHED = "не удалось вложить предмет-подарок для %s; нажмите «Подготовить письмо», чтобы попробовать снова.",
	GIFT_CHANGED = "письмо для %s несёт не ровно подготовленный подарок, поэтому оно не засчитано как подарок.",
	TOAST_GIFT_SENT = "Подарок отправлен: %s",
	UPDATE_1 = "проверка обновлений…",
	UPDATE_2 = "ответ придёт от Desktop-компаньона; если ничего не появилось, убедитесь, что он запущен.",
	GIFT_NOT_ALLOWED = "предмет-подарок (id %d) для %s дарить нельзя (списки разрешённых/запрещённых подарков): не добавлен в очередь.",
	GIFT_ALLOWED = "предмет %d добавлен в список разрешённых подарков: дарить можно только предметы из этого списка.",
	GIFT_DENIED = "предмет %d добавлен в список запрещённых подарков: он никогда не предлагается в подарок.",
	GIFT_CLEARED = "списки разрешённых и запрещённых подарков очищены: дарить можно любой предмет, который можно отправить почтой.",
	GIFT_ALLOW_LIST = "разрешённые подарки: %s.",
	GIFT_ALLOW_EMPTY = "разрешённые подарки: список пуст (дарить можно всё, что не запрещено).",
	GIFT_DENY_LIST = "запрещённые подарки: %s.",
	GIFT_DENY_EMPTY = "запрещённые подарки: список пуст.",
	GIFT_USAGE = "/mgm gift allow <ссылка на предмет или id>; /mgm gift deny <ссылка на предмет или id>; /mgm gift clear; /mgm gift list.",
	WHISPER_FAILED = "не удалось шепнуть %s: %s",
	BAD_COMMAND_ID = "команда от Desktop-компаньона с негодным идентификатором команды (%s) пропущена.",
	COMMAND_FAILED = "команда от Desktop-компаньона завершилась ошибкой: %s",
	STRIP_FAILED = "экранная полоса остановлена после ошибки: %s",
	LANG_SET = "сообщения теперь на русском.",
	LANG_USAGE = "/mgm lang en или /mgm lang ru: язык этих сообщений.",
	HELP = "/mgm: показать или скрыть очередь; /mgm update: проверить обновления; /mgm log: включить запись чата; /mgm gift: какие предметы можно дарить; /mgm lang en|ru: язык этих сообщений.",
}
local L = STRINGS.en

local eventFrame = CreateFrame("Frame")
local db -- MimironsGoldOMaticDB, once the client has loaded it

-- Runtime state that must not survive a /reload (the mail form does not either).
local armed -- {payoutId, characterName, copper}: Prepare Mail pressed, not yet sent
local sending -- the armed row after the SendMail hook saw it go out; awaiting the server
local panel, panelTitle, prepareButton, listText, hintText, toast
local mailboxOpen = false

local function info(msg)
	DEFAULT_CHAT_FRAME:AddMessage("MGM: " .. msg)
end

-- whisper sends one of the fixed whispers. SendChatMessage raises on bad input
-- (an unusable name, a too long text), and entry points must never raise.
local function whisper(name, text)
	local ok, err = pcall(SendChatMessage, text, "WHISPER", nil, name)
	if not ok then
		info(string.format(L.WHISPER_FAILED, tostring(name), tostring(err)))
	end
	return ok
end

---------------------------------------------------------------------------
-- SavedVariables
---------------------------------------------------------------------------

local function isValidRow(row)
	return type(row) == "table"
		and Core.IsId(row.payoutId)
		and Core.IsCharacterName(row.characterName)
		and type(row.copper) == "number"
		and row.copper >= 1
		and row.copper <= Core.MAX_COPPER
end

local function isValidGiftRow(row)
	return type(row) == "table"
		and Core.IsId(row.giftRequestId)
		and Core.IsCharacterName(row.characterName)
		and type(row.itemId) == "number"
		and row.itemId > 0
		and type(row.bagId) == "number"
		and type(row.slotId) == "number"
end

local COMMAND_RESULTS = {
	ok = true,
	bad = true,
	refused = true,
	whispered = true,
	offline = true,
	nowhisper = true,
	pending = true,
}

local function isValidOutboxEntry(e)
	return type(e) == "table"
		and Core.IsEpoch(e.epoch)
		and type(e.n) == "number"
		and e.n >= 1
		and type(e.line) == "string"
		and e.line == Core.BridgeLine(e.epoch, e.n, string.sub(e.line, string.len(Core.BridgeLine(e.epoch, e.n, "")) + 1))
end

local function isValidCommand(rec)
	return type(rec) == "table" and Core.IsToken(rec.id) and COMMAND_RESULTS[rec.result] == true
end

local function isValidPending(p, idKey)
	return type(p) == "table" and Core.IsId(p[idKey]) and Core.IsCharacterName(p.characterName)
end

-- ensureDB returns the saved table, creating and cleaning it on first use.
-- Rows left PROCESSING by a /reload go back to READY: the arming did not survive.
local function ensureDB()
	if db then
		return db
	end
	if type(MimironsGoldOMaticDB) ~= "table" then
		MimironsGoldOMaticDB = {}
	end
	db = MimironsGoldOMaticDB
	db.schema = 1
	local now = time()
	local function clean(list, keep)
		local out = {}
		if type(list) == "table" then
			for _, v in ipairs(list) do
				if keep(v) then
					out[#out + 1] = v
				end
			end
		end
		return out
	end
	db.queue = clean(db.queue, isValidRow)
	for _, row in ipairs(db.queue) do
		row.state = "READY"
	end
	-- giftQueue: completed gifts waiting to be mailed, after the gold rows.
	db.giftQueue = clean(db.giftQueue, isValidGiftRow)
	for _, row in ipairs(db.giftQueue) do
		row.state = "READY"
	end
	local function fresh(idKey)
		return function(p)
			return isValidPending(p, idKey) and (type(p.since) ~= "number" or now - p.since < PENDING_TTL)
		end
	end
	-- mailed: payout ids whose mail the server confirmed, oldest first. They
	-- outlive the queue rows so a replayed ReceiveGold cannot pay twice.
	db.mailed = clean(db.mailed, Core.IsId)
	while #db.mailed > MAX_MAILED do
		table.remove(db.mailed, 1)
	end
	-- giftsMailed: like mailed, for gift request ids.
	db.giftsMailed = clean(db.giftsMailed, Core.IsId)
	while #db.giftsMailed > MAX_MAILED do
		table.remove(db.giftsMailed, 1)
	end
	-- giftAllow / giftDeny: item ids the streamer set with /mgm gift (see isGiftable).
	local function isItemId(v)
		return type(v) == "number" and v > 0 and v == math.floor(v)
	end
	db.giftAllow = clean(db.giftAllow, isItemId)
	db.giftDeny = clean(db.giftDeny, isItemId)
	db.consents = clean(db.consents, fresh("payoutId"))
	db.gifts = clean(db.gifts, fresh("giftRequestId"))
	-- outbox: unacknowledged bridge lines {epoch, n, line}, oldest first.
	db.outbox = clean(db.outbox, isValidOutboxEntry)
	while #db.outbox > Core.OUTBOX_MAX do
		table.remove(db.outbox, 1)
	end
	-- commands: the last command ids {id, result}, oldest first. A whisper
	-- still waiting for its echo when the UI reloaded never learns it.
	db.commands = clean(db.commands, isValidCommand)
	for _, rec in ipairs(db.commands) do
		if rec.result == "pending" then
			rec.result, rec.repeats = "nowhisper", nil
		end
	end
	while #db.commands > Core.COMMANDS_MAX do
		table.remove(db.commands, 1)
	end
	-- loads: counts loads, one component of the epoch.
	if type(db.loads) ~= "number" or db.loads < 0 then
		db.loads = 0
	end
	-- lang: the language of the streamer's messages; routes: MGM_Ping's letters.
	if not STRINGS[db.lang] then
		db.lang = "en"
	end
	L = STRINGS[db.lang]
	if type(db.routes) ~= "string" or string.len(db.routes) > 16 then
		db.routes = ""
	end
	return db
end

local function isMailed(payoutId, listKey)
	for _, id in ipairs(ensureDB()[listKey or "mailed"]) do
		if id == payoutId then
			return true
		end
	end
	return false
end

-- rememberMailed records a mailed payout id (or, with listKey
-- "giftsMailed", a mailed gift request id).
local function rememberMailed(payoutId, listKey)
	listKey = listKey or "mailed"
	local list = ensureDB()[listKey]
	if isMailed(payoutId, listKey) then
		return
	end
	list[#list + 1] = payoutId
	while #list > MAX_MAILED do
		table.remove(list, 1)
	end
end

local function contains(list, value)
	for _, v in ipairs(list) do
		if v == value then
			return true
		end
	end
	return false
end

-- isGiftable applies the streamer's lists: an item on the deny-list never
-- is; with a non-empty allow-list only its items are.
local function isGiftable(itemId)
	local d = ensureDB()
	if contains(d.giftDeny, itemId) then
		return false
	end
	return #d.giftAllow == 0 or contains(d.giftAllow, itemId)
end

local function findIndex(list, key, value)
	for i, v in ipairs(list) do
		if v[key] == value then
			return i
		end
	end
	return nil
end

-- upsert replaces the entry with the same key, or appends it: a repeated
-- entry-point call refreshes what is awaited instead of awaiting it twice.
local function upsert(list, key, entry)
	local i = findIndex(list, key, entry[key])
	if i then
		list[i] = entry
	else
		list[#list + 1] = entry
	end
end

-- argString returns a trimmed non-empty string argument, or nil.
local function argString(v)
	if type(v) ~= "string" then
		return nil
	end
	v = Core.Trim(v)
	if v == "" or string.len(v) > 128 or string.find(v, "%c") then
		return nil
	end
	return v
end

local function argId(v)
	v = argString(v)
	if v and Core.IsId(v) then
		return v
	end
	return nil
end

local function argName(v)
	v = argString(v)
	if v and Core.IsCharacterName(v) then
		return v
	end
	return nil
end

---------------------------------------------------------------------------
-- The bridge (docs/bridge.md): bridge lines, the outbox and its routes
---------------------------------------------------------------------------

local SELF_WHISPER_GAP = 1 -- seconds between two whispers of bridge lines to self
local NUDGE_GAP = 1 -- seconds between two chat-log nudges for ordinary lines
local SELF_WHISPER_QUEUE_MAX = 64
local WHISPER_ECHO_TIMEOUT = 10 -- seconds before a command's whisper is "nowhisper"

local epoch -- this load's epoch (startEpoch)
local seq = 0 -- the last <n> of this epoch
local routeWhisper, routeNudge = false, false -- MGM_Ping's routes for ordinary lines
local selfWhispers = {} -- bridge lines waiting for their whisper to self
local lastSelfWhisper, lastNudge
local nudgePending = false
local stripDirty = true -- the outbox changed since the strip was drawn

local function startEpoch()
	local d = ensureDB()
	d.loads = d.loads + 1
	epoch = Core.NewEpoch(time(), GetTime(), d.loads)
	seq = 0
	routeWhisper, routeNudge = Core.ParseRoutes(d.routes)
end

local function playerName()
	return (UnitName("player"))
end

-- whisperSelf sends a bridge line to the player's own character (the
-- log-whisper route): the server may relay it back, and the client logs it.
local function whisperSelf(line)
	local me = playerName()
	if not me or string.len(line) > Core.MAX_CHAT_MESSAGE then
		return
	end
	lastSelfWhisper = GetTime()
	pcall(SendChatMessage, line, "WHISPER", nil, me)
end

-- nudge switches chat logging off and on: some clients write their log
-- buffer then. Only while logging is on (never turn it on behind the
-- streamer's back here).
local function nudge()
	nudgePending = false
	lastNudge = GetTime()
	local ok, on = pcall(LoggingChat)
	if ok and on then
		pcall(LoggingChat, false)
		pcall(LoggingChat, true)
	end
end

-- emitLine makes marker a bridge line: kept in the outbox (shown by the
-- strip) and printed exactly, with nothing else on the line.
local function emitLine(marker)
	local d = ensureDB()
	if not epoch then
		startEpoch()
	end
	seq = seq + 1
	local line = Core.BridgeLine(epoch, seq, marker)
	local box = d.outbox
	box[#box + 1] = { epoch = epoch, n = seq, line = line }
	while #box > Core.OUTBOX_MAX do
		table.remove(box, 1)
	end
	stripDirty = true
	DEFAULT_CHAT_FRAME:AddMessage(line)
	return line, epoch, seq
end

-- emit sends an ordinary marker on the routes the last MGM_Ping chose.
local function emit(marker)
	local line, e, n = emitLine(marker)
	if routeWhisper and string.len(line) <= Core.MAX_CHAT_MESSAGE then
		selfWhispers[#selfWhispers + 1] = { epoch = e, n = n, line = line }
		while #selfWhispers > SELF_WHISPER_QUEUE_MAX do
			table.remove(selfWhispers, 1)
		end
	end
	if routeNudge then
		nudgePending = true
	end
end

local function inOutbox(e, n)
	for _, entry in ipairs(ensureDB().outbox) do
		if entry.epoch == e and entry.n == n then
			return true
		end
	end
	return false
end

-- pumpRoutes runs every frame: one queued whisper to self a second (lines
-- acknowledged meanwhile are skipped), then a pending nudge.
local function pumpRoutes()
	local now = GetTime()
	if #selfWhispers > 0 and (not lastSelfWhisper or now - lastSelfWhisper >= SELF_WHISPER_GAP) then
		local entry = table.remove(selfWhispers, 1)
		while entry and not inOutbox(entry.epoch, entry.n) do
			entry = table.remove(selfWhispers, 1)
		end
		if entry then
			whisperSelf(entry.line)
		end
	end
	if nudgePending and (not lastNudge or now - lastNudge >= NUDGE_GAP) then
		nudge()
	end
end

---------------------------------------------------------------------------
-- Commands with ids: one [MGM_ACK:<cmd>:<result>] per call
---------------------------------------------------------------------------

-- Whispers sent for a command, waiting for the server's answer:
-- {cmd, name, deadline}, oldest first.
local echoWaits = {}

local function findCommand(cmd)
	for _, rec in ipairs(ensureDB().commands) do
		if rec.id == cmd then
			return rec
		end
	end
	return nil
end

local function rememberCommand(cmd)
	local list = ensureDB().commands
	local rec = { id = cmd, result = "pending" }
	list[#list + 1] = rec
	while #list > Core.COMMANDS_MAX do
		table.remove(list, 1)
	end
	return rec
end

-- finishCommand records a command's result and acknowledges it, once per
-- call that asked (repeats that came while a whisper awaited its echo).
local function finishCommand(cmd, result)
	local rec = findCommand(cmd)
	local answers = 1
	if rec then
		if rec.result ~= "pending" then
			return
		end
		rec.result = result
		answers = answers + (rec.repeats or 0)
		rec.repeats = nil
	end
	for _ = 1, answers do
		emit(Core.AckMarker(cmd, result))
	end
end

local function forgetCommand(cmd)
	local list = ensureDB().commands
	for i = #list, 1, -1 do
		if list[i].id == cmd then
			table.remove(list, i)
		end
	end
end

-- runCommand runs an entry point's work for a call with command id cmd (nil:
-- an older Desktop, no ack). work(cmd) returns the result; "pending" means a
-- whisper awaits its echo (see awaitEcho). A repeated id is answered from
-- memory without doing the work again. Nothing here raises.
local function runCommand(cmd, work)
	if cmd == nil then
		local ok, err = pcall(work, nil)
		if not ok then
			info(string.format(L.COMMAND_FAILED, tostring(err)))
		end
		return
	end
	if not Core.IsToken(cmd) then
		info(string.format(L.BAD_COMMAND_ID, tostring(cmd)))
		return
	end
	local rec = findCommand(cmd)
	if rec then
		if rec.result == "pending" then
			rec.repeats = (rec.repeats or 0) + 1
		else
			emit(Core.AckMarker(cmd, rec.result == "ok" and "dup" or rec.result))
		end
		return
	end
	-- Remembered before the work: the server's echo may arrive while the
	-- whisper is being sent.
	rememberCommand(cmd)
	local ok, result = pcall(work, cmd)
	if not ok then
		-- No ack: the Desktop types the line again and reports the failure
		-- after its last try.
		forgetCommand(cmd)
		info(string.format(L.COMMAND_FAILED, tostring(result)))
		return
	end
	if result ~= "pending" then
		finishCommand(cmd, result or "ok")
	end
end

local function awaitEcho(cmd, name)
	echoWaits[#echoWaits + 1] = { cmd = cmd, name = name, deadline = GetTime() + WHISPER_ECHO_TIMEOUT }
end

-- resolveEcho answers the oldest command whose whisper went to name.
local function resolveEcho(name, result)
	for i, w in ipairs(echoWaits) do
		if Core.NamesEqual(w.name, name) then
			table.remove(echoWaits, i)
			finishCommand(w.cmd, result)
			return true
		end
	end
	return false
end

local function dropEcho(cmd)
	for i = #echoWaits, 1, -1 do
		if echoWaits[i].cmd == cmd then
			table.remove(echoWaits, i)
		end
	end
end

local function checkEchoTimeouts()
	local now = GetTime()
	local i = 1
	while i <= #echoWaits do
		local w = echoWaits[i]
		if now >= w.deadline then
			table.remove(echoWaits, i)
			finishCommand(w.cmd, "nowhisper")
		else
			i = i + 1
		end
	end
end

-- The server's "No player named '%s' is currently playing." for a whisper,
-- matched through the client's own (localized) format string.
local notFoundPattern, notFoundIndex = Core.FormatToPattern(ERR_CHAT_PLAYER_NOT_FOUND_S)

local function onWhisperInform(_, target)
	if type(target) == "string" then
		resolveEcho(target, "whispered")
	end
end

-- onWhisperSystemMessage reports whether text answered a command's whisper.
local function onWhisperSystemMessage(text)
	if not notFoundPattern or #echoWaits == 0 or type(text) ~= "string" then
		return false
	end
	local caps = { string.match(text, notFoundPattern) }
	local name = caps[notFoundIndex or 1]
	return name ~= nil and resolveEcho(name, "offline")
end

-- sendForCommand whispers text to name for an entry point: with a command id
-- the result is the server's answer ("pending" until it comes).
local function sendForCommand(cmd, name, text)
	if cmd then
		awaitEcho(cmd, name)
	end
	if not whisper(name, text) then
		if cmd then
			dropEcho(cmd)
		end
		return false, "nowhisper"
	end
	return true, cmd and "pending" or "ok"
end

---------------------------------------------------------------------------
-- The strip (screen route)
---------------------------------------------------------------------------

local STRIP_PAGE_TIME = 0.3 -- seconds each page is shown
local STRIP_REFRESH = 1 -- the strip is redrawn at least this often (heartbeat)

local strip -- MimironsGoldOMaticStrip; strip.bytes holds the page drawn last
local stripCells = {}
local stripUnit -- UI units per physical pixel the cells were laid out with
local stripCursor -- {epoch, n, page} shown now, or nil
local stripShownAt, stripDrawnAt
local stripKey -- what was drawn last: content and flags
local heartbeat = 0
local stripBroken = false

local function pixelUnit()
	local _, height = string.match(GetCVar("gxResolution") or "", "^(%d+)x(%d+)$")
	height = tonumber(height)
	if not height or height <= 0 then
		height = 768
	end
	local scale = strip:GetEffectiveScale()
	if not scale or scale <= 0 then
		scale = 1
	end
	return 768 / height / scale
end

local function layoutStrip()
	local unit = pixelUnit()
	if unit == stripUnit then
		return
	end
	stripUnit = unit
	local cell = 3 * unit
	strip:SetWidth(Core.STRIP_CELLS * cell)
	strip:SetHeight(cell)
	for i = 0, Core.STRIP_CELLS - 1 do
		local t = stripCells[i]
		t:ClearAllPoints()
		t:SetWidth(cell)
		t:SetHeight(cell)
		t:SetPoint("TOPLEFT", strip, "TOPLEFT", i * cell, 0)
	end
end

local function createStrip()
	-- Parentless, so hiding UIParent or its scale do not touch it.
	strip = CreateFrame("Frame", "MimironsGoldOMaticStrip")
	strip:SetFrameStrata("TOOLTIP")
	strip:SetPoint("TOPLEFT", nil, "TOPLEFT", 0, 0)
	for i = 0, Core.STRIP_CELLS - 1 do
		stripCells[i] = strip:CreateTexture(nil, "OVERLAY")
	end
	for i, rgb in ipairs(Core.STRIP_LOCATOR) do
		stripCells[i - 1]:SetTexture(rgb[1] / 255, rgb[2] / 255, rgb[3] / 255, 1)
	end
	strip:Show()
end

local function stripFlags()
	local ok, on = pcall(LoggingChat)
	return Core.StripFlags(GetCurrentKeyBoardFocus() ~= nil, mailboxOpen, ok and on)
end

-- stripNext picks the page to show: the next page of the line shown, the
-- next line, or (after the last, or when the line shown was acknowledged)
-- the oldest line's first page.
local function stripNext(box)
	local cur = stripCursor
	if cur then
		for i, entry in ipairs(box) do
			if entry.epoch == cur.epoch and entry.n == cur.n then
				if cur.page + 1 < #Core.SplitPages(entry.line) then
					return { epoch = entry.epoch, n = entry.n, page = cur.page + 1 }
				end
				local nxt = box[i + 1]
				if nxt then
					return { epoch = nxt.epoch, n = nxt.n, page = 0 }
				end
				break
			end
		end
	end
	if box[1] then
		return { epoch = box[1].epoch, n = box[1].n, page = 0 }
	end
	return nil
end

local function cursorEntry(box)
	local cur = stripCursor
	if not cur then
		return nil
	end
	for _, entry in ipairs(box) do
		if entry.epoch == cur.epoch and entry.n == cur.n then
			return entry
		end
	end
	return nil
end

local function drawStrip(now)
	local box = ensureDB().outbox
	local entry = cursorEntry(box)
	if not entry or not stripShownAt or now - stripShownAt >= STRIP_PAGE_TIME then
		local nxt = stripNext(box)
		if not entry or not nxt or nxt.epoch ~= stripCursor.epoch or nxt.n ~= stripCursor.n or nxt.page ~= stripCursor.page then
			stripShownAt = now
		end
		stripCursor = nxt
		entry = cursorEntry(box)
	end
	local flags = stripFlags()
	local lineId, page, count, payload = 0, 0, 0, ""
	if entry then
		local pages = Core.SplitPages(entry.line)
		page, count = stripCursor.page, #pages
		lineId, payload = entry.n, pages[page + 1] or ""
	end
	local key = flags .. ":" .. (entry and (entry.epoch .. ":" .. entry.n .. ":" .. page .. ":" .. #box) or "-")
	if key == stripKey and not stripDirty and stripDrawnAt and now - stripDrawnAt < STRIP_REFRESH then
		return
	end
	stripKey, stripDirty, stripDrawnAt = key, false, now
	heartbeat = (heartbeat + 1) % 65536
	layoutStrip()
	local bytes = Core.StripPage(flags, heartbeat, lineId, page, count, payload)
	for c = 2, Core.STRIP_CELLS - 1 do
		local k = (c - 2) * 3
		stripCells[c]:SetTexture(bytes[k + 1] / 255, bytes[k + 2] / 255, bytes[k + 3] / 255, 1)
	end
	strip.bytes = bytes
end

-- updateStrip runs every frame. An error stops the strip (reported once)
-- rather than raising sixty times a second.
local function updateStrip()
	if stripBroken then
		return
	end
	local ok, err = pcall(function()
		if not strip then
			createStrip()
		end
		drawStrip(GetTime())
	end)
	if not ok then
		stripBroken = true
		info(string.format(L.STRIP_FAILED, tostring(err)))
	end
end

---------------------------------------------------------------------------
-- Queue panel
---------------------------------------------------------------------------

local refreshPanel -- defined below; Prepare Mail and the events refresh it

local function showToast(text)
	if not toast then
		toast = CreateFrame("Frame", "MGMToast", UIParent)
		toast:SetWidth(260)
		toast:SetHeight(48)
		toast:SetPoint("CENTER", UIParent, "CENTER", 0, 120)
		toast:SetFrameStrata("DIALOG")
		toast:SetBackdrop({
			bgFile = "Interface\\DialogFrame\\UI-DialogBox-Background",
			edgeFile = "Interface\\DialogFrame\\UI-DialogBox-Border",
			tile = true,
			tileSize = 32,
			edgeSize = 12,
			insets = { left = 4, right = 4, top = 4, bottom = 4 },
		})
		toast:SetBackdropBorderColor(0.2, 0.7, 0.2, 1)
		toast.text = toast:CreateFontString(nil, "OVERLAY", "GameFontNormalLarge")
		toast.text:SetPoint("CENTER", toast, "CENTER", 0, 0)
		toast:EnableMouse(true)
		toast:SetScript("OnMouseUp", function(self)
			self:Hide()
		end)
		toast:SetScript("OnUpdate", function(self, elapsed)
			self.age = (self.age or 0) + elapsed
			if self.age > TOAST_HOLD + TOAST_FADE then
				self:Hide()
			elseif self.age > TOAST_HOLD then
				self:SetAlpha(1 - (self.age - TOAST_HOLD) / TOAST_FADE)
			end
		end)
		toast:Hide()
	end
	toast.text:SetText(text)
	toast.age = 0
	toast:SetAlpha(1)
	toast:Show()
end

-- headRow is the next row to mail: gold first, then gifts.
local function headRow()
	local d = ensureDB()
	if d.queue[1] then
		return d.queue[1], "gold"
	end
	return d.giftQueue[1], "gift"
end

-- findGiftItem returns where the gift's item is: its recorded slot, or
-- (the bags were sorted since the listing) the first unlocked stack with
-- its id.
local function findGiftItem(bag, slot, itemId)
	if Core.ItemIdFromLink(GetContainerItemLink(bag, slot)) == itemId then
		return bag, slot
	end
	for b = 0, (NUM_BAG_SLOTS or 4) do
		for s = 1, (GetContainerNumSlots(b) or 0) do
			if Core.ItemIdFromLink(GetContainerItemLink(b, s)) == itemId then
				return b, s
			end
		end
	end
	return nil
end

local function removeGiftRow(giftRequestId)
	local d = ensureDB()
	local i = findIndex(d.giftQueue, "giftRequestId", giftRequestId)
	if i then
		table.remove(d.giftQueue, i)
	end
end

-- attachedItemIds lists the item ids attached to the Send Mail form.
local function attachedItemIds()
	local ids = {}
	for i = 1, (ATTACHMENTS_MAX_SEND or 12) do
		if HasSendMailItem(i) then
			ids[#ids + 1] = Core.ItemIdFromLink(GetSendMailItemLink(i))
		end
	end
	return ids
end

local function fillForm(name, copper)
	-- The mailbox opens on the Inbox tab; the Send Mail tab holds the form.
	if MailFrameTab_OnClick then
		MailFrameTab_OnClick(nil, 2)
	end
	if SendMailSendMoneyButton and SendMailCODButton then
		SendMailSendMoneyButton:SetChecked(1)
		SendMailCODButton:SetChecked(nil)
	end
	SendMailNameEditBox:SetText(name)
	SendMailSubjectEditBox:SetText(Core.MAIL_SUBJECT)
	MoneyInputFrame_SetCopper(SendMailMoney, copper)
end

-- prepareGift fills the form for a gift: recipient, subject, no money, and
-- the item attached from its bag slot (picked up, dropped on attachment 1).
local function prepareGift(row)
	local bag, slot = findGiftItem(row.bagId, row.slotId, row.itemId)
	if not bag then
		emit(Core.GiftMissingMarker(row.giftRequestId))
		info(string.format(L.GIFT_MISSING, row.itemId, row.characterName))
		removeGiftRow(row.giftRequestId)
		refreshPanel()
		return
	end
	row.bagId, row.slotId = bag, slot
	fillForm(row.characterName, 0)
	ClearCursor()
	ClickSendMailItemButton(1, true)
	PickupContainerItem(bag, slot)
	ClickSendMailItemButton(1)
	ClearCursor()
	if Core.ItemIdFromLink(GetSendMailItemLink(1)) ~= row.itemId then
		info(string.format(L.GIFT_NOT_ATTACHED, row.characterName))
		return
	end
	row.state = "PROCESSING"
	armed = { kind = "gift", giftRequestId = row.giftRequestId, characterName = row.characterName, itemId = row.itemId }
	refreshPanel()
end

local function prepareMail()
	local row, kind = headRow()
	if not row or row.state ~= "READY" or not mailboxOpen or armed or sending then
		return
	end
	if not (SendMailNameEditBox and SendMailSubjectEditBox and SendMailMoney and MoneyInputFrame_SetCopper) then
		info(L.NO_MAIL_UI)
		return
	end
	if kind == "gift" then
		prepareGift(row)
		return
	end
	fillForm(row.characterName, row.copper)
	row.state = "PROCESSING"
	armed = { payoutId = row.payoutId, characterName = row.characterName, copper = row.copper }
	refreshPanel()
end

local function createPanel()
	panel = CreateFrame("Frame", "MGMQueuePanel", UIParent)
	panel:SetWidth(240)
	panel:SetHeight(300)
	panel:SetFrameStrata("HIGH")
	panel:SetToplevel(true)
	panel:SetClampedToScreen(true)
	panel:SetBackdrop({
		bgFile = "Interface\\DialogFrame\\UI-DialogBox-Background",
		edgeFile = "Interface\\DialogFrame\\UI-DialogBox-Border",
		tile = true,
		tileSize = 32,
		edgeSize = 16,
		insets = { left = 4, right = 4, top = 4, bottom = 4 },
	})
	panel:SetBackdropColor(0, 0, 0, 0.85)
	panel:SetMovable(true)
	panel:EnableMouse(true)
	panel:RegisterForDrag("LeftButton")
	panel:SetScript("OnDragStart", function(self)
		self:StartMoving()
	end)
	panel:SetScript("OnDragStop", function(self)
		self:StopMovingOrSizing()
	end)
	panel:Hide()

	panelTitle = panel:CreateFontString(nil, "OVERLAY", "GameFontNormalLarge")
	panelTitle:SetPoint("TOP", panel, "TOP", 0, -12)
	panelTitle:SetText(L.PANEL_TITLE)

	hintText = panel:CreateFontString(nil, "OVERLAY", "GameFontHighlightSmall")
	hintText:SetPoint("TOP", panelTitle, "BOTTOM", 0, -6)
	hintText:SetWidth(210)

	listText = panel:CreateFontString("MGMQueuePanelList", "OVERLAY", "GameFontHighlight")
	listText:SetPoint("TOPLEFT", panel, "TOPLEFT", 16, -56)
	listText:SetWidth(208)
	listText:SetJustifyH("LEFT")
	listText:SetJustifyV("TOP")

	prepareButton = CreateFrame("Button", "MGMQueuePrepareButton", panel, "UIPanelButtonTemplate")
	prepareButton:SetWidth(160)
	prepareButton:SetHeight(24)
	prepareButton:SetPoint("BOTTOM", panel, "BOTTOM", 0, 12)
	prepareButton:SetText(L.PREPARE_MAIL)
	prepareButton:SetScript("OnClick", prepareMail)

	local close = CreateFrame("Button", "MGMQueuePanelCloseButton", panel, "UIPanelCloseButton")
	close:SetPoint("TOPRIGHT", panel, "TOPRIGHT", -2, -2)
end

refreshPanel = function()
	if not panel then
		return
	end
	local d = ensureDB()
	panelTitle:SetText(L.PANEL_TITLE)
	prepareButton:SetText(L.PREPARE_MAIL)
	local lines = {}
	for i, row in ipairs(d.queue) do
		if i > PANEL_MAX_ROWS then
			lines[#lines + 1] = string.format(L.MORE, #d.queue - PANEL_MAX_ROWS)
			break
		end
		lines[#lines + 1] = i .. ". " .. row.characterName .. "  " .. Core.FormatMoney(row.copper) .. "  [" .. row.state .. "]"
	end
	for i, row in ipairs(d.giftQueue) do
		if #lines >= PANEL_MAX_ROWS then
			break
		end
		lines[#lines + 1] = (#d.queue + i) .. ". " .. row.characterName .. "  " .. (row.itemName or ("item " .. row.itemId)) .. "  [" .. row.state .. "]"
	end
	if #lines == 0 then
		lines[1] = L.EMPTY
	end
	listText:SetText(table.concat(lines, "\n"))
	hintText:SetText(mailboxOpen and "" or L.OPEN_MAILBOX)
	local head = headRow()
	-- 3.3.5a buttons have Enable/Disable only (Button:SetEnabled came in 5.0).
	if mailboxOpen and head and head.state == "READY" and not armed and not sending then
		prepareButton:Enable()
	else
		prepareButton:Disable()
	end
end

local function showPanel()
	if not panel then
		createPanel()
	end
	panel:ClearAllPoints()
	if mailboxOpen and MailFrame then
		panel:SetPoint("TOPLEFT", MailFrame, "TOPRIGHT", -30, -12)
	else
		panel:SetPoint("CENTER", UIParent, "CENTER", 260, 0)
	end
	panel:Show()
	refreshPanel()
end

local function togglePanel()
	if panel and panel:IsShown() then
		panel:Hide()
	else
		showPanel()
	end
end

---------------------------------------------------------------------------
-- Mail events
---------------------------------------------------------------------------

-- setRowState sets the state of an armed or sending row's queue entry.
local function setRowState(s, newState)
	local d = ensureDB()
	local list, key = d.queue, "payoutId"
	if s.kind == "gift" then
		list, key = d.giftQueue, "giftRequestId"
	end
	local i = findIndex(list, key, s[key])
	if i then
		list[i].state = newState
	end
end

-- formMoney reads what the Send Mail form sends: the copper in the money
-- input, or nil when the form is set to C.O.D. (which would charge the winner).
local function formMoney()
	if SendMailCODButton and SendMailCODButton:GetChecked() then
		return nil
	end
	if MoneyInputFrame_GetCopper and SendMailMoney then
		return MoneyInputFrame_GetCopper(SendMailMoney)
	end
	return nil
end

-- The SendMail hook binds an armed payout to the mail actually being sent. A
-- mail to anyone else (or with another amount, or C.O.D.) is the streamer's
-- own business: it leaves the arming in place and is never reported. The hook
-- runs after SendMail, while the form still shows what was sent.
hooksecurefunc("SendMail", function(recipient)
	if not armed or not Core.NamesEqual(recipient, armed.characterName) then
		return
	end
	if armed.kind == "gift" then
		-- Exactly the gift, no money, no C.O.D.
		local ids = attachedItemIds()
		if #ids ~= 1 or ids[1] ~= armed.itemId or formMoney() ~= 0 then
			info(string.format(L.GIFT_CHANGED, armed.characterName))
			return
		end
		sending = armed
		armed = nil
		return
	end
	if formMoney() ~= armed.copper then
		info(string.format(L.MONEY_CHANGED, armed.characterName))
		return
	end
	sending = armed
	armed = nil
end)

local function onMailSendSuccess()
	local s = sending
	if not s then
		return -- a mail the streamer wrote by hand
	end
	sending = nil
	if s.kind == "gift" then
		rememberMailed(s.giftRequestId, "giftsMailed")
		emit(Core.GiftSentMarker(s.giftRequestId))
		whisper(s.characterName, Core.GIFT_SENT_WHISPER)
		showToast(string.format(L.TOAST_GIFT_SENT, s.characterName))
		removeGiftRow(s.giftRequestId)
		refreshPanel()
		return
	end
	-- Remembered before anything else: whatever fails below, a replayed
	-- ReceiveGold for this payout must find it.
	rememberMailed(s.payoutId)
	emit(Core.ConfirmMarker(s.payoutId))
	whisper(s.characterName, Core.MAIL_SENT_WHISPER)
	showToast(string.format(L.TOAST_SENT, s.characterName))
	local d = ensureDB()
	local i = findIndex(d.queue, "payoutId", s.payoutId)
	if i then
		table.remove(d.queue, i)
	end
	refreshPanel()
end

local function onMailFailed()
	local s = sending
	if not s then
		return -- not our mail (an armed row that was never sent stays armed)
	end
	sending = nil
	setRowState(s, "READY")
	info(string.format(L.MAIL_FAILED, s.characterName))
	refreshPanel()
end

local function onMailShow()
	mailboxOpen = true
	showPanel()
end

local function onMailClosed()
	mailboxOpen = false
	if armed then
		setRowState(armed, "READY")
		armed = nil
	end
	if sending and not sending.closedAt then
		-- The mail already left; its result may still arrive. Keep waiting a
		-- little so a late MAIL_SEND_SUCCESS still confirms it.
		sending.closedAt = GetTime()
	end
	refreshPanel()
end

local function checkSendGrace()
	if sending and sending.closedAt and GetTime() - sending.closedAt >= SEND_RESULT_GRACE then
		local s = sending
		sending = nil
		setRowState(s, "READY")
		info(string.format(L.MAIL_LOST, s.characterName))
		refreshPanel()
	end
end

---------------------------------------------------------------------------
-- /who
---------------------------------------------------------------------------

-- One query at a time; later requests wait in whoQueue. whoActive is
-- {spinCycleId, characterName, deadline, previous, friendsUnregistered, seen}.
local whoQueue = {}
local whoActive
local lastWhoSent -- GetTime() of the last SendWho, for WHO_MIN_GAP
local settingWhoToUI = false
-- The who-to-UI setting that others (the streamer, other addons) last chose.
-- 3.3.5a has no getter, so a hook on SetWhoToUI keeps track; 0 is the default.
local othersWhoToUI = 0

local whoChatMatcher = Core.NewWhoChatMatcher({
	list = WHO_LIST_FORMAT,
	guild = WHO_LIST_GUILD_FORMAT,
	total = WHO_NUM_RESULTS,
})

hooksecurefunc("SetWhoToUI", function(value)
	if not settingWhoToUI then
		othersWhoToUI = value
	end
end)

local function setWhoToUI(value)
	settingWhoToUI = true
	pcall(SetWhoToUI, value)
	settingWhoToUI = false
end

local startNextWho -- defined below

local function finishWho(online)
	local w = whoActive
	if not w then
		return
	end
	whoActive = nil
	emit(Core.WhoMarker(w.spinCycleId, w.characterName, online, Core.IsoUtc(date("!*t"))))
	setWhoToUI(w.previous)
	if w.friendsUnregistered and FriendsFrame then
		FriendsFrame:RegisterEvent("WHO_LIST_UPDATE")
	end
end

local function sendWho(req)
	local previous = othersWhoToUI
	if type(GetWhoToUI) == "function" then
		previous = GetWhoToUI()
	end
	if previous == true then
		previous = 1
	elseif not previous then
		previous = 0
	end
	whoActive = {
		spinCycleId = req.spinCycleId,
		characterName = req.characterName,
		deadline = GetTime() + WHO_TIMEOUT,
		previous = previous,
		seen = false,
	}
	-- With who-to-UI 0, three or fewer results arrive as system chat; with 1
	-- they all come as WHO_LIST_UPDATE. Ask for the latter but accept both.
	setWhoToUI(1)
	-- WHO_LIST_UPDATE would also make the Friends frame pop up its Who tab.
	if FriendsFrame then
		local registered = true
		if FriendsFrame.IsEventRegistered then
			registered = FriendsFrame:IsEventRegistered("WHO_LIST_UPDATE")
		end
		if registered then
			FriendsFrame:UnregisterEvent("WHO_LIST_UPDATE")
			whoActive.friendsUnregistered = true
		end
	end
	lastWhoSent = GetTime()
	local ok = pcall(SendWho, (WHO_TAG_NAME or "n-") .. '"' .. req.characterName .. '"')
	if not ok then
		finishWho(false)
	end
end

startNextWho = function()
	if whoActive or #whoQueue == 0 then
		return
	end
	if lastWhoSent and GetTime() - lastWhoSent < WHO_MIN_GAP then
		return -- the OnUpdate driver tries again shortly
	end
	sendWho(table.remove(whoQueue, 1))
end

local function onWhoListUpdate()
	local w = whoActive
	if not w then
		return
	end
	local n = GetNumWhoResults()
	finishWho(Core.FindWhoName(w.characterName, n, function(i)
		return (GetWhoInfo(i))
	end))
	startNextWho()
end

local function onSystemMessage(text)
	local w = whoActive
	if not w then
		return
	end
	local kind, value = whoChatMatcher(text)
	if kind == "row" then
		if Core.NamesEqual(value, w.characterName) then
			w.seen = true
		end
	elseif kind == "total" then
		finishWho(w.seen)
		startNextWho()
	end
end

local function checkWhoTimeout()
	if whoActive and GetTime() >= whoActive.deadline then
		finishWho(false)
	end
	startNextWho()
end

---------------------------------------------------------------------------
-- Whispers from players
---------------------------------------------------------------------------

local function onWhisper(text, sender)
	if type(text) ~= "string" or type(sender) ~= "string" then
		return
	end
	local word = Core.FoldCase(Core.Trim(text))
	local list, idKey, marker
	local d = ensureDB()
	if word == "!twgold" then
		list, idKey, marker = d.consents, "payoutId", Core.AcceptMarker
	elseif word == "!twgift" then
		list, idKey, marker = d.gifts, "giftRequestId", Core.GiftAcceptMarker
	else
		return
	end
	-- Several entries may await the same character; each is answered once.
	local i = 1
	while i <= #list do
		if Core.NamesEqual(sender, list[i].characterName) then
			emit(marker(list[i][idKey]))
			table.remove(list, i)
		else
			i = i + 1
		end
	end
end

---------------------------------------------------------------------------
-- Gift inventory
---------------------------------------------------------------------------

local scanTip

-- isMailable reads the item's tooltip: soulbound, quest, conjured and
-- account-bound items cannot be mailed to another player. The tooltip texts
-- are the client's localized global strings.
local function isMailable(bag, slot)
	if not scanTip then
		scanTip = CreateFrame("GameTooltip", "MGMScanTooltip", nil, "GameTooltipTemplate")
	end
	local blockers = {}
	for _, s in ipairs({ ITEM_SOULBOUND, ITEM_BIND_QUEST, ITEM_CONJURED, ITEM_ACCOUNTBOUND }) do
		if type(s) == "string" then
			blockers[s] = true
		end
	end
	scanTip:SetOwner(WorldFrame, "ANCHOR_NONE")
	scanTip:ClearLines()
	scanTip:SetBagItem(bag, slot)
	local mailable = true
	for i = 1, scanTip:NumLines() do
		local line = _G["MGMScanTooltipTextLeft" .. i]
		local text = line and line:GetText()
		if text and blockers[text] then
			mailable = false
			break
		end
	end
	scanTip:Hide()
	return mailable
end

local function listBagItems()
	local objs = {}
	for bag = 0, (NUM_BAG_SLOTS or 4) do
		for slot = 1, (GetContainerNumSlots(bag) or 0) do
			local link = GetContainerItemLink(bag, slot)
			if link and isGiftable(Core.ItemIdFromLink(link)) and isMailable(bag, slot) then
				local texture, count = GetContainerItemInfo(bag, slot)
				local name, _, _, _, _, _, _, _, _, itemTexture = GetItemInfo(link)
				objs[#objs + 1] = Core.ItemJson({
					name = name or string.match(link, "%[(.-)%]") or "",
					id = Core.ItemIdFromLink(link),
					count = count or 1,
					link = link,
					texture = texture or itemTexture or "",
					bagId = bag,
					slotId = slot,
				})
			end
		end
	end
	return objs
end

---------------------------------------------------------------------------
-- Entry points (called by the Desktop through "/run …")
---------------------------------------------------------------------------

-- Every entry point takes the Desktop's command id as an extra last argument
-- and answers [MGM_ACK:<cmd>:<result>] (docs/bridge.md); without one it
-- works as before, unacknowledged.

-- NotifyWinnerWhisper(payoutId, characterName, cmd): whisper the consent
-- text and wait for "!twgold" from that character. Several winners may wait
-- at once. Ack: whispered, offline or nowhisper, once the server answered.
function NotifyWinnerWhisper(payoutId, characterName, cmd)
	runCommand(cmd, function()
		local id, name = argId(payoutId), argName(characterName)
		if not id or not name then
			return "bad"
		end
		local sent, result = sendForCommand(cmd, name, Core.CONSENT_WHISPER)
		if sent then
			upsert(ensureDB().consents, "payoutId", { payoutId = id, characterName = name, since = time() })
		end
		return result
	end)
end

-- ReceiveGold("id:Name:copper;…", cmd): queue payouts for mailing.
-- Malformed segments and payouts already queued are skipped; payouts already
-- mailed are refused with [MGM_ALREADY_MAILED:<id>] (a line replayed by the
-- Desktop after an Unlock, a restart or a lost marker must never pay twice).
-- Ack: ok, refused when every entry was refused, bad when none was usable.
function ReceiveGold(data, cmd)
	runCommand(cmd, function()
		if type(data) ~= "string" or data == "" then
			return "bad"
		end
		local rows = Core.ParseGoldData(data)
		if #rows == 0 then
			return "bad"
		end
		local d = ensureDB()
		local added, refused = 0, 0
		for _, row in ipairs(rows) do
			if isMailed(row.payoutId) then
				emit(Core.AlreadyMailedMarker(row.payoutId))
				info(string.format(L.ALREADY_MAILED, row.characterName, row.payoutId))
				refused = refused + 1
			elseif not findIndex(d.queue, "payoutId", row.payoutId) then
				d.queue[#d.queue + 1] = row
				added = added + 1
			end
		end
		if added > 0 then
			info(string.format(L.QUEUED, added, #d.queue))
			refreshPanel()
		end
		return refused == #rows and "refused" or "ok"
	end)
end

-- MGM_RunWhoForSpin(spinCycleId, characterName, cmd): exact-name /who,
-- answered with one [MGM_WHO] line (online:false after WHO_TIMEOUT without
-- an answer). Ack: ok once the /who is queued.
function MGM_RunWhoForSpin(spinCycleId, characterName, cmd)
	runCommand(cmd, function()
		local cycle, name = argString(spinCycleId), argName(characterName)
		if not cycle or not name then
			return "bad"
		end
		local function same(r)
			return r.spinCycleId == cycle and Core.NamesEqual(r.characterName, name)
		end
		if whoActive and same(whoActive) then
			return "ok"
		end
		for _, r in ipairs(whoQueue) do
			if same(r) then
				return "ok"
			end
		end
		whoQueue[#whoQueue + 1] = { spinCycleId = cycle, characterName = name }
		startNextWho()
		return "ok"
	end)
end

-- MGM_RequestGiftItems(giftRequestId, cmd): list the mailable bag items the
-- streamer's gift lists allow. Ack: ok after the [MGM_ITEMS…] lines.
function MGM_RequestGiftItems(giftRequestId, cmd)
	runCommand(cmd, function()
		local id = argId(giftRequestId)
		if not id then
			return "bad"
		end
		for _, line in ipairs(Core.BuildItemsLines(id, listBagItems())) do
			emit(line)
		end
		return "ok"
	end)
end

-- MGM_RequestGiftConfirmation(giftRequestId, characterName, cmd): whisper
-- the gift text and wait for "!twgift" (independently of any gold consent).
-- Ack: like NotifyWinnerWhisper.
function MGM_RequestGiftConfirmation(giftRequestId, characterName, cmd)
	runCommand(cmd, function()
		local id, name = argId(giftRequestId), argName(characterName)
		if not id or not name then
			return "bad"
		end
		local sent, result = sendForCommand(cmd, name, Core.GIFT_WHISPER)
		if sent then
			upsert(ensureDB().gifts, "giftRequestId", { giftRequestId = id, characterName = name, since = time() })
		end
		return result
	end)
end

-- MGM_QueueGift(giftRequestId, characterName, bagId, slotId, itemId, cmd): a
-- completed gift joins the mail queue (after the gold). A gift already
-- mailed is refused with [MGM_GIFT_ALREADY_MAILED:<id>]; an item no longer
-- in the bags with [MGM_GIFT_MISSING:<id>]; an item the streamer's gift lists
-- forbid with [MGM_GIFT_NOT_ALLOWED:<id>]. A repeated call is ignored.
-- Ack: ok, or refused after the refusal's marker.
function MGM_QueueGift(giftRequestId, characterName, bagId, slotId, itemId, cmd)
	runCommand(cmd, function()
		local id, name = argId(giftRequestId), argName(characterName)
		local bag, slot, item = tonumber(bagId), tonumber(slotId), tonumber(itemId)
		if not id or not name or not bag or not slot or not item or item <= 0 then
			return "bad"
		end
		local d = ensureDB()
		if isMailed(id, "giftsMailed") then
			emit(Core.GiftAlreadyMailedMarker(id))
			info(string.format(L.GIFT_ALREADY_MAILED, name, id))
			return "refused"
		end
		if findIndex(d.giftQueue, "giftRequestId", id) then
			return "ok"
		end
		-- Checked again here: the lists may have changed since the listing.
		if not isGiftable(item) then
			emit(Core.GiftNotAllowedMarker(id))
			info(string.format(L.GIFT_NOT_ALLOWED, item, name))
			return "refused"
		end
		local b, s = findGiftItem(bag, slot, item)
		if not b then
			emit(Core.GiftMissingMarker(id))
			info(string.format(L.GIFT_MISSING, item, name))
			return "refused"
		end
		local link = GetContainerItemLink(b, s)
		local itemName = string.match(link, "%[(.-)%]")
		d.giftQueue[#d.giftQueue + 1] = {
			giftRequestId = id,
			characterName = name,
			bagId = b,
			slotId = s,
			itemId = item,
			itemName = itemName,
			state = "READY",
		}
		info(string.format(L.GIFT_QUEUED, itemName or item, name))
		refreshPanel()
		return "ok"
	end)
end

-- MGM_Ping(nonce, routes): answer [MGM_PONG:<nonce>:<character>] on every
-- route: the outbox (strip and print), a whisper to self, then a chat-log
-- nudge. routes chooses the extra routes of ordinary lines until the next
-- ping: w (whisper each line to self), n (nudge the chat log after lines).
function MGM_Ping(nonce, routes)
	local ok, err = pcall(function()
		if not Core.IsToken(nonce) then
			return
		end
		local d = ensureDB()
		d.routes = type(routes) == "string" and string.sub(routes, 1, 16) or ""
		routeWhisper, routeNudge = Core.ParseRoutes(d.routes)
		local line = emitLine(Core.PongMarker(nonce, playerName()))
		whisperSelf(line)
		nudge()
	end)
	if not ok then
		info(string.format(L.COMMAND_FAILED, tostring(err)))
	end
end

-- MGM_Ack("<epoch>:<n>,…"): the Desktop read these bridge lines; they leave
-- the outbox (and the strip). Unknown or malformed entries are ignored.
function MGM_Ack(list)
	local ok, err = pcall(function()
		local acked = Core.ParseAckList(list)
		local box = ensureDB().outbox
		for i = #box, 1, -1 do
			if acked[box[i].epoch .. ":" .. box[i].n] then
				table.remove(box, i)
				stripDirty = true
			end
		end
	end)
	if not ok then
		info(string.format(L.COMMAND_FAILED, tostring(err)))
	end
end

---------------------------------------------------------------------------
-- /mgm
---------------------------------------------------------------------------

local function turnLoggingOn(always)
	if not LoggingChat() then
		LoggingChat(true)
		info(L.LOGGING_ON)
	elseif always then
		info(L.LOGGING_ALREADY)
	end
end

local function idsText(list)
	local parts = {}
	for i, v in ipairs(list) do
		parts[i] = tostring(v)
	end
	return table.concat(parts, ", ")
end

-- giftCommand handles "/mgm gift …" (arg: the text after "gift").
local function giftCommand(arg)
	local verb, rest = string.match(arg, "^(%S*)%s*(.-)$")
	local d = ensureDB()
	if verb == "allow" or verb == "deny" then
		-- A shift-clicked item link or a bare item id.
		local item = Core.ItemIdFromLink(rest)
		if item == 0 and string.match(rest, "^%d+$") then
			item = tonumber(rest)
		end
		if not item or item <= 0 then
			info(L.GIFT_USAGE)
			return
		end
		local list = verb == "allow" and d.giftAllow or d.giftDeny
		if not contains(list, item) then
			list[#list + 1] = item
		end
		info(string.format(verb == "allow" and L.GIFT_ALLOWED or L.GIFT_DENIED, item))
	elseif verb == "clear" then
		d.giftAllow, d.giftDeny = {}, {}
		info(L.GIFT_CLEARED)
	elseif verb == "list" then
		info(#d.giftAllow > 0 and string.format(L.GIFT_ALLOW_LIST, idsText(d.giftAllow)) or L.GIFT_ALLOW_EMPTY)
		info(#d.giftDeny > 0 and string.format(L.GIFT_DENY_LIST, idsText(d.giftDeny)) or L.GIFT_DENY_EMPTY)
	else
		info(L.GIFT_USAGE)
	end
end

SLASH_MGM1 = "/mgm"
SlashCmdList["MGM"] = function(msg)
	local command = Core.FoldCase(Core.Trim(msg))
	local giftArg = string.match(command, "^gift%s*(.*)$")
	if giftArg then
		giftCommand(giftArg)
	elseif command == "" or command == "queue" then
		togglePanel()
	elseif command == "update" or command == "checkupdate" then
		info(L.UPDATE_1)
		info(L.UPDATE_2)
		emit(Core.UPDATE_CHECK_MARKER)
	elseif command == "log" then
		turnLoggingOn(true)
	elseif string.match(command, "^lang") then
		local lang = string.match(command, "^lang%s+(%a+)$")
		if lang and STRINGS[lang] then
			ensureDB().lang = lang
			L = STRINGS[lang]
			refreshPanel()
			info(L.LANG_SET)
		else
			info(L.LANG_USAGE)
		end
	else
		info(L.HELP)
	end
end

---------------------------------------------------------------------------
-- Events
---------------------------------------------------------------------------

local handlers = {
	ADDON_LOADED = function(name)
		if name == ADDON_NAME then
			db = nil -- the saved table has just replaced any earlier one
			ensureDB()
			startEpoch()
			updateStrip()
		end
	end,
	PLAYER_LOGIN = function()
		turnLoggingOn(false)
	end,
	CHAT_MSG_WHISPER = onWhisper,
	CHAT_MSG_WHISPER_INFORM = onWhisperInform,
	CHAT_MSG_SYSTEM = function(text)
		if not onWhisperSystemMessage(text) then
			onSystemMessage(text)
		end
	end,
	WHO_LIST_UPDATE = onWhoListUpdate,
	MAIL_SHOW = onMailShow,
	MAIL_CLOSED = onMailClosed,
	MAIL_SEND_SUCCESS = onMailSendSuccess,
	MAIL_FAILED = onMailFailed,
}

for event in pairs(handlers) do
	eventFrame:RegisterEvent(event)
end
eventFrame:SetScript("OnEvent", function(self, event, ...)
	handlers[event](...)
end)
-- The only clock an addon has on 3.3.5a (no C_Timer): OnUpdate with GetTime.
eventFrame:SetScript("OnUpdate", function()
	checkWhoTimeout()
	checkSendGrace()
	checkEchoTimeouts()
	pumpRoutes()
	updateStrip()
end)
