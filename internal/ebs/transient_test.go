package ebs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mimirons-goldomatic/mgm/internal/postgres/pgtest"
)

// PostgreSQL dropping every connection (a restart, a failover, an operator's
// pg_terminate_backend) while requests run: each transaction meeting a dead
// connection runs once more on a fresh one, so clients see no 5xx, and
// /readyz, which reads through the same retry, stays 200.
//
// What is not guaranteed, and so not asserted away: a connection lost during
// COMMIT leaves unknown whether the transaction committed, and that write is
// answered 5xx rather than run twice. So reads and /readyz must never fail,
// and a failed write must have been one whose COMMIT met a termination: at
// most one per terminated connection. The count is logged. Terminations come
// in rounds far enough apart that a retry is not itself cut off by the next.
func TestTerminatedConnectionsAreRetried(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	env := baseEnv(t)
	env["ConnectionStrings__PostgreSQL"] = dsn
	r := start(t, env)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var requests, fiveXX, readFails, readyFails atomic.Int64
	var mu sync.Mutex
	var failures []string
	record := func(what string, status int, err error) {
		requests.Add(1)
		if status == http.StatusInternalServerError {
			// An outage is 503 (try again), never 500 (our bug).
			mu.Lock()
			failures = append(failures, fmt.Sprintf("%s: 500 (an outage must answer 503)", what))
			mu.Unlock()
			readFails.Add(1)
		}
		if err != nil || status >= 500 {
			fiveXX.Add(1)
			if what != "enroll" {
				readFails.Add(1)
			}
			mu.Lock()
			failures = append(failures, fmt.Sprintf("%s: %d %v", what, status, err))
			mu.Unlock()
		}
	}
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				user := fmt.Sprintf("v-%d-%d", w, i)
				// A write: a subscriber enrolls through EventSub.
				st, err := postSignedStatus(r.base, fmt.Sprintf("d-%d-%d", w, i),
					chatNotification(fmt.Sprintf("m-%d-%d", w, i), user, "fan", fmt.Sprintf("!twgold Name%dx%d", w, i), "subscriber"))
				record("enroll", st, err)
				// Reads.
				st, err = getStatus(r.base+"/api/pool/me", viewerToken(user))
				record("pool/me", st, err)
				st, err = getStatus(r.base+"/api/roulette/state", viewerToken(user))
				record("roulette/state", st, err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if st, err := getStatus(r.base+"/readyz", ""); err != nil || st != http.StatusOK {
				readyFails.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	admin, err := pgx.Connect(context.Background(), pgtest.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	dbName := dbNameOf(t, dsn)
	// A second apart: on a loaded machine (the whole suite runs in
	// parallel on two cores) a retried transaction can take a few hundred
	// milliseconds, and must not meet the next round.
	const rounds = 4
	killed := 0
	for range rounds {
		time.Sleep(time.Second)
		var n int
		if err := admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, dbName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		killed += n
	}
	time.Sleep(400 * time.Millisecond)
	cancel()
	wg.Wait()
	t.Logf("%d requests, %d connections terminated in %d rounds, %d answered 5xx, %d /readyz not 200",
		requests.Load(), killed, rounds, fiveXX.Load(), readyFails.Load())
	if killed == 0 || requests.Load() < 100 {
		t.Fatalf("the test did not exercise anything: %d killed, %d requests", killed, requests.Load())
	}
	if readyFails.Load() != 0 {
		t.Errorf("/readyz flapped %d times", readyFails.Load())
	}
	if readFails.Load() != 0 || fiveXX.Load() > int64(killed) {
		t.Errorf("%d requests (%d reads) answered 5xx: %q", fiveXX.Load(), readFails.Load(), failures)
	}
}

func dbNameOf(t *testing.T, dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

func postSignedStatus(base, deliveryID string, body []byte) (int, error) {
	return do(signedChat(base, deliveryID, body))
}

func getStatus(url, bearer string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(req)
}

func do(req *http.Request) (int, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
