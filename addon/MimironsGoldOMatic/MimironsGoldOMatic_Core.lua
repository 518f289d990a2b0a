-- Mimiron's Gold-o-Matic: pure helpers.
--
-- This file is loaded first (see the .toc) and uses nothing but Lua 5.1's own
-- string/table/math functions, so every helper here can be exercised without a
-- game client. It must not call the WoW API: the main file passes in whatever
-- the client knows (the time, the localized format strings).

local Core = {}
MimironsGoldOMaticCore = Core

-- The normative texts (spec README, byte-exact UTF-8). Their sizes in bytes
-- (222, 88, 117) stay under the 255-byte limit of SendChatMessage.
Core.CONSENT_WHISPER = "Поздравляю, ты победил в розыгрыше! Дай мне своё согласие на получение награды - ответь на это сообщение одной фразой: !twgold"
Core.MAIL_SENT_WHISPER = "Награда отправлена тебе на почту, проверяй ящик!"
Core.GIFT_WHISPER = "Тебе выбран подарок! Для подтверждения ответь одной фразой: !twgift"
Core.GIFT_SENT_WHISPER = "Подарок отправлен тебе на почту, проверяй ящик!"

Core.MAIL_SUBJECT = "Mimiron's Gold-o-Matic"

-- The largest amount a 3.3.5a character can hold (and so mail): 214748 g 36 s 47 c.
Core.MAX_COPPER = 2147483647

-- Upper bound for one [MGM_ITEMS…] chat line, in bytes. The client does not
-- document how long a line the chat frame and WoWChatLog.txt keep, so listings
-- longer than this are split into numbered parts (see BuildItemsLines).
Core.MAX_ITEMS_LINE = 1000

---------------------------------------------------------------------------
-- Strings and names
---------------------------------------------------------------------------

function Core.Trim(s)
	if type(s) ~= "string" then
		return ""
	end
	return (string.gsub(s, "^%s*(.-)%s*$", "%1"))
end

-- ShortName drops a "-Realm" suffix: whispers from another realm arrive as
-- "Name-Realm", /who and the EBS use the bare name.
function Core.ShortName(name)
	name = Core.Trim(name)
	local short = string.match(name, "^([^%-]+)%-")
	return short or name
end

local function asciiLower(c)
	return string.char(string.byte(c) + 32)
end

-- Maps the second byte of a Cyrillic capital (after the lead byte 0xD0) to its
-- lower-case UTF-8 sequence: А–П (D0 90–9F) → а–п (D0 B0–BF), Р–Я (D0 A0–AF)
-- → р–я (D1 80–8F), Ё (D0 81) → ё (D1 91).
local function cyrillicLower(lead, cont)
	if lead == "\208" then
		local b = string.byte(cont)
		if b == 129 then
			return "\209\145"
		elseif b >= 144 and b <= 159 then
			return "\208" .. string.char(b + 32)
		elseif b >= 160 and b <= 175 then
			return "\209" .. string.char(b - 32)
		end
	end
	return lead .. cont
end

-- FoldCase lower-cases ASCII and Cyrillic letters. string.lower cannot be used:
-- on the 3.3.5a client it works byte by byte through the C locale, which leaves
-- UTF-8 Cyrillic alone (or, in a Latin-1 locale, would corrupt it). Explicit
-- byte ranges keep this independent of any locale.
function Core.FoldCase(s)
	if type(s) ~= "string" then
		return ""
	end
	s = string.gsub(s, "[A-Z]", asciiLower)
	s = string.gsub(s, "([\208\209])([\128-\191])", cyrillicLower)
	return s
end

-- NamesEqual compares character names the way the game does: case-insensitive
-- (Latin and Cyrillic) and ignoring a "-Realm" suffix on either side.
function Core.NamesEqual(a, b)
	if type(a) ~= "string" or type(b) ~= "string" then
		return false
	end
	local x, y = Core.FoldCase(Core.ShortName(a)), Core.FoldCase(Core.ShortName(b))
	return x ~= "" and x == y
