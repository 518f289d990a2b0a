//go:build windows

package screen

import (
	"image"
	"testing"
	"unsafe"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/strip"
)

// CreateDIBSection reads BITMAPINFOHEADER's biSize: 40 bytes.
func TestBitmapInfoHeaderSize(t *testing.T) {
	if got := unsafe.Offsetof(bitmapInfo{}.colors); got != 40 {
		t.Fatalf("BITMAPINFOHEADER is %d bytes, want 40", got)
	}
}

// A DIB holds B, G, R, unused: the strip must decode after the conversion.
func TestToRGBAFromDIBOrder(t *testing.T) {
	want := strip.Page{Version: 1, Flags: strip.FlagTyping, Heartbeat: 3, LineID: 1, Count: 1, Payload: []byte("[MGM_SEQ:a:1][MGM_PONG:n:Jaina]")}
	img := image.NewRGBA(image.Rect(0, 0, 256, 16))
	strip.Draw(img, image.Point{}, strip.Cell, want)
	dib := make([]byte, len(img.Pix))
	for i := 0; i < len(dib); i += 4 {
		dib[i], dib[i+1], dib[i+2] = img.Pix[i+2], img.Pix[i+1], img.Pix[i]
	}
	if black(dib) {
		t.Fatal("a strip counted as black")
	}
	got, err := strip.Decode(toRGBA(dib, 256, 16))
	if err != nil || string(got.Payload) != string(want.Payload) {
		t.Fatalf("Decode = %+v, %v", got, err)
	}
	if !black(make([]byte, 64)) {
		t.Fatal("zeros not black")
	}
}
