package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	// Unstamped, as in tests: "dev", then the toolchain and platform.
	want := "mgm-desktop dev (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH
	if err := run(context.Background(), []string{"--version"}, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), want) {
		t.Fatalf("%v %q, want it to start with %q", err, out.String(), want)
	}
	if err := run(context.Background(), []string{"--bogus"}, &out, &errOut); err == nil {
		t.Fatal("unknown flag accepted")
	}
	if err := run(context.Background(), []string{"extra"}, &out, &errOut); err == nil {
		t.Fatal("positional argument accepted")
	}
	errOut.Reset()
	run(context.Background(), []string{"--help"}, &out, &errOut)
	for _, f := range []string{"--data-dir", "-listen", "-no-browser", "-injector", "-wow-sim-url", "-log-path"} {
		if !strings.Contains(errOut.String(), strings.TrimLeft(f, "-")) {
			t.Errorf("help lacks %s", f)
		}
	}
}

// The Windows build must compile, with the native injector, DPAPI and the
// compile-time sizeof(INPUT) assertion; vet also compiles the Windows-only
// tests.
func TestWindowsBuildCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles for Windows")
	}
	root, _ := filepath.Abs("../..")
	// Only the packages with Windows code are vetted: the others' tests pull
	// in the whole EBS, which would make a cold cross-compile slow.
	for _, args := range [][]string{
		{"build", "-o", os.DevNull, "./cmd/mgm-desktop"},
		{"vet", "./internal/desktop/inject", "./internal/desktop/settings", "./cmd/mgm-desktop"},
	} {
		for _, arch := range []string{"amd64"} {
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH="+arch, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=windows GOARCH=%s go %s: %v\n%s", arch, strings.Join(args, " "), err, out)
			}
		}
	}
}
