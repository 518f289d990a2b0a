package engine

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// quickBridge shortens the handshake so a silent route times out fast, and
// gives the doctor a screen route and a keyboard to report.
func quickBridge(screen ScreenState, idle time.Duration) func(*Options) {
	return func(o *Options) {
		o.Bridge.HandshakeTimeout = 300 * time.Millisecond
		o.Screen = func() ScreenState { return screen }
		o.Idle = func(context.Context) (time.Duration, error) { return idle, nil }
	}
}

func (f *fakeInjector) pings() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.lines {
		if strings.HasPrefix(l, "/run MGM_Ping(") {
			n++
		}
	}
	return n
}

func route(r DoctorReport, name string) DoctorRoute {
	for _, rt := range r.Routes {
		if rt.Route == name {
			return rt
		}
	}
	return DoctorRoute{}
}

func mustContain(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the report lacks %q:\n%s", w, text)
		}
	}
}

// The fake addon answers on the chat log only: the doctor types its own
// ping, measures the log-print round trip, sees the chat log grow and the
// other routes stay silent, and says what to do about the screen route.
func TestDoctorMeasuresTheRouteThatAnswers(t *testing.T) {
	inj := &fakeInjector{}
	minimised := ScreenState{Available: true, Minimised: true, Source: "fake window",
		Problem: "WoW's window is minimised, so the Desktop cannot read the addon's strip: restore the window"}
	h := newHarnessWith(t, newFakeEBS(), inj, quickBridge(minimised, 4200*time.Millisecond))
	before := inj.pings()

	r := h.e.Doctor(context.Background())

	if inj.pings() != before+1 {
		t.Errorf("pings typed: %d before the doctor, %d after; want exactly one more", before, inj.pings())
	}
	if !r.OK || !r.WoW.Found || r.WoW.Target != "fake WoW" || !r.Ping.Typed {
		t.Fatalf("report %+v", r)
	}
	if lp := route(r, "log-print"); !lp.Answered || lp.RTTSeconds < 0 || lp.LastLine.IsZero() {
		t.Errorf("log-print %+v", lp)
	}
	for _, silent := range []string{"screen", "log-whisper"} {
		if route(r, silent).Answered {
			t.Errorf("%s answered", silent)
		}
	}
	if !r.ChatLog.Exists || !r.ChatLog.Grew || r.ChatLog.SizeAfter <= r.ChatLog.SizeBefore || r.ChatLog.Path != h.log {
		t.Errorf("chat log %+v", r.ChatLog)
	}
	if !r.Idle.Known || r.Idle.Seconds != 4.2 || r.Idle.NeedSeconds != 3 {
		t.Errorf("idle %+v", r.Idle)
	}
	text := r.Text()
	mustContain(t, text, "Desktop 1.0.0 on ", "Injector: fake", "EBS: http://fake",
		"OK    WoW found: fake WoW", "OK    ping typed",
		"FAIL  route screen: no pong within 0.30 s", "FAIL  route log-whisper: no pong",
		"written during the check", "FAIL  screen: WoW's window is minimised (fake window)",
		"INFO  keyboard idle 4.2 s (automatic lines wait for 3.0 s of quiet)",
		"Bridge: UP (round trip", "via chat log", "What to do:", "Restore WoW's window")
	if !regexp.MustCompile(`(?m)^OK    route log-print: pong after \d+\.\d+ s \(last line seen \d\d:\d\d:\d\d\)$`).MatchString(text) {
		t.Errorf("no log-print round trip in seconds:\n%s", text)
	}
}

// A silent addon: the ping goes out, no route answers within the timeout,
// and the report says the bridge is down, why, and what to do.
func TestDoctorSilentAddon(t *testing.T) {
	inj := &fakeInjector{silent: true}
	h := newHarnessWith(t, newFakeEBS(), inj, quickBridge(ScreenState{Available: true, Source: "fake window", Problem: "the strip was not found"}, 10*time.Second))
	// The start-up handshake is still waiting when the doctor is asked: the
	// doctor lets it end, then makes its own.
	h.eventually("the start-up handshake in flight", func() bool {
		h.e.mu.Lock()
		defer h.e.mu.Unlock()
		return h.e.br.InFlight() != nil
	})

	r := h.e.Doctor(context.Background())

	if r.OK || !r.Ping.Typed || r.ChatLog.Grew {
		t.Fatalf("report %+v", r)
	}
	if inj.pings() != 2 {
		t.Errorf("%d pings typed, want the start-up one and the doctor's", inj.pings())
	}
	for _, rt := range r.Routes {
		if rt.Answered {
			t.Errorf("%s answered", rt.Route)
		}
	}
	if !strings.Contains(r.Bridge.Problem, "did not answer the handshake within 300ms") || len(r.Bridge.Advice) == 0 {
		t.Errorf("bridge %+v", r.Bridge)
	}
	mustContain(t, r.Text(), "FAIL  route log-print: no pong within 0.30 s", "not written during the check",
		"FAIL  screen: strip not read: the strip was not found", "Bridge: DOWN", "Problem: the addon did not answer",
		"What to do:", "  - Make sure the MimironsGoldOMatic addon is enabled")
}

