package wowsim

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

var addonDir = filepath.Join("..", "..", "..", "addon", "MimironsGoldOMatic")

// testStart is a fixed client start: 3 April 2026 21:15:00 UTC.
var testStart = time.Date(2026, 4, 3, 21, 15, 0, 0, time.UTC)

// newTestClient starts a client on the real addon files. Any Lua error the
// test did not clear fails it at the end, like an error popup would.
func newTestClient(t *testing.T, opts ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{AddonDir: addonDir, Start: testStart, Location: time.UTC}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, e := range c.Errors() {
			t.Errorf("Lua error: %s", e.Message)
		}
		c.Close()
	})
	return c
}

// run executes a /run line through the chat box and fails on truncation.
func run(t *testing.T, c *Client, code string) {
	t.Helper()
	res := c.Type("/run " + code)
	if res.Truncated {
		t.Fatalf("line was truncated: %q", res.Line)
	}
	if res.Error != "" {
		t.Fatalf("/run %s: %s", code, res.Error)
	}
}

// execLua runs test set-up code directly (multi-line, no chat box limit).
func execLua(t *testing.T, c *Client, code string) {
	t.Helper()
	if _, err := c.Eval(code); err != nil {
		t.Fatalf("%s: %v", code, err)
	}
}

// markers returns the chat lines that carry an [MGM_…] marker.
func markers(c *Client) []string {
	var out []string
	for _, l := range c.ChatLines() {
		if strings.Contains(l, "[MGM_") {
			out = append(out, l)
		}
	}
	return out
}

func evalString(t *testing.T, c *Client, code string) string {
	t.Helper()
	vals, err := c.Eval(code)
	if err != nil {
		t.Fatalf("eval %q: %v", code, err)
	}
	if len(vals) == 0 || vals[0] == lua.LNil {
		return ""
	}
	return lua.LVAsString(vals[0])
}
