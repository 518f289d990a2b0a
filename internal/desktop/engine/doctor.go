package engine

// The doctor: one handshake on demand, with everything around it measured,
// written up so a streamer can paste it into a bug report. It answers "which
// step of the bridge fails on this machine" without anyone reading the
// event log.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/bridge"
)

// DoctorReport is what the doctor measured. The app adds what only it can
// see (Elevation); Text writes it up.
type DoctorReport struct {
	At      time.Time `json:"at"`
	Version string    `json:"version"`
	// OS is GOOS/GOARCH; Go is the toolchain the Desktop was built with.
	OS       string `json:"os"`
	Go       string `json:"go"`
	Injector string `json:"injector"`
	// EBSURL is the EBS address (never the API key).
	EBSURL       string `json:"ebsUrl,omitempty"`
	EBSReachable bool   `json:"ebsReachable"`
	// OK: some route brought the pong back, so the bridge works.
	OK  bool         `json:"ok"`
	WoW DoctorTarget `json:"wow"`
	// Ping is the handshake's MGM_Ping.
	Ping   DoctorPing    `json:"ping"`
	Routes []DoctorRoute `json:"routes"`
	// HandshakeTimeoutSeconds is how long a pong may take.
	HandshakeTimeoutSeconds float64       `json:"handshakeTimeoutSeconds"`
	ChatLog                 DoctorChatLog `json:"chatLog"`
	Screen                  ScreenState   `json:"screen"`
	// Elevation is set on Windows, when typing into the real WoW.
	Elevation *DoctorElevation `json:"elevation,omitempty"`
	Idle      DoctorIdle       `json:"idle"`
	// Guard is what the typing guard held lines back for during the
	// check, if anything.
	Guard  string       `json:"guard,omitempty"`
	Bridge DoctorBridge `json:"bridge"`
}

// DoctorTarget is the injector's target.
type DoctorTarget struct {
	Found   bool   `json:"found"`
	Target  string `json:"target,omitempty"`
	Problem string `json:"problem,omitempty"`
}

// DoctorPing is the handshake's ping line.
type DoctorPing struct {
	Typed bool `json:"typed"`
	// WaitedSeconds is how long the ping waited to be typed (the typing
	// guard, the queue).
	WaitedSeconds float64 `json:"waitedSeconds"`
	// Problem says why it was not typed, or why the check was cut short.
	Problem string `json:"problem,omitempty"`
}

// DoctorRoute is one route's answer to the doctor's ping.
type DoctorRoute struct {
	Route    string `json:"route"`
	Answered bool   `json:"answered"`
	// RTTSeconds is the round trip from the ping's keys to the pong; for
	// the chat-log routes it is mostly the client's flush delay.
	RTTSeconds float64 `json:"rttSeconds"`
	// LastLine is when this route last brought any bridge line (zero: never).
	LastLine time.Time `json:"lastLine"`
}

// DoctorChatLog is the chat log before and after the check.
type DoctorChatLog struct {
	Path string `json:"path,omitempty"`
	// Problem says why there is no path, or why the file cannot be read.
	Problem    string `json:"problem,omitempty"`
	Exists     bool   `json:"exists"`
	SizeBefore int64  `json:"sizeBefore"`
	SizeAfter  int64  `json:"sizeAfter"`
	// Grew: WoW wrote to the file during the check.
	Grew bool `json:"grew"`
}

// DoctorElevation is whether WoW and the Desktop run as administrator:
// Windows drops keys sent to a more elevated window.
type DoctorElevation struct {
	WoWPID uint32 `json:"wowPid,omitempty"`
	// WoWKnown is false when Windows would not tell (Problem says why).
	WoWKnown    bool   `json:"wowKnown"`
	WoWElevated bool   `json:"wowElevated"`
	Desktop     bool   `json:"desktopElevated"`
	Problem     string `json:"problem,omitempty"`
}

