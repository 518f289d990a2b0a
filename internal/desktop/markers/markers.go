// Package markers recognises the addon's chat-log markers (addon.md) in a
// line of WoWChatLog.txt.
//
// The WoW client logs every chat line, including whispers and channel talk
// from other players, so a viewer could type "[MGM_WHO]{…online:true}" at the
// streamer. Every marker is returned, but only those the addon could have
// printed — preceded by nothing but the client's timestamp (or by another
// such marker) — are Trusted; the Desktop acts on trusted markers only.
package markers

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
)

// Kind is a marker type.
type Kind int

const (
	Who               Kind = iota + 1 // [MGM_WHO]{json}
	Accept                            // [MGM_ACCEPT:<payoutId>]
	Confirm                           // [MGM_CONFIRM:<payoutId>]
	Items                             // [MGM_ITEMS:<giftId>][json array]
	ItemsPart                         // [MGM_ITEMS:<giftId>:<part>/<total>]part (see Assembler)
	GiftAccept                        // [MGM_GIFT_ACCEPT:<giftId>]
	UpdateCheck                       // [MGM_UPDATE_CHECK]
	AlreadyMailed                     // [MGM_ALREADY_MAILED:<payoutId>]: ReceiveGold refused, the payout was mailed before
	GiftSent                          // [MGM_GIFT_SENT:<giftId>]: the server accepted the mail carrying the gift
	GiftAlreadyMailed                 // [MGM_GIFT_ALREADY_MAILED:<giftId>]: MGM_QueueGift refused, the gift was mailed before
	GiftMissing                       // [MGM_GIFT_MISSING:<giftId>]: the gift's item is no longer in the bags
	GiftNotAllowed                    // [MGM_GIFT_NOT_ALLOWED:<giftId>]: MGM_QueueGift refused, the streamer's gift lists forbid the item
	Seq                               // [MGM_SEQ:<epoch>:<n>]: the bridge line's sequence key (docs/bridge.md); ID is "<epoch>:<n>"
	Pong                              // [MGM_PONG:<nonce>:<character>]: answer to MGM_Ping; ID is the nonce, Payload the character
	Ack                               // [MGM_ACK:<cmd>:<result>]: a command was received; ID is the command id, Payload the result
)

var kindNames = map[Kind]string{Who: "MGM_WHO", Accept: "MGM_ACCEPT", Confirm: "MGM_CONFIRM", Items: "MGM_ITEMS",
	ItemsPart: "MGM_ITEMS(part)", GiftAccept: "MGM_GIFT_ACCEPT", UpdateCheck: "MGM_UPDATE_CHECK",
	AlreadyMailed: "MGM_ALREADY_MAILED", GiftSent: "MGM_GIFT_SENT", GiftAlreadyMailed: "MGM_GIFT_ALREADY_MAILED",
	GiftMissing: "MGM_GIFT_MISSING", GiftNotAllowed: "MGM_GIFT_NOT_ALLOWED", Seq: "MGM_SEQ", Pong: "MGM_PONG", Ack: "MGM_ACK"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Marker is one marker found in a line.
type Marker struct {
	Kind Kind
	// ID is the payout or gift request id, lower-case (empty for Who and UpdateCheck).
	ID string
	// Payload is the JSON object (Who), the JSON array (Items) or the raw
	// fragment up to the end of the line (ItemsPart).
	Payload string
	// Part and Total number an ItemsPart (1-based).
	Part, Total int
	// Offset is the byte index of the marker's '[' in the line; End is the
	// index after its payload.
	Offset, End int
	// Trusted is set when only a timestamp (or other trusted markers)
	// precede the marker on the line.
	Trusted bool
}

const maxParts = 64

// Parse returns every well-formed marker in line, in order. Malformed ones
// (a bad UUID, a missing or unbalanced JSON payload) are skipped.
func Parse(line string) []Marker {
	var out []Marker
	trustedSoFar := isTimestampPrefix
	from := 0
	for {
		i := strings.Index(line[from:], "[MGM_")
		if i < 0 {
			return out
		}
		start := from + i
		m, ok := parseAt(line, start)
		if !ok {
			from = start + 1
			continue
		}
		var gap string
		if len(out) == 0 {
			gap = line[:start]
			m.Trusted = trustedSoFar(gap)
		} else {
			prev := out[len(out)-1]
			gap = line[prev.End:start]
			m.Trusted = prev.Trusted && strings.TrimSpace(gap) == ""
		}
		out = append(out, m)
		from = m.End
	}
}

// isTimestampPrefix accepts the text a WoW client (or the simulator) puts
// before a printed message: digits, white space and the punctuation of dates
// and times. Any letter means a player's name or a channel — untrusted.
func isTimestampPrefix(s string) bool {
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', unicode.IsSpace(r), r == '\uFEFF':
		case strings.ContainsRune("/:.-,+[]()TZ", r):
		default:
			return false
		}
	}
	return true
}

