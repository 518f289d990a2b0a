package markers

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	id1 = "11111111-2222-3333-4444-555555555555"
	id2 = "AAAAAAAA-bbbb-CCCC-dddd-EEEEEEEEEEEE"
)

func TestParse(t *testing.T) {
	who := `{"schemaVersion":1,"spinCycleId":"` + id1 + `","characterName":"Thrall","online":true,"capturedAt":"2026-04-04T12:00:00.000Z"}`
	items := `[{"name":"Linen [Cloth]","id":2589,"count":20,"link":"|cffffffff|Hitem:2589:0|h[Linen Cloth]|h|r","texture":"x\\y","bagId":0,"slotId":1}]`
	tests := []struct {
		name string
		line string
		want []Marker
	}{
		{"who with timestamp", "4/4 12:00:00.123  [MGM_WHO]" + who,
			[]Marker{{Kind: Who, Payload: who, Trusted: true}}},
		{"who with a space before the JSON", "3/4 12:00:00 [MGM_WHO] " + who,
			[]Marker{{Kind: Who, Payload: who, Trusted: true}}},
		{"accept", "[MGM_ACCEPT:" + id1 + "]", []Marker{{Kind: Accept, ID: id1, Trusted: true}}},
		{"confirm upper-case id is lowered", "2026-04-04 12:00:00.000 [MGM_CONFIRM:" + id2 + "]",
			[]Marker{{Kind: Confirm, ID: strings.ToLower(id2), Trusted: true}}},
		{"gift accept", "1/2 00:00:01.000  [MGM_GIFT_ACCEPT:" + id1 + "]", []Marker{{Kind: GiftAccept, ID: id1, Trusted: true}}},
		{"already mailed", "1/2 00:00:01.000  [MGM_ALREADY_MAILED:" + strings.ToUpper(id1) + "]", []Marker{{Kind: AlreadyMailed, ID: id1, Trusted: true}}},
		{"update check", "1/2 00:00:01.000  [MGM_UPDATE_CHECK]", []Marker{{Kind: UpdateCheck, Trusted: true}}},
		{"gift sent", "1/2 00:00:01.000  [MGM_GIFT_SENT:" + id1 + "]", []Marker{{Kind: GiftSent, ID: id1, Trusted: true}}},
		{"gift already mailed", "[MGM_GIFT_ALREADY_MAILED:" + id1 + "]", []Marker{{Kind: GiftAlreadyMailed, ID: id1, Trusted: true}}},
		{"gift missing", "[MGM_GIFT_MISSING:" + id1 + "]", []Marker{{Kind: GiftMissing, ID: id1, Trusted: true}}},
		{"gift not allowed", "1/2 00:00:01.000  [MGM_GIFT_NOT_ALLOWED:" + strings.ToUpper(id1) + "]", []Marker{{Kind: GiftNotAllowed, ID: id1, Trusted: true}}},
		{"items with brackets inside strings", "1/2 03:04:05.000  [MGM_ITEMS:" + id1 + "]" + items,
			[]Marker{{Kind: Items, ID: id1, Payload: items, Trusted: true}}},
		{"empty items", "[MGM_ITEMS:" + id1 + "][]", []Marker{{Kind: Items, ID: id1, Payload: "[]", Trusted: true}}},
		{"items part", "1/2 03:04:05.000  [MGM_ITEMS:" + id1 + ":2/3]" + `,"slotId":1},{"na`,
			[]Marker{{Kind: ItemsPart, ID: id1, Part: 2, Total: 3, Payload: `,"slotId":1},{"na`, Trusted: true}}},
		{"two markers on a line", "1/2 00:00:01.000 [MGM_ACCEPT:" + id1 + "] [MGM_CONFIRM:" + id1 + "]",
			[]Marker{{Kind: Accept, ID: id1, Trusted: true}, {Kind: Confirm, ID: id1, Trusted: true}}},
		{"whispered marker is untrusted", "1/2 00:00:01.000 [Bob] whispers: [MGM_CONFIRM:" + id1 + "]",
			[]Marker{{Kind: Confirm, ID: id1, Trusted: false}}},
		{"marker after text is untrusted, and so is one after it", "x [MGM_ACCEPT:" + id1 + "] [MGM_UPDATE_CHECK]",
			[]Marker{{Kind: Accept, ID: id1}, {Kind: UpdateCheck}}},
		{"Cyrillic channel line untrusted", "1/2 00:00:01.000 [Торговля] [Вася]: [MGM_UPDATE_CHECK]",
			[]Marker{{Kind: UpdateCheck}}},
		{"short id", "[MGM_ACCEPT:1111-2222]", nil},
		{"non-hex id", "[MGM_ACCEPT:gggggggg-2222-3333-4444-555555555555]", nil},
		{"id without hyphens", "[MGM_ACCEPT:111111112222333344445555555555551234]", nil},
		{"id too long", "[MGM_ACCEPT:" + id1 + "0]", nil},
		{"who without JSON", "hello [MGM_WHO] no-braces", nil},
		{"who unbalanced", `[MGM_WHO]{"a":"}"`, nil},
		{"items object instead of array", "[MGM_ITEMS:" + id1 + "]{}", nil},
		{"items part zero", "[MGM_ITEMS:" + id1 + ":0/2]x", nil},
		{"items part beyond total", "[MGM_ITEMS:" + id1 + ":3/2]x", nil},
		{"items part signed", "[MGM_ITEMS:" + id1 + ":+1/2]x", nil},
		{"unknown marker", "[MGM_RUN_RECEIVED] /run X()", nil},
		{"malformed then valid", "[MGM_ACCEPT:bad] [MGM_CONFIRM:" + id1 + "]",
			[]Marker{{Kind: Confirm, ID: id1, Trusted: false}}},
		{"plain chat", "1/2 00:00:01.000 Hello there", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.line)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Kind != w.Kind || g.ID != w.ID || g.Payload != w.Payload || g.Part != w.Part || g.Total != w.Total || g.Trusted != w.Trusted {
					t.Errorf("marker %d: got %+v, want %+v", i, g, w)
				}
				if g.Kind == Who || g.Kind == Items {
					var v any
					if err := json.Unmarshal([]byte(g.Payload), &v); err != nil {
						t.Errorf("payload is not JSON: %v", err)
					}
				}
			}
		})
	}
}

