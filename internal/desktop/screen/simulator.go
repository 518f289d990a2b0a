package screen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxPNG bounds what a capture may read: the region is a few kilobytes.
const maxPNG = 4 << 20

// Simulator captures the simulated WoW client's screen through the WoW
// client simulator's GET /api/mock/screen (a PNG of the region; 409
// {"error":"minimised"} while the window is minimised).
type Simulator struct {
	base   string
	client *http.Client
}

// NewSimulator reads the screen of the simulator at baseURL (e.g.
// http://127.0.0.1:5001).
func NewSimulator(baseURL string, client *http.Client) (*Simulator, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("WoW simulator URL %q must be an http(s) URL such as http://127.0.0.1:5001", baseURL)
	}
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	return &Simulator{base: u.String(), client: client}, nil
}

// Name implements Source.
func (s *Simulator) Name() string { return "WoW simulator screen " + s.base }

// Capture implements Source.
func (s *Simulator) Capture(ctx context.Context) (image.Image, error) {
	q := url.Values{"x": {"0"}, "y": {"0"}, "w": {fmt.Sprint(CaptureWidth)}, "h": {fmt.Sprint(CaptureHeight)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/mock/screen?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("WoW simulator not reachable at %s: %w", s.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPNG))
	if err != nil {
		return nil, fmt.Errorf("reading the WoW simulator's screen: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusConflict:
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error == "minimised" {
			return nil, ErrMinimised
		}
		return nil, fmt.Errorf("the WoW simulator cannot show its screen: %s", snippet(body))
	case http.StatusNotFound:
		return nil, fmt.Errorf("the WoW simulator at %s has no screen to read (GET /api/mock/screen answered 404): update the simulator", s.base)
	default:
		return nil, fmt.Errorf("the WoW simulator's screen: HTTP %d %s", resp.StatusCode, snippet(body))
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("the WoW simulator's screen is not a PNG image: %w", err)
	}
	return img, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