func parseAt(line string, start int) (Marker, bool) {
	rest := line[start:]
	for _, m := range idMarkers {
		if strings.HasPrefix(rest, m.prefix) {
			return idMarker(line, start, m.prefix, m.kind)
		}
	}
	switch {
	case strings.HasPrefix(rest, "[MGM_SEQ:"):
		return pairMarker(line, start, "[MGM_SEQ:", Seq, isToken, isDecimal)
	case strings.HasPrefix(rest, "[MGM_PONG:"):
		return pairMarker(line, start, "[MGM_PONG:", Pong, isToken, isCharacter)
	case strings.HasPrefix(rest, "[MGM_ACK:"):
		return pairMarker(line, start, "[MGM_ACK:", Ack, isToken, isToken)
	case strings.HasPrefix(rest, "[MGM_WHO]"):
		p := start + len("[MGM_WHO]")
		for p < len(line) && (line[p] == ' ' || line[p] == '\t') {
			p++
		}
		end, ok := balanced(line, p, '{', '}')
		if !ok {
			return Marker{}, false
		}
		return Marker{Kind: Who, Payload: line[p:end], Offset: start, End: end}, true
	case strings.HasPrefix(rest, "[MGM_UPDATE_CHECK]"):
		return Marker{Kind: UpdateCheck, Offset: start, End: start + len("[MGM_UPDATE_CHECK]")}, true
	case strings.HasPrefix(rest, "[MGM_ITEMS:"):
		p := start + len("[MGM_ITEMS:")
		if len(line) < p+36 || !IsUUID(line[p:p+36]) {
			return Marker{}, false
		}
		id := strings.ToLower(line[p : p+36])
		p += 36
		if p < len(line) && line[p] == ']' {
			end, ok := balanced(line, p+1, '[', ']')
			if !ok {
				return Marker{}, false
			}
			return Marker{Kind: Items, ID: id, Payload: line[p+1 : end], Offset: start, End: end}, true
		}
		// Split form: ":<part>/<total>]" then a fragment to the end of the line.
		if p >= len(line) || line[p] != ':' {
			return Marker{}, false
		}
		close := strings.IndexByte(line[p:], ']')
		if close < 0 {
			return Marker{}, false
		}
		partStr, totalStr, ok := strings.Cut(line[p+1:p+close], "/")
		if !ok {
			return Marker{}, false
		}
		part, err1 := strconv.Atoi(partStr)
		total, err2 := strconv.Atoi(totalStr)
		if err1 != nil || err2 != nil || total < 1 || total > maxParts || part < 1 || part > total ||
			strings.HasPrefix(partStr, "+") || strings.HasPrefix(totalStr, "+") {
			return Marker{}, false
		}
		return Marker{Kind: ItemsPart, ID: id, Payload: line[p+close+1:], Part: part, Total: total,
			Offset: start, End: len(line)}, true
	}
	return Marker{}, false
}

// idMarkers are the markers that carry one payout or gift request id.
var idMarkers = [...]struct {
	prefix string
	kind   Kind
}{
	{"[MGM_ACCEPT:", Accept},
	{"[MGM_CONFIRM:", Confirm},
	{"[MGM_ALREADY_MAILED:", AlreadyMailed},
	{"[MGM_GIFT_SENT:", GiftSent},
	{"[MGM_GIFT_ALREADY_MAILED:", GiftAlreadyMailed},
	{"[MGM_GIFT_MISSING:", GiftMissing},
	{"[MGM_GIFT_NOT_ALLOWED:", GiftNotAllowed},
	{"[MGM_GIFT_ACCEPT:", GiftAccept},
}

