-- FrameXML stand-in for the WoW client simulator (internal/wowsim).
--
-- Blizzard's own Lua UI, reduced to what the addon observes on 3.3.5a: the
-- global helper aliases, print, the chat frame printing chat events, the
-- Friends frame popping up on WHO_LIST_UPDATE, and the mail frame with its
-- tabs, the Send Mail form and the money input. It runs before any addon, so
-- these frames get events first, as the real ones do.

strlower, strupper, strlen, strsub = string.lower, string.upper, string.len, string.sub
strfind, strmatch, strrep, strbyte, strchar = string.find, string.match, string.rep, string.byte, string.char
strrev, gsub, gmatch, format = string.reverse, string.gsub, string.gmatch, string.format
tinsert, tremove, sort, getn = table.insert, table.remove, table.sort, table.getn
floor, ceil, abs, max, min = math.floor, math.ceil, math.abs, math.max, math.min
sqrt, mod, random = math.sqrt, math.fmod, math.random

function strtrim(s, chars)
	chars = chars or " \t\r\n"
	local set = "[" .. string.gsub(chars, "[%^%]%-%%]", "%%%0") .. "]"
	s = string.gsub(s, "^" .. set .. "+", "")
	return (string.gsub(s, set .. "+$", ""))
end

function strsplit(delim, s, pieces)
	local out, start = {}, 1
	while true do
		if pieces and #out == pieces - 1 then
			break
		end
		local i, j = string.find(s, "[" .. delim .. "]", start)
		if not i then
			break
		end
		out[#out + 1] = string.sub(s, start, i - 1)
		start = j + 1
	end
	out[#out + 1] = string.sub(s, start)
	return unpack(out)
end

function strjoin(delim, ...)
	return table.concat({ ... }, delim)
end

function wipe(t)
	for k in pairs(t) do
		t[k] = nil
	end
	return t
end
table.wipe = wipe

function tContains(t, value)
	for _, v in pairs(t) do
		if v == value then
			return 1
		end
	end
	return nil
end

function print(...)
	local parts = {}
	for i = 1, select("#", ...) do
		parts[i] = tostring((select(i, ...)))
	end
	DEFAULT_CHAT_FRAME:AddMessage(table.concat(parts, " "))
end

function ShowUIPanel(frame)
	if frame then
		frame:Show()
	end
end

function HideUIPanel(frame)
	if frame then
		frame:Hide()
	end
end

---------------------------------------------------------------------------
-- Chat frame: prints chat events (player links shown as plain [Name]).
---------------------------------------------------------------------------

for _, event in ipairs({ "CHAT_MSG_SYSTEM", "CHAT_MSG_WHISPER", "CHAT_MSG_WHISPER_INFORM", "CHAT_MSG_SAY" }) do
	ChatFrame1:RegisterEvent(event)
end
ChatFrame1:SetScript("OnEvent", function(self, event, text, sender)
	if event == "CHAT_MSG_SYSTEM" then
		self:AddMessage(text)
	elseif event == "CHAT_MSG_WHISPER" then
		self:AddMessage(format(CHAT_WHISPER_GET, "[" .. sender .. "]") .. text)
	elseif event == "CHAT_MSG_WHISPER_INFORM" then
		self:AddMessage(format(CHAT_WHISPER_INFORM_GET, "[" .. sender .. "]") .. text)
	elseif event == "CHAT_MSG_SAY" then
		self:AddMessage(format(CHAT_SAY_GET, "[" .. sender .. "]") .. text)
	end
end)

---------------------------------------------------------------------------
-- Friends frame: WHO_LIST_UPDATE opens it on the Who tab.
---------------------------------------------------------------------------

CreateFrame("Frame", "FriendsFrame", UIParent)
FriendsFrame:Hide()
FriendsFrame:RegisterEvent("WHO_LIST_UPDATE")
FriendsFrame:SetScript("OnEvent", function(self, event)
	if event == "WHO_LIST_UPDATE" then
		self.selectedTab = 2
		ShowUIPanel(self)
	end
end)

---------------------------------------------------------------------------
-- Mail frame.
---------------------------------------------------------------------------

CreateFrame("Frame", "MailFrame", UIParent)
MailFrame:Hide()
CreateFrame("Button", "MailFrameTab1", MailFrame):SetID(1)
CreateFrame("Button", "MailFrameTab2", MailFrame):SetID(2)
CreateFrame("Frame", "InboxFrame", MailFrame)
CreateFrame("Frame", "SendMailFrame", MailFrame)
SendMailFrame:Hide()
CreateFrame("EditBox", "SendMailNameEditBox", SendMailFrame)
CreateFrame("EditBox", "SendMailSubjectEditBox", SendMailFrame)
CreateFrame("EditBox", "SendMailBodyEditBox", SendMailFrame)
CreateFrame("Frame", "SendMailMoney", SendMailFrame)
CreateFrame("EditBox", "SendMailMoneyGold", SendMailMoney)
CreateFrame("EditBox", "SendMailMoneySilver", SendMailMoney)
CreateFrame("EditBox", "SendMailMoneyCopper", SendMailMoney)
CreateFrame("CheckButton", "SendMailSendMoneyButton", SendMailFrame)
CreateFrame("CheckButton", "SendMailCODButton", SendMailFrame)
CreateFrame("Button", "SendMailMailButton", SendMailFrame, "UIPanelButtonTemplate")
CreateFrame("Button", "SendMailCancelButton", SendMailFrame, "UIPanelButtonTemplate")
SendMailSendMoneyButton:SetChecked(1)
SendMailMailButton:Disable()

function MoneyInputFrame_SetCopper(frame, money)
	money = floor(tonumber(money) or 0)
	local name = frame:GetName()
	local gold = floor(money / 10000)
	local silver = floor((money - gold * 10000) / 100)
	_G[name .. "Gold"]:SetText(gold)
	_G[name .. "Silver"]:SetText(silver)
	_G[name .. "Copper"]:SetText(money - gold * 10000 - silver * 100)
end

function MoneyInputFrame_GetCopper(frame)
	local name = frame:GetName()
	local gold = tonumber(_G[name .. "Gold"]:GetText()) or 0
	local silver = tonumber(_G[name .. "Silver"]:GetText()) or 0
	local copper = tonumber(_G[name .. "Copper"]:GetText()) or 0
	return gold * 10000 + silver * 100 + copper
end

function MoneyInputFrame_ResetMoney(frame)
	local name = frame:GetName()
	_G[name .. "Gold"]:SetText("")
	_G[name .. "Silver"]:SetText("")
	_G[name .. "Copper"]:SetText("")
end

function MailFrameTab_OnClick(self, tabID)
	if not tabID then
		tabID = self:GetID()
	end
	MailFrame.selectedTab = tabID
	if tabID == 1 then
		InboxFrame:Show()
		SendMailFrame:Hide()
	else
		InboxFrame:Hide()
		SendMailFrame:Show()
		SendMailFrame_Update()
	end
end
MailFrameTab1:SetScript("OnClick", function(self)
	MailFrameTab_OnClick(self)
end)
MailFrameTab2:SetScript("OnClick", function(self)
	MailFrameTab_OnClick(self)
end)

function SendMailFrame_Update()
	if SendMailNameEditBox:GetText() ~= "" then
		SendMailMailButton:Enable()
	else
		SendMailMailButton:Disable()
	end
end
SendMailNameEditBox:SetScript("OnTextChanged", SendMailFrame_Update)

function SendMailFrame_Reset()
	SendMailNameEditBox:SetText("")
	SendMailSubjectEditBox:SetText("")
	SendMailBodyEditBox:SetText("")
	MoneyInputFrame_ResetMoney(SendMailMoney)
	SendMailSendMoneyButton:SetChecked(1)
	SendMailCODButton:SetChecked(nil)
	SendMailFrame_Update()
end

-- The real client asks for confirmation (the SEND_MONEY popup) before it
-- calls SendMail when money is attached; clicking Send here means "Send, then
-- Accept".
function SendMailFrame_SendMail()
	local copper = MoneyInputFrame_GetCopper(SendMailMoney)
	SetSendMailCOD(0)
	SetSendMailMoney(0)
	if SendMailSendMoneyButton:GetChecked() then
		if copper > 0 and not SetSendMailMoney(copper) then
			return
		end
	else
		SetSendMailCOD(copper)
	end
	SendMailMailButton:Disable()
	SendMail(SendMailNameEditBox:GetText(), SendMailSubjectEditBox:GetText(), SendMailBodyEditBox:GetText())
end
SendMailMailButton:SetScript("OnClick", function()
	SendMailFrame_SendMail()
end)
SendMailCancelButton:SetScript("OnClick", function()
	HideUIPanel(MailFrame)
end)

MailFrame:RegisterEvent("MAIL_SHOW")
MailFrame:RegisterEvent("MAIL_CLOSED")
MailFrame:SetScript("OnEvent", function(self, event)
	if event == "MAIL_SHOW" then
		ShowUIPanel(self)
		if not self:IsShown() then
			CloseMail()
			return
		end
		MailFrameTab_OnClick(nil, 1)
	elseif event == "MAIL_CLOSED" then
		HideUIPanel(self)
	end
end)
MailFrame:SetScript("OnHide", function()
	CloseMail()
end)

SendMailFrame:RegisterEvent("MAIL_SEND_SUCCESS")
SendMailFrame:RegisterEvent("MAIL_FAILED")
SendMailFrame:SetScript("OnEvent", function(self, event)
	if event == "MAIL_SEND_SUCCESS" then
		SendMailFrame_Reset()
	elseif event == "MAIL_FAILED" then
		SendMailFrame_Update()
	end
end)
