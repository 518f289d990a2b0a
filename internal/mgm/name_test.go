package mgm

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The allowed ranges, written out again rather than shared with name.go, so the
// oracle below is an independent reading of the rule.
var oracleNameRanges = [][2]rune{
	// Latin
	{0x0041, 0x005A}, {0x0061, 0x007A}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6}, {0x00F8, 0x00FF},
	{0x0100, 0x024F}, {0x1E00, 0x1EFF}, {0x2C60, 0x2C7F}, {0xA722, 0xA787},
	// Cyrillic
	{0x0400, 0x04FF}, {0x0500, 0x052F}, {0x1C80, 0x1C8F}, {0x2DE0, 0x2DFF}, {0xA640, 0xA69F},
}

func oracleNameRune(r rune) bool {
	if !unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Lm, unicode.Lo) {
		return false
	}
	for _, rg := range oracleNameRanges {
		if rg[0] <= r && r <= rg[1] {
			return true
		}
	}
	return false
}

func oracleValidate(raw string) (string, bool) {
	s := strings.TrimSpace(raw)
	if !utf8.ValidString(s) {
		return "", false
	}
	if n := len([]rune(s)); n < 2 || n > 12 {
		return "", false
	}
	for _, r := range s {
		if !oracleNameRune(r) {
			return "", false
		}
	}
	return s, true
}

// generalCategory names the Unicode general category of r as the unicode package
// knows it, so boundary expectations can state which fact they rely on.
func generalCategory(r rune) string {
	var names []string
	for n := range unicode.Categories {
		if len(n) == 2 && n != "LC" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if unicode.Is(unicode.Categories[n], r) {
			return n
		}
	}
	return "Cn"
}

func assertInvalidName(t *testing.T, raw string, got string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("ValidateCharacterName(%+q) = %+q, nil; want an error", raw, got)
	}
	if got != "" {
		t.Errorf("ValidateCharacterName(%+q) returned %+q alongside its error", raw, got)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidCharacterName {
		t.Fatalf("ValidateCharacterName(%+q) error = %v; want code %s", raw, err, CodeInvalidCharacterName)
	}
	if e.Message == "" {
		t.Errorf("ValidateCharacterName(%+q): empty error message", raw)
	}
}

var validateCases = []struct {
	name string
	raw  string
	want string // "" means rejected
}{
	{"empty", "", ""},
	{"spaces only", "   ", ""},
	{"unicode spaces only", "\u00a0\u3000\t\n\u0085\u2000\u200a", ""},
	{"one letter", "A", ""},
	{"two letters", "Ab", "Ab"},
	{"plain", "Norinn", "Norinn"},
	{"cyrillic", "Тралл", "Тралл"},
	{"cyrillic yo", "Ёжик", "Ёжик"},
	{"latin and cyrillic mixed", "MixЖed", "MixЖed"},
	{"latin-1 letters", "Ærøskøbing", "Ærøskøbing"},
	{"case preserved", "nOrInN", "nOrInN"},
	{"trimmed ascii spaces", " Abcd ", "Abcd"},
	{"trimmed tabs and newlines", "\t\nAbcd\r\n", "Abcd"},
	{"trimmed nbsp", "\u00a0Abcd\u00a0", "Abcd"},
	{"trimmed nel", "\u0085Abcd\u0085", "Abcd"},
	{"trimmed en quad and hair space", "\u2000Abcd\u200a", "Abcd"},
	{"trimmed ideographic space", "\u3000Abcd\u3000", "Abcd"},
	{"zero width space is not white space", "\u200bAbcd", ""},
	{"bom is not white space", "\ufeffAbcd", ""},
	{"digits", "Ab12", ""},
	{"leading digit", "1bad", ""},
	{"inner space", "ab cd", ""},
	{"inner nbsp", "ab\u00a0cd", ""},
	{"hyphen", "ab-cd", ""},
	{"apostrophe", "O'Neil", ""},
	{"underscore", "ab_cd", ""},
	{"feminine ordinal alone", "ª", ""},
	{"feminine ordinal", "ªbc", ""},
	{"masculine ordinal", "abº", ""},
	{"multiplication sign", "a×b", ""},
	{"division sign", "a÷b", ""},
	{"combining acute after latin", "Ame\u0301lie", ""},
	{"combining titlo after cyrillic", "Бог\u0483", ""},
	{"greek", "Αθηνα", ""},
	{"kelvin sign", "\u212Aael", ""},
	{"replacement character", "Ab\ufffd", ""},
	{"invalid utf8 at end", "Ab\xff", ""},
	{"invalid utf8 at start", "\xffAb", ""},
	{"truncated cyrillic", "Ab\xd0", ""},
	{"lone invalid byte", "\xd0", ""},
	{"overlong encoding of A", "\xc1\x81b", ""},
	{"encoded surrogate", "a\xed\xa0\x80b", ""},
	{"nul", "Ab\x00", ""},
	{"emoji", "Ab😀", ""},
	{"titlecase letter", "\u01C5ab", "\u01C5ab"},
	{"modifier letter in latin range", "a\u2C7Cb", "a\u2C7Cb"},
	{"dotless i", "Kılıç", "Kılıç"},
	{"dotted capital I", "İzmir", "İzmir"},
	{"sharp s", "Straße", "Straße"},
	{"capital sharp s", "STRAẞE", "STRAẞE"},
	{"cyrillic extended-c letter", "\u1C80ab", "\u1C80ab"},
}

