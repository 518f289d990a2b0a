package main_test

import (
	"bufio"
	"context"
	"fmt"
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
	defer func() { _ = cmd.Process.Kill() }() // the SIGTERM below reaps it on success
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
	for _, want := range []string{"— Development mode (no Production setting is set)\n", "http://127.0.0.1:18481",
		"Gift queue: development broadcaster id \"dev-channel\" (Twitch__BroadcasterUserId not set)", "SQLite " + filepath.Join(dir, "mgm-data", "mgm.db"), "Desktop API key (generated"} {
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

// Two processes started at once on one fresh SQLite data folder: exactly one
// serves, the other exits at once, before touching the database, naming the
// one that holds the folder. Ten times, because the race it replaces lost
// only sometimes.
func TestTwoProcessesOneDataFolder(t *testing.T) {
	bin := build(t)
	for trial := range 10 {
		dir := filepath.Join(t.TempDir(), "data")
		type result struct {
			cmd    *exec.Cmd
			stderr *strings.Builder
			ready  chan struct{}
			exited chan error
		}
		procs := make([]*result, 2)
		for i := range procs {
			cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--data-dir", dir)
			cmd.Env = cleanEnv()
			stdout, _ := cmd.StdoutPipe()
			r := &result{cmd: cmd, stderr: &strings.Builder{}, ready: make(chan struct{}), exited: make(chan error, 1)}
			cmd.Stderr = r.stderr
			procs[i] = r
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "Ready in") {
						close(r.ready)
					}
				}
				r.exited <- cmd.Wait()
			}()
		}
		var server, loser *result
		deadline := time.After(20 * time.Second)
		for server == nil || loser == nil {
			select {
			case <-procs[0].ready:
				server, loser = procs[0], procs[1]
				procs[0].ready = nil
			case <-procs[1].ready:
				server, loser = procs[1], procs[0]
				procs[1].ready = nil
			case <-deadline:
				t.Fatalf("trial %d: no server within 20 s:\n%s\n%s", trial, procs[0].stderr, procs[1].stderr)
			}
		}
		select {
		case err := <-loser.exited:
			ee, ok := err.(*exec.ExitError)
			want := fmt.Sprintf("another mgm-ebs is using %s (pid %d)", dir, server.cmd.Process.Pid)
			if !ok || ee.ExitCode() == 0 || !strings.Contains(loser.stderr.String(), want) {
				t.Fatalf("trial %d: second process: %v\n%s\nwant %q", trial, err, loser.stderr, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("trial %d: both processes serve one data folder", trial)
		}
		_ = server.cmd.Process.Signal(syscall.SIGTERM)
		if err := <-server.exited; err != nil {
			t.Fatalf("trial %d: server exit: %v\n%s", trial, err, server.stderr)
		}
	}
}

// Production refuses placeholder and weak secrets, naming each problem and
// echoing none of them.
func TestProductionRefusesWeakSecrets(t *testing.T) {
	bin := build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv("Twitch__ExtensionSecret=changeme", "Twitch__EventSubSecret=changeme", "Mgm__ApiKey=changeme")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Twitch__ExtensionSecret is too short (6 bytes decoded", "Twitch__ExtensionSecret is a placeholder",
		"Twitch__EventSubSecret is too short (8 characters", "Twitch__EventSubSecret is a placeholder",
		"Mgm__ApiKey: key #1 is too short", "Mgm__ApiKey: key #1 is a placeholder",
		"Production was assumed because Mgm__ApiKey, Twitch__ExtensionSecret and Twitch__EventSubSecret are set",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "changeme") {
		t.Errorf("output echoes the secret:\n%s", out)
	}
}

// Development on an address others can reach must be asked for by name; when
// it is, the banner says so.
func TestNonLoopbackDevelopment(t *testing.T) {
	bin := build(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--listen", ":0")
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv("Twitch__BroadcasterUserId=12345")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 ||
		!strings.Contains(string(out), "Mgm__Listen: :0 is not a loopback address") || !strings.Contains(string(out), "set Mgm__Environment=Development") {
		t.Fatalf("zero-config on every interface: %v\n%s", err, out)
	}

	cmd = exec.CommandContext(ctx, bin, "--listen", ":0")
	cmd.Dir = t.TempDir()
	cmd.Env = cleanEnv("Mgm__Environment=Development")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stop(cmd)
	sc := bufio.NewScanner(stdout)
	var lines []string
	for sc.Scan() && len(lines) < 2 {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 2 || !strings.HasSuffix(lines[0], "— Development mode (Mgm__Environment=Development)") ||
		!strings.HasPrefix(lines[1], "  WARNING: Development mode on :0, which is not a loopback address") {
		t.Fatalf("banner starts:\n%s", strings.Join(lines, "\n"))
	}
}

// stop kills a process the test started, if it still runs, and reaps it, so
// neither the process nor os/exec's goroutines outlive the test.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// The server runs under the default soft memory limit (main.go's
// defaultMemoryLimit, 48 MiB; this package cannot import main),
// and an operator's GOMEMLIMIT replaces it. Read back from the Go runtime's
// own gauge on /metrics (open in Development).
func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	bin := build(t)
	for _, c := range []struct {
		env  []string
		want string
	}{
		{nil, fmt.Sprintf("go_gc_gomemlimit_bytes %g\n", float64(48<<20))},
		{[]string{"GOMEMLIMIT=200MiB"}, fmt.Sprintf("go_gc_gomemlimit_bytes %g\n", float64(200<<20))},
	} {
		base := startEBS(t, bin, t.TempDir(), c.env...)
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), c.want) {
			t.Errorf("GOMEMLIMIT %v: /metrics lacks %q", c.env, strings.TrimSpace(c.want))
		}
	}
}
