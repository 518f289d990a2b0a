package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/metrics"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
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

// wantShaped fails unless resp is status with the standard error shape,
// code and an X-Request-Id.
func wantShaped(t *testing.T, what string, resp *http.Response, body []byte, status int, code mgm.Code) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d; body %q", what, resp.StatusCode, status, body)
		return
	}
	checkErrorShape(t, what, response{status: resp.StatusCode, header: resp.Header, body: body}, code)
}

// Answers net/http writes on its own, before any handler runs, are in the
// standard shape with a request id too.
func TestServerWrittenAnswersAreShaped(t *testing.T) {
	ts := newTestServer(t, nil)
	addr := ts.srv.Listener.Addr().String()
	for _, tc := range []struct {
		name, raw string
		status    int
		code      mgm.Code
	}{
		{"headers too large", "GET /api/version HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n",
			http.StatusRequestHeaderFieldsTooLarge, ebsapi.CodeHeadersTooLarge},
		{"request line too long", "GET /" + strings.Repeat("a", 64<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n",
			http.StatusRequestHeaderFieldsTooLarge, ebsapi.CodeHeadersTooLarge},
		{"unknown transfer encoding", "POST /api/twitch/eventsub HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
			http.StatusNotImplemented, ebsapi.CodeUnsupportedTransferEncoding},
		{"two transfer encodings", "POST /api/twitch/eventsub HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
			http.StatusNotImplemented, ebsapi.CodeUnsupportedTransferEncoding},
		{"missing Host", "GET /api/version HTTP/1.1\r\n\r\n", http.StatusBadRequest, ebsapi.CodeMalformedRequest},
		{"malformed Host", "GET /api/version HTTP/1.1\r\nHost: a b\r\n\r\n", http.StatusBadRequest, ebsapi.CodeMalformedRequest},
		{"invalid header name", "GET /api/version HTTP/1.1\r\nHost: x\r\nBad(Name): y\r\n\r\n", http.StatusBadRequest, ebsapi.CodeMalformedRequest},
		{"header without colon", "GET /api/version HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", http.StatusBadRequest, ebsapi.CodeMalformedRequest},
		{"garbage request line", "garbage\r\n\r\n", http.StatusBadRequest, ebsapi.CodeMalformedRequest},
		{"bad Content-Length", "POST /api/twitch/eventsub HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", http.StatusBadRequest, ebsapi.CodeMalformedRequest},
		{"two Content-Lengths", "POST /api/twitch/eventsub HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", http.StatusBadRequest, ebsapi.CodeMalformedRequest},
		{"HTTP/3.0", "GET /api/version HTTP/3.0\r\nHost: x\r\n\r\n", http.StatusHTTPVersionNotSupported, ebsapi.CodeHTTPVersionNotSupported},
		{"unknown expectation", "GET /api/version HTTP/1.1\r\nHost: x\r\nExpect: the-unexpected\r\n\r\n", http.StatusExpectationFailed, ebsapi.CodeExpectationFailed},
		{"asterisk form", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusNotFound, mgm.CodeNotFound},
	} {
		resp, body := rawExchange(t, addr, tc.raw)
		wantShaped(t, tc.name, resp, body, tc.status, tc.code)
	}
}

// A request framed twice — Content-Length and Transfer-Encoding — is
// refused with 400 and its connection closed (RFC 9112 § 6.3), so nothing
// behind it on the connection is read as a request.
func TestContentLengthWithTransferEncodingRefused(t *testing.T) {
	ts := newTestServer(t, nil)
	addr := ts.srv.Listener.Addr().String()
	smuggled := "GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, raw := range []string{
		"POST /api/twitch/eventsub HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
		"POST /api/twitch/eventsub HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 41\r\n\r\n0\r\n\r\n" + smuggled,
		"POST /api/twitch/eventsub HTTP/1.1\nHost: x\nTRANSFER-ENCODING: chunked\nCONTENT-LENGTH: 41\n\n0\r\n\r\n" + smuggled,
		"GET /api/version HTTP/1.1\r\nHost: x\r\n\r\nPOST /api/twitch/eventsub HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
		"POST /api/twitch/eventsub HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		var resp *http.Response
		var body []byte
		for {
			resp, err = http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("%q: %v", raw, err)
			}
			body, _ = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				break // a clean request pipelined before the framed-twice one may be answered first
			}
		}
		wantShaped(t, fmt.Sprintf("%q", raw), resp, body, http.StatusBadRequest, ebsapi.CodeMalformedRequest)
		if !resp.Close {
			t.Errorf("%q: answer without Connection: close", raw)
		}
		if extra, err := br.ReadByte(); err != io.EOF {
			t.Errorf("%q: connection still open after the refusal (read %q, %v)", raw, extra, err)
		}
		_ = c.Close()
	}

	// Plain chunked and plain Content-Length requests still work, and keep
	// their connection.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for _, raw := range []string{
		"POST /api/twitch/eventsub HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
		"POST /api/twitch/eventsub HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
		smuggled,
	} {
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusBadRequest && bytes.Contains(body, []byte(ebsapi.CodeMalformedRequest)) || resp.Close {
			t.Errorf("%q: refused as framed twice or closed: %d %s", raw, resp.StatusCode, body)
		}
	}
}
