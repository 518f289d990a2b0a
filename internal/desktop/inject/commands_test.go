package inject

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestLuaStringAndCalls(t *testing.T) {
	if got := LuaString(`A"B\C` + "\n"); got != `A\"B\\C\n` {
		t.Fatalf("escape: %s", got)
	}
	got, err := NotifyWinnerWhisper("11111111-1111-1111-1111-111111111111", `A"B\C`, "")
	if err != nil || got != `/run NotifyWinnerWhisper("11111111-1111-1111-1111-111111111111","A\"B\\C")` {
		t.Fatalf("%s %v", got, err)
	}
	got, _ = NotifyWinnerWhisper("22222222-2222-2222-2222-222222222222", "Thrall", "k3f9x0ab")
	if got != `/run NotifyWinnerWhisper("22222222-2222-2222-2222-222222222222","Thrall","k3f9x0ab")` {
		t.Fatal(got)
	}
	got, _ = RunWhoForSpin("33333333-3333-3333-3333-333333333333", "Иван", "")
	if got != `/run MGM_RunWhoForSpin("33333333-3333-3333-3333-333333333333","Иван")` {
		t.Fatal(got)
	}
	got, _ = RequestGiftItems("44444444-4444-4444-4444-444444444444", "")
	if got != `/run MGM_RequestGiftItems("44444444-4444-4444-4444-444444444444")` {
		t.Fatal(got)
	}
	got, _ = RequestGiftConfirmation("44444444-4444-4444-4444-444444444444", "Jaina", "")
	if got != `/run MGM_RequestGiftConfirmation("44444444-4444-4444-4444-444444444444","Jaina")` {
		t.Fatal(got)
	}
	if _, err := Call("F", strings.Repeat("x", 300)); !errors.Is(err, ErrTooLong) {
		t.Fatalf("long call: %v", err)
	}
}

