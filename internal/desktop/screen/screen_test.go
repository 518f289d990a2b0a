package screen

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/strip"
)

// fakeWoW serves GET /api/mock/screen as the WoW client simulator does,
// showing the addon's carousel: the outbox's pages one after the other,
// each for three captures (0.3 s at 100 ms).
type fakeWoW struct {
	mu        sync.Mutex
	outbox    []outLine
	minimised bool
	hidden    bool // Alt+Z: the UI and so the strip are hidden
	frozen    bool // the heartbeat stands still
	flags     uint8
	heartbeat uint16
	frame     int
	query     url.Values
}

type outLine struct {
	n    uint16
	text string
}

func (f *fakeWoW) set(fn func(*fakeWoW)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeWoW) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path != "/api/mock/screen" {
		http.NotFound(w, r)
		return
	}
	f.query = r.URL.Query()
	if f.minimised {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, `{"error":"minimised","message":"the WoW window is minimised"}`)
		return
	}
	var carousel []strip.Page
	for _, l := range f.outbox {
		pages := strip.Pages(l.text)
		for i, p := range pages {
			carousel = append(carousel, strip.Page{LineID: l.n, Index: i, Count: len(pages), Payload: p})
		}
	}
	page := strip.Page{}
	if len(carousel) > 0 {
		page = carousel[f.frame/3%len(carousel)]
	}
	if f.frame%3 == 0 && !f.frozen {
		f.heartbeat++
	}
	f.frame++
	page.Version, page.Flags, page.Heartbeat = strip.Version, f.flags, f.heartbeat

	img := image.NewRGBA(image.Rect(0, 0, CaptureWidth, CaptureHeight))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{30, 60, 20, 255}), image.Point{}, draw.Src)
	if !f.hidden {
		strip.Draw(img, image.Point{}, strip.Cell, page)
	}
	w.Header().Set("Content-Type", "image/png")
	_ = png.Encode(w, img)
}

func newFake(t *testing.T) (*fakeWoW, *Simulator) {
	t.Helper()
	f := &fakeWoW{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	sim, err := NewSimulator(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return f, sim
}

func TestSimulatorCapture(t *testing.T) {
	f, sim := newFake(t)
	img, err := sim.Capture(context.Background())
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}
	if b := img.Bounds(); b.Dx() != CaptureWidth || b.Dy() != CaptureHeight {
		t.Fatalf("captured %v", b)
	}
	if _, err := strip.Decode(img); err != nil {
		t.Fatalf("the capture holds no strip: %v", err)
	}
	want := url.Values{"x": {"0"}, "y": {"0"}, "w": {"256"}, "h": {"16"}}
	f.set(func(f *fakeWoW) {
		if fmt.Sprint(f.query) != fmt.Sprint(want) {
			t.Errorf("query %v, want %v", f.query, want)
		}
	})
	f.set(func(f *fakeWoW) { f.minimised = true })
	if _, err := sim.Capture(context.Background()); !errors.Is(err, ErrMinimised) {
		t.Fatalf("minimised: Capture error %v, want ErrMinimised", err)
	}
}

func TestSimulatorCaptureErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		minimised bool
		want      string
	}{
		{"minimised", 409, `{"error":"minimised","message":"x"}`, true, "minimised"},
		{"another conflict", 409, `{"error":"loading screen"}`, false, "loading screen"},
		{"older simulator", 404, "404 page not found", false, "update the simulator"},
		{"not a PNG", 200, "hello", false, "not a PNG"},
		{"server error", 500, "boom", false, "HTTP 500 boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			sim, err := NewSimulator(srv.URL+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = sim.Capture(context.Background())
			if err == nil || errors.Is(err, ErrMinimised) != tc.minimised || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Capture error %v, want one saying %q (minimised %v)", err, tc.want, tc.minimised)
			}
		})
	}
	if _, err := NewSimulator("127.0.0.1:5001", nil); err == nil {
		t.Fatal("NewSimulator took a URL without a scheme")
	}
}

// clock is the tests' time: each step advances it by the capture interval.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type recorder struct {
	mu      sync.Mutex
	lines   []string
	changes []Status
}

func (r *recorder) line(l string, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, l)
}

func (r *recorder) change(s Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, s)
}

func (r *recorder) snapshot() ([]string, []Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines), slices.Clone(r.changes)
}

func newReader(t *testing.T, src Source) (*Reader, *clock, *recorder) {
	c := &clock{t: time.Date(2026, 11, 29, 21, 0, 0, 0, time.UTC)}
	rec := &recorder{}
	return NewReader(src, ReaderOptions{Now: c.now, OnLine: rec.line, OnChange: rec.change}), c, rec
}

// steps captures n times, 100 ms apart.
func steps(t *testing.T, r *Reader, c *clock, n int) {
	t.Helper()
	for range n {
		_ = r.Step(context.Background())
		c.t = c.t.Add(DefaultInterval)
	}
}

