package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/sqlite"
)

// loopbackClients is how many keep-alive connections drive each server.
const loopbackClients = 128

// BenchmarkRouletteStateVsBare serves GET /api/roulette/state twice over real
// loopback HTTP, side by side on the same machine: once through the EBS's
// full handler (middleware, viewer JWT, rate limiter, metrics, JSON request
// logs written to a real file, SQLite store with a ticked snapshot), once
// from a bare net/http handler writing the same bytes. Both sit behind the
// EBS's http.Server settings. b.N requests go to each, from 128 keep-alive
// clients. The numbers that matter are the ratios: full/bare req/s (goal ≥
// 0.5) and full/bare p99 (goal ≤ 1.5).
//
//	go test -run '^$' -bench RouletteStateVsBare -benchtime 100000x -count 3 ./internal/httpapi
func BenchmarkRouletteStateVsBare(b *testing.B) {
	full, path, hdr := fullLoopbackServer(b)
	body := fetchOnce(b, full+path, hdr)
	bare := bareLoopbackServer(b, body)

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: loopbackClients, MaxIdleConnsPerHost: loopbackClients, MaxConnsPerHost: loopbackClients,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}}
	b.Cleanup(client.CloseIdleConnections)
	// Warm both: connections open, caches filled, the same for both sides.
	drive(b, client, bare+path, hdr, 4*loopbackClients)
	drive(b, client, full+path, hdr, 4*loopbackClients)

	// Alternating rounds spread the machine's drift (other processes, the
	// CPU's clock) evenly over both sides.
	const rounds = 10
	var bareRun, fullRun loadRun
	b.ResetTimer()
	for i := range rounds {
		n := b.N / rounds
		if i == rounds-1 {
			n = b.N - n*(rounds-1)
		}
		bareRun.add(drive(b, client, bare+path, hdr, n))
		fullRun.add(drive(b, client, full+path, hdr, n))
	}
	b.StopTimer()
	bareRate, bareP99 := bareRun.summary()
	fullRate, fullP99 := fullRun.summary()

	b.ReportMetric(fullRate, "full-req/s")
	b.ReportMetric(bareRate, "bare-req/s")
	b.ReportMetric(fullRate/bareRate, "throughput-ratio")
	b.ReportMetric(float64(fullP99.Microseconds())/1000, "full-p99-ms")
	b.ReportMetric(float64(bareP99.Microseconds())/1000, "bare-p99-ms")
	b.ReportMetric(float64(fullP99)/float64(bareP99), "p99-ratio")
}

// fullLoopbackServer starts the EBS handler the way internal/ebs serves it
// and returns its base URL, the path and the viewer's headers.
func fullLoopbackServer(b *testing.B) (base, path string, hdr http.Header) {
	b.Helper()
	cfg := defaultTestConfig()
	// The limiter runs on every request, as in production, but the allowance
	// is out of reach: the benchmark measures the work, not refusals.
	cfg.RateLimits.ViewerReads = 1 << 30
	cfg.LogLevel = "info"
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), sqlite.FileName))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc := app.New(db, app.Options{BroadcasterID: cfg.BroadcasterUserID})
	if err := svc.Tick(context.Background()); err != nil {
		b.Fatal(err)
	}
	// The EBS logs JSON at info level to stderr (cmd/mgm-ebs); a real file
	// stands in for stderr so the writes cost what they cost.
	logFile, err := os.Create(filepath.Join(b.TempDir(), "ebs.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logFile.Close() })
	logger := slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s := httpapi.New(httpapi.Deps{
		Service: svc, Config: cfg, APIKeys: auth.NewAPIKeys(cfg.APIKeys), Logger: logger,
		Verifier: &auth.ViewerVerifier{Key: auth.DevExtensionSecret(), BroadcasterUserID: cfg.BroadcasterUserID},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	startServer(b, httpapi.NewHTTPServer(ln.Addr().String(), s.Handler(), logger), s.Listener(ln))
	hdr = http.Header{}
	hdr.Set("Authorization", "Bearer "+benchToken("1001"))
	return "http://" + ln.Addr().String(), "/api/roulette/state", hdr
}

// bareLoopbackServer answers every request with body, as JSON, behind the
// same http.Server settings.
func bareLoopbackServer(b *testing.B, body []byte) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	})
	startServer(b, httpapi.NewHTTPServer(ln.Addr().String(), h, slog.New(slog.DiscardHandler)), ln)
	return "http://" + ln.Addr().String()
}

func startServer(b *testing.B, srv *http.Server, ln net.Listener) {
	b.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.Error(err)
		}
	}()
	b.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
}

func fetchOnce(b *testing.B, url string, hdr http.Header) []byte {
	b.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header = hdr.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %s %v", url, resp.StatusCode, body, err)
	}
	http.DefaultClient.CloseIdleConnections()
	return body
}

// loadRun accumulates the latencies and wall time of several drives.
type loadRun struct {
	latencies []time.Duration
	elapsed   time.Duration
}

func (r *loadRun) add(lat []time.Duration, elapsed time.Duration) {
	r.latencies = append(r.latencies, lat...)
	r.elapsed += elapsed
}

// summary is the rate (requests per second of wall time) and the 99th
// percentile latency.
func (r *loadRun) summary() (float64, time.Duration) {
	if len(r.latencies) == 0 {
		return 0, 0
	}
	slices.Sort(r.latencies)
	return float64(len(r.latencies)) / r.elapsed.Seconds(), r.latencies[len(r.latencies)*99/100]
}

// drive sends n requests from loopbackClients goroutines and returns each
// one's latency and the wall time taken.
func drive(b *testing.B, client *http.Client, url string, hdr http.Header, n int) ([]time.Duration, time.Duration) {
	b.Helper()
	var next atomic.Int64
	lat := make([][]time.Duration, loopbackClients)
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for c := range loopbackClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]time.Duration, 0, n/loopbackClients+1)
			defer func() { lat[c] = own }()
			for next.Add(1) <= int64(n) {
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					failed.Store(err)
					return
				}
				req.Header = hdr.Clone()
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				own = append(own, time.Since(t0))
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Store(errors.New("GET " + url + ": " + resp.Status))
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return slices.Concat(lat...), elapsed
}
