package inject

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an Injector that records lines and can fail or block on demand.
type recorder struct {
	mu      sync.Mutex
	lines   []string
	active  int
	overlap bool
	fail    map[string]error
	gate    chan struct{}
}

func (r *recorder) Name() string                           { return "recorder" }
func (r *recorder) Target(context.Context) (string, error) { return "test", nil }
func (r *recorder) Inject(ctx context.Context, l string) error {
	r.mu.Lock()
	r.active++
	if r.active > 1 {
		r.overlap = true
	}
	gate := r.gate
	r.mu.Unlock()
	if gate != nil {
		<-gate
	}
	time.Sleep(time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active--
	if err := r.fail[l]; err != nil {
		return err
	}
	r.lines = append(r.lines, l)
	return nil
}

func TestQueueOrderAndNoInterleaving(t *testing.T) {
	rec := &recorder{}
	var observed []string
	var omu sync.Mutex
	q := NewQueue(rec, func(l string, err error) { omu.Lock(); observed = append(observed, l); omu.Unlock() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)
	var wg sync.WaitGroup
	var jobs []*Job
	var jmu sync.Mutex
	// Several goroutines submit batches at once; each batch stays contiguous.
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for b := 0; b < 5; b++ {
				j := q.Submit(nil, fmt.Sprintf("g%d b%d l0", g, b), fmt.Sprintf("g%d b%d l1", g, b), fmt.Sprintf("g%d b%d l2", g, b))
				jmu.Lock()
				jobs = append(jobs, j)
				jmu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	for _, j := range jobs {
		if _, err := j.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if rec.overlap {
		t.Fatal("two lines were typed at the same time")
	}
	if len(rec.lines) != 120 || len(observed) != 120 {
		t.Fatalf("%d lines", len(rec.lines))
	}
	for i := 0; i < len(rec.lines); i += 3 {
		var g, b int
		fmt.Sscanf(rec.lines[i], "g%d b%d l0", &g, &b)
		if rec.lines[i+1] != fmt.Sprintf("g%d b%d l1", g, b) || rec.lines[i+2] != fmt.Sprintf("g%d b%d l2", g, b) {
			t.Fatalf("batch interleaved at %d: %v", i, rec.lines[i:i+3])
		}
	}
	// Per submitter, batches keep submission order.
	last := map[int]int{}
	for i := 0; i < len(rec.lines); i += 3 {
		var g, b int
		fmt.Sscanf(rec.lines[i], "g%d b%d", &g, &b)
		if prev, ok := last[g]; ok && b != prev+1 {
			t.Fatalf("goroutine %d: batch %d after %d", g, b, prev)
		}
		last[g] = b
	}
}

func TestQueueSubmitNeverBlocksAndFailureSkipsRestOfBatch(t *testing.T) {
	rec := &recorder{gate: make(chan struct{}), fail: map[string]error{"bad": errors.New("boom")}}
	q := NewQueue(rec, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)
	start := time.Now()
	var thenRes Result
	thenCalled := make(chan struct{})
	j1 := q.Submit(nil, "first")
	j2 := q.Submit(func(r Result) { thenRes = r; close(thenCalled) }, "ok", "bad", "never")
	j3 := q.Submit(nil, "after")
	if time.Since(start) > 100*time.Millisecond {
		t.Fatal("Submit blocked")
	}
	if n := q.Len(); n != 5 {
		t.Fatalf("len %d", n)
	}
	close(rec.gate)
	if _, err := j1.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	r2, err := j2.Wait(ctx)
	<-thenCalled
	if err == nil || r2.Injected() != 1 || !errors.Is(r2.Errs[2], ErrSkipped) || thenRes.Injected() != 1 {
		t.Fatalf("batch result %+v %v", r2, err)
	}
	if _, err := j3.Wait(ctx); err != nil {
		t.Fatal("a failed batch must not affect the next one")
	}
	if fmt.Sprint(rec.lines) != "[first ok after]" {
		t.Fatal(rec.lines)
	}
}

func TestQueueStopFailsWaitingJobs(t *testing.T) {
	rec := &recorder{gate: make(chan struct{})}
	q := NewQueue(rec, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	j1 := q.Submit(nil, "typing")
	time.Sleep(20 * time.Millisecond)
	j2 := q.Submit(nil, "queued")
	cancel()
	close(rec.gate)
	<-done
	<-j1.Done()
	if _, err := j2.Wait(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("queued job: %v", err)
	}
	if _, err := q.Submit(nil, "late").Wait(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("late job: %v", err)
	}
	// The callback of a late job never runs inside Submit: a caller holding
	// the lock its callback takes (the engine does) must not deadlock.
	var mu sync.Mutex
	mu.Lock()
	//lint:ignore SA2001 the callback only has to prove it can take the lock the submitter held
	j := q.Submit(func(Result) { mu.Lock(); mu.Unlock() }, "late too")
	mu.Unlock()
	select {
	case <-j.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("deadlock: the callback ran on the submitter's goroutine")
	}
}

func TestSimulatorInjector(t *testing.T) {
	var mu sync.Mutex
	var got []string
	enters := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/mock/key":
			mu.Lock()
			enters++
			mu.Unlock()
			w.Write([]byte(`{"ok":true,"chatBoxOpen":true}`))
		case "/api/mock/health":
			w.Write([]byte(`{"ok":true,"logFilePath":"/tmp/WoWChatLog.txt"}`))
		case "/api/mock/add-message":
			var b struct{ Content string }
			json.NewDecoder(r.Body).Decode(&b)
			if b.Content == "" {
				http.Error(w, `{"error":"Content is required."}`, 400)
				return
			}
			if b.Content == "/run closed()" {
				w.Write([]byte(`{"content":"/run closed()","truncated":false,"dropped":"chat box closed"}`))
				return
			}
			if b.Content == "/run error()" {
				w.Write([]byte(`{"content":"/run error()","error":"[string \"error()\"]:1: boom"}`))
				return
			}
			mu.Lock()
			got = append(got, b.Content)
			mu.Unlock()
			w.Write([]byte(`{}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	s, err := NewSimulator(srv.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if h, err := s.Health(ctx); err != nil || h.LogFilePath != "/tmp/WoWChatLog.txt" {
		t.Fatalf("%+v %v", h, err)
	}
	if d, err := s.Target(ctx); err != nil || d == "" {
		t.Fatal(err)
	}
	if err := s.Inject(ctx, `/run ReceiveGold("x")`); err != nil {
		t.Fatal(err)
	}
	if err := s.Inject(ctx, "/run error()"); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("a Lua error is a failure: %v", err)
	}
	if err := s.Inject(ctx, "/run closed()"); err == nil || err.Error() != "WoW ignored the line: the chat box was closed" {
		t.Fatalf("a dropped line is a failure: %v", err)
	}
	if err := s.Inject(ctx, ""); err == nil {
		t.Fatal("400 accepted")
	}
	if len(got) != 1 || got[0] != `/run ReceiveGold("x")` {
		t.Fatal(got)
	}
	if enters != 4 {
		t.Fatalf("Enter pressed %d times for 4 lines", enters)
	}
	srv.Close()
	if _, err := s.Target(ctx); err == nil {
		t.Fatal("a stopped simulator is a target")
	}
	if _, err := NewSimulator("localhost:5001", nil); err == nil {
		t.Fatal("URL without scheme accepted")
	}
	if NativeAvailable {
		return
	}
	if _, err := NewNative(NativeOptions{}); err == nil {
		t.Fatal("native injector outside Windows")
	}
	var u Injector = Unavailable{Reason: "no"}
	if _, err := u.Target(ctx); err == nil || u.Inject(ctx, "x") == nil {
		t.Fatal("unavailable injector works")
	}
}
