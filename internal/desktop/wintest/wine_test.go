//go:build !windows

package wintest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tools are the programs the test needs, all from Debian's packages
// (scripts/wine-setup installs them).
var tools = []struct{ name, pkg string }{
	{"wine", "wine and wine64"},
	{"wineboot", "wine"},
	{"wineserver", "wine"},
	{"Xvfb", "xvfb"},
	{"x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64-win32"},
	{"go", "Go"},
}

func requireTools(t *testing.T) {
	t.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool.name); err != nil {
			missing = append(missing, tool.name+" ("+tool.pkg+")")
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "the Wine test needs " + strings.Join(missing, ", ") + ": run scripts/wine-setup"
	if os.Getenv("MGM_REQUIRE_WINE") == "1" {
		t.Fatal(msg + " (required because MGM_REQUIRE_WINE=1)")
	}
	t.Skip(msg)
}

// winPath is a Linux path as Wine's Windows programs see it (drive Z: is /).
func winPath(p string) string { return "Z:" + strings.ReplaceAll(p, "/", `\`) }

// TestWindowsCodeUnderWine builds the Windows side (the test window standing
// in for WoW, the winside checks, and the bcryptprimitives.dll shim), starts
// Xvfb and a fresh Wine prefix, runs the window and then the checks, which
// use the Desktop's real injector, DPAPI store and screen capture.
func TestWindowsCodeUnderWine(t *testing.T) {
	requireTools(t)
	if testing.Short() {
		t.Skip("-short: the Wine test takes about half a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	started := time.Now()

	// The builds and the prefix are independent: do them at once.
	builds := make(chan error, 3)
	goBuild := func(args ...string) {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			builds <- fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
			return
		}
		builds <- nil
	}
	go goBuild("build", "-o", filepath.Join(dir, "WoW.exe"), "./testwindow")
	go goBuild("test", "-c", "-o", filepath.Join(dir, "winside.test.exe"), "./winside")
	go func() {
		// Go >= 1.22 loads bcryptprimitives.dll from system32 at start;
		// Wine 8.0 has none (prngshim/processprng.c).
		cmd := exec.CommandContext(ctx, "x86_64-w64-mingw32-gcc", "-shared", "-O2", "-s",
			"-o", filepath.Join(dir, "bcryptprimitives.dll"),
			"prngshim/processprng.c", "prngshim/bcryptprimitives.def", "-ladvapi32")
		if out, err := cmd.CombinedOutput(); err != nil {
			builds <- fmt.Errorf("building the bcryptprimitives.dll shim: %v\n%s", err, out)
			return
		}
		builds <- nil
	}()

	display := startXvfb(ctx, t, dir)
	prefix := filepath.Join(dir, "prefix")
	wineEnv := append(os.Environ(),
		"WINEPREFIX="+prefix, "WINEARCH=win64",
		// Wine reads arguments and the environment in the Unix locale's
		// charset: UTF-8, whatever the machine's locale.
		"LC_ALL=C.UTF-8", "WINEDEBUG=-all", "DISPLAY="+display,
		// No Mono or Gecko install prompts: nothing here needs them.
		"WINEDLLOVERRIDES=mscoree,mshtml=")
	t.Cleanup(func() {
		// Ends every Wine process of the prefix (the test window too).
		kill := exec.Command("wineserver", "-k")
		kill.Env = wineEnv
		_ = kill.Run() // fails only when no server runs: nothing to stop
		wait := exec.Command("wineserver", "-w")
		wait.Env = wineEnv
		_ = wait.Run()
	})
	if out, err := runWine(ctx, wineEnv, dir, "wineboot.log", "wineboot", "-i"); err != nil {
		t.Fatalf("wineboot -i: %v\n%s", err, out)
	}
	t.Logf("Wine prefix ready after %v", time.Since(started).Round(time.Millisecond))
	for range 3 {
		if err := <-builds; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("Windows programs built after %v", time.Since(started).Round(time.Millisecond))
	shim, err := os.ReadFile(filepath.Join(dir, "bcryptprimitives.dll"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll"), shim, 0o644); err != nil {
		t.Fatal(err)
	}

	results := filepath.Join(dir, "results.txt")
	stripLine := `[MGM_SEQ:k3x9:7][MGM_PONG:n0nce:Ærlîn]`
	windowLog, err := os.Create(filepath.Join(dir, "window.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = windowLog.Close() }() // the window writes through its own copy
	window := exec.CommandContext(ctx, "wine", filepath.Join(dir, "WoW.exe"), "-results", winPath(results), "-line", stripLine)
	window.Env, window.Dir = wineEnv, dir
	window.Stdout, window.Stderr = windowLog, windowLog
	if err := window.Start(); err != nil {
		t.Fatalf("starting the test window: %v", err)
	}
	windowDone := make(chan error, 1)
	go func() { windowDone <- window.Wait() }()
	t.Cleanup(func() {
		// wineserver -k (registered earlier, so run after this) ends it.
		go func() {
			kill := exec.Command("wineserver", "-k")
			kill.Env = wineEnv
			_ = kill.Run()
		}()
		select {
		case <-windowDone:
		case <-time.After(30 * time.Second):
			_ = window.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "window.log"))
			t.Logf("test window output:\n%s", b)
		}
	})

	checksEnv := append(wineEnv, "MGM_WINTEST_DIR="+winPath(dir), "MGM_WINTEST_RESULTS="+winPath(results), "MGM_WINTEST_LINE="+stripLine)
	out, err := runWine(ctx, checksEnv, dir, "winside.log", "wine", filepath.Join(dir, "winside.test.exe"), "-test.v", "-test.timeout=3m")
	t.Logf("Windows-side checks (after %v):\n%s", time.Since(started).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("the Windows-side checks failed: %v", err)
	}
	if bytes.Contains(out, []byte("--- SKIP")) || !bytes.Contains(out, []byte("--- PASS: TestInject")) {
		t.Fatal("the Windows-side checks skipped or did not run TestInject: the harness did not reach them")
	}
}

// runWine runs a Wine command with its output in a file, not a pipe: Wine
// starts background processes (wineserver, services) that inherit the
// output and keep a pipe open long after the command itself has exited.
func runWine(ctx context.Context, env []string, dir, logName, name string, args ...string) ([]byte, error) {
	logPath := filepath.Join(dir, logName)
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, dir, f, f
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	out, rerr := os.ReadFile(logPath)
	if err == nil {
		err = rerr
	}
	return out, err
}

// startXvfb starts a virtual X display on a free display number (Xvfb picks
// it and writes it to -displayfd) and stops it at the end of the test.
func startXvfb(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }() // only the display number was wanted from it
	logPath := filepath.Join(dir, "xvfb.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = logFile.Close() }() // Xvfb writes through its own copy
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1024x768x24")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	err = cmd.Start()
	_ = w.Close() // Xvfb holds its own copy
	if err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// SIGTERM lets Xvfb remove its lock file and socket.
		_ = cmd.Process.Signal(syscall.SIGTERM) // already gone is fine
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	xvfbLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if n == "" {
			t.Fatalf("Xvfb did not report its display:\n%s", xvfbLog())
		}
		return ":" + n
	case <-exited:
		t.Fatalf("Xvfb exited: %v\n%s", waitErr, xvfbLog())
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start within 30 s")
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	return ""
}
