package strip

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// Decode errors: each says what the streamer can do about it.
var (
	ErrNotFound = errors.New("the addon's strip is not in the top-left corner of WoW's window: " +
		"is the addon loaded, the UI shown (Alt+Z hides it), and that corner not covered by another window?")
	ErrChecksum = errors.New("the addon's strip was found but its colours do not add up: " +
		"something alters or scales WoW's picture (gamma or brightness, a colour filter, night light, HDR, " +
		"or Windows scaling the window); turn it off or run WoW at 100% scaling")
	ErrUnsupportedVersion = errors.New("the addon's strip has a format this Desktop cannot read: " +
		"update the Desktop and the addon to the same release")
	ErrMalformed = errors.New("the addon's strip is malformed: update the Desktop and the addon to the same release")
)

// Where the locator is searched for (docs/bridge.md).
const (
	searchRows = 16
	searchCols = 64
	// maxCandidates bounds the work spent on stray locator-coloured pixels
	// of the game world before the strip's own.
	maxCandidates = 8
	// widthSlack is how far the true cell width may be from the estimate of
	// the two locator runs: each run's length is rounded to whole pixels, so
	// their mean is off by at most half a pixel.
	widthSlack = 0.625
	widthStep  = 1.0 / 64
)

// Decode finds the strip in img (a capture of the top-left corner of WoW's
// window) and reads its page.
//
// The locator is the first pixel of exactly the first locator colour in the
// top 16 rows and left 64 columns; its run plus the second locator colour's
// run estimate the cell width. Rounding makes that estimate up to half a
// pixel off, which over 66 cells of a scaled window drifts by whole cells,
// so the widths around the estimate are tried in 1/64-pixel steps, nearest
// first, and the first one whose bytes pass the checksum wins.
func Decode(img image.Image) (Page, error) {
	b := img.Bounds()
	var firstErr error
	tried := 0
	for y := b.Min.Y; y < min(b.Min.Y+searchRows, b.Max.Y); y++ {
		for x := b.Min.X; x < min(b.Min.X+searchCols, b.Max.X); x++ {
			if rgbAt(img, x, y) != rgbOf(Locator1) {
				continue
			}
			// Only the top-left pixel of a locator cell starts a strip.
			if (x > b.Min.X && rgbAt(img, x-1, y) == rgbOf(Locator1)) ||
				(y > b.Min.Y && rgbAt(img, x, y-1) == rgbOf(Locator1)) {
				continue
			}
			p, ok, err := decodeAt(img, x, y)
			if !ok {
				continue
			}
			if err == nil {
				return p, nil
			}
			if firstErr == nil || rank(err) > rank(firstErr) {
				firstErr = err
			}
			if tried++; tried >= maxCandidates {
				return Page{}, firstErr
			}
		}
	}
	if firstErr != nil {
		return Page{}, firstErr
	}
	return Page{}, ErrNotFound
}

// rank orders errors by how much they tell: a readable strip of another
// version beats colours that do not add up.
func rank(err error) int {
	switch {
	case errors.Is(err, ErrUnsupportedVersion):
		return 3
	case errors.Is(err, ErrMalformed):
		return 2
	case errors.Is(err, ErrChecksum):
		return 1
	}
	return 0
}

// decodeAt reads the strip whose locator starts at (x0, y0); ok is false
// when no locator follows there (a stray pixel of the right colour).
func decodeAt(img image.Image, x0, y0 int) (Page, bool, error) {
	b := img.Bounds()
	run1 := run(img, x0, y0, 1, 0, Locator1)
	run2 := run(img, x0+run1, y0, 1, 0, Locator2)
	if run2 == 0 {
		return Page{}, false, nil
	}
	vrun := run(img, x0, y0, 0, 1, Locator1)
	y := y0 + vrun/2
	est := float64(run1+run2) / 2

	var firstErr error
	estReadable := false
	for k := 0; float64(k)*widthStep <= widthSlack; k++ {
		for _, sign := range []float64{1, -1} {
			if k == 0 && sign < 0 {
				continue
			}
			w := est + sign*float64(k)*widthStep
			if w < 1 {
				continue
			}
			raw, ok := sample(img, b, float64(x0), y, w)
			if !ok {
				continue
			}
			estReadable = estReadable || k == 0
			p, err := parse(raw)
			if err == nil {
				return p, true, nil
			}
			if rank(err) > rank(firstErr) {
				firstErr = err
			}
		}
	}
	if !estReadable {
		return Page{}, true, fmt.Errorf("%w (the strip runs past the right edge of the captured area: the window is scaled up too far)", ErrChecksum)
	}
	return Page{}, true, firstErr
}