func TestChatMessageFitsOneLine(t *testing.T) {
	short := ChatMessage(`Mimiron's Gold-o-Matic: Вы используете актуальную версию (v1.0.0).`)
	if short != `/run DEFAULT_CHAT_FRAME:AddMessage("Mimiron's Gold-o-Matic: Вы используете актуальную версию (v1.0.0).")` {
		t.Fatal(short)
	}
	for _, msg := range []string{strings.Repeat("Доступна новая версия ", 20), strings.Repeat(`\"`, 200)} {
		long := ChatMessage(msg)
		if Len(long) > MaxLine || !strings.HasSuffix(long, `…")`) {
			t.Fatalf("%d %s", Len(long), long)
		}
		// The cut never leaves a dangling escape.
		body := strings.TrimSuffix(strings.TrimPrefix(long, `/run DEFAULT_CHAT_FRAME:AddMessage("`), `…")`)
		if trailing := len(body) - len(strings.TrimRight(body, `\`)); trailing%2 != 0 {
			t.Fatalf("split escape: %s", body)
		}
	}
}

func id(n int) string { return fmt.Sprintf("%08d-0000-4000-8000-000000000000", n) }

func TestReceiveGoldLines(t *testing.T) {
	if ls, err := ReceiveGoldLines(nil); err != nil || len(ls) != 0 {
		t.Fatalf("empty: %v %v", ls, err)
	}
	ls, err := ReceiveGoldLines([]Payout{{ID: id(1), CharacterName: "A", Gold: 1}})
	if err != nil || len(ls) != 1 || ls[0] != `/run ReceiveGold("`+id(1)+`:A:10000;")` || Len(ls[0]) != 65 {
		t.Fatalf("%v %v", ls, err)
	}
	// 12 × Longname 999 g (54 characters each): 4 per line, in order.
	var ps []Payout
	for i := 0; i < 12; i++ {
		ps = append(ps, Payout{ID: id(i), CharacterName: "Longname", Gold: 999})
	}
	ls, err = ReceiveGoldLines(ps)
	if err != nil || len(ls) != 3 {
		t.Fatalf("%d lines %v", len(ls), err)
	}
	joined := strings.Join(ls, "")
	last := -1
	for i, p := range ps {
		at := strings.Index(joined, p.ID+":Longname:9990000;")
		if at <= last {
			t.Fatalf("entry %d out of order", i)
		}
		last = at
	}
	for _, l := range ls {
		if Len(l) != 236 || !strings.HasPrefix(l, `/run ReceiveGold("`) || !strings.HasSuffix(l, `")`) {
			t.Fatalf("line %d: %s", Len(l), l)
		}
	}
}

// entryOf returns a payout whose entry is exactly n characters, with a name
// made of the given letter (Latin or Cyrillic: characters, not bytes, count).
func entryOf(i, n int, letter string) Payout {
	// id(36) + ':' + name + ':' + "10000"(1 g) + ';' = 44 + len(name)
	return Payout{ID: id(i), CharacterName: strings.Repeat(letter, n-44), Gold: 1}
}

func TestReceiveGoldBoundary254(t *testing.T) {
	const cmd = "abcdefgh" // CmdIDLen characters
	lines := func(ps []Payout) ([]string, error) {
		cs, err := ReceiveGoldChunks(ps)
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.WithCommand(cmd)
		}
		return out, err
	}
	for _, letter := range []string{"a", "Ж"} {
		// Entries totalling exactly 223 characters make a 254-character line
		// with the command id.
		ps := []Payout{entryOf(1, 74, letter), entryOf(2, 74, letter), entryOf(3, 75, letter)}
		ls, err := lines(ps)
		if err != nil || len(ls) != 1 || Len(ls[0]) != 254 || !strings.HasSuffix(ls[0], `;","abcdefgh")`) {
			t.Fatalf("%s: %d lines, %v: %v", letter, len(ls), err, ls)
		}
		if letter == "Ж" && len(ls[0]) <= 254 {
			t.Fatal("the Cyrillic line should be longer than 254 bytes (characters are counted)")
		}
		// One character more would make 255: the last entry moves to a second line.
		ps[2] = entryOf(3, 76, letter)
		ls, err = lines(ps)
		if err != nil || len(ls) != 2 || Len(ls[0]) != 179 || Len(ls[1]) != 107 {
			t.Fatalf("%s: 255 → %d lines %v %d", letter, len(ls), err, Len(ls[0]))
		}
		// A single entry of 223 fits alone; 224 cannot fit anywhere.
		if ls, err := lines([]Payout{entryOf(4, 223, letter)}); err != nil || Len(ls[0]) != 254 {
			t.Fatalf("%s: alone 223: %v", letter, err)
		}
		ls, err = lines([]Payout{entryOf(5, 10+44, letter), entryOf(6, 224, letter)})
		if !errors.Is(err, ErrTooLong) || len(ls) != 0 || !strings.Contains(err.Error(), id(6)) {
			t.Fatalf("%s: oversize entry: %v %v", letter, ls, err)
		}
	}
}

func TestReceiveGoldRejectsUnsafeEntries(t *testing.T) {
	for _, p := range []Payout{
		{ID: id(1), CharacterName: "A;B", Gold: 1},
		{ID: id(1), CharacterName: `A"`, Gold: 1},
		{ID: id(1), CharacterName: "", Gold: 1},
		{ID: id(1), CharacterName: "Ok", Gold: 0},
	} {
		if _, err := ReceiveGoldLines([]Payout{p}); err == nil {
			t.Errorf("accepted %+v", p)
		}
	}
	if e, _ := ReceiveGoldEntry(Payout{ID: id(7), CharacterName: "Норинн", Gold: 1000}); e != id(7)+":Норинн:10000000;" {
		t.Fatal(e)
	}
}

func TestReceiveGoldChunksNameTheirPayouts(t *testing.T) {
	var ps []Payout
	for i := 0; i < 9; i++ {
		ps = append(ps, Payout{ID: id(i), CharacterName: "Longname", Gold: 999})
	}
	cs, err := ReceiveGoldChunks(ps)
	if err != nil || len(cs) != 3 || len(cs[0].IDs) != 4 || len(cs[2].IDs) != 1 || cs[2].IDs[0] != id(8) {
		t.Fatalf("%+v %v", cs, err)
	}
	for _, c := range cs {
		for _, i := range c.IDs {
			if !strings.Contains(c.Line, i) {
				t.Fatalf("%s not in %s", i, c.Line)
			}
		}
	}
}
