package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// Goroutines started by this package's tests must end with them.
func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }

func TestViewerNamesAreValidAndDistinct(t *testing.T) {
	seen := map[string]int{}
	idx := []int{MaxViewers - 1, MaxViewers - 26, 26 * 26 * 26}
	for i := range 5000 {
		idx = append(idx, i)
	}
	for _, i := range idx {
		v := ViewerAt(i)
		name, err := mgm.ValidateCharacterName(v.Character)
		if err != nil || name != v.Character {
			t.Fatalf("viewer %d: character %q is not a valid name: %v", i, v.Character, err)
		}
		if v.Character[0] < 'A' || v.Character[0] > 'Z' {
			t.Fatalf("viewer %d: character %q does not start with a capital", i, v.Character)
		}
		k := mgm.NameKey(v.Character)
		if j, ok := seen[k]; ok && j != i {
			t.Fatalf("viewers %d and %d share the character name %q", j, i, v.Character)
		}
		seen[k] = i
	}
	if ViewerAt(7).UserID == ViewerAt(8).UserID {
		t.Fatal("two viewers share a user id")
	}
}

// startEBS runs a real EBS on SQLite in dir and returns its URL.
func startEBS(t *testing.T, dir string, env map[string]string) string {
	t.Helper()
	full := map[string]string{"Mgm__DataDir": dir}
	for k, v := range env {
		full[k] = v
	}
	return ebstest.Start(t, ebstest.SQLite, full).URL
}

func options(url string) Options {
	return Options{EBS: url, Viewers: 300, Connections: 8, ExtensionKey: auth.DevExtensionSecret(), BroadcasterUserID: "dev-channel"}
}

