package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/metrics"
)

// rawExchange writes raw request bytes on a fresh loopback connection and
// reads one response (the server may close the connection after it).
func rawExchange(t *testing.T, addr, raw string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read the answer to %q: %v", raw, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the body of the answer to %q: %v", raw, err)
	}
	return resp, body
}

// mgmSeries counts the EBS's own series in the registry (the Go runtime's
// and the process's are fixed in number).
func mgmSeries(t *testing.T, m *metrics.Metrics) int {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), "mgm_") {
			n += len(f.GetMetric())
		}
	}
	return n
}

// Unauthenticated junk — made-up methods, made-up paths — must not grow the
// metrics: every label value comes from a closed set, so 20,000 distinct
// junk requests leave the series count and /metrics' size where they were.
func TestMetricSeriesStayFlatUnderJunk(t *testing.T) {
	m := metrics.New()
	ts := newTestServerWith(t, func(c *config.Config) { c.RateLimits = config.RateLimits{} },
		func(d *httpapi.Deps) { d.Metrics = m })
	addr := ts.srv.Listener.Addr().String()

	// send writes n junk requests on one keep-alive connection, one at a time.
	send := func(t *testing.T, worker, from, n int) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for i := from; i < from+n; i++ {
			var req string
			switch i % 3 {
			case 0: // a made-up method on a real route
				req = fmt.Sprintf("Q%07d /api/version HTTP/1.1\r\nHost: x\r\n\r\n", i)
			case 1: // a made-up method on a made-up path
				req = fmt.Sprintf("M%d%07d /junk/%d HTTP/1.1\r\nHost: x\r\n\r\n", worker, i, i)
			default: // a real method on a made-up path
				req = fmt.Sprintf("GET /api/payouts/x%d/y HTTP/1.1\r\nHost: x\r\n\r\n", i)
			}
			if _, err := io.WriteString(c, req); err != nil {
				t.Error(err)
				return
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("request %q: status %d", req, resp.StatusCode)
				return
			}
		}
	}
	run := func(from, total int) {
		const workers = 4
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				send(t, w, from+w*total/workers, total/workers)
			}()
		}
		wg.Wait()
	}

	run(0, 400) // every kind of junk has been seen once
	series := mgmSeries(t, m)
	size := len(ts.get(t, "/metrics", nil).body)

	run(1_000_000, 20_000)
	if t.Failed() {
		t.FailNow()
	}
	if got := mgmSeries(t, m); got > series+4 {
		t.Errorf("series grew from %d to %d under 20,000 junk requests", series, got)
	}
	if got := len(ts.get(t, "/metrics", nil).body); got > size+4096 {
		t.Errorf("/metrics grew from %d to %d bytes under 20,000 junk requests", size, got)
	}
}
