package wowsim

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
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
		if err := checkSequence(c.ChatLines()); err != nil {
			t.Error(err)
		}
		c.Close()
	})
	return c
}

// bridgeLine is a line the addon prints: [MGM_SEQ:<epoch>:<n>]<marker>.
var bridgeLine = regexp.MustCompile(`^\[MGM_SEQ:([0-9a-z]{1,12}):([1-9][0-9]*)\](\[MGM_.*)$`)

// unseq returns the marker a bridge line carries. Any other line comes back
// marked, so it equals no expected marker: a marker printed without its
// sequence prefix fails the test.
func unseq(line string) string {
	if m := bridgeLine.FindStringSubmatch(line); m != nil {
		return m[3]
	}
	return "NOT A BRIDGE LINE: " + line
}

// unseqLines is the chat frame's lines with each bridge line reduced to its
// marker (other lines as they are).
func unseqLines(c *Client) []string {
	var out []string
	for _, l := range c.ChatLines() {
		if m := bridgeLine.FindStringSubmatch(l); m != nil {
			l = m[3]
		}
		out = append(out, l)
	}
	return out
}

// checkSequence checks the bridge lines printed: within an epoch numbered
// 1, 2, 3, … in order, and an epoch never comes back once left (each load
// has its own).
func checkSequence(lines []string) error {
	last := map[string]int{}
	cur := ""
	for _, l := range lines {
		m := bridgeLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		if m[1] != cur {
			if _, seen := last[m[1]]; seen {
				return fmt.Errorf("epoch %s came back: %q", m[1], l)
			}
			cur = m[1]
		}
		if n != last[cur]+1 {
			return fmt.Errorf("bridge line %q: want n = %d", l, last[cur]+1)
		}
		last[cur] = n
	}
	return nil
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

// markers returns the markers of the chat lines that carry one, without
// their [MGM_SEQ…] prefix (see unseq).
func markers(c *Client) []string {
	var out []string
	for _, l := range c.ChatLines() {
		if strings.Contains(l, "[MGM_") {
			out = append(out, unseq(l))
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
