package strip

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFletcher16KnownValues(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint16
	}{
		{"abcde", 0xC8F0},
		{"abcdef", 0x2057},
		{"abcdefgh", 0x0627},
		{"", 0},
	} {
		if got := Fletcher16([]byte(tc.in)); got != tc.want {
			t.Errorf("Fletcher16(%q) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
}

func TestBytesLayout(t *testing.T) {
	b := Bytes(Page{Version: 1, Flags: FlagTyping | FlagChatLog, Heartbeat: 0x1234, LineID: 0xBEEF, Index: 1, Count: 3, Payload: []byte("hi")})
	want := []byte{1, 5, 0x12, 0x34, 0xBE, 0xEF, 1, 3, 2, 'h', 'i', 0}
	if !bytes.Equal(b[:len(want)], want) {
		t.Fatalf("header % x, want % x", b[:len(want)], want)
	}
	sum := Fletcher16(b[:189])
	if b[189] != byte(sum>>8) || b[190] != byte(sum) || b[191] != 0 {
		t.Fatalf("checksum bytes % x, want %04x then 0", b[189:], sum)
	}
	cells := Encode(Page{Version: 1})
	if len(cells) != Cells || cells[0] != Locator1 || cells[1] != Locator2 {
		t.Fatalf("Encode: %d cells starting %v %v", len(cells), cells[0], cells[1])
	}
	if cells[2] != (color.RGBA{1, 0, 0, 0xFF}) {
		t.Fatalf("cell 2 = %v, want the version byte in red", cells[2])
	}
}

func TestPages(t *testing.T) {
	line := strings.Repeat("x", 400)
	p := Pages(line)
	if len(p) != 3 || len(p[0]) != 180 || len(p[1]) != 180 || len(p[2]) != 40 {
		t.Fatalf("Pages(400 bytes) = %d pages", len(p))
	}
	if string(bytes.Join(p, nil)) != line {
		t.Fatal("pages do not join back into the line")
	}
	if Pages("") != nil {
		t.Fatal("the empty line has pages")
	}
	if len(Pages(strings.Repeat("y", 180))) != 1 {
		t.Fatal("a 180-byte line needs one page")
	}
}

// canvas is a capture-sized image filled with a game-like noise.
func canvas(w, h int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 0xFF
	}
	return img
}

// scale resizes img by s with nearest-neighbour sampling, as a window
// stretched without filtering would show it.
func scale(img image.Image, s float64) *image.RGBA {
	b := img.Bounds()
	w, h := int(math.Round(float64(b.Dx())*s)), int(math.Round(float64(b.Dy())*s))
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			out.Set(x, y, img.At(b.Min.X+int(float64(x)/s), b.Min.Y+int(float64(y)/s)))
		}
	}
	return out
}

func crop(img *image.RGBA, w, h int) *image.RGBA {
	return img.SubImage(image.Rect(0, 0, w, h)).(*image.RGBA)
}

func samplePage() Page {
	return Page{Version: 1, Flags: FlagTyping | FlagMailbox, Heartbeat: 0xFFFE, LineID: 4242, Index: 1, Count: 2,
		Payload: []byte("[MGM_SEQ:k3x9:4242][MGM_ACK:c1:ok] ünïcödé")}
}

func samePage(a, b Page) bool {
	return a.Version == b.Version && a.Flags == b.Flags && a.Heartbeat == b.Heartbeat && a.LineID == b.LineID &&
		a.Index == b.Index && a.Count == b.Count && bytes.Equal(a.Payload, b.Payload)
}

func TestRoundTrip(t *testing.T) {
	full := Page{Version: 1, LineID: 1, Count: 1, Payload: bytes.Repeat([]byte{0xFF, 0x00, 0x7F}, 60)}
	for _, tc := range []struct {
		name   string
		width  int // of the capture; 0: 256
		cell   int
		origin image.Point
		scale  float64
		page   Page
	}{
		{"3px at the corner", 0, 3, image.Pt(0, 0), 1, samplePage()},
		{"1px cells", 0, 1, image.Pt(0, 0), 1, samplePage()},
		{"4px cells, offset", 300, 4, image.Pt(11, 5), 1, samplePage()},
		{"empty outbox", 0, 3, image.Pt(0, 0), 1, Page{Version: 1, Heartbeat: 7}},
		{"full page", 0, 3, image.Pt(0, 0), 1, full},
		{"scaled 1.25", 0, 3, image.Pt(0, 0), 1.25, samplePage()},
		{"scaled 0.8", 0, 3, image.Pt(0, 0), 0.8, samplePage()},
		{"scaled 1.25, full page", 0, 3, image.Pt(0, 0), 1.25, full},
		{"scaled 0.8, offset", 0, 3, image.Pt(7, 3), 0.8, full},
		{"scaled 1.1", 0, 3, image.Pt(2, 1), 1.1, samplePage()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.width == 0 {
				tc.width = 256
			}
			img := canvas(320, 24, 7)
			Draw(img, tc.origin, tc.cell, tc.page)
			var src image.Image = img
			if tc.scale != 1 {
				src = scale(img, tc.scale)
			}
			got, err := Decode(crop(src.(*image.RGBA), tc.width, 16))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !samePage(got, tc.page) {
				t.Fatalf("Decode = %+v, want %+v", got, tc.page)
			}
		})
	}
}

// errClipped stands for ErrChecksum saying the strip runs off the capture.
var errClipped = errors.New("clipped")

