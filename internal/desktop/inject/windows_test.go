//go:build windows

package inject

import (
	"testing"
	"unsafe"
)

// SendInput rejects a cbSize that is not sizeof(INPUT); the predecessor's
// fallback failed for exactly that reason.
func TestInputStructSize(t *testing.T) {
	want := uintptr(28)
	if unsafe.Sizeof(uintptr(0)) == 8 {
		want = 40
	}
	if got := unsafe.Sizeof(input{}); got != want {
		t.Fatalf("sizeof(INPUT) = %d, want %d", got, want)
	}
	if unsafe.Offsetof(input{}.ki) != unsafe.Sizeof(uintptr(0)) {
		t.Fatalf("KEYBDINPUT at offset %d", unsafe.Offsetof(input{}.ki))
	}
}
