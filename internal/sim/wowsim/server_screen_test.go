package wowsim

import (
	"bytes"
	"image"
	"image/png"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// newStillServer serves a client whose clock moves only through /advance,
// so idle times are exact.
func newStillServer(t *testing.T, cfg ServerConfig) (*Server, string) {
	t.Helper()
	cfg.Client.AddonDir = addonDir
	cfg.Client.Start = testStart
	cfg.LogPath = filepath.Join(t.TempDir(), "Logs", "WoWChatLog.txt")
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.mu.Lock()
		for _, e := range s.c.Errors() {
			t.Errorf("Lua error: %s", e.Message)
		}
		s.mu.Unlock()
		s.Close()
	})
	return s, hs.URL + "/api/mock"
}

// capture GETs /screen with the query and decodes the PNG.
func capture(t *testing.T, base, query string) image.Image {
	t.Helper()
	r := testkit.Do(t, nil, "GET", base+"/screen"+query, nil, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET /screen%s: %d %s %s", query, r.Status, r.Header.Get("Content-Type"), r.Text())
	}
	img, err := png.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("GET /screen%s: %v", query, err)
	}
	return img
}

func rgbaAt(img image.Image, x, y int) [3]uint32 {
	r, g, b, _ := img.At(img.Bounds().Min.X+x, img.Bounds().Min.Y+y).RGBA()
	return [3]uint32{r >> 8, g >> 8, b >> 8}
}

func TestScreenRoute(t *testing.T) {
	t.Parallel()
	s, base := newStillServer(t, ServerConfig{Client: Config{Resolution: "1920x1080"}})
	s.mu.Lock()
	execLua(t, s.c, cellColourLua)
	execLua(t, s.c, stripLua)
	s.mu.Unlock()

	img := capture(t, base, "")
	if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 16 {
		t.Fatalf("default capture is %v, want 256×16", b)
	}
	for x := 0; x < 198; x += 3 {
		want := cellColour(x / 3)
		if got := rgbaAt(img, x+1, 1); got != [3]uint32{uint32(want.R), uint32(want.G), uint32(want.B)} {
			t.Fatalf("cell %d = %v, want %v", x/3, got, want)
		}
	}
	// A region starts where asked.
	img = capture(t, base, "?x=4&y=1&w=5&h=2")
	if b := img.Bounds(); b.Dx() != 5 || b.Dy() != 2 {
		t.Fatalf("capture is %v, want 5×2", b)
	}
	if got, want := rgbaAt(img, 0, 0), cellColour(1); got != [3]uint32{uint32(want.R), uint32(want.G), uint32(want.B)} {
		t.Fatalf("pixel (4, 1) = %v, want the second locator", got)
	}
	// Clipped to the screen.
	if b := capture(t, base, "?x=1900&y=1070&w=256&h=16").Bounds(); b.Dx() != 20 || b.Dy() != 10 {
		t.Fatalf("clipped capture is %v, want 20×10", b)
	}
	for _, q := range []string{"?w=4000&h=1001", "?w=abc", "?x=-1", "?w=0", "?x=1920", "?y=5000"} {
		var e struct {
			Error string `json:"error"`
		}
		if code := call(t, "GET", base+"/screen"+q, nil, &e); code != 400 || e.Error == "" {
			t.Errorf("GET /screen%s: %d %+v, want 400 with an error", q, code, e)
		}
	}

	call(t, "POST", base+"/window", map[string]string{"state": "covered"}, nil)
	img = capture(t, base, "")
	for y := 0; y < 16; y++ {
		for x := 0; x < 256; x++ {
			if p := rgbaAt(img, x, y); p[0] != p[1] || p[1] != p[2] {
				t.Fatalf("covered capture at (%d, %d) = %v, want the other window's grey", x, y, p)
			}
		}
	}

	var win struct {
		OK     bool   `json:"ok"`
		Window string `json:"window"`
	}
	if code := call(t, "POST", base+"/window", map[string]string{"state": "minimised"}, &win); code != 200 || win.Window != "minimised" {
		t.Fatalf("POST /window minimised: %d %+v", code, win)
	}
	var e map[string]string
	if code := call(t, "GET", base+"/screen", nil, &e); code != 409 ||
		e["error"] != "minimised" || e["message"] != "the WoW window is minimised" {
		t.Fatalf("minimised capture: %d %v", code, e)
	}
	call(t, "POST", base+"/reset", nil, nil)
	var in inputState
	call(t, "GET", base+"/input", nil, &in)
	if in.Window != "minimised" {
		t.Fatalf("window after reset %q, want it kept", in.Window)
	}
	if code := call(t, "POST", base+"/window", map[string]string{"state": "hidden"}, nil); code != 400 {
		t.Fatalf("POST /window hidden: %d", code)
	}
}