func TestDecodeErrors(t *testing.T) {
	draw3 := func(p Page) *image.RGBA {
		img := canvas(256, 16, 3)
		Draw(img, image.Point{}, 3, p)
		return img
	}
	for _, tc := range []struct {
		name string
		img  func() image.Image
		want error
	}{
		{"no strip", func() image.Image { return canvas(256, 16, 3) }, ErrNotFound},
		{"a stray locator pixel", func() image.Image {
			img := canvas(256, 16, 3)
			img.Set(10, 4, Locator1)
			return img
		}, ErrNotFound},
		{"locator right of the search area", func() image.Image {
			img := canvas(400, 16, 3)
			Draw(img, image.Pt(64, 0), 3, samplePage())
			return img
		}, ErrNotFound},
		{"locator below the search area", func() image.Image {
			img := canvas(256, 24, 3)
			Draw(img, image.Pt(0, 16), 3, samplePage())
			return img
		}, ErrNotFound},
		{"one cell altered", func() image.Image {
			img := draw3(samplePage())
			// Cell 20: every pixel's red one step brighter. (Fletcher-16
			// mod 255 cannot tell 0x00 from 0xFF, so the change is ±1.)
			for y := range 3 {
				for x := 60; x < 63; x++ {
					i := img.PixOffset(x, y)
					img.Pix[i] ^= 1
				}
			}
			return img
		}, ErrChecksum},
		{"gamma on the whole picture", func() image.Image {
			img := draw3(samplePage())
			for i := 0; i < len(img.Pix); i += 4 {
				for c := range 3 {
					img.Pix[i+c] = uint8(math.Round(255 * math.Pow(float64(img.Pix[i+c])/255, 0.9)))
				}
			}
			return img
		}, ErrNotFound},
		{"version 2", func() image.Image {
			p := samplePage()
			p.Version = 2
			return draw3(p)
		}, ErrUnsupportedVersion},
		{"page index past the count", func() image.Image {
			p := samplePage()
			p.Index = 5
			return draw3(p)
		}, ErrMalformed},
		{"scaled past the captured area", func() image.Image {
			img := canvas(320, 16, 3)
			Draw(img, image.Point{}, 3, samplePage())
			return crop(scale(img, 1.5), 256, 16)
		}, errClipped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.img())
			if tc.want == errClipped {
				if !strings.Contains(fmt.Sprint(err), "right edge") {
					t.Fatalf("Decode error = %v, want one about the right edge", err)
				}
				tc.want = ErrChecksum
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode error = %v, want %v", err, tc.want)
			}
			for _, other := range []error{ErrNotFound, ErrChecksum, ErrUnsupportedVersion, ErrMalformed} {
				if other != tc.want && errors.Is(err, other) {
					t.Fatalf("Decode error %v is also %v", err, other)
				}
			}
		})
	}
}

// A stray pixel of the locator colour before the strip must not hide it.
func TestDecodeSkipsStrayLocatorPixels(t *testing.T) {
	img := canvas(256, 16, 9)
	Draw(img, image.Pt(4, 6), 3, samplePage())
	img.Set(1, 0, Locator1)
	img.Set(2, 0, Locator2)
	img.Set(30, 2, Locator1)
	got, err := Decode(img)
	if err != nil || !samePage(got, samplePage()) {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("[MGM_SEQ:a:1][MGM_PONG:n:Thrall]"), uint8(1), uint16(9), uint16(1), uint8(0), uint8(1), uint8(3))
	f.Add([]byte{}, uint8(0), uint16(0), uint16(0), uint8(0), uint8(0), uint8(1))
	f.Add(bytes.Repeat([]byte{0xFF}, 180), uint8(7), uint16(65535), uint16(65535), uint8(254), uint8(255), uint8(2))
	f.Fuzz(func(t *testing.T, payload []byte, flags uint8, hb, id uint16, index, count, cell uint8) {
		if len(payload) > PageSize {
			payload = payload[:PageSize]
		}
		p := Page{Version: 1, Flags: flags, Heartbeat: hb, LineID: id, Index: int(index), Count: int(count), Payload: payload}
		if p.Count == 0 {
			p.Index, p.Payload = 0, nil
		} else if p.Index >= p.Count {
			p.Index = p.Count - 1
		}
		if len(p.Payload) == 0 {
			p.Payload = nil
		}
		c := 1 + int(cell)%3
		img := canvas(Cells*c+8, 16, uint64(hb))
		Draw(img, image.Pt(int(flags)%5, int(index)%4), c, p)
		got, err := Decode(img)
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !samePage(got, p) {
			t.Fatalf("Decode = %+v, want %+v", got, p)
		}
	})
}

func FuzzDecode(f *testing.F) {
	good := image.NewRGBA(image.Rect(0, 0, 200, 4))
	Draw(good, image.Point{}, 3, samplePage())
	f.Add(good.Pix, uint8(200))
	f.Add([]byte{0x4D, 0x47, 0x42, 0xFF, 0x21, 0x62, 0x72, 0xFF}, uint8(2))
	f.Add([]byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, pix []byte, width uint8) {
		w := max(1, int(width))
		h := len(pix) / 4 / w
		img := &image.RGBA{Pix: pix[:w*h*4], Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
		p, err := Decode(img)
		if err == nil && p.Version != Version {
			t.Fatalf("decoded version %d without an error", p.Version)
		}
		// Also as an image whose bounds do not start at the origin.
		if h > 1 {
			_, _ = Decode(img.SubImage(image.Rect(1, 1, w, h)))
		}
	})
}
