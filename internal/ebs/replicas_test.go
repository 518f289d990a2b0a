package ebs_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
)

var listeningRe = regexp.MustCompile(`Listening:\s+http://(\S+)`)

// startReplica runs the real mgm-ebs binary and returns its base URL.
func startReplica(t *testing.T, bin string, env []string) string {
	t.Helper()
	return startProcess(t, bin, env).base
}

// ebsProcess is one run of the real mgm-ebs binary.
type ebsProcess struct {
	base   string
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been waited for
}

// startProcess runs the binary with env on a free loopback port. Cleanup
// stops it with an interrupt (a no-op for one already killed) and, when the
// test failed, logs the tail of its stderr.
func startProcess(t *testing.T, bin string, env []string) *ebsProcess {
	t.Helper()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0")
	cmd.Env = env
	cmd.Dir = t.TempDir()
	addr := make(chan string, 1)
	cmd.Stdout = &bannerWatcher{addr: addr}
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &ebsProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // how it ended is the test's business, not Wait's
		stderr.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(stderr.Name())
			t.Logf("mgm-ebs (pid %d) log tail:\n%s", cmd.Process.Pid, tail(string(b), 3000))
		}
	})
	select {
	case a := <-addr:
		p.base = "http://" + a
		return p
	case <-p.exited:
		b, _ := os.ReadFile(stderr.Name())
		t.Fatalf("mgm-ebs exited at start:\n%s", tail(string(b), 3000))
	case <-time.After(30 * time.Second):
		t.Fatal("mgm-ebs did not start")
	}
	return nil
}

// kill9 kills the process with SIGKILL, the way a crash or an OOM kill ends
// it, and waits until it is gone.
func (p *ebsProcess) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	<-p.exited
}

// bannerWatcher receives the process's stdout and reports the address of
// its "Listening:" banner line once.
type bannerWatcher struct {
	mu      sync.Mutex
	pending []byte
	addr    chan<- string
	found   bool
}

func (w *bannerWatcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.found {
		return len(b), nil
	}
	w.pending = append(w.pending, b...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := w.pending[:i]
		w.pending = w.pending[i+1:]
		if m := listeningRe.FindSubmatch(line); m != nil {
			w.found = true
			w.addr <- string(m[1])
			return len(b), nil
		}
	}
}