func TestLoadEnrollsEveryViewerAndTheCheckFindsThem(t *testing.T) {
	o := options(startEBS(t, t.TempDir(), nil))
	run, err := Enroll(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize(run, []int{100, 300, 1000})
	if s.Acknowledged != 300 || s.TransportErrors != 0 || len(s.NotAcknowledged) != 0 {
		t.Fatalf("not every enrollment was acknowledged: %+v", s)
	}
	if !s.Checkpoints[0].Reached || !s.Checkpoints[1].Reached || s.Checkpoints[2].Reached {
		t.Fatalf("checkpoints 100 and 300 are reached and 1000 is not: %+v", s.Checkpoints)
	}
	c, err := Check(context.Background(), o, run.Acknowledged())
	if err != nil {
		t.Fatal(err)
	}
	if !c.OK() || c.Checked != 300 {
		t.Fatalf("the check did not find all 300 viewers: %+v", c)
	}
}

func TestCheckFailsWhenAnAcknowledgedEnrollmentIsMissing(t *testing.T) {
	dir := t.TempDir()
	o := options(startEBS(t, dir, nil))
	o.Viewers = 20
	run, err := Enroll(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	acked := run.Acknowledged()
	if len(acked) != 20 {
		t.Fatalf("%d of 20 acknowledged", len(acked))
	}
	// The row disappears behind the EBS's back, as a lost write would.
	db, err := sqlite.OpenDB(filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	gone := acked[7]
	if _, err := db.Exec("DELETE FROM pool WHERE twitch_user_id = ?", gone.UserID); err != nil {
		t.Fatal(err)
	}
	c, err := Check(context.Background(), o, acked)
	if err != nil {
		t.Fatal(err)
	}
	if c.OK() || c.Missing != 1 || c.Present != 19 || len(c.Problems) != 1 || !strings.Contains(c.Problems[0], gone.UserID) {
		t.Fatalf("the check should name viewer %s as missing: %+v", gone.UserID, c)
	}
}

func TestSignaturesAreTheOnesTheEBSVerifies(t *testing.T) {
	const secret = "load-test-eventsub-secret"
	o := options(startEBS(t, t.TempDir(), map[string]string{"Twitch__EventSubSecret": secret}))
	o.Viewers = 10
	o.EventSubSecret = secret
	run, err := Enroll(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if s := Summarize(run, nil); s.Acknowledged != 10 {
		t.Fatalf("correctly signed notifications were refused: %+v", s)
	}
	o.EventSubSecret = "some-other-secret-entirely"
	o.Start = 10
	run, err = Enroll(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if s := Summarize(run, nil); s.Acknowledged != 0 || s.NotAcknowledged["401"] != 10 {
		t.Fatalf("notifications signed with the wrong secret should be refused with 401: %+v", s)
	}
}

func TestSummarizeWindowsAndCheckpoints(t *testing.T) {
	// 2000 enrollments: the first 1000 one per millisecond, the next 1000 one
	// per 4 ms, starting from a pool of 500.
	r := &Run{Options: Options{Viewers: 2000, Start: 500, Connections: 1}}
	at := time.Duration(0)
	for i := range 2000 {
		step := time.Millisecond
		if i >= 1000 {
			step = 4 * time.Millisecond
		}
		at += step
		lat := time.Millisecond // 1200 quick answers, 800 slow ones
		if i >= 1200 {
			lat = 4 * time.Millisecond
		}
		r.Samples = append(r.Samples, Sample{Done: at, Latency: lat, Status: 200})
	}
	r.Samples = append(r.Samples, Sample{Status: 503, Latency: time.Second, Done: at}, Sample{Err: "connection refused"})
	s := Summarize(r, []int{400, 1000, 2500, 3000})
	near := func(got, want float64) bool { return got > want*0.999 && got < want*1.001 }
	if s.Window != 200 || !near(s.EarlyRate, 1000) || !near(s.LateRate, 250) || !near(s.LateEarlyRatio, 0.25) {
		t.Fatalf("early/late: %+v", s)
	}
	if !near(s.TotalRate, 2000/5.0) {
		t.Fatalf("total rate %v, want 400", s.TotalRate)
	}
	// 400 is below the starting pool, 3000 beyond the run; 1000 is the 500th
	// acknowledgement (window 400..500, 1 ms each), 2500 the last (window
	// 1750..2000, 4 ms each).
	cp := s.Checkpoints
	if cp[0].Reached || cp[3].Reached || !cp[1].Reached || cp[1].Window != 100 || !near(cp[1].Rate, 1000) ||
		!cp[2].Reached || cp[2].Window != 250 || !near(cp[2].Rate, 250) {
		t.Fatalf("checkpoints: %+v", cp)
	}
	if s.NotAcknowledged["503"] != 1 || s.TransportErrors != 1 || s.FirstError != "connection refused" {
		t.Fatalf("errors: %+v", s)
	}
	if s.P50Ms != 1 || s.P99Ms != 4 {
		t.Fatalf("latency p50 %v p99 %v, want 1 and 4", s.P50Ms, s.P99Ms)
	}
}

func TestBaselineSQLite(t *testing.T) {
	dir := t.TempDir()
	r, err := Baseline(context.Background(), BaselineOptions{Store: "sqlite", Dir: dir, Connections: 4, Count: 300})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 0 || r.InsertsPerSecond <= 0 {
		t.Fatalf("baseline: %+v", r)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Fatalf("the scratch database was left behind: %v", left)
	}
}

func TestBaselinePostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	r, err := Baseline(context.Background(), BaselineOptions{Store: "postgres", DSN: dsn, Connections: 4, Count: 300,
		Suffix: func() string { return "t1" }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 0 || r.InsertsPerSecond <= 0 {
		t.Fatalf("baseline: %+v", r)
	}
	// The scratch table is dropped: a second run with the same name works.
	if _, err := Baseline(context.Background(), BaselineOptions{Store: "postgres", DSN: dsn, Connections: 2, Count: 10,
		Suffix: func() string { return "t1" }}); err != nil {
		t.Fatalf("the scratch table was left behind: %v", err)
	}
}

// The warm-up's lines are refused by the rules (non-subscribers): the pool
// holds the measured viewers only. A warm-up the EBS refuses ends the run
// before anything is measured.
func TestWarmupLeavesThePoolAsItIs(t *testing.T) {
	const secret = "load-test-eventsub-secret"
	dir := t.TempDir()
	o := options(startEBS(t, dir, map[string]string{"Twitch__EventSubSecret": secret}))
	o.Viewers, o.Warmup, o.EventSubSecret = 20, 50, secret
	run, err := Enroll(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if s := Summarize(run, nil); s.Acknowledged != 20 {
		t.Fatalf("%d of 20 acknowledged", s.Acknowledged)
	}
	db, err := sqlite.OpenDB(filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pool, refused int
	if err := db.QueryRow("SELECT COUNT(*) FROM pool").Scan(&pool); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM eventsub_messages").Scan(&refused); err != nil {
		t.Fatal(err)
	}
	if pool != 20 || refused != 70 {
		t.Fatalf("pool %d (want 20), deliveries recorded %d (want 70: the warm-up reached the EBS)", pool, refused)
	}

	o.EventSubSecret, o.Start = "some-other-secret-entirely", 20
	if _, err := Enroll(context.Background(), o); err == nil || !strings.Contains(err.Error(), "warm-up line") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a refused warm-up: %v", err)
	}
}