// Blocked reports whether Windows drops the Desktop's keys: WoW runs
// above the Desktop.
func (el *DoctorElevation) Blocked() bool {
	return el != nil && el.WoWKnown && el.WoWElevated && !el.Desktop
}

// DoctorIdle is the keyboard's idle reading.
type DoctorIdle struct {
	Known   bool    `json:"known"`
	Seconds float64 `json:"seconds"`
	// NeedSeconds is the quiet an automatic line waits for.
	NeedSeconds float64 `json:"needSeconds"`
	Problem     string  `json:"problem,omitempty"`
}

// DoctorBridge is the engine's verdict after the check.
type DoctorBridge struct {
	Summary string   `json:"summary"`
	Problem string   `json:"problem,omitempty"`
	Advice  []string `json:"advice,omitempty"`
}

// doctorPoll is how often the doctor looks at the handshake it waits for.
const doctorPoll = 50 * time.Millisecond

// Doctor runs a handshake now and reports what it and everything around it
// showed. It waits for the handshake to finish: up to the handshake
// timeout after the ping went out, plus the time the ping waits for the
// typing guard (bounded as the bridge bounds it), plus the rest of a
// handshake already in flight; ctx may end it sooner (the report then says
// the check was cut short).
func (e *Engine) Doctor(ctx context.Context) DoctorReport {
	r := DoctorReport{Version: e.o.Version, OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	terr := e.checkTarget(ctx)

	e.mu.Lock()
	cfg := e.cfg
	r.EBSURL, r.EBSReachable = e.snap.EBS.URL, e.snap.EBS.Reachable
	r.WoW = DoctorTarget{Found: e.snap.WoW.Found, Target: e.snap.WoW.Target, Problem: e.snap.WoW.Problem}
	r.Injector = e.snap.WoW.Injector
	r.HandshakeTimeoutSeconds = e.br.Options().HandshakeTimeout.Seconds()
	e.mu.Unlock()
	if terr != nil && ctx.Err() != nil {
		r.WoW = DoctorTarget{Problem: "the check was cut short: " + ctx.Err().Error()}
	}

	r.ChatLog = DoctorChatLog{Path: cfg.ChatLogPath, Problem: cfg.ChatLogProblem}
	if cfg.ChatLogPath != "" {
		r.ChatLog.SizeBefore, r.ChatLog.Exists, r.ChatLog.Problem = fileSize(cfg.ChatLogPath)
	}

	var h *bridge.Handshake
	switch {
	case !r.WoW.Found:
		r.Ping.Problem = "not typed: WoW was not found"
	default:
		var cut string
		h, cut, r.Guard = e.doctorHandshake(ctx)
		switch {
		case h == nil:
			r.Ping.Problem = "the handshake did not start: " + cut
		case h.TypeError != "":
			r.Ping.Problem = h.TypeError
		case h.Typed.IsZero():
			r.Ping.Problem = "not typed yet: " + cut
		default:
			r.Ping.Typed, r.Ping.WaitedSeconds = true, h.Typed.Sub(h.Started).Seconds()
			if cut != "" {
				r.Ping.Problem = cut
			}
		}
	}

	if cfg.ChatLogPath != "" {
		size, exists, problem := fileSize(cfg.ChatLogPath)
		r.ChatLog.SizeAfter, r.ChatLog.Problem = size, problem
		r.ChatLog.Grew = exists && r.ChatLog.Exists && size > r.ChatLog.SizeBefore
		r.ChatLog.Exists = exists
	}
	r.Screen = e.screenState()
	r.Idle.NeedSeconds = e.o.IdleFor.Seconds()
	if e.o.Idle == nil {
		r.Idle.Problem = "no keyboard reading on this system"
	} else if idle, err := e.o.Idle(ctx); err != nil {
		r.Idle.Problem = err.Error()
	} else {
		r.Idle.Known, r.Idle.Seconds = true, idle.Seconds()
	}

	now := e.o.Now()
	e.mu.Lock()
	for _, route := range bridge.Routes {
		dr := DoctorRoute{Route: string(route), LastLine: e.br.LastArrival(route)}
		if h != nil {
			if d, ok := h.RTT[route]; ok {
				dr.Answered, dr.RTTSeconds = true, d.Seconds()
			}
		}
		r.Routes = append(r.Routes, dr)
	}
	r.OK = h.Up()
	r.Bridge.Summary = e.bridgeSummaryLocked(h, now)
	if h == nil {
		r.Bridge.Summary = "no handshake was made"
	}
	if !r.OK {
		// bridgeProblemLocked speaks of the last finished handshake: the
		// doctor's own unless the check was cut short.
		r.Bridge.Problem = e.bridgeProblemLocked()
		if r.WoW.Found && r.Ping.Problem != "" && (h == nil || !h.Done) {
			r.Bridge.Problem = "the doctor's ping: " + r.Ping.Problem
		}
		r.Bridge.Advice = e.bridgeAdviceLocked()
	}
	e.mu.Unlock()
	r.At = now
	return r
}

// doctorHandshake starts a handshake and waits for it to finish. A
// handshake already in flight when the doctor was asked may have begun
// before the chat log was first read, so the doctor waits for it and then
// starts its own. It returns the handshake (nil if none started), why the
// wait was cut short ("" if it finished), and the last reason the typing
// guard gave meanwhile.
func (e *Engine) doctorHandshake(ctx context.Context) (h *bridge.Handshake, cut, guard string) {
	e.mu.Lock()
	hto := e.br.Options().HandshakeTimeout
	prev := ""
	if l := e.br.Last(); l != nil {
		prev = l.Nonce
	}
	earlier := ""
	if f := e.br.InFlight(); f != nil {
		earlier = f.Nonce
	} else {
		e.br.CheckNow()
	}
	e.mu.Unlock()
	e.wakeTailLoop()

	// The bridge gives a ping 4 handshake timeouts to get past the typing
	// guard, then the pong one more; an earlier handshake may need as long.
	bound := 5*hto + 5*time.Second
	if earlier != "" {
		bound += 5 * hto
	}
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	tick := time.NewTicker(doctorPoll)
	defer tick.Stop()
	nonce := ""
	for {
		e.mu.Lock()
		last, inflight := e.br.Last(), e.br.InFlight()
		if e.guardWaiting != "" {
			guard = e.guardWaiting
		}
		if earlier != "" && (inflight == nil || inflight.Nonce != earlier) {
			// The earlier handshake is over: now the doctor's own.
			earlier = ""
			if inflight == nil {
				e.br.CheckNow()
			}
			if last != nil {
				prev = last.Nonce
			}
		}
		if earlier == "" && nonce == "" {
			switch {
			case inflight != nil:
				nonce = inflight.Nonce
			case last != nil && last.Nonce != prev:
				nonce = last.Nonce
			}
		}
		wowProblem := e.snap.WoW.Problem
		if !e.snap.WoW.Found && wowProblem == "" {
			wowProblem = "WoW was not found"
		}
		e.mu.Unlock()
		if nonce != "" && last != nil && last.Nonce == nonce {
			return last, "", guard
		}
		if earlier == "" && nonce == "" && wowProblem != "" {
			// No handshake starts without WoW (it closed meanwhile).
			return nil, wowProblem, guard
		}
		if earlier == "" {
			e.wakeTailLoop()
		}
		var why string
		select {
		case <-ctx.Done():
			why = "the check was cut short (" + ctx.Err().Error() + ")"
		case <-deadline.C:
			why = fmt.Sprintf("no outcome within %s", bound.Round(time.Second))
		case <-tick.C:
			continue
		}
		if guard != "" {
			why += "; the typing guard was waiting: " + guard
		}
		if nonce != "" && inflight != nil && inflight.Nonce == nonce {
			return inflight, why, guard
		}
		return nil, why, guard
	}
}

// fileSize is the chat log's size, whether it exists, and why it cannot be
// read ("" when it can).
func fileSize(path string) (int64, bool, string) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return 0, false, "the file does not exist (WoW creates it once chat logging is on: /mgm log, or /chatlog)"
	case err != nil:
		return 0, false, err.Error()
	case fi.IsDir():
		return 0, false, "this is a folder, not the chat log file"
	}
	return fi.Size(), true, ""
}