func TestValidateCharacterName(t *testing.T) {
	for _, tc := range validateCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ValidateCharacterName(tc.raw)
			if tc.want == "" {
				assertInvalidName(t, tc.raw, got, err)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ValidateCharacterName(%+q) = %+q, %v; want %+q, nil", tc.raw, got, err, tc.want)
			}
		})
	}
}

func TestValidateCharacterNameLengthCountsRunes(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		ok   bool
	}{
		{"1 cyrillic rune (2 bytes)", "Ж", false},
		{"2 cyrillic runes", "Жж", true},
		{"7 cyrillic runes (14 bytes)", strings.Repeat("ж", 7), true},
		{"12 cyrillic runes (24 bytes)", "Ж" + strings.Repeat("ж", 11), true},
		{"13 cyrillic runes", "Ж" + strings.Repeat("ж", 12), false},
		{"12 three-byte runes", strings.Repeat("ẞ", 12), true},
		{"13 three-byte runes", strings.Repeat("ẞ", 13), false},
		{"1 latin rune", "a", false},
		{"12 latin runes", strings.Repeat("a", 12), true},
		{"13 latin runes", strings.Repeat("a", 13), false},
		{"12 runes inside white space", "  " + strings.Repeat("ж", 12) + "\u00a0", true},
		{"1 rune inside white space", "\u3000Ж\u3000", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ValidateCharacterName(tc.raw)
			if !tc.ok {
				assertInvalidName(t, tc.raw, got, err)
				return
			}
			if want := strings.TrimSpace(tc.raw); err != nil || got != want {
				t.Fatalf("ValidateCharacterName(%+q) = %+q, %v; want %+q, nil", tc.raw, got, err, want)
			}
		})
	}
}

