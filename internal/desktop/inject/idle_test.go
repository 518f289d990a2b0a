package inject

import (
	"testing"
	"time"
)

func TestTicksBetweenAcrossTheWrap(t *testing.T) {
	for _, tc := range []struct {
		last, now uint32
		want      time.Duration
	}{
		{1000, 4000, 3 * time.Second},
		{5, 5, 0},
		{0xFFFFFC18, 2000, 3 * time.Second}, // 1 s before the wrap, 2 s after it
		{0xFFFFFFFF, 0, time.Millisecond},
	} {
		if got := ticksBetween(tc.last, tc.now); got != tc.want {
			t.Errorf("ticksBetween(%#x, %#x) = %v, want %v", tc.last, tc.now, got, tc.want)
		}
	}
}

func TestWindowsFactsOutsideWindows(t *testing.T) {
	if NativeAvailable {
		t.Skip("Windows: the real functions answer")
	}
	if _, err := LastInputIdle(); err == nil {
		t.Error("LastInputIdle answered outside Windows")
	}
	if _, err := Elevated(1); err == nil {
		t.Error("Elevated answered outside Windows")
	}
	if SelfElevated() {
		t.Error("SelfElevated true outside Windows")
	}
}
