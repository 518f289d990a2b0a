package testkit_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

func TestBufferConcurrentWrites(t *testing.T) {
	t.Parallel()
	var b testkit.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); b.Write([]byte("x")) }()
	}
	wg.Wait()
	if got := b.String(); got != "xxxxxxxx" {
		t.Fatalf("buffer %q", got)
	}
}

func TestCallEncodesSendsAndDecodes(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		json.NewEncoder(w).Encode(map[string]string{
			"method": r.Method, "type": r.Header.Get("Content-Type"), "key": r.Header.Get("X-Key"), "body": string(raw),
		})
	}))
	t.Cleanup(srv.Close)

	var got map[string]string
	if s := testkit.Call(t, http.MethodPost, srv.URL, testkit.Header(map[string]string{"X-Key": "k"}), map[string]int{"a": 1}, &got); s != 200 {
		t.Fatalf("status %d", s)
	}
	want := map[string]string{"method": "POST", "type": "application/json", "key": "k", "body": `{"a":1}`}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}

	// A string body goes as it is, without a Content-Type the caller did not set.
	r := testkit.Do(t, nil, http.MethodPut, srv.URL, nil, "raw text")
	r.Decode(t, &got)
	if got["body"] != "raw text" || got["type"] != "" || got["method"] != "PUT" {
		t.Fatalf("raw body: %v", got)
	}
	if r.Text() == "" || r.Text()[len(r.Text())-1] == '\n' {
		t.Fatalf("text %q", r.Text())
	}
}

func TestLoggerWritesToTestLogAndSurvivesTheTest(t *testing.T) {
	var log interface{ Info(string, ...any) }
	t.Run("inner", func(t *testing.T) {
		l := testkit.Logger(t)
		l.Info("hello", "k", 1)
		log = l
	})
	// After the subtest has finished, a late record is dropped instead of panicking.
	log.Info("late")
}

// failedTB is a test that has failed, recording what TailLogger prints.
type failedTB struct {
	testing.TB
	cleanups []func()
	logged   []string
}

func (f *failedTB) Failed() bool      { return true }
func (f *failedTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *failedTB) Logf(format string, args ...any) {
	f.logged = append(f.logged, fmt.Sprintf(format, args...))
}

func TestTailLoggerPrintsTheLastLinesOnFailure(t *testing.T) {
	t.Parallel()
	f := &failedTB{TB: t}
	l := testkit.TailLogger(f, 3)
	for i := range 10 {
		l.Info("line", "i", i)
	}
	for _, fn := range f.cleanups {
		fn()
	}
	if len(f.logged) != 1 {
		t.Fatalf("logged %q", f.logged)
	}
	got := f.logged[0]
	if !strings.HasPrefix(got, "the last 3 of 10 log lines:") || strings.Count(got, "msg=line") != 3 ||
		!strings.Contains(got, "i=7") || !strings.Contains(got, "i=9") || strings.Contains(got, "i=6") {
		t.Fatalf("printed %q", got)
	}
}
