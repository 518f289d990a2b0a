package strip

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)

// pagesOf is the carousel's pages of one bridge line.
func pagesOf(id uint16, line string) []Page {
	var out []Page
	payloads := Pages(line)
	for i, pl := range payloads {
		out = append(out, Page{Version: 1, LineID: id, Index: i, Count: len(payloads), Payload: pl})
	}
	return out
}

// feed adds pages 100 ms apart from *at and collects the lines delivered.
func feed(a *Assembler, at *time.Time, pages ...Page) []string {
	var got []string
	for _, p := range pages {
		if line, ok := a.Add(p, *at); ok {
			got = append(got, line)
		}
		*at = at.Add(100 * time.Millisecond)
	}
	return got
}

func TestAssemblerMultiPage(t *testing.T) {
	long := "[MGM_SEQ:e1:7][MGM_ITEMS:g1]" + strings.Repeat("é", 200) // 428 bytes: 3 pages
	p := pagesOf(7, long)
	if len(p) != 3 {
		t.Fatalf("%d pages", len(p))
	}
	for _, tc := range []struct {
		name  string
		order []Page
	}{
		{"in order", []Page{p[0], p[1], p[2]}},
		{"out of order", []Page{p[2], p[0], p[1]}},
		{"with repeats", []Page{p[1], p[1], p[2], p[1], p[0]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAssembler(0)
			at := t0
			got := feed(a, &at, tc.order...)
			if !slices.Equal(got, []string{long}) {
				t.Fatalf("delivered %q, want the line once", got)
			}
		})
	}
}

func TestAssemblerDeliversOncePerLineUntilForgotten(t *testing.T) {
	a := NewAssembler(5 * time.Second)
	at := t0
	one := pagesOf(1, "[MGM_SEQ:e1:1][MGM_ACK:c1:ok]")
	two := pagesOf(2, "[MGM_SEQ:e1:2]"+strings.Repeat("x", 200))
	carousel := append(append([]Page{}, one...), two...)
	var got []string
	for range 20 { // 20 turns of the carousel, 2 s
		got = append(got, feed(a, &at, carousel...)...)
	}
	if len(got) != 2 {
		t.Fatalf("delivered %d lines over 20 turns, want each once: %q", len(got), got)
	}
	// Line 1 leaves the outbox (acknowledged); line 2 stays.
	for range 60 { // 6 s of line 2 only
		got = append(got, feed(a, &at, two...)...)
	}
	if len(got) != 2 {
		t.Fatalf("line 2 delivered again while shown: %q", got[2:])
	}
	// Line 1 comes back (the ack was lost and the addon kept it): absent
	// for over 5 s, so it is delivered again.
	got = append(got, feed(a, &at, one...)...)
	if len(got) != 3 || got[2] != got[0] {
		t.Fatalf("line 1 back after 6 s: delivered %q", got[2:])
	}
}

func TestAssemblerLineIDReused(t *testing.T) {
	a := NewAssembler(0)
	at := t0
	old := pagesOf(5, "[MGM_SEQ:aa:5]"+strings.Repeat("o", 300)) // 2 pages
	// A /reload: a new epoch whose line 5 is another line with one page.
	fresh := pagesOf(5, "[MGM_SEQ:bb:5][MGM_ACK:c9:ok]")
	got := feed(a, &at, old[0], fresh[0], old[1])
	want := []string{"[MGM_SEQ:bb:5][MGM_ACK:c9:ok]"}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %q, want only the new line (the old one's count changed under it)", got)
	}
	// Another line with the same count: page 0 differs, so the page held
	// is dropped rather than mixed into the other line.
	x := pagesOf(9, "[MGM_SEQ:aa:9]"+strings.Repeat("1", 300))
	y := pagesOf(9, "[MGM_SEQ:bb:9]"+strings.Repeat("2", 300))
	got = feed(a, &at, x[0], y[0], y[1])
	if !slices.Equal(got, []string{"[MGM_SEQ:bb:9]" + strings.Repeat("2", 300)}) {
		t.Fatalf("delivered %q, want only the whole second line", got)
	}
}

// After a /reload the old epoch's unacknowledged line and the new epoch's
// line of the same number take turns in the carousel: each is delivered
// once, not every time the other one was shown in between.
func TestAssemblerTwoLinesOneID(t *testing.T) {
	a := NewAssembler(0)
	at := t0
	x := pagesOf(9, "[MGM_SEQ:aa:9]"+strings.Repeat("1", 300))
	y := pagesOf(9, "[MGM_SEQ:bb:9][MGM_ACK:c2:ok]")
	var got []string
	for range 10 {
		got = append(got, feed(a, &at, append(append([]Page{}, x...), y...)...)...)
	}
	if len(got) != 2 {
		t.Fatalf("delivered %d lines over 10 turns of two lines, want 2", len(got))
	}
}

func TestAssemblerDropsStalePartials(t *testing.T) {
	a := NewAssembler(5 * time.Second)
	at := t0
	p := pagesOf(3, strings.Repeat("z", 200))
	feed(a, &at, p[0])
	at = at.Add(6 * time.Second)
	if got := feed(a, &at, p[1]); len(got) != 0 {
		t.Fatalf("a line joined from a page held over 5 s: %q", got)
	}
	if got := feed(a, &at, p[0]); len(got) != 1 {
		t.Fatalf("the line did not complete with fresh pages: %q", got)
	}
}

func TestAssemblerBoundedMemory(t *testing.T) {
	a := NewAssembler(time.Hour)
	at := t0
	for id := range 2000 {
		p := pagesOf(uint16(id), strings.Repeat("q", 200))
		feed(a, &at, p[0]) // never completes
		feed(a, &at, pagesOf(uint16(id+30000), "done")...)
	}
	if len(a.pending) > maxLines || len(a.done) > maxLines {
		t.Fatalf("holding %d partial and %d complete lines, bound %d", len(a.pending), len(a.done), maxLines)
	}
}

func TestAssemblerIgnoresMalformedPages(t *testing.T) {
	a := NewAssembler(0)
	at := t0
	bad := []Page{
		{Version: 1, LineID: 1, Index: 0, Count: 2, Payload: []byte("short first page")},
		{Version: 1, LineID: 2, Index: 0, Count: 1},
		{Version: 1, LineID: 3, Index: 3, Count: 1, Payload: []byte("x")},
		{Version: 1}, // the empty outbox
	}
	if got := feed(a, &at, bad...); len(got) != 0 {
		t.Fatalf("delivered %q from malformed pages", got)
	}
}

func TestAssemblerState(t *testing.T) {
	a := NewAssembler(0)
	if a.State().Seen {
		t.Fatal("state seen before any page")
	}
	a.Add(Page{Version: 1, Flags: FlagTyping, Heartbeat: 10}, t0)
	a.Add(Page{Version: 1, Flags: FlagTyping, Heartbeat: 10}, t0.Add(time.Second))
	s := a.State()
	if !s.Seen || s.Flags != FlagTyping || s.Heartbeat != 10 || !s.At.Equal(t0.Add(time.Second)) || !s.HeartbeatAt.Equal(t0) {
		t.Fatalf("state %+v: want flags 1, heartbeat 10 seen at t0+1s, changed at t0", s)
	}
	a.Add(Page{Version: 1, Heartbeat: 11}, t0.Add(2*time.Second))
	s = a.State()
	if s.Flags != 0 || !s.HeartbeatAt.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("state %+v: want flags 0, heartbeat changed at t0+2s", s)
	}
}
