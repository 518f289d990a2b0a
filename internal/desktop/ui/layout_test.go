package ui

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
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
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify({ viewport: vw, scrollWidth: document.documentElement.scrollWidth, controls: res });
  document.body.appendChild(pre);
})();
`

// TestEveryPayoutActionReachableAt800px loads the dashboard with a busy
// evening's data in headless Chromium at 800×600 and checks that every
// control, above all each payout's four actions, lies inside the viewport
// and is the element a click at its centre would hit.
func TestEveryPayoutActionReachableAt800px(t *testing.T) {
	chromium := findChromium(t)
	srv := busyServer(t, func(h http.Handler) http.Handler {
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
	})
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
	if res.ScrollWidth > res.Viewport {
		t.Errorf("the page scrolls sideways: %v px of content in %v px", res.ScrollWidth, res.Viewport)
	}
}
