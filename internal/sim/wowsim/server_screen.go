package wowsim

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

// The routes the Desktop's screen reader and typing guard use: a capture of
// the WoW window, the keyboard's idle time, and controls for the window and
// the simulated streamer.

// maxCapturePixels bounds one /screen capture.
const maxCapturePixels = 4_000_000

// screen is GET /screen?x=&y=&w=&h=: a PNG of that region of the window
// (default 0, 0, 256×16), clipped to the screen.
func (s *Server) screen(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var vals [4]int
	for i, p := range []struct {
		name       string
		def, least int
	}{{"x", 0, 0}, {"y", 0, 0}, {"w", 256, 1}, {"h", 16, 1}} {
		vals[i] = p.def
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.least || n > 1<<16 {
				writeError(w, http.StatusBadRequest, p.name+" must be a whole number from "+strconv.Itoa(p.least)+" to 65536")
				return
			}
			vals[i] = n
		}
	}
	x, y, width, height := vals[0], vals[1], vals[2], vals[3]
	if width*height > maxCapturePixels {
		writeError(w, http.StatusBadRequest, "the region is too large: at most 4000000 pixels (w×h) per capture")
		return
	}
	var img *image.RGBA
	var err error
	if !s.locked(w, func(c *Client) { img, err = c.Screen(image.Rect(x, y, x+width, y+height)) }) {
		return
	}
	switch {
	case errors.Is(err, ErrMinimised):
		serve.JSON(w, http.StatusConflict, map[string]string{"error": "minimised", "message": err.Error()})
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		writeError(w, http.StatusInternalServerError, "cannot encode the capture: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// inputState is GET /input: what GetLastInputInfo and a look at the window
// would tell the Desktop.
type inputState struct {
	IdleMs int64  `json:"idleMs"`
	Focus  string `json:"focus"`
	Window string `json:"window"`
}

func currentInput(c *Client) inputState {
	return inputState{IdleMs: c.IdleTime().Milliseconds(), Focus: c.Focus(), Window: c.Window().String()}
}

func (s *Server) input(w http.ResponseWriter, r *http.Request) {
	s.locked(w, func(c *Client) { serve.JSON(w, http.StatusOK, currentInput(c)) })
}

// window is POST /window {"state":"visible|covered|minimised"}.
func (s *Server) window(w http.ResponseWriter, r *http.Request) {
	var req struct {
		State string `json:"state"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	st, err := ParseWindowState(strings.TrimSpace(req.State))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.locked(w, func(c *Client) {
		c.SetWindow(st)
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "window": c.Window().String()})
	})
}

// streamerTyping is POST /streamer-typing {"text":"…","holdMs":N,
// "charMs":N,"send":bool}: the streamer types text into the chat box one
// character every charMs (default 100), leaves it for holdMs (default 3000),
// then sends it (send) or clears it.
func (s *Server) streamerTyping(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Text   string `json:"text"`
		HoldMs *int64 `json:"holdMs"`
		CharMs *int64 `json:"charMs"`
		Send   bool   `json:"send"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Text == "" {
		writeError(w, http.StatusBadRequest, "text is required")
		return
	}
	ep := TypingEpisode{Text: req.Text, Hold: 3 * time.Second, CharDelay: 100 * time.Millisecond, Send: req.Send}
	for _, f := range []struct {
		ms   *int64
		name string
		to   *time.Duration
	}{{req.HoldMs, "holdMs", &ep.Hold}, {req.CharMs, "charMs", &ep.CharDelay}} {
		if f.ms == nil {
			continue
		}
		if least := int64(map[bool]int{true: 1}[f.name == "charMs"]); *f.ms < least || *f.ms > 600_000 {
			writeError(w, http.StatusBadRequest, f.name+" must be between "+strconv.FormatInt(least, 10)+" and 600000")
			return
		}
		*f.to = time.Duration(*f.ms) * time.Millisecond
	}
	s.locked(w, func(c *Client) {
		if err := c.StreamerTypes(ep); err != nil {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "chatBoxOpen": c.ChatBoxOpen(), "focus": c.Focus()})
	})
}
