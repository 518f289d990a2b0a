package inject

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Simulator delivers lines to the WoW client simulator (mgm-sim wow), whose
// POST /api/mock/add-message runs a /run line in the simulated client the way
// the chat box would. It works on every OS; tests and demos use it.
type Simulator struct {
	base   string
	client *http.Client
}

// NewSimulator targets the simulator at baseURL (e.g. http://127.0.0.1:5001).
func NewSimulator(baseURL string, client *http.Client) (*Simulator, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("WoW simulator URL %q must be an http(s) URL such as http://127.0.0.1:5001", baseURL)
	}
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	return &Simulator{base: u.String(), client: client}, nil
}

// Name implements Injector.
func (s *Simulator) Name() string { return "WoW simulator " + s.base }

// Health is GET /api/mock/health.
type Health struct {
	OK          bool   `json:"ok"`
	LogFilePath string `json:"logFilePath"`
}

// Health asks the simulator whether it runs and where it writes its chat log.
func (s *Simulator) Health(ctx context.Context) (Health, error) {
	var h Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/mock/health", nil)
	if err != nil {
		return h, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return h, fmt.Errorf("WoW simulator not reachable at %s: %w", s.base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("WoW simulator health: HTTP %d %s", resp.StatusCode, snippet(body))
	}
	if err := json.Unmarshal(body, &h); err != nil || !h.OK {
		return h, fmt.Errorf("WoW simulator health: unexpected answer %s", snippet(body))
	}
	return h, nil
}

// Target implements Injector.
func (s *Simulator) Target(ctx context.Context) (string, error) {
	if _, err := s.Health(ctx); err != nil {
		return "", err
	}
	return "WoW simulator at " + s.base, nil
}

// Inject implements Injector. Like the Windows injector it presses the real
// Enter key first: the client may ignore typed characters while its chat box
// is closed (wowsim --keys need-open-box), and a line it ignored is an error
// so that the queue retries or reports it instead of calling it typed.
func (s *Simulator) Inject(ctx context.Context, line string) error {
	var key struct {
		Dropped string `json:"dropped"`
	}
	if err := s.post(ctx, "/api/mock/key", map[string]string{"key": "Enter"}, &key, "the Enter key"); err != nil {
		return err
	}
	if key.Dropped != "" {
		return droppedError(key.Dropped)
	}
	// The simulator tells what the real client would only show on screen: a
	// line cut by the chat box, a Lua error, or keys it ignored.
	var r struct {
		Truncated bool   `json:"truncated"`
		Error     string `json:"error"`
		Dropped   string `json:"dropped"`
	}
	if err := s.post(ctx, "/api/mock/add-message", map[string]string{"content": line}, &r, "the line"); err != nil {
		return err
	}
	switch {
	case r.Dropped != "":
		return droppedError(r.Dropped)
	case r.Truncated:
		return fmt.Errorf("WoW's chat box cut the line (over 255 characters): %s", snippet([]byte(line)))
	case r.Error != "":
		return fmt.Errorf("the line raised a Lua error in WoW: %s", r.Error)
	}
	return nil
}

// droppedError names why WoW ignored the keys (wowsim's TypeResult.Dropped).
func droppedError(reason string) error {
	switch reason {
	case "chat box closed":
		return errors.New("WoW ignored the line: the chat box was closed")
	case "loading screen":
		return errors.New("WoW ignored the line: a loading screen swallowed it")
	}
	return fmt.Errorf("WoW ignored the line: %s", reason)
}

// post sends body as JSON to path and decodes the answer into out; what
// names the request in errors.
func (s *Simulator) post(ctx context.Context, path string, body, out any, what string) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("WoW simulator: %w", err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("WoW simulator refused %s: HTTP %d %s", what, resp.StatusCode, snippet(rb))
	}
	// An answer without the fields (an older simulator) means nothing was
	// reported, as before.
	_ = json.Unmarshal(rb, out)
	return nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// Unavailable is the injector of a platform without a native one: it names
// the fix instead of typing.
type Unavailable struct{ Reason string }

// Name implements Injector.
func (u Unavailable) Name() string { return "none" }

// Target implements Injector.
func (u Unavailable) Target(context.Context) (string, error) { return "", fmt.Errorf("%s", u.Reason) }

// Inject implements Injector.
func (u Unavailable) Inject(context.Context, string) error { return fmt.Errorf("%s", u.Reason) }

// Input is GET /api/mock/input: the simulated keyboard's idle time and the
// focused edit box, as GetLastInputInfo and the addon's strip tell on Windows.
type Input struct {
	IdleMs int64  `json:"idleMs"`
	Focus  string `json:"focus"`
	Window string `json:"window"`
}

// Idle is how long the simulated keyboard has been idle.
func (s *Simulator) Idle(ctx context.Context) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/mock/input", nil)
	if err != nil {
		return 0, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("WoW simulator not reachable at %s: %w", s.base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var in Input
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &in) != nil {
		return 0, fmt.Errorf("WoW simulator input: HTTP %d %s", resp.StatusCode, snippet(body))
	}
	return time.Duration(in.IdleMs) * time.Millisecond, nil
}

// BaseURL is the simulator's address.
func (s *Simulator) BaseURL() string { return s.base }