// ---- the report as text ----

// Text is the report as plain text for a bug report: versions, each check
// with OK or FAIL and what was measured, then what to do.
func (r DoctorReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Mimiron's Gold-o-Matic Desktop doctor, %s\n", r.At.Format("2006-01-02 15:04:05 MST"))
	fmt.Fprintf(&b, "Desktop %s on %s (%s)\n", orDash(r.Version), r.OS, r.Go)
	fmt.Fprintf(&b, "Injector: %s\n", orDash(r.Injector))
	switch {
	case r.EBSURL == "":
		b.WriteString("EBS: not configured\n")
	case r.EBSReachable:
		fmt.Fprintf(&b, "EBS: %s (reachable)\n", r.EBSURL)
	default:
		fmt.Fprintf(&b, "EBS: %s (not reachable at the last poll)\n", r.EBSURL)
	}
	b.WriteString("\n")
	check := func(ok bool, format string, args ...any) {
		word := "FAIL"
		if ok {
			word = "OK"
		}
		fmt.Fprintf(&b, "%-5s %s\n", word, fmt.Sprintf(format, args...))
	}
	info := func(format string, args ...any) { fmt.Fprintf(&b, "%-5s %s\n", "INFO", fmt.Sprintf(format, args...)) }

	if r.WoW.Found {
		check(true, "WoW found: %s", r.WoW.Target)
	} else {
		check(false, "WoW not found: %s", orDash(r.WoW.Problem))
	}
	if r.Ping.Typed {
		msg := fmt.Sprintf("ping typed (waited %s before the keys went out)", seconds(r.Ping.WaitedSeconds))
		if r.Ping.Problem != "" {
			msg += "; " + r.Ping.Problem
		}
		check(true, "%s", msg)
	} else {
		check(false, "ping %s", orDash(r.Ping.Problem))
	}
	for _, rt := range r.Routes {
		last := "never"
		if !rt.LastLine.IsZero() {
			last = rt.LastLine.Format("15:04:05")
		}
		switch {
		case rt.Answered:
			check(true, "route %s: pong after %s (last line seen %s)", rt.Route, seconds(rt.RTTSeconds), last)
		case r.Ping.Typed:
			check(false, "route %s: no pong within %s (last line seen %s)", rt.Route, seconds(r.HandshakeTimeoutSeconds), last)
		default:
			check(false, "route %s: not tried (no ping went out; last line seen %s)", rt.Route, last)
		}
	}
	cl := r.ChatLog
	switch {
	case cl.Path == "":
		check(false, "chat log: no path (%s)", orDash(cl.Problem))
	case !cl.Exists:
		check(false, "chat log %s: %s", cl.Path, orDash(cl.Problem))
	case cl.Grew:
		check(true, "chat log %s: %d → %d bytes, written during the check", cl.Path, cl.SizeBefore, cl.SizeAfter)
	default:
		check(false, "chat log %s: %d bytes, not written during the check", cl.Path, cl.SizeAfter)
	}
	sc := r.Screen
	switch {
	case !sc.Available:
		info("screen: no screen reader in this build")
	case sc.Found:
		check(true, "screen: the addon's strip is read (%s)", orDash(sc.Source))
	case sc.Minimised:
		check(false, "screen: WoW's window is minimised (%s)", orDash(sc.Source))
	case sc.Problem != "" && strings.Contains(sc.Source, sc.Problem):
		check(false, "screen: %s", orDash(sc.Source))
	default:
		check(false, "screen: strip not read: %s (%s)", orDash(sc.Problem), orDash(sc.Source))
	}
	if sc.TypingKnown && sc.Typing {
		info("the strip says an edit box has the keyboard focus in WoW (the streamer is typing)")
	}
	if el := r.Elevation; el != nil {
		desk := "normally"
		if el.Desktop {
			desk = "as administrator"
		}
		switch {
		case !el.WoWKnown:
			check(false, "elevation: Desktop runs %s; WoW unknown: %s", desk, orDash(el.Problem))
		case el.WoWElevated:
			check(!el.Blocked(), "elevation: WoW (pid %d) runs as administrator, the Desktop %s", el.WoWPID, desk)
		default:
			check(true, "elevation: WoW (pid %d) runs normally, the Desktop %s", el.WoWPID, desk)
		}
	}
	if r.Idle.Known {
		info("keyboard idle %s (automatic lines wait for %s of quiet)", seconds(r.Idle.Seconds), seconds(r.Idle.NeedSeconds))
	} else {
		info("keyboard idle: unknown (%s)", orDash(r.Idle.Problem))
	}
	if r.Guard != "" {
		info("typing guard held lines back: %s", r.Guard)
	}

	b.WriteString("\n")
	if r.OK {
		fmt.Fprintf(&b, "Bridge: UP (%s)\n", r.Bridge.Summary)
	} else {
		fmt.Fprintf(&b, "Bridge: DOWN (%s)\n", r.Bridge.Summary)
		if r.Bridge.Problem != "" {
			fmt.Fprintf(&b, "Problem: %s\n", r.Bridge.Problem)
		}
	}
	b.WriteString("\nWhat to do:\n")
	for _, a := range r.advice() {
		fmt.Fprintf(&b, "  - %s\n", a)
	}
	return b.String()
}