// buildEBS builds cmd/mgm-ebs into a temporary folder.
func buildEBS(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mgm-ebs")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/mgm-ebs").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Three EBS processes on one PostgreSQL database behave as one over several
// short cycles: one cycle per window, one draw per cycle, concurrent verify
// calls to different replicas make one payout, and concurrent Sent PATCHes to
// different replicas post one Helix message.
func TestReplicasBehaveAsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 40 s")
	}
	t.Parallel()
	dsn := pgtest.NewDatabase(t)
	helix := newHelixRecorder(t)
	bin := buildEBS(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"Mgm__Environment=Development", "Mgm__SpinIntervalSeconds=10", "Mgm__ApiKey=" + testAPIKey,
		"ConnectionStrings__PostgreSQL=" + dsn, "Twitch__EventSubSecret=" + eventSubSecret,
		"Twitch__BroadcasterUserId=b1", "Twitch__HelixApiBaseUrl=" + helix.URL,
		"Twitch__BroadcasterAccessToken=replica-token", "Twitch__HelixClientId=replica-client",
	}
	var replicas []string
	for i := 0; i < 3; i++ {
		replicas = append(replicas, startReplica(t, bin, env))
	}

	enroll := func(n int, user, name string) {
		t.Helper()
		base := replicas[n%len(replicas)]
		if resp := postSigned(t, base, fmt.Sprintf("rep-%s-%d", user, time.Now().UnixNano()),
			chatNotification(fmt.Sprintf("m-%s-%d", user, n), user, "login"+user, "!twgold "+name, "subscriber")); resp.StatusCode != http.StatusOK {
			t.Fatalf("enroll %s: %d", name, resp.StatusCode)
		}
	}
	names := map[string]string{"r1": "Norinn", "r2": "Thrall", "r3": "Jaina"}
	for u, n := range names {
		enroll(0, u, n)
	}

	const rounds = 3
	winners := 0
	seenCycles := map[string]bool{}
	for round := 0; round < rounds; round++ {
		c := waitCandidate(t, replicas[round%3], 25*time.Second)
		if seenCycles[c.SpinCycleID] {
			t.Fatalf("candidate of cycle %s seen twice", c.SpinCycleID)
		}
		seenCycles[c.SpinCycleID] = true

		// Every replica reports the same /who result at once.
		type verdict struct {
			Outcome  string  `json:"outcome"`
			PayoutID *string `json:"payoutId"`
		}
		results := make([]verdict, 9)
		statuses := make([]int, 9)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				statuses[i] = desktopCall(t, http.MethodPost, replicas[i%3]+"/api/roulette/verify-candidate", map[string]any{
					"schemaVersion": 1, "spinCycleId": c.SpinCycleID, "characterName": c.CharacterName, "online": true,
				}, &results[i])
			}(i)
		}
		wg.Wait()
		for i := range results {
			if statuses[i] != http.StatusOK || results[i].Outcome != "winner" || results[i].PayoutID == nil || *results[i].PayoutID != *results[0].PayoutID {
				t.Fatalf("round %d verify %d: %d %+v", round, i, statuses[i], results[i])
			}
		}
		id := *results[0].PayoutID
		winners++

		for _, st := range []string{"InProgress", "Sent"} {
			codes := make([]int, 6)
			for i := range codes {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					codes[i] = desktopCall(t, http.MethodPatch, replicas[i%3]+"/api/payouts/"+id+"/status", map[string]string{"status": st}, nil)
				}(i)
			}
			wg.Wait()
			for i, code := range codes {
				if code != http.StatusOK {
					t.Fatalf("round %d PATCH %s #%d: %d", round, st, i, code)
				}
			}
		}
		// The announcement is a job that any replica may run: wait for it,
		// then make sure no second line follows.
		for deadline := time.Now().Add(30 * time.Second); len(helix.all()) < winners && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		if got := len(helix.all()); got != winners {
			t.Fatalf("after round %d: %d Helix messages, want %d", round, got, winners)
		}
		// The winner left the pool; they enroll again for the next rounds.
		for u, n := range names {
			if n == c.CharacterName {
				enroll(round+1, u, n)
			}
		}
	}

	// The database's own account of what happened.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var windows, cycles int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT window_start), COUNT(*) FROM spin_cycles`).Scan(&windows, &cycles); err != nil {
		t.Fatal(err)
	}
	if windows != cycles {
		t.Fatalf("%d cycles for %d windows", cycles, windows)
	}
	rows, err := db.QueryContext(ctx, `SELECT stream_id, COUNT(*) FROM events WHERE type = 'CandidateDrawn' GROUP BY stream_id HAVING COUNT(*) > 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		var n int
		rows.Scan(&s, &n)
		t.Errorf("cycle %s drawn %d times", s, n)
	}
	rows.Close()
	var payouts, sent, decided int
	db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN status = 'Sent' THEN 1 END) FROM payouts`).Scan(&payouts, &sent)
	db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE type = 'SpinCycleDecided'`).Scan(&decided)
	if payouts != rounds || sent != rounds {
		t.Fatalf("payouts %d (sent %d), want %d", payouts, sent, rounds)
	}
	var perCycle []int
	rows, _ = db.QueryContext(ctx, `SELECT COUNT(*) FROM events WHERE type = 'SpinCycleDecided' GROUP BY stream_id`)
	for rows.Next() {
		var n int
		rows.Scan(&n)
		perCycle = append(perCycle, n)
	}
	rows.Close()
	sort.Ints(perCycle)
	if len(perCycle) > 0 && perCycle[len(perCycle)-1] != 1 {
		t.Fatalf("a cycle was decided more than once: %v", perCycle)
	}
	for _, r := range helix.all() {
		if r.Body["broadcaster_id"] != "b1" || r.Authorization != "Bearer replica-token" || r.ClientID != "replica-client" {
			t.Fatalf("Helix request %+v", r)
		}
	}
}
