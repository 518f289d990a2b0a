package mgm

import (
	"strings"
	"testing"
	"unicode"
)

var parseCases = []struct {
	name string
	text string
	cmd  ChatCommand // "" means not a command
	arg  string
}{
	{"empty", "", "", ""},
	{"spaces only", "   ", "", ""},
	{"unicode spaces only", "\u00a0\u3000\t\n", "", ""},
	{"chat", "hello", "", ""},
	{"chat with words", "hello there chat", "", ""},
	{"command alone", "!twgold", "", ""},
	{"command and a space", "!twgold ", "", ""},
	{"command and nbsp", "!twgold\u00a0", "", ""},
	{"two tokens", "!twgold A B", "", ""},
	{"two tokens with trailing space", "!twgold A B ", "", ""},
	{"prefixed", "prefix !twgold Abcd", "", ""},
	{"no separator", "!twgoldAbcd", "", ""},
	{"longer word", "!twgoldx Abcd", "", ""},
	{"shorter word", "!twgol Abcd", "", ""},
	{"no bang", "twgold Abcd", "", ""},
	{"double bang", "!!twgold Abcd", "", ""},
	{"bang apart", "! twgold Abcd", "", ""},
	{"zero width space is no separator", "!twgold\u200bAbcd", "", ""},
	{"gift alone", "!twgift", "", ""},
	{"gift two tokens", "!twgift Norinn Extra", "", ""},
	{"gift no separator", "!twgiftNorinn", "", ""},
	{"invalid utf8 before command", "\xff!twgold Abcd", "", ""},
	{"dotless i in word", "!twgıft Norinn", "", ""},

	{"plain", "!twgold Abcd", CommandTwGold, "Abcd"},
	{"surrounding and inner spaces", "  !twgold   Xyzz  ", CommandTwGold, "Xyzz"},
	{"upper case word", "!TWGOLD hero", CommandTwGold, "hero"},
	{"mixed case word and tabs", "!TwGoLd\tNameHere\t", CommandTwGold, "NameHere"},
	{"long token", "!twgold " + strings.Repeat("a", 50), CommandTwGold, strings.Repeat("a", 50)},
	{"nbsp separator", "!twgold\u00a0Abcd", CommandTwGold, "Abcd"},
	{"ideographic space separator", "!twgold\u3000Тралл\u3000", CommandTwGold, "Тралл"},
	{"nel separator", "!twgold\u0085Abcd", CommandTwGold, "Abcd"},
	{"line separator", "!twgold\u2028Abcd", CommandTwGold, "Abcd"},
	{"mixed separators", "!twgold \t\u00a0\u2003 Abcd", CommandTwGold, "Abcd"},
	{"crlf", "\r\n!twgold\r\nAbcd\r\n", CommandTwGold, "Abcd"},
	{"token not validated", "!twgold Ab12!", CommandTwGold, "Ab12!"},
	{"token is another command", "!twgold !twgift", CommandTwGold, "!twgift"},
	{"token with invalid utf8", "!twgold Ab\xffcd", CommandTwGold, "Ab\xffcd"},
	{"token is one invalid byte", "!twgold \xff", CommandTwGold, "\xff"},
	{"gift", "!twgift Norinn", CommandTwGift, "Norinn"},
	{"gift upper case", "!TWGIFT Norinn", CommandTwGift, "Norinn"},
	{"gift cyrillic", " !TwGift\u00a0Ёжик\n", CommandTwGift, "Ёжик"},
}

func TestParseChatCommand(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			cmd, arg, ok := ParseChatCommand(tc.text)
			if wantOK := tc.cmd != ""; ok != wantOK || cmd != tc.cmd || arg != tc.arg {
				t.Fatalf("ParseChatCommand(%+q) = %q, %+q, %v; want %q, %+q, %v", tc.text, cmd, arg, ok, tc.cmd, tc.arg, wantOK)
			}
		})
	}
}

func FuzzParseChatCommand(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, arg, ok := ParseChatCommand(text)

		// An independent reading of the grammar: exactly two white-space
		// separated fields, the first of them a command word.
		var wantCmd ChatCommand
		var wantArg string
		if fields := strings.FieldsFunc(text, unicode.IsSpace); len(fields) == 2 {
			for _, c := range []ChatCommand{CommandTwGold, CommandTwGift} {
				if strings.EqualFold(fields[0], string(c)) {
					wantCmd, wantArg = c, fields[1]
				}
			}
		}
		if ok != (wantCmd != "") || cmd != wantCmd || arg != wantArg {
			t.Fatalf("ParseChatCommand(%+q) = %q, %+q, %v; want %q, %+q", text, cmd, arg, ok, wantCmd, wantArg)
		}
		if !ok {
			if cmd != "" || arg != "" {
				t.Fatalf("ParseChatCommand(%+q) failed but returned %q, %+q", text, cmd, arg)
			}
			return
		}
		if arg == "" || strings.IndexFunc(arg, unicode.IsSpace) >= 0 {
			t.Fatalf("ParseChatCommand(%+q) arg %+q is empty or holds white space", text, arg)
		}
		again := string(cmd) + " " + arg
		if c2, a2, ok2 := ParseChatCommand(again); !ok2 || c2 != cmd || a2 != arg {
			t.Fatalf("re-parse of %+q = %q, %+q, %v; want %q, %+q", again, c2, a2, ok2, cmd, arg)
		}
	})
}