// sample reads the data cells at their centres for cell width w.
func sample(img image.Image, b image.Rectangle, x0 float64, y int, w float64) ([Size]byte, bool) {
	var raw [Size]byte
	for i := range Cells - LocatorCells {
		x := int(math.Floor(x0 + (float64(i+LocatorCells)+0.5)*w))
		if x >= b.Max.X {
			return raw, false
		}
		c := rgbAt(img, x, y)
		raw[3*i], raw[3*i+1], raw[3*i+2] = c[0], c[1], c[2]
	}
	return raw, true
}

// parse checks the 192 bytes and unpacks them.
func parse(raw [Size]byte) (Page, error) {
	sum := Fletcher16(raw[:offChecksum])
	if raw[offChecksum] != byte(sum>>8) || raw[offChecksum+1] != byte(sum) {
		return Page{}, ErrChecksum
	}
	if raw[0] != Version {
		return Page{}, fmt.Errorf("%w (the strip says version %d; this Desktop reads version %d)", ErrUnsupportedVersion, raw[0], Version)
	}
	n := int(raw[8])
	p := Page{
		Version:   raw[0],
		Flags:     raw[1],
		Heartbeat: uint16(raw[2])<<8 | uint16(raw[3]),
		LineID:    uint16(raw[4])<<8 | uint16(raw[5]),
		Index:     int(raw[6]),
		Count:     int(raw[7]),
	}
	switch {
	case n > PageSize:
		return Page{}, fmt.Errorf("%w (payload length %d over %d)", ErrMalformed, n, PageSize)
	case p.Count == 0 && (p.Index != 0 || n != 0):
		return Page{}, fmt.Errorf("%w (a page of an empty outbox carries data)", ErrMalformed)
	case p.Count > 0 && p.Index >= p.Count:
		return Page{}, fmt.Errorf("%w (page %d of %d)", ErrMalformed, p.Index+1, p.Count)
	}
	for _, c := range raw[offPayload+n : offChecksum] {
		if c != 0 {
			return Page{}, fmt.Errorf("%w (bytes after the payload are not zero)", ErrMalformed)
		}
	}
	if raw[Size-1] != 0 {
		return Page{}, fmt.Errorf("%w (the last byte is not zero)", ErrMalformed)
	}
	if n > 0 {
		p.Payload = append([]byte(nil), raw[offPayload:offPayload+n]...)
	}
	return p, nil
}

// run counts the pixels of colour c from (x, y) in steps of (dx, dy).
func run(img image.Image, x, y, dx, dy int, c interface{ RGBA() (r, g, b, a uint32) }) int {
	b := img.Bounds()
	want := rgbOf(c)
	n := 0
	for image.Pt(x, y).In(b) && rgbAt(img, x, y) == want {
		n++
		x, y = x+dx, y+dy
	}
	return n
}

func rgbOf(c interface{ RGBA() (r, g, b, a uint32) }) [3]uint8 {
	r, g, b, _ := c.RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

// rgbAt reads one pixel; the usual capture types skip the colour interface.
func rgbAt(img image.Image, x, y int) [3]uint8 {
	switch m := img.(type) {
	case *image.RGBA:
		i := m.PixOffset(x, y)
		return [3]uint8{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}
	case *image.NRGBA:
		if i := m.PixOffset(x, y); m.Pix[i+3] == 0xFF {
			return [3]uint8{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}
		}
	}
	return rgbOf(img.At(x, y))
}