func TestAssembler(t *testing.T) {
	whole := `[{"name":"A","id":1,"count":1,"link":"l","texture":"t","bagId":0,"slotId":1},{"name":"B","id":2,"count":1,"link":"l","texture":"t","bagId":0,"slotId":2}]`
	frags := []string{whole[:40], whole[40:90], whole[90:]}
	var a Assembler
	// Out of order, with a duplicate.
	order := []int{2, 1, 2, 3}
	var got string
	var done bool
	for n, i := range order {
		got, done = a.Add(Marker{Kind: ItemsPart, ID: id1, Part: i, Total: 3, Payload: frags[i-1]}, int64(n))
		if done != (n == len(order)-1) {
			t.Fatalf("step %d: complete=%v", n, done)
		}
	}
	if got != whole || len(a.Pending) != 0 {
		t.Fatalf("assembled %q", got)
	}
	// A new total restarts the assembly.
	a.Add(Marker{Kind: ItemsPart, ID: id1, Part: 1, Total: 2, Payload: "x"}, 10)
	if p, ok := a.Add(Marker{Kind: ItemsPart, ID: id1, Part: 2, Total: 3, Payload: "y"}, 11); ok || p != "" {
		t.Fatal("mixed totals assembled")
	}
	// Old unfinished assemblies are dropped.
	for i := 0; i < 40; i++ {
		a.Add(Marker{Kind: ItemsPart, ID: strings.Replace(id2, "A", string(rune('a'+i%6)), 1) + "", Part: 1, Total: 2}, int64(100+i))
	}
	if len(a.Pending) > 16 {
		t.Fatalf("%d pending", len(a.Pending))
	}
}

func TestAssemblerMergesArrayParts(t *testing.T) {
	// The addon's format: each part is a whole JSON array.
	var a Assembler
	a.Add(Marker{Kind: ItemsPart, ID: id1, Part: 2, Total: 3, Payload: `[{"name":"C","id":3}]`}, 1)
	a.Add(Marker{Kind: ItemsPart, ID: id1, Part: 1, Total: 3, Payload: `[{"name":"A","id":1},{"name":"B [x]","id":2}]`}, 2)
	got, ok := a.Add(Marker{Kind: ItemsPart, ID: id1, Part: 3, Total: 3, Payload: ` [] `}, 3)
	if !ok {
		t.Fatal("not complete")
	}
	var items []struct{ Name string }
	if err := json.Unmarshal([]byte(got), &items); err != nil || len(items) != 3 || items[1].Name != "B [x]" || items[2].Name != "C" {
		t.Fatalf("%s %v", got, err)
	}
	// And the line form parses to such parts.
	ms := Parse("1/2 03:04:05.000  [MGM_ITEMS:" + id1 + ":1/2][{\"name\":\"A\"}]")
	if len(ms) != 1 || ms[0].Kind != ItemsPart || ms[0].Payload != `[{"name":"A"}]` || ms[0].Total != 2 {
		t.Fatalf("%+v", ms)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"4/4 12:00:00.123  [MGM_WHO]{\"a\":[1,{\"b\":\"]}\"}]}",
		"[MGM_ACCEPT:" + id1 + "][MGM_CONFIRM:" + id2 + "]",
		"[MGM_ITEMS:" + id1 + ":1/2][{\"name\":\"[x]\"",
		"[MGM_ITEMS:" + id1 + "][]",
		"[MGM_GIFT_ACCEPT:" + id1 + "]", "[MGM_UPDATE_CHECK]", "[MGM_", "[MGM_WHO]{", "\xff[MGM_WHO]{\"\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ms := Parse(line)
		last := -1
		for _, m := range ms {
			if m.Offset <= last || m.End > len(line) || m.Offset >= m.End {
				t.Fatalf("bad span %+v in %q", m, line)
			}
			last = m.Offset
			if !strings.HasPrefix(line[m.Offset:], "[MGM_") {
				t.Fatalf("span does not start at a marker: %+v", m)
			}
			switch m.Kind {
			case Accept, Confirm, GiftAccept, AlreadyMailed, Items, ItemsPart:
				if !IsUUID(m.ID) || m.ID != strings.ToLower(m.ID) {
					t.Fatalf("bad id %q", m.ID)
				}
			}
			if m.Kind == ItemsPart && (m.Part < 1 || m.Part > m.Total) {
				t.Fatalf("bad part %+v", m)
			}
			if (m.Kind == Who || m.Kind == Items) && !json.Valid([]byte(m.Payload)) && json.Valid([]byte(line)) {
				// Balanced extraction of valid JSON must stay valid JSON.
				t.Fatalf("payload %q", m.Payload)
			}
		}
	})
}