func TestReaderDeliversEachLineOnce(t *testing.T) {
	f, sim := newFake(t)
	long := "[MGM_SEQ:q1:2][MGM_ITEMS:g7]" + strings.Repeat("Ꙩ", 120) // 3 pages
	f.set(func(f *fakeWoW) {
		f.outbox = []outLine{{1, "[MGM_SEQ:q1:1][MGM_PONG:n0nce:Thrall]"}, {2, long}}
	})
	r, c, rec := newReader(t, sim)
	steps(t, r, c, 100) // 10 s: the 4-page carousel goes round 8 times
	lines, _ := rec.snapshot()
	want := []string{"[MGM_SEQ:q1:1][MGM_PONG:n0nce:Thrall]", long}
	if !slices.Equal(lines, want) {
		t.Fatalf("delivered %q, want each line once: %q", lines, want)
	}
	// The Desktop acknowledged line 1; a new line 3 joins.
	f.set(func(f *fakeWoW) {
		f.outbox = []outLine{{2, long}, {3, "[MGM_SEQ:q1:3][MGM_ACK:c4:ok]"}}
	})
	steps(t, r, c, 60)
	lines, _ = rec.snapshot()
	if !slices.Equal(lines, append(want, "[MGM_SEQ:q1:3][MGM_ACK:c4:ok]")) {
		t.Fatalf("after the outbox changed: delivered %q", lines)
	}
	if st := r.Status(); !st.Found || st.Lines != 3 || st.Failures != 0 || st.Error != "" {
		t.Fatalf("status %+v", st)
	}
}

func TestReaderStatus(t *testing.T) {
	f, sim := newFake(t)
	r, c, rec := newReader(t, sim)
	steps(t, r, c, 5)
	if st := r.Status(); !st.Found || st.Source != sim.Name() || !st.LastFound.Equal(c.t.Add(-DefaultInterval)) {
		t.Fatalf("status %+v, want the strip found at the last capture", st)
	}

	f.set(func(f *fakeWoW) { f.minimised = true })
	steps(t, r, c, 4)
	st := r.Status()
	if st.Found || !st.Minimised || !errors.Is(st.Err, ErrMinimised) || st.Failures != 4 || st.Error != ErrMinimised.Error() {
		t.Fatalf("minimised: status %+v", st)
	}

	f.set(func(f *fakeWoW) { f.minimised, f.hidden = false, true })
	steps(t, r, c, 3)
	st = r.Status()
	if st.Found || st.Minimised || !errors.Is(st.Err, strip.ErrNotFound) || st.Failures != 7 || !strings.Contains(st.Error, "Alt+Z") {
		t.Fatalf("UI hidden: status %+v", st)
	}

	f.set(func(f *fakeWoW) { f.hidden = false })
	steps(t, r, c, 2)
	if st := r.Status(); !st.Found || st.Failures != 0 || st.Err != nil {
		t.Fatalf("shown again: status %+v", st)
	}

	// One change report per change, not one per capture.
	_, changes := rec.snapshot()
	var got []string
	for _, s := range changes {
		switch {
		case s.Found:
			got = append(got, "found")
		case s.Minimised:
			got = append(got, "minimised")
		default:
			got = append(got, "not found")
		}
	}
	if want := []string{"found", "minimised", "not found", "found"}; !slices.Equal(got, want) {
		t.Fatalf("changes reported: %q, want %q", got, want)
	}
}

func TestReaderTyping(t *testing.T) {
	f, sim := newFake(t)
	r, c, _ := newReader(t, sim)
	f.set(func(f *fakeWoW) { f.flags = strip.FlagTyping | strip.FlagChatLog })
	steps(t, r, c, 3)
	if typing, known := r.Status().Typing(c.t, time.Second); !typing || !known {
		t.Fatalf("typing flag set: Typing = %v, %v", typing, known)
	}
	f.set(func(f *fakeWoW) { f.flags = strip.FlagChatLog })
	steps(t, r, c, 1)
	if typing, known := r.Status().Typing(c.t, time.Second); typing || !known {
		t.Fatalf("typing flag clear: Typing = %v, %v", typing, known)
	}
	// Minimised for 1 s: the latest strip is too old to tell.
	f.set(func(f *fakeWoW) { f.minimised = true })
	steps(t, r, c, 10)
	if _, known := r.Status().Typing(c.t, time.Second); known {
		t.Fatal("Typing known from a strip over 1 s old")
	}
	// A frozen picture: pages decode but the heartbeat stands still.
	f.set(func(f *fakeWoW) { f.minimised, f.frozen = false, true })
	steps(t, r, c, 35)
	if _, known := r.Status().Typing(c.t, time.Second); known {
		t.Fatal("Typing known from a picture whose heartbeat stood still for 3.5 s")
	}
}

// Run captures on its own until its context ends.
func TestReaderRun(t *testing.T) {
	f, sim := newFake(t)
	f.set(func(f *fakeWoW) { f.outbox = []outLine{{9, "[MGM_SEQ:r:9][MGM_ACK:c1:dup]"}} })
	rec := &recorder{}
	r := NewReader(sim, ReaderOptions{Interval: 5 * time.Millisecond, OnLine: rec.line})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if lines, _ := rec.snapshot(); len(lines) > 0 {
			if lines[0] != "[MGM_SEQ:r:9][MGM_ACK:c1:dup]" {
				t.Fatalf("delivered %q", lines)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line within 10 s; status %+v", r.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}