// Each row names the general category it expects, because the verdict follows
// from it: a Go release with newer Unicode tables that changes a category shows
// up here as a category mismatch, not as a puzzling verdict.
var boundaryCases = []struct {
	r   rune
	cat string
	ok  bool
}{
	// Basic Latin
	{0x0040, "Po", false}, // @, before A
	{0x0041, "Lu", true},
	{0x005A, "Lu", true},
	{0x005B, "Ps", false}, // [
	{0x0060, "Sk", false}, // `
	{0x0061, "Ll", true},
	{0x007A, "Ll", true},
	{0x007B, "Ps", false}, // {
	// Latin-1 Supplement
	{0x00AA, "Lo", false}, // ª: a letter, but outside the ranges
	{0x00BA, "Lo", false}, // º: likewise
	{0x00BF, "Po", false}, // ¿
	{0x00C0, "Lu", true},
	{0x00D6, "Lu", true},
	{0x00D7, "Sm", false}, // ×
	{0x00D8, "Lu", true},
	{0x00F6, "Ll", true},
	{0x00F7, "Sm", false}, // ÷
	{0x00F8, "Ll", true},
	{0x00FF, "Ll", true},
	// Latin Extended-A and -B
	{0x0100, "Lu", true},
	{0x01C5, "Lt", true},
	{0x024F, "Ll", true},
	{0x0250, "Ll", false}, // IPA: a letter, outside the ranges
	// Latin Extended Additional
	{0x1DFF, "Mn", false},
	{0x1E00, "Lu", true},
	{0x1EFF, "Ll", true},
	{0x1F00, "Ll", false}, // Greek Extended
	// Latin Extended-C
	{0x2C5F, "Ll", false}, // Glagolitic
	{0x2C60, "Lu", true},
	{0x2C7C, "Lm", true}, // modifier letters count as letters
	{0x2C7F, "Lu", true},
	{0x2C80, "Lu", false}, // Coptic
	// Latin Extended-D
	{0xA721, "Sk", false},
	{0xA722, "Lu", true},
	{0xA770, "Lm", true},
	{0xA787, "Ll", true},
	{0xA788, "Lm", false}, // a letter, just past the range
	// Cyrillic
	{0x03FF, "Lu", false}, // Greek
	{0x0400, "Lu", true},
	{0x0401, "Lu", true}, // Ё
	{0x0451, "Ll", true}, // ё
	{0x0482, "So", false},
	{0x0483, "Mn", false},
	{0x0488, "Me", false},
	{0x0489, "Me", false},
	{0x04FF, "Ll", true},
	// Cyrillic Supplement
	{0x0500, "Lu", true},
	{0x052F, "Ll", true},
	{0x0530, "Cn", false},
	// Cyrillic Extended-C
	{0x1C7F, "Po", false},
	{0x1C80, "Ll", true},
	{0x1C88, "Ll", true},
	{0x1C8F, "Cn", false}, // in range, unassigned
	{0x1C90, "Lu", false}, // Georgian Mtavruli
	// Cyrillic Extended-A: combining marks only, so nothing in it passes
	{0x2DDF, "Cn", false},
	{0x2DE0, "Mn", false},
	{0x2DFF, "Mn", false},
	{0x2E00, "Po", false},
	// Cyrillic Extended-B
	{0xA63F, "Cn", false},
	{0xA640, "Lu", true},
	{0xA66E, "Lo", true},
	{0xA66F, "Mn", false},
	{0xA69D, "Lm", true},
	{0xA69E, "Mn", false},
	{0xA69F, "Mn", false}, // last of the range, a combining mark
	{0xA6A0, "Lo", false}, // Bamum
	// Elsewhere
	{0x212A, "Lu", false}, // KELVIN SIGN
	{0xFFFD, "So", false},
}

func TestValidateCharacterNameBoundaries(t *testing.T) {
	for _, tc := range boundaryCases {
		t.Run(fmt.Sprintf("%U", tc.r), func(t *testing.T) {
			if got := generalCategory(tc.r); got != tc.cat {
				t.Fatalf("%U is %s in this Go's Unicode tables, the table assumes %s: revisit the expectation", tc.r, got, tc.cat)
			}
			if got := oracleNameRune(tc.r); got != tc.ok {
				t.Fatalf("table says %U ok=%v but the written rule gives %v", tc.r, tc.ok, got)
			}
			c := string(tc.r)
			for _, raw := range []string{c + c, c + "ab", "ab" + c, "a" + c + "b", "Ж" + c, c + "ж"} {
				got, err := ValidateCharacterName(raw)
				if !tc.ok {
					assertInvalidName(t, raw, got, err)
					continue
				}
				if err != nil || got != raw {
					t.Errorf("ValidateCharacterName(%+q) = %+q, %v; want it accepted", raw, got, err)
				}
			}
		})
	}
}

// Every rune of the Basic Multilingual Plane and beyond, against the written rule.
func TestValidateCharacterNameEveryRune(t *testing.T) {
	if testing.Short() {
		t.Skip("walks all of Unicode")
	}
	t.Parallel()
	// The walk is pure computation: in slices, side by side.
	const slice = 0x20000
	for lo := rune(0); lo <= unicode.MaxRune; lo += slice {
		t.Run(fmt.Sprintf("%U", lo), func(t *testing.T) {
			t.Parallel()
			for r := lo; r < lo+slice && r <= unicode.MaxRune; r++ {
				if !utf8.ValidRune(r) {
					continue
				}
				raw := "a" + string(r) + "b"
				got, err := ValidateCharacterName(raw)
				if want := oracleNameRune(r); (err == nil) != want {
					t.Errorf("%U: ValidateCharacterName(%+q) = %+q, %v; want ok=%v", r, raw, got, err, want)
				}
			}
		})
	}
}

