//go:build windows

package inject

import (
	"os"
	"testing"
)

func TestWindowsFacts(t *testing.T) {
	if _, err := LastInputIdle(); err != nil {
		t.Fatalf("LastInputIdle: %v", err)
	}
	got, err := Elevated(uint32(os.Getpid()))
	if err != nil {
		t.Fatalf("Elevated(own pid): %v", err)
	}
	if got != SelfElevated() {
		t.Fatalf("Elevated(own pid) = %v, SelfElevated() = %v", got, SelfElevated())
	}
	if _, err := Elevated(0xFFFFFFF0); err == nil {
		t.Fatal("Elevated answered for a process that does not exist")
	}
}
