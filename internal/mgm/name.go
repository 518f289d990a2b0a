package mgm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Character names are typed into the game's mail by the Desktop, so only what the
// game itself accepts in a name may pass: Latin and Cyrillic letters. These tables
// are the script blocks; letterhood is checked separately, because several blocks
// also hold symbols and combining marks (e.g. U+0483, and all of U+2DE0–2DFF).
var (
	latinNameBlocks = &unicode.RangeTable{
		R16: []unicode.Range16{
			{Lo: 0x0041, Hi: 0x005A, Stride: 1},
			{Lo: 0x0061, Hi: 0x007A, Stride: 1},
			{Lo: 0x00C0, Hi: 0x00D6, Stride: 1}, // skips × (U+00D7)
			{Lo: 0x00D8, Hi: 0x00F6, Stride: 1}, // skips ÷ (U+00F7)
			{Lo: 0x00F8, Hi: 0x00FF, Stride: 1},
			{Lo: 0x0100, Hi: 0x024F, Stride: 1},
			{Lo: 0x1E00, Hi: 0x1EFF, Stride: 1},
			{Lo: 0x2C60, Hi: 0x2C7F, Stride: 1},
			{Lo: 0xA722, Hi: 0xA787, Stride: 1},
		},
		LatinOffset: 5,
	}
	cyrillicNameBlocks = &unicode.RangeTable{
		R16: []unicode.Range16{
			{Lo: 0x0400, Hi: 0x04FF, Stride: 1},
			{Lo: 0x0500, Hi: 0x052F, Stride: 1},
			{Lo: 0x1C80, Hi: 0x1C8F, Stride: 1},
			{Lo: 0x2DE0, Hi: 0x2DFF, Stride: 1},
			{Lo: 0xA640, Hi: 0xA69F, Stride: 1},
		},
	}
)

const (
	minCharacterNameRunes = 2
	maxCharacterNameRunes = 12
)

// ValidateCharacterName returns raw without its surrounding white space, or a
// CodeInvalidCharacterName error when that is not 2–12 Latin or Cyrillic letters.
// Case is kept: the game shows the name as the viewer typed it; comparisons go
// through NameKey instead.
func ValidateCharacterName(raw string) (string, error) {
	// Names pasted from chat or web pages bring NBSP, ideographic spaces and the
	// like along, not only ASCII blanks.
	name := strings.TrimFunc(raw, unicode.IsSpace)
	if name == "" {
		return "", Errorf(CodeInvalidCharacterName, "Character name is required: %d–%d letters, Latin or Cyrillic only.",
			minCharacterNameRunes, maxCharacterNameRunes)
	}
	if !utf8.ValidString(name) {
		return "", errInvalidNameCharacters()
	}
	// The limit is in characters, not bytes: a Cyrillic letter is two bytes.
	if n := utf8.RuneCountInString(name); n < minCharacterNameRunes || n > maxCharacterNameRunes {
		return "", Errorf(CodeInvalidCharacterName, "Character name must be %d–%d letters long (got %d).",
			minCharacterNameRunes, maxCharacterNameRunes, n)
	}
	for _, r := range name {
		if !isNameRune(r) {
			return "", errInvalidNameCharacters()
		}
	}
	return name, nil
}

// The message never echoes the input: it may be read out in Twitch chat, where a
// name of the viewer's choosing must not become the bot's words.
func errInvalidNameCharacters() *Error {
	return Errorf(CodeInvalidCharacterName,
		"Character name must be %d–%d letters, Latin or Cyrillic only (no digits, spaces, symbols or separate accent marks).",
		minCharacterNameRunes, maxCharacterNameRunes)
}

// unicode.IsLetter is exactly the union of Lu, Ll, Lt, Lm and Lo.
func isNameRune(r rune) bool {
	return unicode.IsLetter(r) && unicode.In(r, latinNameBlocks, cyrillicNameBlocks)
}

// NameKey is the key under which names are unique: two names get the same key
// exactly when they are equal under Unicode simple case folding, the relation
// strings.EqualFold implements. Each rune becomes the smallest rune of its
// SimpleFold orbit, so 'K', 'k' and KELVIN SIGN (U+212A) share a key, as do 'Ё'
// and 'ё'. Simple folding never changes the number of runes, so "Straße" and
// "STRASSE" stay distinct.
//
// The key is stored in a unique index: it must never change for a given input,
// so it depends only on the unicode tables, not on locale. It does not trim;
// callers key validated names.
func NameKey(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		if r == utf8.RuneError && size == 1 {
			// Keeping the stray byte, rather than writing U+FFFD, keeps distinct
			// inputs distinct: only a case difference may merge two keys.
			b.WriteByte(name[i])
		} else {
			b.WriteRune(foldRepresentative(r))
		}
		i += size
	}
	return b.String()
}

// Any fixed member of the orbit would do; the smallest is easy to state and to
// recompute elsewhere. Changing the choice would orphan every stored key.
func foldRepresentative(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// SameCharacterName reports whether a and b name the same character: equal once
// trimmed, ignoring case as NameKey does.
func SameCharacterName(a, b string) bool {
	return NameKey(strings.TrimFunc(a, unicode.IsSpace)) == NameKey(strings.TrimFunc(b, unicode.IsSpace))
}