func idMarker(line string, start int, prefix string, k Kind) (Marker, bool) {
	p := start + len(prefix)
	if len(line) < p+37 || line[p+36] != ']' || !IsUUID(line[p:p+36]) {
		return Marker{}, false
	}
	return Marker{Kind: k, ID: strings.ToLower(line[p : p+36]), Offset: start, End: p + 37}, true
}

// pairMarker reads "<prefix><a>:<b>]": a and b must satisfy their checks.
// Seq's ID is "a:b"; Pong's and Ack's ID is a, their Payload b.
func pairMarker(line string, start int, prefix string, k Kind, okA, okB func(string) bool) (Marker, bool) {
	p := start + len(prefix)
	end := strings.IndexByte(line[p:], ']')
	if end < 0 || end > 64 {
		return Marker{}, false
	}
	a, b, found := strings.Cut(line[p:p+end], ":")
	if !found || !okA(a) || !okB(b) {
		return Marker{}, false
	}
	m := Marker{Kind: k, ID: a, Payload: b, Offset: start, End: p + end + 1}
	if k == Seq {
		m.ID, m.Payload = a+":"+b, ""
	}
	return m, true
}

// isToken is the bridge's identifier alphabet: 1–16 of [0-9a-z] (epochs,
// nonces, command ids, ack results; see docs/bridge.md).
func isToken(s string) bool {
	if len(s) == 0 || len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

func isDecimal(s string) bool {
	if len(s) == 0 || len(s) > 10 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isCharacter accepts a WoW character name: 2–12 letters (any script), no
// spaces or punctuation.
func isCharacter(s string) bool {
	n := 0
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
		n++
	}
	return n >= 2 && n <= 12
}

// IsUUID reports whether s is a 36-character hyphenated UUID (any case).
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// balanced returns the index after the JSON value that opens with open at
// line[p] and closes with the matching close, skipping brackets inside JSON
// strings (item links contain "[Name]").
func balanced(line string, p int, open, close byte) (int, bool) {
	if p >= len(line) || line[p] != open {
		return 0, false
	}
	depth, inString, escaped := 0, false, false
	for i := p; i < len(line); i++ {
		c := line[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				if c != close {
					return 0, false
				}
				return i + 1, true
			}
		}
	}
	return 0, false
}

// Assembler joins a listing split over several [MGM_ITEMS:<id>:<part>/<total>]
// lines (addon.md; the addon prints each part as a JSON array of whole items)
// into one JSON array. It is not safe for concurrent use.
type Assembler struct {
	Pending map[string]*Parts `json:"pending,omitempty"`
}

// Parts are the fragments received so far for one gift request.
type Parts struct {
	Total     int            `json:"total"`
	Fragments map[int]string `json:"fragments"`
	// Seq orders assemblies by their first fragment so stale ones can be dropped.
	Seq int64 `json:"seq"`
}

// Add stores a fragment and returns the whole payload once every part of that
// id has arrived. A fragment announcing a different total restarts the
// assembly (the addon listed the bags again). seq is a monotonic counter the
// caller supplies (e.g. the line's byte offset).
func (a *Assembler) Add(m Marker, seq int64) (payload string, complete bool) {
	if a.Pending == nil {
		a.Pending = map[string]*Parts{}
	}
	p := a.Pending[m.ID]
	if p == nil || p.Total != m.Total {
		p = &Parts{Total: m.Total, Fragments: map[int]string{}, Seq: seq}
		a.Pending[m.ID] = p
	}
	p.Fragments[m.Part] = m.Payload
	if len(p.Fragments) < p.Total {
		a.prune(16)
		return "", false
	}
	frags := make([]string, p.Total)
	for i := range frags {
		frags[i] = p.Fragments[i+1]
	}
	delete(a.Pending, m.ID)
	return joinParts(frags), true
}

// joinParts rebuilds the listing. The addon prints every part as a complete
// JSON array of whole items ("[{…},{…}]"), so the arrays are merged; parts
// that are not arrays on their own are raw fragments of one array and are
// concatenated.
func joinParts(frags []string) string {
	inner := make([]string, 0, len(frags))
	for _, f := range frags {
		t := strings.TrimSpace(f)
		if !strings.HasPrefix(t, "[") || !json.Valid([]byte(t)) {
			return strings.Join(frags, "")
		}
		var elems []json.RawMessage
		if json.Unmarshal([]byte(t), &elems) != nil {
			return strings.Join(frags, "")
		}
		if body := strings.TrimSpace(t[1 : len(t)-1]); body != "" {
			inner = append(inner, body)
		}
	}
	return "[" + strings.Join(inner, ",") + "]"
}

