package main_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// build compiles the real binary once per test run.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mgm-ebs")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cleanEnv is a process environment with none of our settings in it.
func cleanEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	return append(env, extra...)
}

// Zero configuration: in an empty folder the binary starts in Development on
// 127.0.0.1:8080 (here another port, as 8080 may be taken) with SQLite under
// ./mgm-data, prints where everything is, and stops cleanly on SIGTERM.
func TestZeroConfigStart(t *testing.T) {
	t.Parallel()
	bin := build(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:18481")
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	banner := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Ready in") {
				banner <- b.String()
			}
		}
	}()
	var out string
	select {
	case out = <-banner:
	case <-time.After(20 * time.Second):
		t.Fatal("no banner within 20 s")
	}
	for _, want := range []string{"Development mode", "http://127.0.0.1:18481", "SQLite " + filepath.Join(dir, "mgm-data", "mgm.db"), "Desktop API key (generated"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	resp, err := http.Get("http://127.0.0.1:18481/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := os.Stat(filepath.Join(dir, "mgm-data", "desktop-api-key.txt")); err != nil {
		t.Fatalf("API key file: %v", err)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not stop within 15 s of SIGTERM")
	}
}

// Production refuses to start without its secrets, naming each one.
func TestProductionRefusesWithoutSecrets(t *testing.T) {
	t.Parallel()
	bin := build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv("ASPNETCORE_ENVIRONMENT=Production", "Mgm__ApiKey=short")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	for _, key := range []string{"Twitch__ExtensionSecret", "Twitch__EventSubSecret", "Mgm__ApiKey"} {
		if !strings.Contains(string(out), key) {
			t.Errorf("output does not name %s:\n%s", key, out)
		}
	}
	if strings.Contains(string(out), "short") && !strings.Contains(string(out), "characters") {
		t.Errorf("output may echo the key:\n%s", out)
	}
}
