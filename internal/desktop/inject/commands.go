// Package inject builds the /run lines the Desktop types into WoW's chat box
// and delivers them, one at a time and in order, through an Injector: the
// Windows window-message injector, or the WoW client simulator over HTTP.
package inject

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLine is the longest line WoW's chat box takes (255 is its limit; a line
// of exactly 255 is cut, so stay below).
const MaxLine = 254

// CopperPerGold converts the EBS's gold amounts into the addon's copper.
const CopperPerGold = 10_000

// Len counts a line's characters as the chat box does (one per code point).
func Len(s string) int { return utf8.RuneCountInString(s) }

// LuaString escapes s for a double-quoted Lua string: backslash and quote
// first, and line breaks (which would end the typed line early) as escapes.
func LuaString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return r.Replace(s)
}

// ErrTooLong is returned for a line over MaxLine characters.
var ErrTooLong = errors.New("line exceeds WoW's chat line limit (254 characters)")

// Call builds `/run fn("a","b")` with escaped arguments, refusing a line
// longer than MaxLine.
func Call(fn string, args ...string) (string, error) {
	var b strings.Builder
	b.WriteString("/run ")
	b.WriteString(fn)
	b.WriteByte('(')
	for i, a := range args {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(LuaString(a))
		b.WriteByte('"')
	}
	b.WriteByte(')')
	s := b.String()
	if Len(s) > MaxLine {
		return "", fmt.Errorf("%s: %w", fn, ErrTooLong)
	}
	return s, nil
}

// command is Call with the command id (docs/bridge.md) as the last
// argument; an empty id leaves it out (a line the addon does not acknowledge).
func command(cmd, fn string, args ...string) (string, error) {
	if cmd != "" {
		args = append(args, cmd)
	}
	return Call(fn, args...)
}

// CmdIDLen is the length of the Desktop's command ids; lines leave room for one.
const CmdIDLen = 8

// NotifyWinnerWhisper makes the addon whisper the winner the consent text.
func NotifyWinnerWhisper(payoutID, characterName, cmd string) (string, error) {
	return command(cmd, "NotifyWinnerWhisper", payoutID, characterName)
}

// RunWhoForSpin makes the addon /who the candidate and print [MGM_WHO].
func RunWhoForSpin(spinCycleID, characterName, cmd string) (string, error) {
	return command(cmd, "MGM_RunWhoForSpin", spinCycleID, characterName)
}

// RequestGiftItems makes the addon print [MGM_ITEMS:<id>] with the bags' items.
func RequestGiftItems(giftRequestID, cmd string) (string, error) {
	return command(cmd, "MGM_RequestGiftItems", giftRequestID)
}

// QueueGift puts a completed gift's item (found by bag slot, or by item id if
// it moved) in the addon's mail queue for the winner.
func QueueGift(giftRequestID, characterName string, bagID, slotID, itemID int, cmd string) (string, error) {
	return command(cmd, "MGM_QueueGift", giftRequestID, characterName, strconv.Itoa(bagID), strconv.Itoa(slotID), strconv.Itoa(itemID))
}

// RequestGiftConfirmation makes the addon whisper the gift recipient.
func RequestGiftConfirmation(giftRequestID, characterName, cmd string) (string, error) {
	return command(cmd, "MGM_RequestGiftConfirmation", giftRequestID, characterName)
}

// ChatMessage prints msg in the streamer's chat frame. A message too long for
// one line is shortened with "…" rather than refused: it is informational.
func ChatMessage(msg string) string {
	const prefix, suffix = `/run DEFAULT_CHAT_FRAME:AddMessage("`, `")`
	budget := MaxLine - Len(prefix) - Len(suffix)
	esc := LuaString(msg)
	if Len(esc) > budget {
		// Cut on the unescaped text so an escape sequence is never split.
		runes := []rune(msg)
		for len(runes) > 0 && Len(LuaString(string(runes)))+1 > budget {
			runes = runes[:len(runes)-1]
		}
		esc = LuaString(string(runes)) + "…"
	}
	return prefix + esc + suffix
}

// Payout is one ReceiveGold entry.
type Payout struct {
	ID            string
	CharacterName string
	Gold          int64
}

const receivePrefix, receiveSuffix = `/run ReceiveGold("`, `")`

// ReceiveGoldEntry is `<id>:<Name>:<copper>;`.
func ReceiveGoldEntry(p Payout) (string, error) {
	if p.ID == "" || p.CharacterName == "" || strings.ContainsAny(p.ID+p.CharacterName, ":;\"\\\r\n") {
		return "", fmt.Errorf("payout %q (%q) cannot be written as a ReceiveGold entry", p.ID, p.CharacterName)
	}
	if p.Gold <= 0 {
		return "", fmt.Errorf("payout %s has no gold to send (%d)", p.ID, p.Gold)
	}
	return p.ID + ":" + p.CharacterName + ":" + strconv.FormatInt(p.Gold*CopperPerGold, 10) + ";", nil
}

// Chunk is one ReceiveGold line and the payouts it carries, in order.
type Chunk struct {
	// Line has no command id; WithCommand adds one (the budget leaves room).
	Line string
	Data string
	IDs  []string
}

// WithCommand is the chunk's line carrying command id cmd (CmdIDLen characters).
func (c Chunk) WithCommand(cmd string) string {
	return receivePrefix + c.Data + `","` + cmd + receiveSuffix
}

// ReceiveGoldLines packs the payouts, in the given order, into as few
// `/run ReceiveGold("…")` lines as fit MaxLine, whole entries only. An entry
// that cannot fit a line alone fails the whole call, before anything is sent.
func ReceiveGoldLines(ps []Payout) ([]string, error) {
	chunks, err := ReceiveGoldChunks(ps)
	if err != nil {
		return nil, err
	}
	lines := make([]string, len(chunks))
	for i, c := range chunks {
		lines[i] = c.Line
	}
	return lines, nil
}

// ReceiveGoldChunks is ReceiveGoldLines telling which payouts each line holds.
func ReceiveGoldChunks(ps []Payout) ([]Chunk, error) {
	budget := MaxLine - Len(receivePrefix) - Len(receiveSuffix) - len(`","`) - CmdIDLen
	var chunks []Chunk
	var cur strings.Builder
	var ids []string
	curLen := 0
	flush := func() {
		if curLen > 0 {
			chunks = append(chunks, Chunk{Line: receivePrefix + cur.String() + receiveSuffix, Data: cur.String(), IDs: ids})
			cur.Reset()
			ids = nil
			curLen = 0
		}
	}
	for _, p := range ps {
		e, err := ReceiveGoldEntry(p)
		if err != nil {
			return nil, err
		}
		n := Len(e)
		if n > budget {
			return nil, fmt.Errorf("the ReceiveGold entry for %s (%s) is %d characters; a line holds at most %d: %w",
				p.ID, p.CharacterName, n, budget, ErrTooLong)
		}
		if curLen+n > budget {
			flush()
		}
		cur.WriteString(e)
		ids = append(ids, p.ID)
		curLen += n
	}
	flush()
	return chunks, nil
}