// prune keeps at most max unfinished assemblies, dropping the oldest.
func (a *Assembler) prune(max int) {
	for len(a.Pending) > max {
		oldest, seq := "", int64(0)
		for id, p := range a.Pending {
			if oldest == "" || p.Seq < seq {
				oldest, seq = id, p.Seq
			}
		}
		delete(a.Pending, oldest)
	}
}

// whisperFormats are the chat frame's whisper prefixes (CHAT_WHISPER_GET and
// CHAT_WHISPER_INFORM_GET of the 3.3.5a GlobalStrings) in the locales a
// streamer is likely to play in, without their trailing ": ".
var whisperFormats = []string{
	"%s whispers", "To %s", // enUS/enGB
	"%s шепчет", "Вы шепчете %s", // ruRU
	"%s flüstert", "An %s", // deDE
	"%s chuchote", "À %s", // frFR
	"%s susurra", "Para %s", // esES/esMX
}

// A logged whisper may keep the client's player hyperlink:
// |Hplayer:Name:…|h[Name]|h.
var playerLinkPrefix, playerLinkMid = "|Hplayer:", "|h["

// ParseRelayed reads a chat-log line that may be a bridge line whispered by
// the player to their own character (the log-whisper route): the client logs
// it as "<Name> whispers: <line>" or "To <Name>: <line>". When the sender is
// self (case-insensitive) and the first marker is [MGM_SEQ…], the markers
// chained to it are returned Trusted. Anyone else's whisper stays untrusted:
// a viewer can whisper marker text, but not as the streamer's character.
func ParseRelayed(line, self string) ([]Marker, bool) {
	ms := Parse(line)
	if self == "" || len(ms) == 0 || ms[0].Kind != Seq || ms[0].Trusted {
		return ms, false
	}
	prefix := line[:ms[0].Offset]
	// Drop the timestamp: everything up to the first letter or bracket.
	i := strings.IndexFunc(prefix, func(r rune) bool { return unicode.IsLetter(r) || r == '[' || r == '|' })
	if i < 0 {
		return ms, false
	}
	if !isTimestampPrefix(prefix[:i]) {
		return ms, false
	}
	who := strings.TrimSpace(prefix[i:])
	who = strings.TrimSpace(strings.TrimSuffix(who, ":"))
	if !whisperFrom(who, self) {
		return ms, false
	}
	ms[0].Trusted = true
	for k := 1; k < len(ms); k++ {
		ms[k].Trusted = ms[k-1].Trusted && strings.TrimSpace(line[ms[k-1].End:ms[k].Offset]) == ""
	}
	return ms, true
}

// whisperFrom reports whether who (a whisper prefix without ": ") names self
// in one of the known formats, the name bare, in brackets or as a link.
func whisperFrom(who, self string) bool {
	names := []string{self, "[" + self + "]"}
	if strings.HasPrefix(who, playerLinkPrefix) || strings.Contains(who, playerLinkPrefix) {
		// |Hplayer:Self:123|h[Self]|h → [Self]
		s := who
		for {
			a := strings.Index(s, playerLinkPrefix)
			if a < 0 {
				break
			}
			b := strings.Index(s[a:], playerLinkMid)
			if b < 0 {
				return false
			}
			c := strings.Index(s[a+b:], "]|h")
			if c < 0 {
				return false
			}
			s = s[:a] + s[a+b+2:a+b+c+1] + s[a+b+c+3:]
		}
		who = s
	}
	for _, f := range whisperFormats {
		before, after, _ := strings.Cut(f, "%s")
		if !strings.HasPrefix(who, before) || !strings.HasSuffix(who, after) || len(who) < len(before)+len(after) {
			continue
		}
		name := who[len(before) : len(who)-len(after)]
		for _, n := range names {
			if strings.EqualFold(name, n) {
				return true
			}
		}
	}
	return false
}
