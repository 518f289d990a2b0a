package ebsclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// flaky answers with the scripted statuses in turn, then 200 with body.
type flaky struct {
	mu       sync.Mutex
	script   []int
	headers  []http.Header
	body     string
	requests []*http.Request
	bodies   []string
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, string(b))
	n := len(f.requests) - 1
	w.Header().Set("X-Request-Id", "req-"+string(rune('a'+n)))
	if n < len(f.script) {
		if n < len(f.headers) {
			for k, v := range f.headers[n] {
				w.Header()[k] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.script[n])
		w.Write([]byte(`{"code":"unavailable","message":"try later","details":{}}`))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(f.body))
}

func (f *flaky) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.requests) }

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

func newClient(t *testing.T, url string, s *sleeps, opts ...ebsclient.Option) *ebsclient.Client {
	t.Helper()
	opts = append([]ebsclient.Option{ebsclient.WithSleep(s.sleep), ebsclient.WithJitter(func() float64 { return 0.5 })}, opts...)
	c, err := ebsclient.New(url, "the-api-key-0123456789abcdef", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewRefusesBadInput(t *testing.T) {
	for _, key := range []string{"", "   ", "\t", "a\nb"} {
		if _, err := ebsclient.New("http://127.0.0.1:8080", key); err == nil {
			t.Errorf("key %q accepted", key)
		}
	}
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := ebsclient.New(u, "k"); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
}

func TestRetriesIdempotentCallsWithBackoffAndJitter(t *testing.T) {
	f := &flaky{script: []int{503, 502, 500}, body: `[]`}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var s sleeps
	c := newClient(t, srv.URL, &s)
	got, err := c.PendingPayouts(context.Background(), "Pending", "InProgress")
	if err != nil || len(got) != 0 {
		t.Fatalf("pending: %v %v", got, err)
	}
	if f.count() != 4 {
		t.Fatalf("%d attempts, want 4", f.count())
	}
	// Full jitter at 0.5 over ceilings 250 ms, 500 ms, 1 s.
	want := []time.Duration{125 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond}
	if len(s.d) != 3 || s.d[0] != want[0] || s.d[1] != want[1] || s.d[2] != want[2] {
		t.Fatalf("waits %v, want %v", s.d, want)
	}
	r := f.requests[0]
	if r.Header.Get("X-MGM-ApiKey") != "the-api-key-0123456789abcdef" || r.URL.Query().Get("status") != "Pending,InProgress" {
		t.Fatalf("request %v %v", r.Header, r.URL)
	}
}

func TestGivesUpAfterAttemptsWithTheLastError(t *testing.T) {
	f := &flaky{script: []int{503, 503, 503, 503, 503}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var s sleeps
	c := newClient(t, srv.URL, &s)
	_, err := c.Version(context.Background())
	var e *ebsclient.Error
	if !errors.As(err, &e) || e.Status != 503 || e.Code != mgm.CodeUnavailable || e.Message != "try later" || e.RequestID != "req-d" {
		t.Fatalf("error %#v", err)
	}
	if !ebsclient.Transient(err) || f.count() != 4 {
		t.Fatalf("transient %v after %d attempts", ebsclient.Transient(err), f.count())
	}
}

func TestHonoursRetryAfter(t *testing.T) {
	f := &flaky{script: []int{429}, headers: []http.Header{{"Retry-After": {"3"}}}, body: `{"version":"1.0.0"}`}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var s sleeps
	c := newClient(t, srv.URL, &s)
	v, err := c.Version(context.Background())
	if err != nil || v.Version != "1.0.0" {
		t.Fatalf("version %+v %v", v, err)
	}
	if len(s.d) != 1 || s.d[0] != 3*time.Second {
		t.Fatalf("waits %v, want [3s]", s.d)
	}
}

func TestDefinitiveErrorsAreNotRetried(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409} {
		f := &flaky{script: []int{status}}
		srv := httptest.NewServer(f)
		var s sleeps
		c := newClient(t, srv.URL, &s)
		_, err := c.SetPayoutStatus(context.Background(), "6a9a6b0c-3a3e-4a49-9a4f-0e6a1c1d2e3f", "sent")
		srv.Close()
		if ebsclient.Transient(err) || f.count() != 1 || len(s.d) != 0 {
			t.Errorf("HTTP %d: transient=%v attempts=%d", status, ebsclient.Transient(err), f.count())
		}
	}
}

func TestNonIdempotentCallsAreTriedOnce(t *testing.T) {
	f := &flaky{script: []int{503, 503}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var s sleeps
	c := newClient(t, srv.URL, &s)
	_, err := c.SelectGiftItem(context.Background(), "6a9a6b0c-3a3e-4a49-9a4f-0e6a1c1d2e3f", ebsapi.GiftItem{Name: "Linen Cloth", ID: 2589, Count: 5})
	if err == nil || f.count() != 1 {
		t.Fatalf("select-item: %v after %d attempts", err, f.count())
	}
	if !strings.Contains(f.bodies[0], `"item":{"name":"Linen Cloth","id":2589,"count":5`) {
		t.Fatalf("body %s", f.bodies[0])
	}
	if _, err := c.ConfirmGift(context.Background(), "6a9a6b0c-3a3e-4a49-9a4f-0e6a1c1d2e3f", true); err == nil || f.count() != 2 {
		t.Fatalf("confirm: %v after %d attempts", err, f.count())
	}
}

func TestNetworkErrorsAndTimeoutsAreTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	var s sleeps
	c := newClient(t, url, &s)
	_, err := c.Candidate(context.Background())
	if err == nil || !ebsclient.Transient(err) || len(s.d) != 3 {
		t.Fatalf("closed port: %v, waits %v", err, s.d)
	}

	var calls atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			time.Sleep(300 * time.Millisecond)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer slow.Close()
	var s2 sleeps
	c2 := newClient(t, slow.URL, &s2, ebsclient.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
	cand, err := c2.Candidate(context.Background())
	if err != nil || cand != nil || calls.Load() != 2 {
		t.Fatalf("after a timeout: %v %v, %d calls", cand, err, calls.Load())
	}
}

func TestCancelledContextStopsRetrying(t *testing.T) {
	f := &flaky{script: []int{503, 503, 503, 503}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c := newClient(t, srv.URL, &sleeps{}, ebsclient.WithSleep(func(context.Context, time.Duration) error {
		cancel()
		return context.Canceled
	}))
	if _, err := c.Version(ctx); err == nil || f.count() != 1 {
		t.Fatalf("%v after %d attempts", err, f.count())
	}
}

func TestTraceNeverCarriesTheKey(t *testing.T) {
	f := &flaky{script: []int{503}, body: `{"version":"1"}`}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var traces []ebsclient.Trace
	c := newClient(t, srv.URL, &sleeps{}, ebsclient.WithTrace(func(tr ebsclient.Trace) { traces = append(traces, tr) }))
	if _, err := c.Version(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(traces) != 2 || traces[0].Status != 503 || traces[1].Status != 200 || traces[1].Attempt != 2 || traces[1].Path != "/api/version" {
		t.Fatalf("traces %+v", traces)
	}
	for _, tr := range traces {
		if strings.Contains(string(tr.Body), "the-api-key") {
			t.Fatal("a trace carries the API key")
		}
	}
}