// Without WoW nothing is typed and the doctor does not wait for a handshake
// that cannot start.
func TestDoctorWithoutWoW(t *testing.T) {
	inj := &fakeInjector{targetErr: errors.New("WoW.exe is not running")}
	h := newHarnessWith(t, newFakeEBS(), inj, nil)

	r := h.e.Doctor(context.Background())

	if r.OK || r.WoW.Found || r.Ping.Typed || inj.pings() != 0 {
		t.Fatalf("report %+v, %d pings", r, inj.pings())
	}
	mustContain(t, r.Text(), "FAIL  WoW not found: WoW.exe is not running", "FAIL  ping not typed: WoW was not found",
		"FAIL  route screen: not tried", "Problem: WoW was not found: WoW.exe is not running")
}

// A check cut short by its context says so instead of blaming the addon.
func TestDoctorCutShort(t *testing.T) {
	inj := &fakeInjector{silent: true}
	h := newHarness(t, newFakeEBS(), inj) // the default 15 s handshake timeout
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	r := h.e.Doctor(ctx)

	if r.OK {
		t.Fatalf("report %+v", r)
	}
	mustContain(t, r.Text(), "the check was cut short", "Bridge: DOWN")
}

func TestDoctorTextElevationAndAdvice(t *testing.T) {
	up := DoctorReport{OK: true, WoW: DoctorTarget{Found: true, Target: "WoW.exe pid 7412"}, Ping: DoctorPing{Typed: true},
		HandshakeTimeoutSeconds: 15, Routes: []DoctorRoute{{Route: "screen", Answered: true, RTTSeconds: 0.4}, {Route: "log-print"}, {Route: "log-whisper"}},
		ChatLog: DoctorChatLog{Path: `C:\Program Files\WoW\Logs\WoWChatLog.txt`, Exists: true, SizeBefore: 10, SizeAfter: 10},
		Screen:  ScreenState{Available: true, Found: true, Source: "WoW.exe pid 7412"}, Bridge: DoctorBridge{Summary: "round trip 0.4 s via screen"}}
	for _, tc := range []struct {
		name      string
		el        *DoctorElevation
		want, not []string
	}{
		{"no elevation on other systems", nil, []string{"OK    route screen: pong after 0.40 s",
			"WoW did not write the chat log during the check", `%LOCALAPPDATA%\VirtualStore\Program Files\WoW\Logs\WoWChatLog.txt`},
			[]string{"elevation", "Keep WoW's window visible"}},
		{"both normal", &DoctorElevation{WoWPID: 7412, WoWKnown: true}, []string{"OK    elevation: WoW (pid 7412) runs normally, the Desktop normally"}, []string{"drops the keys"}},
		{"WoW above the Desktop", &DoctorElevation{WoWPID: 7412, WoWKnown: true, WoWElevated: true},
			[]string{"FAIL  elevation: WoW (pid 7412) runs as administrator, the Desktop normally", "  - WoW runs as administrator and the Desktop does not"}, nil},
		{"both elevated", &DoctorElevation{WoWPID: 7412, WoWKnown: true, WoWElevated: true, Desktop: true},
			[]string{"OK    elevation: WoW (pid 7412) runs as administrator, the Desktop as administrator"}, []string{"drops the keys"}},
		{"access denied", &DoctorElevation{Problem: "Windows refused to tell"}, []string{"FAIL  elevation: Desktop runs normally; WoW unknown: Windows refused to tell"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := up
			r.Elevation = tc.el
			text := r.Text()
			mustContain(t, text, tc.want...)
			for _, n := range tc.not {
				if strings.Contains(text, n) {
					t.Errorf("the report has %q:\n%s", n, text)
				}
			}
		})
	}
	all := up
	all.Routes = []DoctorRoute{{Route: "screen", Answered: true}, {Route: "log-print", Answered: true}, {Route: "log-whisper", Answered: true}}
	mustContain(t, all.Text(), "  - Nothing: every route answered.")
}