func TestValidateCharacterNameErrorIsDomainError(t *testing.T) {
	_, err := ValidateCharacterName("1bad")
	if !IsCode(err, CodeInvalidCharacterName) || ErrorCode(err) != CodeInvalidCharacterName {
		t.Fatalf("error %v does not carry %s", err, CodeInvalidCharacterName)
	}
}

func TestNameKey(t *testing.T) {
	// The exact keys are pinned: storage keeps them in a unique index, so a
	// change here would orphan stored rows.
	for _, tc := range []struct{ in, want string }{
		{"Norinn", "NORINN"},
		{"norinn", "NORINN"},
		{"NORINN", "NORINN"},
		{"Ёжик", "ЁЖИК"},
		{"ёжик", "ЁЖИК"},
		{"\u212A", "K"}, // KELVIN SIGN
		{"k", "K"},
		{"\u017F", "S"}, // LONG S
		{"\u212B", "Å"}, // ANGSTROM SIGN
		{"\u1C80", "В"}, // CYRILLIC SMALL LETTER ROUNDED VE
		{"ß", "ß"},      // U+00DF < U+1E9E
		{"ẞ", "ß"},
		{"ı", "ı"},      // dotless i folds with nothing
		{"İ", "İ"},      // nor does dotted capital I
		{"\u01C5", "Ǆ"}, // titlecase Dž joins its orbit
		{"", ""},
		{" Ab ", " AB "}, // no trimming
		{"a\xffb", "A\xffB"},
	} {
		if got := NameKey(tc.in); got != tc.want {
			t.Errorf("NameKey(%+q) = %+q; want %+q", tc.in, got, tc.want)
		}
	}
}

func TestSameCharacterName(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"Norinn", "norinn", true},
		{"Norinn", "NORINN", true},
		{"norinn", "NORINN", true},
		{"Ёжик", "ёжик", true},
		{"ЁЖИК", "ёжик", true},
		{"Ёжик", "Ежик", false}, // Ё and Е are different letters
		{"Тралл", "тРАЛЛ", true},
		{"Straße", "STRASSE", false}, // simple folding: ß never becomes ss
		{"Straße", "STRAẞE", true},
		{"Kael", "\u212Aael", true}, // KELVIN SIGN
		{"kael", "\u212AAEL", true},
		{"Abcd", "\u0410bcd", false}, // Latin A vs Cyrillic А
		{"Ara", "\u0410ra", false},
		{"Kılıç", "KILIÇ", false}, // dotless ı is not simple-fold-equal to I
		{"  Norinn\u00a0", "\u3000norinn\n", true},
		{"Norinn", "Norin", false},
		{"Norinn", "Norinnn", false},
		{"", " ", true},
	} {
		if got := SameCharacterName(tc.a, tc.b); got != tc.same {
			t.Errorf("SameCharacterName(%+q, %+q) = %v; want %v", tc.a, tc.b, got, tc.same)
		}
		if got := SameCharacterName(tc.b, tc.a); got != tc.same {
			t.Errorf("SameCharacterName(%+q, %+q) = %v; want %v", tc.b, tc.a, got, tc.same)
		}
	}
}

// For every rune, its key must be a member of its own fold orbit and shared by
// the whole orbit: that is what makes keys equal exactly for EqualFold strings.
func TestNameKeyEveryRune(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		key := NameKey(s)
		if !strings.EqualFold(key, s) || utf8.RuneCountInString(key) != 1 {
			t.Fatalf("NameKey(%U) = %+q is not in its fold orbit", r, key)
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if NameKey(string(f)) != key {
				t.Fatalf("NameKey(%U) = %+q but NameKey(%U) = %+q", r, key, f, NameKey(string(f)))
			}
		}
	}
}