func TestInputRoute(t *testing.T) {
	t.Parallel()
	_, base := newStillServer(t, ServerConfig{})
	input := func() inputState {
		t.Helper()
		var in inputState
		if code := call(t, "GET", base+"/input", nil, &in); code != 200 {
			t.Fatalf("GET /input: %d", code)
		}
		return in
	}
	call(t, "POST", base+"/advance", map[string]int{"ms": 1500}, nil)
	if in := input(); in != (inputState{IdleMs: 1500, Focus: "", Window: "visible"}) {
		t.Fatalf("idle client: %+v", in)
	}
	call(t, "POST", base+"/key", map[string]string{"key": "Enter"}, nil)
	call(t, "POST", base+"/advance", map[string]int{"ms": 250}, nil)
	if in := input(); in.IdleMs != 250 || in.Focus != "ChatFrame1EditBox" {
		t.Fatalf("after Enter: %+v", in)
	}
	call(t, "POST", base+"/add-message", map[string]string{"content": "/run MGM_T = 1"}, nil)
	if in := input(); in.IdleMs != 0 || in.Focus != "" {
		t.Fatalf("after a posted line: %+v", in)
	}
}

func TestStreamerTypingRoute(t *testing.T) {
	t.Parallel()
	s, base := newStillServer(t, ServerConfig{})
	type state struct {
		ChatBoxText          string     `json:"chatBoxText"`
		StreamerTyping       bool       `json:"streamerTyping"`
		TrampledStreamerText []string   `json:"trampledStreamerText"`
		Input                inputState `json:"input"`
	}
	get := func() state {
		var st state
		call(t, "POST", base+"/advance", map[string]int{"ms": 0}, nil)
		call(t, "GET", base+"/state", nil, &st)
		return st
	}
	ep := map[string]any{"text": "brb", "holdMs": 2000}
	if code := call(t, "POST", base+"/streamer-typing", ep, nil); code != 200 {
		t.Fatalf("POST /streamer-typing: %d", code)
	}
	if code := call(t, "POST", base+"/streamer-typing", ep, nil); code != 409 {
		t.Fatalf("a second episode: %d, want 409", code)
	}
	for _, bad := range []map[string]any{{"text": ""}, {"text": "x", "holdMs": -1}, {"text": "x", "charMs": 0}} {
		if code := call(t, "POST", base+"/streamer-typing", bad, nil); code != 400 {
			t.Errorf("POST /streamer-typing %v: %d, want 400", bad, code)
		}
	}
	call(t, "POST", base+"/advance", map[string]int{"ms": 200}, nil)
	if st := get(); st.ChatBoxText != "brb" || !st.StreamerTyping || st.Input.Focus != "ChatFrame1EditBox" {
		t.Fatalf("while the streamer types: %+v", st)
	}
	var res map[string]any
	call(t, "POST", base+"/add-message", map[string]string{"content": "/run MGM_T = 1"}, &res)
	if res["trampledStreamerText"] != true {
		t.Fatalf("add-message into the streamer's text: %v", res)
	}
	st := get()
	if !slices.Equal(st.TrampledStreamerText, []string{"brb"}) || st.StreamerTyping || st.ChatBoxText != "" {
		t.Fatalf("after the trample: %+v", st)
	}
	s.mu.Lock()
	ran := evalString(t, s.c, "return tostring(MGM_T)")
	s.mu.Unlock()
	if ran != "nil" {
		t.Fatal("the garbled line ran as a command")
	}

	// The Enter key sends the streamer's text too.
	call(t, "POST", base+"/streamer-typing", map[string]any{"text": "gg", "holdMs": 5000, "charMs": 50}, nil)
	call(t, "POST", base+"/advance", map[string]int{"ms": 100}, nil)
	call(t, "POST", base+"/key", map[string]string{"key": "Enter"}, &res)
	if res["sent"] != "gg" || res["trampledStreamerText"] != true || res["chatBoxOpen"] != false {
		t.Fatalf("Enter into the streamer's text: %v", res)
	}
	if st := get(); !slices.Equal(st.TrampledStreamerText, []string{"brb", "gg"}) {
		t.Fatalf("trampled %q", st.TrampledStreamerText)
	}
}

func TestMainScreenFlags(t *testing.T) {
	t.Parallel()
	base := startMain(t, "--log", filepath.Join(t.TempDir(), "WoWChatLog.txt"), "--resolution", "800x600",
		"--window", "covered", "--streamer-typing", "30s", "--streamer-seed", "3", "--ui-scale", "0.9")
	if b := capture(t, base, "?w=1000&h=1000").Bounds(); b.Dx() != 800 || b.Dy() != 600 {
		t.Fatalf("full capture %v, want 800×600", b)
	}
	var in inputState
	call(t, "GET", base+"/input", nil, &in)
	if in.Window != "covered" {
		t.Fatalf("window %q", in.Window)
	}
	for _, args := range [][]string{{"--window", "gone"}, {"--resolution", "big"}, {"--ui-scale", "3"}} {
		args = append(args, "--listen", "127.0.0.1:0", "--addon", addonDir, "--log", filepath.Join(t.TempDir(), "l.txt"))
		if err := Main(t.Context(), args, func(string) string { return "" }, &testkit.Buffer{}, &testkit.Buffer{}); err == nil {
			t.Errorf("Main %v: no error", args)
		}
	}
}
