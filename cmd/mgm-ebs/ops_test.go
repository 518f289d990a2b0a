package main_test

import (
	"bufio"
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/sim/loadgen"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

const (
	opsEventSubSecret = "ops-test-eventsub-secret"
	opsBroadcaster    = "4242"
)

// opsEnv runs the EBS in Development with signed EventSub on dataDir.
func opsEnv(dataDir string, extra ...string) []string {
	return cleanEnv(append([]string{"Mgm__Environment=Development", "Mgm__DataDir=" + dataDir,
		"Twitch__EventSubSecret=" + opsEventSubSecret, "Twitch__BroadcasterUserId=" + opsBroadcaster}, extra...)...)
}

var listening = regexp.MustCompile(`Listening:\s+http://(\S+)`)

// startEBS runs the binary on dataDir on a free port until the test ends and
// returns its base URL; env adds to its environment.
func startEBS(t *testing.T, bin, dataDir string, env ...string) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(opsEnv(dataDir, "Mgm__Listen=127.0.0.1:0"), env...)
	stdout, _ := cmd.StdoutPipe()
	stderr := &testkit.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("EBS on %s: exit after SIGTERM: %v\n%s", dataDir, err, stderr)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("EBS on %s did not stop within 15 s of SIGTERM", dataDir)
		}
	})
	select {
	case a := <-addr:
		base := "http://" + a
		resp, err := http.Get(base + "/readyz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("readyz: %v %v", resp, err)
		}
		resp.Body.Close()
		return base
	case err := <-exited:
		t.Fatalf("EBS on %s exited: %v\n%s", dataDir, err, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("EBS on %s: no banner within 30 s\n%s", dataDir, stderr)
	}
	return ""
}

// mgmEBS runs one subcommand of the binary and returns its output.
func mgmEBS(t *testing.T, bin, dataDir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = opsEnv(dataDir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mgm-ebs backup while chat enrollments pour in, restored into a fresh data
// folder and served by another EBS: every enrollment acknowledged before the
// backup started is there, the copy passes SQLite's integrity check, and
// enrollments were acknowledged while the backup ran (so it did run under
// load, not beside an idle server).
func TestBackupUnderLoadRestores(t *testing.T) {
	bin := build(t)
	liveDir := filepath.Join(t.TempDir(), "live")
	live := startEBS(t, bin, liveDir)
	opts := loadgen.Options{EBS: live, Connections: 8, EventSubSecret: opsEventSubSecret,
		ExtensionKey: auth.DevExtensionSecret(), BroadcasterUserID: opsBroadcaster}

	// A pool to copy: 2,000 enrollments, all acknowledged.
	first := opts
	first.Viewers = 2000
	run1, err := loadgen.Enroll(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	acked := run1.Acknowledged()
	if len(acked) != first.Viewers {
		t.Fatalf("%d of %d first enrollments acknowledged", len(acked), first.Viewers)
	}

	// More enrollments, still going when the backup starts and until it ends.
	second := opts
	second.Start, second.Viewers = first.Viewers, 200_000
	loadCtx, stopLoad := context.WithCancel(context.Background())
	defer stopLoad()
	run2c := make(chan *loadgen.Run, 1)
	go func() {
		r, _ := loadgen.Enroll(loadCtx, second) // ends by cancellation
		run2c <- r
	}()
	time.Sleep(500 * time.Millisecond)
	backup := filepath.Join(t.TempDir(), "mgm-backup.db")
	backupStart := time.Now()
	out, err := mgmEBS(t, bin, liveDir, "backup", backup)
	backupEnd := time.Now()
	stopLoad()
	run2 := <-run2c
	if err != nil || !strings.Contains(out, "integrity ok") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	t.Logf("backup took %v: %s", backupEnd.Sub(backupStart).Round(time.Millisecond), strings.TrimSpace(out))
	// A sample's Done counts from run2.Started, the moment Enroll's clock
	// started (which may be well after the goroutine was started under a
	// loaded -race run: Enroll allocates its samples first). The margin
	// keeps "before" and "during" certain against clock reading order only.
	const margin = 5 * time.Millisecond
	during := 0
	for _, s := range run2.Samples {
		if !s.Acknowledged() {
			continue
		}
		switch at := run2.Started.Add(s.Done); {
		case at.Add(margin).Before(backupStart):
			acked = append(acked, s.Viewer)
		case at.After(backupStart):
			during++
		}
	}
	t.Logf("%d enrollments acknowledged before the backup started, %d while it ran", len(acked), during)
	if during == 0 {
		t.Fatal("no enrollment was acknowledged while the backup ran: it did not run under load")
	}

	in, err := sqlite.Inspect(context.Background(), backup)
	if err != nil || in.Integrity != "ok" {
		t.Fatalf("PRAGMA integrity_check of the backup: %+v %v", in, err)
	}
	if in.Pool < int64(len(acked)) {
		t.Errorf("the backup's pool has %d members, fewer than the %d acknowledged", in.Pool, len(acked))
	}

	// Restore into a fresh folder (not while the live EBS holds its own), serve it, check.
	if out, err := mgmEBS(t, bin, liveDir, "restore", backup, "--force"); err == nil || !strings.Contains(out, "stop it first") {
		t.Errorf("restore beside the running EBS: %v\n%s", err, out)
	}
	freshDir := filepath.Join(t.TempDir(), "fresh")
	if out, err := mgmEBS(t, bin, freshDir, "restore", backup); err != nil || !strings.Contains(out, "Restored ") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	restored := opts
	restored.EBS, restored.Viewers = startEBS(t, bin, freshDir), len(acked)
	check, err := loadgen.Check(context.Background(), restored, acked)
	if err != nil || !check.OK() {
		t.Fatalf("%d of %d acknowledged enrollments present after restore (%v): %s",
			check.Present, check.Checked, err, strings.Join(check.Problems, "; "))
	}
	if out, err := mgmEBS(t, bin, freshDir, "migrate", "--status"); err != nil || !strings.Contains(out, "Schema is current.") {
		t.Errorf("migrate --status on the restored folder: %v\n%s", err, out)
	}
	t.Logf("all %d acknowledged enrollments present after restore", check.Present)
}
