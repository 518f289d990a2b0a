package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/engine"
)

// probeJS runs after app.js has rendered: it scrolls each visible dashboard
// control into the viewport vertically only (horizontal scrolling is what
// must not be needed) and asks the browser which element is at its centre.
const probeJS = `"use strict";
(function () {
  const vw = document.documentElement.clientWidth, res = [];
  for (const b of document.querySelectorAll("#dashboard button, #dashboard a.button")) {
    let r = b.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    window.scrollTo(0, Math.max(0, window.scrollY + r.top - 100));
    r = b.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    res.push({ label: b.textContent.trim(), action: b.dataset.action || "", left: r.left, right: r.right,
      reachable: r.left >= 0 && r.right <= vw && !!hit && (hit === b || b.contains(hit)) });
  }
  // The bridge card's text wraps: nothing in it may reach past the viewport.
  const overflow = [];
  for (const el of document.querySelectorAll("#bridge, #bridge *")) {
    const r = el.getBoundingClientRect();
    if ((r.width > 0 || r.height > 0) && (r.left < 0 || r.right > vw + 0.5)) overflow.push(el.tagName + (el.id ? "#" + el.id : "") + " " + el.textContent.trim().slice(0, 40));
  }
  const shown = (sel) => { const el = document.querySelector(sel); return !!el && el.getBoundingClientRect().height > 0; };
  const bridge = { state: (document.querySelector("#bridge-state") || {}).textContent || "",
    routes: document.querySelectorAll("#bridge-routes tbody tr").length,
    commands: shown("#bridge-commands") ? document.querySelectorAll("#bridge-commands tbody tr").length : 0,
    problem: shown("#bridge-problem"), advice: document.querySelectorAll("#bridge-problem li").length, guard: shown("#bridge-guard"),
    aboveTheFold: !!document.querySelector("#bridge") && document.querySelector("#bridge").getBoundingClientRect().top + window.scrollY < 600, overflow };
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify({ viewport: vw, scrollWidth: document.documentElement.scrollWidth, controls: res, bridge });
  document.body.appendChild(pre);
})();
`

// TestEveryPayoutActionReachableAt800px loads the dashboard with a busy
// evening's data in headless Chromium at 800×600 and checks that every
// control, above all each payout's four actions, lies inside the viewport
// and is the element a click at its centre would hit; and that the bridge
// card, up with commands waiting or down with its advice, fits the width.
func TestEveryPayoutActionReachableAt800px(t *testing.T) {
	chromium := findChromium(t)
	for _, tc := range []struct {
		name   string
		mutate func(*engine.Snapshot)
		want   bridgeProbe
	}{
		{"bridge up", nil, bridgeProbe{State: "up", Routes: 3, Commands: 2, Guard: true}},
		{"bridge down", bridgeDown, bridgeProbe{State: "down", Routes: 3, Commands: 2, Problem: true, Advice: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkLayout800(t, chromium, tc.mutate, tc.want) })
	}
}

// bridgeProbe is what the probe saw of the bridge card.
type bridgeProbe struct {
	State        string   `json:"state"`
	Routes       int      `json:"routes"`
	Commands     int      `json:"commands"`
	Problem      bool     `json:"problem"`
	Advice       int      `json:"advice"`
	Guard        bool     `json:"guard"`
	AboveTheFold bool     `json:"aboveTheFold"`
	Overflow     []string `json:"overflow"`
}

func checkLayout800(t *testing.T, chromium string, mutate func(*engine.Snapshot), want bridgeProbe) {
	srv := busyServerWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/probe.js":
				w.Header().Set("Content-Type", "text/javascript")
				w.Write([]byte(probeJS))
			case r.URL.Path == "/" && r.URL.RawQuery == "":
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				w.Write([]byte(strings.Replace(rec.Body.String(), "</body>", `<script src="/probe.js" defer></script></body>`, 1)))
			default:
				h.ServeHTTP(w, r)
			}
		})
	}, mutate)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--window-size=800,600", "--dump-dom", srv.URL+"/?token="+token)
	cmd.Env = append(os.Environ(), "LANG=en_US.UTF-8")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`(?s)<pre id="probe">(.*?)</pre>`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no probe result in the page:\n%s", out)
	}
	var res struct {
		Viewport    float64 `json:"viewport"`
		ScrollWidth float64 `json:"scrollWidth"`
		Controls    []struct {
			Label, Action string
			Left, Right   float64
			Reachable     bool
		} `json:"controls"`
		Bridge bridgeProbe `json:"bridge"`
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &res); err != nil {
		t.Fatal(err)
	}
	if res.Viewport < 700 || res.Viewport > 800 {
		t.Fatalf("viewport %v px wide, want 800", res.Viewport)
	}
	actions := 0
	for _, c := range res.Controls {
		if c.Action != "" {
			actions++
		}
		if !c.Reachable {
			t.Errorf("%q (%s) not reachable at %v px: spans %v–%v", c.Label, c.Action, res.Viewport, c.Left, c.Right)
		}
	}
	if actions != 3*4 {
		t.Errorf("%d payout actions found, want 12 (3 payouts × 4)", actions)
	}
	b := res.Bridge
	if len(b.Overflow) > 0 {
		t.Errorf("the bridge card reaches past %v px: %q", res.Viewport, b.Overflow)
	}
	if !b.AboveTheFold {
		t.Error("the bridge card does not start within the first 600 px")
	}
	b.Overflow, b.AboveTheFold = nil, false
	if fmt.Sprint(b) != fmt.Sprint(want) {
		t.Errorf("bridge card %+v, want %+v", b, want)
	}
	if res.ScrollWidth > res.Viewport {
		t.Errorf("the page scrolls sideways: %v px of content in %v px", res.ScrollWidth, res.Viewport)
	}
}