end

-- IsId accepts the ids the Desktop passes (the EBS's UUIDs, and short test ids):
-- letters, digits and dashes, which can never break out of a [MGM_…:<id>] marker.
function Core.IsId(s)
	return type(s) == "string" and string.len(s) <= 64 and string.find(s, "^[0-9A-Za-z%-]+$") ~= nil
end

-- IsCharacterName accepts a bare character name: 1–48 bytes with no spaces,
-- separators, quotes or control characters. The EBS enforces the real rule
-- (2–12 Latin or Cyrillic letters); this only keeps garbage out of whispers.
function Core.IsCharacterName(s)
	return type(s) == "string"
		and string.len(s) <= 48
		and string.find(s, "^[^%s%c:;\"\\|%-]+$") ~= nil
end

---------------------------------------------------------------------------
-- JSON and time
---------------------------------------------------------------------------

local JSON_ESCAPES = {
	['"'] = '\\"',
	["\\"] = "\\\\",
	["\b"] = "\\b",
	["\f"] = "\\f",
	["\n"] = "\\n",
	["\r"] = "\\r",
	["\t"] = "\\t",
}

local function jsonEscapeChar(c)
	return JSON_ESCAPES[c] or string.format("\\u%04x", string.byte(c))
end

-- JsonEscape makes s safe inside a JSON string literal. Bytes >= 0x80 pass
-- through unchanged, so UTF-8 text stays UTF-8.
function Core.JsonEscape(s)
	if s == nil then
		return ""
	end
	return (string.gsub(tostring(s), '[%z\1-\31"\\\127]', jsonEscapeChar))
end

-- IsoUtc formats a date("!*t") table as "YYYY-MM-DDTHH:MM:SS.000Z". The client
-- has no sub-second wall clock, hence the fixed ".000".
function Core.IsoUtc(t)
	if type(t) ~= "table" or not t.year then
		return "1970-01-01T00:00:00.000Z"
	end
	return string.format("%04d-%02d-%02dT%02d:%02d:%02d.000Z", t.year, t.month, t.day, t.hour, t.min, t.sec)
end

---------------------------------------------------------------------------
-- Markers (printed alone on a chat line; formats in the spec, addon.md)
---------------------------------------------------------------------------

function Core.WhoMarker(spinCycleId, characterName, online, capturedAt)
	return '[MGM_WHO]{"schemaVersion":1,"spinCycleId":"'
		.. Core.JsonEscape(spinCycleId)
		.. '","characterName":"'
		.. Core.JsonEscape(characterName)
		.. '","online":'
		.. (online and "true" or "false")
		.. ',"capturedAt":"'
		.. Core.JsonEscape(capturedAt)
		.. '"}'
end

function Core.AcceptMarker(payoutId)
	return "[MGM_ACCEPT:" .. payoutId .. "]"
end

function Core.ConfirmMarker(payoutId)
	return "[MGM_CONFIRM:" .. payoutId .. "]"
end

-- AlreadyMailedMarker answers a ReceiveGold entry for a payout this
-- character has already mailed: the entry is refused, never queued again.
function Core.AlreadyMailedMarker(payoutId)
	return "[MGM_ALREADY_MAILED:" .. payoutId .. "]"
end

function Core.GiftAcceptMarker(giftRequestId)
	return "[MGM_GIFT_ACCEPT:" .. giftRequestId .. "]"
end

-- GiftSentMarker confirms that the server accepted the mail carrying a gift.
function Core.GiftSentMarker(giftRequestId)
	return "[MGM_GIFT_SENT:" .. giftRequestId .. "]"
end

-- GiftAlreadyMailedMarker refuses to queue a gift this character has mailed.
function Core.GiftAlreadyMailedMarker(giftRequestId)
	return "[MGM_GIFT_ALREADY_MAILED:" .. giftRequestId .. "]"
end

-- GiftMissingMarker reports that the gift's item is no longer in the bags.
function Core.GiftMissingMarker(giftRequestId)
	return "[MGM_GIFT_MISSING:" .. giftRequestId .. "]"
end

-- GiftNotAllowedMarker refuses to queue a gift whose item the streamer's
-- gift allow/deny lists forbid.
function Core.GiftNotAllowedMarker(giftRequestId)
	return "[MGM_GIFT_NOT_ALLOWED:" .. giftRequestId .. "]"
end

Core.UPDATE_CHECK_MARKER = "[MGM_UPDATE_CHECK]"

---------------------------------------------------------------------------
-- ReceiveGold("id:Name:copper;…")
---------------------------------------------------------------------------

-- ParseGoldSegment turns one "id:Name:copper" entry into a queue row, or nil
-- when the entry is malformed (wrong shape, bad id or name, copper outside
-- 1..MAX_COPPER).
function Core.ParseGoldSegment(piece)
	local id, name, copper = string.match(Core.Trim(piece), "^([^:]+):([^:]+):([0-9]+)$")
	if not id or not Core.IsId(id) or not Core.IsCharacterName(name) then
		return nil
	end
	copper = tonumber(copper)
	if not copper or copper < 1 or copper > Core.MAX_COPPER then
		return nil
	end
	return { payoutId = id, characterName = name, copper = copper, state = "READY" }
end

-- ParseGoldData splits the ReceiveGold payload on ";" and returns the valid
-- rows in order; malformed segments are skipped.
function Core.ParseGoldData(data)
	local rows = {}
	if type(data) ~= "string" then
		return rows
	end
	for piece in string.gmatch(data, "[^;]+") do
		local row = Core.ParseGoldSegment(piece)
		if row then
			rows[#rows + 1] = row
		end
	end
	return rows
end

-- FormatMoney renders copper as "1000g", "12g 5s", "7c" for the queue panel.
function Core.FormatMoney(copper)
	copper = tonumber(copper) or 0
	local g = math.floor(copper / 10000)
	local s = math.floor((copper - g * 10000) / 100)
	local c = copper - g * 10000 - s * 100
	local parts = {}
	if g > 0 then
		parts[#parts + 1] = g .. "g"
	end
	if s > 0 then
		parts[#parts + 1] = s .. "s"
	end
	if c > 0 or #parts == 0 then
		parts[#parts + 1] = c .. "c"
	end
	return table.concat(parts, " ")
end

---------------------------------------------------------------------------
-- /who results delivered as system chat
---------------------------------------------------------------------------

local MAGIC = {
	["^"] = true,
	["$"] = true,
	["("] = true,
	[")"] = true,
	["%"] = true,
	["."] = true,
	["["] = true,
	["]"] = true,
	["*"] = true,
	["+"] = true,
	["-"] = true,
	["?"] = true,
}

-- FormatToPattern turns one of the client's localized format strings (for
-- example WHO_LIST_FORMAT, "|Hplayer:%s|h[%s]|h: Level %d %s %s - %s") into an
-- anchored Lua pattern for the text the client prints with it. It understands
-- %s, %d, positional %1$s / %2$d and the "|4singular:plural;" grammar escape
-- (already resolved in the delivered text, so it matches anything). It returns
-- the pattern and the capture index that holds the format's first argument
-- (the player name in the /who formats), or nil when the format has none.
function Core.FormatToPattern(fmt)
	if type(fmt) ~= "string" then
		return nil, nil
	end
	local out, captures, firstArgCapture = {}, 0, nil
	local nextArg, i, n = 1, 1, string.len(fmt)
	while i <= n do
		local c = string.sub(fmt, i, i)
		if c == "%" then
			local pos, conv, stop = string.match(fmt, "^%%(%d*)%$?[-0-9.]*([sdi])()", i)
			if string.sub(fmt, i + 1, i + 1) == "%" then
				out[#out + 1] = "%%"
				i = i + 2
			elseif conv then
				local arg
				if pos ~= "" and string.sub(fmt, i + 1 + string.len(pos), i + 1 + string.len(pos)) == "$" then
					arg = tonumber(pos)
				else
					arg = nextArg
					nextArg = nextArg + 1
				end
				captures = captures + 1
				if arg == 1 and not firstArgCapture then
					firstArgCapture = captures
				end
				out[#out + 1] = (conv == "s") and "(.-)" or "(%-?%d+)"
				i = stop
			else
				out[#out + 1] = "%%"
				i = i + 1
			end
		elseif c == "|" and string.sub(fmt, i + 1, i + 1) == "4" then
			local stop = string.find(fmt, ";", i + 2, true)
			if not stop then
				out[#out + 1] = "|"
				i = i + 1
			else
				out[#out + 1] = ".-"
				i = stop + 1
			end
		else
			out[#out + 1] = MAGIC[c] and ("%" .. c) or c
			i = i + 1
		end
	end
	return "^" .. table.concat(out) .. "$", firstArgCapture
end

-- NewWhoChatMatcher builds a matcher for /who answers printed as system chat.
-- formats.list / formats.guild / formats.total are the client's WHO_LIST_FORMAT,
-- WHO_LIST_GUILD_FORMAT and WHO_NUM_RESULTS. The returned function classifies a
-- CHAT_MSG_SYSTEM line: ("row", name), ("total", count) or nil.
function Core.NewWhoChatMatcher(formats)
	local rowPatterns = {}
	for _, key in ipairs({ "guild", "list" }) do
		local pattern, nameIndex = Core.FormatToPattern(formats[key])
		if pattern and nameIndex then
			rowPatterns[#rowPatterns + 1] = { pattern = pattern, index = nameIndex }
		end
	end
	local totalPattern, countIndex = Core.FormatToPattern(formats.total)
	return function(line)
		if type(line) ~= "string" then
			return nil
		end
		for _, p in ipairs(rowPatterns) do
			local caps = { string.match(line, p.pattern) }
			if caps[1] then
				return "row", caps[p.index]
			end
		end
		if totalPattern then
			local caps = { string.match(line, totalPattern) }
			if caps[1] then
				return "total", tonumber(caps[countIndex or 1])
			end
		end
		return nil
	end
end

-- FindWhoName reports whether any of the n results (getName(i) → name) is the
-- expected character: an exact name match after folding case and realm.
function Core.FindWhoName(expected, n, getName)
	for i = 1, (tonumber(n) or 0) do
		if Core.NamesEqual(getName(i), expected) then
			return true
		end
	end
	return false
end

---------------------------------------------------------------------------
-- Gift inventory listing
---------------------------------------------------------------------------

function Core.ItemIdFromLink(link)
	if type(link) ~= "string" then
		return 0
	end
	return tonumber(string.match(link, "item:(%d+)")) or 0
end

-- ItemJson renders one mailable bag item with the fixed key order the Desktop
-- expects: name, id, count, link, texture, bagId, slotId.
function Core.ItemJson(item)
	return string.format(
		'{"name":"%s","id":%d,"count":%d,"link":"%s","texture":"%s","bagId":%d,"slotId":%d}',
		Core.JsonEscape(item.name),
		tonumber(item.id) or 0,
		tonumber(item.count) or 1,
		Core.JsonEscape(item.link),
		Core.JsonEscape(item.texture),
		tonumber(item.bagId) or 0,
		tonumber(item.slotId) or 0
	)
end

-- BuildItemsLines returns the chat lines for a gift inventory listing.
--
-- When "[MGM_ITEMS:<id>]" followed by the whole JSON array fits in maxLen bytes
-- it is one line. Otherwise the listing is split into parts, each line being
--   [MGM_ITEMS:<id>:<part>/<total>]<JSON array>
-- where every part is a complete JSON array of whole items, parts are numbered
-- from 1, and the listing is parts 1..total concatenated in order. An item that
-- alone exceeds the budget still gets a part of its own.
function Core.BuildItemsLines(giftRequestId, itemJsons, maxLen)
	maxLen = maxLen or Core.MAX_ITEMS_LINE
	local single = "[MGM_ITEMS:" .. giftRequestId .. "][" .. table.concat(itemJsons, ",") .. "]"
	if string.len(single) <= maxLen then
		return { single }
	end
	-- Budget for the array body, assuming the widest header we could need.
	local header = string.len("[MGM_ITEMS:" .. giftRequestId .. ":9999/9999]")
	local budget = maxLen - header - 2
	local parts, current, used = {}, {}, 0
	for _, obj in ipairs(itemJsons) do
		local size = string.len(obj) + ((#current > 0) and 1 or 0)
		if #current > 0 and used + size > budget then
			parts[#parts + 1] = current
			current, used = {}, 0
			size = string.len(obj)
		end
		current[#current + 1] = obj
		used = used + size
	end
	if #current > 0 then
		parts[#parts + 1] = current
	end
	local lines = {}
	for i, objs in ipairs(parts) do
		lines[i] = "[MGM_ITEMS:" .. giftRequestId .. ":" .. i .. "/" .. #parts .. "][" .. table.concat(objs, ",") .. "]"
	end
	return lines
end

---------------------------------------------------------------------------
-- The bridge (docs/bridge.md): bridge lines, acks, the strip's bytes
---------------------------------------------------------------------------

Core.OUTBOX_MAX = 64 -- unacknowledged bridge lines kept; the oldest go first
Core.COMMANDS_MAX = 200 -- command ids remembered with their result
Core.MAX_CHAT_MESSAGE = 255 -- bytes SendChatMessage accepts

Core.STRIP_CELLS = 66
Core.STRIP_BYTES = 192 -- three per data cell (cells 2…65)
Core.STRIP_PAYLOAD = 180 -- bridge-line bytes per page
Core.STRIP_VERSION = 1
Core.STRIP_LOCATOR = { { 0x4D, 0x47, 0x42 }, { 0x21, 0x62, 0x72 } }

-- Flags byte bits.
Core.FLAG_FOCUS = 1
Core.FLAG_MAILBOX = 2
Core.FLAG_LOGGING = 4

-- IsToken accepts a nonce or command id: 1–16 characters [0-9a-z], which can
-- never break out of a [MGM_…] marker.
function Core.IsToken(s)
	return type(s) == "string" and string.len(s) <= 16 and string.find(s, "^[0-9a-z]+$") ~= nil
end

-- IsEpoch accepts an epoch: 1–12 characters [0-9a-z].
function Core.IsEpoch(s)
	return type(s) == "string" and string.len(s) <= 12 and string.find(s, "^[0-9a-z]+$") ~= nil
end

local BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"

-- Base36 renders a non-negative integer in [0-9a-z]; with width, left-padded
-- with zeros and cut to its last width digits.
function Core.Base36(n, width)
	n = math.floor(math.abs(tonumber(n) or 0))
	local out = ""
	repeat
		local d = n % 36
		out = string.sub(BASE36, d + 1, d + 1) .. out
		n = math.floor(n / 36)
	until n == 0
	if width then
		if string.len(out) < width then
			out = string.rep("0", width - string.len(out)) .. out
		elseif string.len(out) > width then
			out = string.sub(out, -width)
		end
	end
	return out
end

-- NewEpoch makes the 12-character epoch of one load from the wall clock
-- (time()), the client's clock (GetTime(), milliseconds: two loads in the
-- same second differ) and the saved load counter (two loads on the same
-- frame differ; the clocks still differ after SavedVariables were lost).
function Core.NewEpoch(unixTime, clock, loads)
	local ms = math.floor((tonumber(clock) or 0) * 1000 + 0.5)
	return Core.Base36((tonumber(unixTime) or 0) % 2176782336, 6) -- 36^6
		.. Core.Base36(ms % 1679616, 4) -- 36^4
		.. Core.Base36((tonumber(loads) or 0) % 1296, 2) -- 36^2
end

function Core.BridgeLine(epoch, n, marker)
	return "[MGM_SEQ:" .. epoch .. ":" .. string.format("%d", n) .. "]" .. marker
end

function Core.AckMarker(cmd, result)
	return "[MGM_ACK:" .. cmd .. ":" .. result .. "]"
end

function Core.PongMarker(nonce, character)
	return "[MGM_PONG:" .. nonce .. ":" .. tostring(character) .. "]"
end

-- ParseAckList reads MGM_Ack's "<epoch>:<n>,<epoch>:<n>,…" into a set keyed
-- "<epoch>:<n>"; malformed entries are skipped.
function Core.ParseAckList(s)
	local set = {}
	if type(s) ~= "string" then
		return set
	end
	for piece in string.gmatch(s, "[^,]+") do
		local epoch, n = string.match(Core.Trim(piece), "^([0-9a-z]+):([0-9]+)$")
		if epoch and Core.IsEpoch(epoch) and string.len(n) <= 15 then
			set[epoch .. ":" .. string.format("%d", tonumber(n))] = true
		end
	end
	return set
end

-- ParseRoutes reads MGM_Ping's route letters: w (whisper lines to self) and
-- n (nudge the chat log); anything else is ignored.
function Core.ParseRoutes(s)
	if type(s) ~= "string" then
		return false, false
	end
	return string.find(s, "w", 1, true) ~= nil, string.find(s, "n", 1, true) ~= nil
end

-- StripFlags builds the flags byte.
function Core.StripFlags(focus, mailbox, logging)
	return (focus and Core.FLAG_FOCUS or 0) + (mailbox and Core.FLAG_MAILBOX or 0) + (logging and Core.FLAG_LOGGING or 0)
end

-- Fletcher16 over the first count entries of the byte array b (1-based):
-- mod-255 sums, returned as sum2 * 256 + sum1.
function Core.Fletcher16(b, count)
	local sum1, sum2 = 0, 0
	for i = 1, count do
		sum1 = (sum1 + b[i]) % 255
		sum2 = (sum2 + sum1) % 255
	end
	return sum2 * 256 + sum1
end

-- SplitPages cuts a bridge line into STRIP_PAYLOAD-byte pages (at most 255,
-- the page count is one byte); an empty line is one empty page.
function Core.SplitPages(line)
	local pages = {}
	line = line or ""
	local n = string.len(line)
	local i = 1
	repeat
		pages[#pages + 1] = string.sub(line, i, i + Core.STRIP_PAYLOAD - 1)
		i = i + Core.STRIP_PAYLOAD
	until i > n or #pages == 255
	return pages
end

-- StripPage returns the STRIP_BYTES bytes of one strip page as a 1-based
-- array (entry i is byte i-1 of docs/bridge.md's layout). An empty outbox is
-- lineId 0, page 0, count 0 and an empty payload.
function Core.StripPage(flags, heartbeat, lineId, page, count, payload)
	local b = {}
	for i = 1, Core.STRIP_BYTES do
		b[i] = 0
	end
	heartbeat = math.floor(tonumber(heartbeat) or 0) % 65536
	lineId = math.floor(tonumber(lineId) or 0) % 65536
	payload = payload or ""
	local len = math.min(string.len(payload), Core.STRIP_PAYLOAD)
	b[1] = Core.STRIP_VERSION
	b[2] = (tonumber(flags) or 0) % 256
	b[3] = math.floor(heartbeat / 256)
	b[4] = heartbeat % 256
	b[5] = math.floor(lineId / 256)
	b[6] = lineId % 256
	b[7] = (tonumber(page) or 0) % 256
	b[8] = (tonumber(count) or 0) % 256
	b[9] = len
	for i = 1, len do
		b[9 + i] = string.byte(payload, i)
	end
	local sum = Core.Fletcher16(b, 189)
	b[190] = math.floor(sum / 256)
	b[191] = sum % 256
	return b
end