// foldEqualStrict is strings.EqualFold except that an invalid byte equals only
// itself, which is the equivalence NameKey promises.
func foldEqualStrict(a, b string) bool {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		badA, badB := ra == utf8.RuneError && na == 1, rb == utf8.RuneError && nb == 1
		switch {
		case badA || badB:
			if !badA || !badB || a[0] != b[0] {
				return false
			}
		case !strings.EqualFold(string(ra), string(rb)):
			return false
		}
		a, b = a[na:], b[nb:]
	}
	return a == "" && b == ""
}

// foldVariant moves each rune of s a few steps round its fold orbit, steered by
// steer, leaving invalid bytes alone.
func foldVariant(s, steer string) string {
	var b strings.Builder
	for i := 0; s != ""; i++ {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(s[0])
		} else {
			steps := i
			if steer != "" {
				steps = int(steer[i%len(steer)])
			}
			for range steps % 4 {
				r = unicode.SimpleFold(r)
			}
			b.WriteRune(r)
		}
		s = s[n:]
	}
	return b.String()
}

func FuzzValidateCharacterName(f *testing.F) {
	for _, tc := range validateCases {
		f.Add(tc.raw)
	}
	for _, tc := range boundaryCases {
		f.Add("a" + string(tc.r) + "b")
	}
	f.Add(strings.Repeat("ж", 12))
	f.Add(strings.Repeat("ж", 13))
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := ValidateCharacterName(raw)
		want, wantOK := oracleValidate(raw)
		if (err == nil) != wantOK || got != want {
			t.Fatalf("ValidateCharacterName(%+q) = %+q, %v; the written rule gives %+q, ok=%v", raw, got, err, want, wantOK)
		}
		if err != nil {
			assertInvalidName(t, raw, got, err)
			return
		}
		if got != strings.TrimFunc(got, unicode.IsSpace) || !strings.Contains(raw, got) {
			t.Fatalf("result %+q is not raw %+q trimmed", got, raw)
		}
		if n := utf8.RuneCountInString(got); n < 2 || n > 12 {
			t.Fatalf("result %+q has %d runes", got, n)
		}
		for _, r := range got {
			if !oracleNameRune(r) {
				t.Fatalf("result %+q holds %U", got, r)
			}
		}
		for _, again := range []string{got, "\u00a0\t" + got + "\u3000\n"} {
			if g, err := ValidateCharacterName(again); err != nil || g != got {
				t.Fatalf("ValidateCharacterName(%+q) = %+q, %v; want %+q", again, g, err, got)
			}
		}
		if !SameCharacterName(raw, got) {
			t.Fatalf("SameCharacterName(%+q, %+q) = false", raw, got)
		}
		key := NameKey(got)
		if NameKey(key) != key || utf8.RuneCountInString(key) != utf8.RuneCountInString(got) || !strings.EqualFold(key, got) {
			t.Fatalf("NameKey(%+q) = %+q is not a fold of it", got, key)
		}
		if v := foldVariant(got, ""); NameKey(v) != key || !SameCharacterName(v, got) {
			t.Fatalf("fold variant %+q of %+q keys differently", v, got)
		}
	})
}

func FuzzNameKey(f *testing.F) {
	f.Add("Norinn", "NORINN")
	f.Add("Ёжик", "ёжик")
	f.Add("Straße", "STRASSE")
	f.Add("Kael", "\u212Aael")
	f.Add("Abcd", "\u0410bcd")
	f.Add("a\xffb", "A\xfeB")
	f.Add("\xff", "\ufffd")
	f.Fuzz(func(t *testing.T, a, b string) {
		ka, kb := NameKey(a), NameKey(b)
		if NameKey(ka) != ka {
			t.Fatalf("NameKey is not idempotent on %+q: %+q then %+q", a, ka, NameKey(ka))
		}
		if (ka == kb) != foldEqualStrict(a, b) {
			t.Fatalf("NameKey(%+q) = %+q, NameKey(%+q) = %+q, fold-equal = %v", a, ka, b, kb, foldEqualStrict(a, b))
		}
		if utf8.ValidString(a) && utf8.ValidString(b) && (ka == kb) != strings.EqualFold(a, b) {
			t.Fatalf("NameKey disagrees with strings.EqualFold on %+q, %+q", a, b)
		}
		if v := foldVariant(a, b); NameKey(v) != ka {
			t.Fatalf("fold variant %+q of %+q has key %+q, not %+q", v, a, NameKey(v), ka)
		}
	})
}