// advice is what to do, most likely first.
func (r DoctorReport) advice() []string {
	var adv []string
	if r.Elevation.Blocked() {
		adv = append(adv, "WoW runs as administrator and the Desktop does not: Windows drops the keys the Desktop types. Run both normally (or both as administrator).")
	}
	if !r.WoW.Found {
		adv = append(adv, "Start WoW and log in (or, for a demo, the WoW simulator); if WoW runs, pick its window in Settings (WoW process).")
	}
	if !r.OK {
		return append(adv, r.Bridge.Advice...)
	}
	answered := map[string]bool{}
	for _, rt := range r.Routes {
		answered[rt.Route] = rt.Answered
	}
	if !answered[string(bridge.Screen)] {
		if r.Screen.Minimised {
			adv = append(adv, "Restore WoW's window: the Desktop reads the addon's answers from a small strip in its top-left corner, the fastest route.")
		} else {
			adv = append(adv, "Keep WoW's window visible (the top-left corner not covered, the UI not hidden with Alt+Z): the screen route is the fastest one.")
		}
	}
	if !answered[string(bridge.LogPrint)] && !answered[string(bridge.LogWhisper)] {
		switch {
		case r.ChatLog.Path == "" || !r.ChatLog.Exists:
			adv = append(adv, "Set the WoW folder (or the chat log's path) in Settings and turn chat logging on in WoW (/mgm log): the chat log is the fallback route.")
		case !r.ChatLog.Grew:
			adv = append(adv, "WoW did not write the chat log during the check: turn chat logging on (/mgm log). Some clients write it only when logging is switched off and on, or at exit.")
			if strings.Contains(strings.ToLower(r.ChatLog.Path), "program files") {
				adv = append(adv, fmt.Sprintf("WoW is under Program Files: Windows may write the chat log to %s instead; set that path in Settings if it exists.", virtualStorePath(r.ChatLog.Path)))
			}
		}
	}
	if len(adv) == 0 {
		adv = append(adv, "Nothing: every route answered.")
	}
	return adv
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// seconds writes a measurement: hundredths below a second (round trips on
// the screen route are that short), tenths up to a minute.
func seconds(s float64) string {
	switch {
	case s < 1:
		return fmt.Sprintf("%.2f s", s)
	case s < 60:
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.0f s", s)
}
