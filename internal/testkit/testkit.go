// Package testkit holds the plumbing the test suites share: a buffer that
// server goroutines can write while the test reads it, HTTP calls that read
// and decode the whole answer, and a logger that writes to the test's log.
//
// It is imported only from _test.go files and from other test-support
// packages (such as ebstest), never from production code.
package testkit

import (
	"bytes"
	"encoding/json"
	"go.uber.org/goleak"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer that is safe to write from the goroutines of a
// server under test while the test reads it. The zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Response is a finished HTTP exchange, its body fully read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Text is the body without surrounding white space (handlers end JSON with a newline).
func (r Response) Text() string { return strings.TrimSpace(string(r.Body)) }

// Decode unmarshals the JSON body into out, failing the test when it is not
// JSON. An empty body leaves out untouched: whether one was expected is for
// the caller's assertions on the status and on out.
func (r Response) Decode(t testing.TB, out any) {
	t.Helper()
	if out == nil || len(r.Body) == 0 {
		return
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		t.Fatalf("answer %d %s is not the JSON expected: %v", r.Status, r.Body, err)
	}
}

// Do sends one request with client (http.DefaultClient when nil) and reads
// the whole answer; a transport error fails the test. A nil body sends none;
// a string or []byte is sent as it is (the caller sets any Content-Type);
// any other value is sent as JSON with Content-Type application/json unless
// header already names one.
func Do(t testing.TB, client *http.Client, method, url string, header http.Header, body any) Response {
	t.Helper()
	var rd io.Reader
	isJSON := false
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("%s %s: encode body: %v", method, url, err)
		}
		rd, isJSON = bytes.NewReader(j), true
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("%s %s: build request: %v", method, url, err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if isJSON && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// Call is Do on http.DefaultClient for a JSON API: it decodes the answer into
// out when out is not nil (see Response.Decode) and returns the status code.
// An error status is logged with its body, so a failing test shows why.
func Call(t testing.TB, method, url string, header http.Header, body, out any) int {
	t.Helper()
	r := Do(t, nil, method, url, header, body)
	if r.Status >= 400 {
		t.Logf("%s %s: %d %s", method, url, r.Status, r.Body)
	}
	r.Decode(t, out)
	return r.Status
}

// Header builds a header from a map, the form most call sites write.
func Header(m map[string]string) http.Header {
	h := make(http.Header, len(m))
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// Logger is a debug-level logger whose records go to t.Log: a failing test
// shows what the server said, a passing one stays quiet (unless -v). Records
// that arrive after the test has finished, from goroutines still winding
// down, are dropped rather than panicking the test binary.
func Logger(t testing.TB) *slog.Logger {
	w := &logWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type logWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

// Write is called once a record by slog's handlers.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *logWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}

// TailLogger is Logger for long tests: records are kept, not shown as they
// come, and a failing test prints its last n lines after the failure
// message. A long run's thousands of request lines would otherwise bury the
// message in the middle of the output, where a shortened CI log cuts it out.
func TailLogger(t testing.TB, n int) *slog.Logger {
	w := &tailWriter{n: n}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		t.Logf("the last %d of %d log lines:\n%s", len(w.lines), w.total, strings.Join(w.lines, "\n"))
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tailWriter struct {
	mu    sync.Mutex
	n     int
	total int
	lines []string
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total++
	if len(w.lines) == w.n {
		copy(w.lines, w.lines[1:])
		w.lines = w.lines[:w.n-1]
	}
	w.lines = append(w.lines, strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// VerifyNoLeaks runs a package's tests and then fails the run if a goroutine
// they started is still running: a server, loop or watcher that outlives its
// test is a leak in the code under test. It is the whole of a TestMain:
//
//	func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }
//
// ignore names goroutines a library used by the tests never ends.
func VerifyNoLeaks(m *testing.M, ignore ...goleak.Option) {
	goleak.VerifyTestMain(m, append([]goleak.Option{
		// Idle keep-alive connections of http.DefaultTransport belong to the
		// client's pool, not to the code under test; the pool closes them later.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	}, ignore...)...)
}
