// Package strip encodes and decodes the addon's screen strip (docs/bridge.md,
// "The strip"): a row of 66 solid-colour cells in the top-left corner of
// WoW's window, two locator cells and 192 bytes of state and outbox pages.
// It is pure: capturing the window is package screen's job.
package strip

import (
	"image"
	"image/color"
	"image/draw"
)

// Layout of the strip (docs/bridge.md).
const (
	// Cells is the number of cells in the strip, the locator included.
	Cells = 66
	// LocatorCells precede the data cells.
	LocatorCells = 2
	// Size is the number of bytes the data cells carry.
	Size = 3 * (Cells - LocatorCells)
	// PageSize is the most payload bytes one page carries.
	PageSize = 180
	// Version is the strip format this package reads and writes.
	Version = 1
	// Cell is the addon's cell size in physical pixels.
	Cell = 3

	offPayload  = 9
	offChecksum = 189
)

// Flag bits of Page.Flags: the addon's live state.
const (
	// FlagTyping: an edit box has the keyboard focus (the streamer types).
	FlagTyping = 1 << 0
	// FlagMailbox: the mailbox is open.
	FlagMailbox = 1 << 1
	// FlagChatLog: chat logging is on.
	FlagChatLog = 1 << 2
)

// The locator colours, cells 0 and 1.
var (
	Locator1 = color.RGBA{0x4D, 0x47, 0x42, 0xFF}
	Locator2 = color.RGBA{0x21, 0x62, 0x72, 0xFF}
)

// Page is what one frame of the strip says.
type Page struct {
	Version   uint8
	Flags     uint8
	Heartbeat uint16
	// LineID is the bridge line's sequence number mod 65536 (0: the outbox
	// is empty).
	LineID uint16
	// Index is the page's 0-based position in its line; Count the line's
	// number of pages (0: the outbox is empty).
	Index, Count int
	// Payload is this page's share of the bridge line, at most PageSize
	// bytes.
	Payload []byte
}

// Typing reports flag bit 0: an edit box has the keyboard focus.
func (p Page) Typing() bool { return p.Flags&FlagTyping != 0 }

// Fletcher16 is the strip's checksum: both sums mod 255, sum2<<8 | sum1.
func Fletcher16(b []byte) uint16 {
	var s1, s2 uint32
	for _, c := range b {
		s1 = (s1 + uint32(c)) % 255
		s2 = (s2 + s1) % 255
	}
	return uint16(s2<<8 | s1)
}

// Bytes lays p out as the strip's 192 bytes, checksum included. A payload
// longer than PageSize is cut to PageSize (Pages splits lines correctly);
// Index and Count are stored as single bytes.
func Bytes(p Page) [Size]byte {
	var b [Size]byte
	b[0] = p.Version
	b[1] = p.Flags
	b[2], b[3] = byte(p.Heartbeat>>8), byte(p.Heartbeat)
	b[4], b[5] = byte(p.LineID>>8), byte(p.LineID)
	b[6] = byte(p.Index)
	b[7] = byte(p.Count)
	n := copy(b[offPayload:offPayload+PageSize], p.Payload)
	b[8] = byte(n)
	sum := Fletcher16(b[:offChecksum])
	b[offChecksum], b[offChecksum+1] = byte(sum>>8), byte(sum)
	return b
}

// Encode returns the strip's 66 cell colours, the locator first.
func Encode(p Page) []color.RGBA {
	b := Bytes(p)
	cells := make([]color.RGBA, 0, Cells)
	cells = append(cells, Locator1, Locator2)
	for i := 0; i < Size; i += 3 {
		cells = append(cells, color.RGBA{b[i], b[i+1], b[i+2], 0xFF})
	}
	return cells
}

// Draw paints p's strip into img with its top-left corner at origin, each
// cell cell×cell pixels, as the addon draws it.
func Draw(img draw.Image, origin image.Point, cell int, p Page) {
	for i, c := range Encode(p) {
		r := image.Rect(0, 0, cell, cell).Add(origin).Add(image.Pt(i*cell, 0))
		draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
	}
}

// Pages splits a bridge line into the payloads of its pages, PageSize bytes
// each (the last may be shorter). A line may be cut inside a UTF-8 sequence:
// the pages are joined as bytes. The empty line has no pages.
func Pages(line string) [][]byte {
	var out [][]byte
	for len(line) > 0 {
		n := min(PageSize, len(line))
		out = append(out, []byte(line[:n]))
		line = line[n:]
	}
	return out
}
