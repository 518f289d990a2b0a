package ui

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/engine"
)

func TestDoctorRoute(t *testing.T) {
	var runs atomic.Int32
	report := engine.DoctorReport{OK: true, Version: "1.2.3", WoW: engine.DoctorTarget{Found: true, Target: "WoW.exe pid 7412"},
		Ping: engine.DoctorPing{Typed: true}, HandshakeTimeoutSeconds: 15,
		Routes: []engine.DoctorRoute{{Route: "screen", Answered: true, RTTSeconds: 0.4}, {Route: "log-print", Answered: true, RTTSeconds: 2.7}, {Route: "log-whisper"}},
		Bridge: engine.DoctorBridge{Summary: "round trip 0.4 s via screen"}}
	f := newFixtureWith(t, func(o *Options) {
		o.Doctor = func(ctx context.Context) engine.DoctorReport {
			runs.Add(1)
			if _, ok := ctx.Deadline(); !ok {
				t.Error("the doctor runs without a deadline")
			}
			return report
		}
	})

	for _, tc := range []struct {
		name   string
		method string
		hdr    map[string]string
		status int
	}{
		{"no token", "POST", map[string]string{HeaderName: ""}, 401},
		{"wrong token", "POST", map[string]string{HeaderName: "wrong"}, 401},
		{"another site", "POST", map[string]string{"Origin": "https://evil.example"}, 403},
		{"GET", "GET", nil, 405},
	} {
		if r, body := f.do(t, tc.method, "/api/doctor", "", tc.hdr); r.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.StatusCode, body, tc.status)
		}
	}
	if runs.Load() != 0 {
		t.Fatalf("the doctor ran %d times for refused requests", runs.Load())
	}

	r, body := f.do(t, "POST", "/api/doctor", "", nil)
	if r.StatusCode != 200 || runs.Load() != 1 {
		t.Fatalf("%d %s", r.StatusCode, body)
	}
	var shape map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &shape); err != nil || len(shape) != 3 || shape["ok"] == nil || shape["text"] == nil || shape["report"] == nil {
		t.Fatalf("want {ok, text, report}: %s", body)
	}
	var res DoctorResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Report.Routes[1].RTTSeconds != 2.7 || res.Report.WoW.Target != "WoW.exe pid 7412" {
		t.Fatalf("%+v", res)
	}
	for _, want := range []string{"Desktop 1.2.3", "OK    route screen: pong after 0.40 s", "OK    route log-print: pong after 2.7 s",
		"FAIL  route log-whisper: no pong within 15.0 s", "Bridge: UP (round trip 0.4 s via screen)"} {
		if !strings.Contains(res.Text, want) {
			t.Errorf("the text lacks %q:\n%s", want, res.Text)
		}
	}
}

func TestDoctorRouteWithoutDoctor(t *testing.T) {
	f := newFixture(t)
	if r, body := f.do(t, "POST", "/api/doctor", "", nil); r.StatusCode != 501 || !strings.Contains(body, "no doctor") {
		t.Fatalf("%d %s", r.StatusCode, body)
	}
}

// The page has the bridge card above the payouts and the doctor on the
// Settings page.
func TestPageHasBridgeCardAndDoctor(t *testing.T) {
	f := newFixture(t)
	_, page := f.do(t, "GET", "/", "", nil)
	bridge, payouts := strings.Index(page, `id="bridge"`), strings.Index(page, "<h2>Payouts</h2>")
	if bridge < 0 || payouts < 0 || bridge > payouts {
		t.Errorf("bridge card at %d, payouts at %d", bridge, payouts)
	}
	settings, run, copyBtn, pre := strings.Index(page, `<main id="settings"`), strings.Index(page, `id="doctor-run"`), strings.Index(page, `id="doctor-copy"`), strings.Index(page, `<pre id="doctor-out"`)
	if settings < 0 || run < settings || copyBtn < settings || pre < settings {
		t.Errorf("the doctor is not on the Settings page: %d %d %d %d", settings, run, copyBtn, pre)
	}
	_, js := f.do(t, "GET", "/static/app.js", "", nil)
	for _, want := range []string{`api("POST", "/api/doctor")`, "clipboard.writeText", "renderBridge(u.status)"} {
		if !strings.Contains(js, want) {
			t.Errorf("app.js lacks %s", want)
		}
	}
}
