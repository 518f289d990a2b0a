package engine

// This file is the engine's half of the bridge protocol (docs/bridge.md):
// bridge lines from every route, the handshake, acknowledged commands and
// the typing guard. The protocol's rules live in package bridge; here they
// meet the injection queue, the state file and the dashboard.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/bridge"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/markers"
)

// ScreenState is what the screen route's reader last saw (the app adapts
// the reader's status to it).
type ScreenState struct {
	// Available is false where no screen reader exists (nothing to show).
	Available bool `json:"available"`
	// Found is true while the strip is read; Problem says why not.
	Found   bool   `json:"found"`
	Problem string `json:"problem,omitempty"`
	// Source says where the picture comes from; Minimised is true when
	// the window is minimised (for the doctor's report).
	Source    string `json:"source,omitempty"`
	Minimised bool   `json:"minimised"`
	// Typing is the strip's focus flag (an edit box has the keyboard
	// focus); TypingKnown is false when no fresh, live strip tells. SeenAt
	// is when that strip was captured.
	Typing      bool      `json:"typing"`
	TypingKnown bool      `json:"typingKnown"`
	SeenAt      time.Time `json:"seenAt"`
}

// AcceptScreenLine takes a bridge line the screen reader assembled from the strip.
func (e *Engine) AcceptScreenLine(line string, at time.Time) {
	e.mu.Lock()
	e.acceptTextLocked(bridge.Screen, line, -1, at)
	e.saveLocked()
	e.mu.Unlock()
	e.changed()
	e.wakeTailLoop()
}

// acceptTextLocked takes one line from a route: a chat-log line (start is
// its offset) or a strip line (start -1).
func (e *Engine) acceptTextLocked(route bridge.Route, text string, start int64, now time.Time) {
	ms := markers.Parse(text)
	if len(ms) == 0 {
		return
	}
	if route == bridge.LogPrint && !ms[0].Trusted {
		if relayed, ok := e.relayedLocked(text); ok {
			ms, route = relayed, bridge.LogWhisper
		}
	}
	if ms[0].Kind == markers.Seq && ms[0].Trusted {
		if !e.br.Accept(route, ms[0].ID, now) {
			// Already acted on, from this route or another; a pong still
			// tells that this route works too.
			for _, m := range ms {
				if m.Kind == markers.Pong && m.Trusted {
					e.br.Pong(m.ID, m.Payload, route, now)
				}
			}
			return
		}
		e.dirty = true
	} else if ms[0].Trusted {
		e.br.Arrived(route, now)
	}
	seq := ""
	for _, m := range ms {
		if !m.Trusted {
			if m.Kind != markers.Seq {
				e.log.Warn("ignored a marker that the addon did not print (someone typed it in chat?)", "marker", m.Kind, "line", clip(text, 160))
			}
			continue
		}
		switch m.Kind {
		case markers.Seq:
			seq = m.ID
			continue
		case markers.Pong:
			e.br.Pong(m.ID, m.Payload, route, now)
			continue
		case markers.Ack:
			e.ackLocked(m.ID, m.Payload, now)
			continue
		}
		e.acceptMarkerLocked(m, text, start, seq, now)
	}
}

// relayedLocked reads a whisper to self (the log-whisper route). The sender
// must be the player's character, known from an earlier pong — or named by
// a pong in this very line whose nonce is ours.
func (e *Engine) relayedLocked(text string) ([]markers.Marker, bool) {
	if self := e.br.Self(); self != "" {
		if ms, ok := markers.ParseRelayed(text, self); ok {
			return ms, true
		}
	}
	for _, m := range markers.Parse(text) {
		if m.Kind != markers.Pong {
			continue
		}
		ms, ok := markers.ParseRelayed(text, m.Payload)
		if !ok {
			return nil, false
		}
		if h := e.br.InFlight(); h != nil && h.Nonce == m.ID {
			return ms, true
		}
		if h := e.br.Last(); h != nil && h.Nonce == m.ID {
			return ms, true
		}
	}
	return nil, false
}

// ---- commands ----

// commandFor queues the command key unless done is already true or a live
// command exists; build gets the command id.
func (e *Engine) commandLocked(key string, build func(cmd string) (string, error)) {
	if c := e.br.Find(key); c != nil && c.Live() {
		return
	}
	if _, err := e.br.NewCommand(key, e.o.Now(), build); err != nil {
		e.log.Error("the line cannot be typed", "work", key, "error", err)
		return
	}
	e.dirty = true
}

// ackLocked applies an acknowledgement to its command.
func (e *Engine) ackLocked(id, result string, now time.Time) {
	c := e.br.Ack(id, result, now)
	if c == nil {
		return // a command from before a lost state file, or a repeat
	}
	e.dirty = true
	ns, key, _ := strings.Cut(c.Key, ":")
	ok := result == "ok" || result == "dup" || result == "whispered"
	switch ns {
	case "notify":
		// "Whispered: yes" means the server echoed the whisper.
		if result == "whispered" || result == "dup" {
			e.st.Notified.Add(key)
			e.log.Info("winner whispered (the addon saw the whisper go out)", "payout", key, "character", e.names[key])
		} else {
			e.log.Warn("the winner's whisper did not go out: "+whisperProblem(result), "payout", key, "character", e.names[key])
		}
	case "who":
		if ok {
			e.st.WhoRuns.Add(key)
			e.log.Info("/who acknowledged by the addon", "spinCycle", key)
		}
	case "gift-items":
		if ok {
			e.st.GiftItemsRequested.Add(key)
			e.log.Info("[MGM_GIFT] inventory listed by the addon", "gift", key)
		}
	case "sync":
		if ok {
			e.log.Info("ReceiveGold acknowledged: the payouts are in the addon's mail queue", "payouts", key)
		} else {
			e.log.Error("the addon refused a ReceiveGold line", "payouts", key, "result", result)
		}
	default:
		e.log.Info("command acknowledged by the addon", "work", c.Key, "result", result)
	}
}

func whisperProblem(result string) string {
	switch result {
	case "offline":
		return "the server says the player is not online"
	case "nowhisper":
		return "the server did not echo it within 10 s (the player may be offline, or WoW is disconnected)"
	}
	return "the addon answered " + result
}

// ---- the bridge tick ----

// bridgeTick runs after every tail tick: handshakes, acknowledgements,
// commands due, retries, and the dashboard's bridge view.
func (e *Engine) bridgeTick() {
	now := e.o.Now()
	e.mu.Lock()
	if h := e.br.Tick(now); h != nil {
		e.handshakeDoneLocked(h)
	}
	for _, c := range e.br.Expire(now) {
		e.log.Error("WoW did not acknowledge a command after the last try", "work", c.Key, "tries", c.Tries,
			"detail", c.Result, "bridge", e.bridgeProblemLocked())
		e.dirty = true
	}
	wowFound := e.snap.WoW.Found
	var pingLine, nonce string
	if wowFound && e.br.HandshakeDue(now) {
		nonce, pingLine = e.br.StartHandshake(now)
	}
	var ack string
	var due []*bridge.Command
	if wowFound {
		// While WoW is away (closed, minimised) nothing is typed: commands
		// wait in the queue instead of using up their tries.
		ack = e.br.AckLine(now)
		due = e.br.Due()
	}
	if len(due) > 0 || ack != "" {
		e.dirty = true
	}
	// The work behind every acknowledged strip line is on disk before the
	// addon is told to forget the line.
	e.saveLocked()
	e.updateBridgeViewLocked(now)
	e.mu.Unlock()

	if pingLine != "" {
		e.queue.Submit(func(r inject.Result) {
			e.mu.Lock()
			e.br.PingTyped(nonce, e.o.Now(), r.Err())
			e.mu.Unlock()
			e.changed()
		}, pingLine)
	}
	if ack != "" {
		e.queue.Submit(nil, ack)
	}
	for _, c := range due {
		id := c.ID
		e.queue.Submit(func(r inject.Result) {
			e.mu.Lock()
			e.br.Typed(id, e.o.Now(), r.Err())
			e.dirty = true
			e.mu.Unlock()
			e.changed()
		}, c.Line)
	}
	if pingLine != "" || len(due) > 0 {
		e.changed()
	}
}

// handshakeDoneLocked logs a handshake's outcome when the bridge's state changed.
func (e *Engine) handshakeDoneLocked(h *bridge.Handshake) {
	if h.Up() {
		e.problemLocked("bridge", "")
		e.log.Info("bridge handshake answered", "routes", rttText(h.RTT))
		return
	}
	e.problemLocked("bridge", e.bridgeProblemLocked())
}

func rttText(rtt map[bridge.Route]time.Duration) string {
	var parts []string
	for _, r := range bridge.Routes {
		if d, ok := rtt[r]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f s", r, d.Seconds()))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// BridgeView is the dashboard's bridge card.
type BridgeView struct {
	// State is "checking" (before the first answer), "up" or "down".
	State string `json:"state"`
	// Summary is one line: "round trip 0.4 s via screen; chat log not written since 14:02".
	Summary string `json:"summary"`
	// Problem and Advice say which step failed and what to do (down only).
	Problem string   `json:"problem,omitempty"`
	Advice  []string `json:"advice,omitempty"`
	Routes  []struct {
		Route      string    `json:"route"`
		Answered   bool      `json:"answered"`
		RTTSeconds float64   `json:"rttSeconds"`
		LastLine   time.Time `json:"lastLine"`
	} `json:"routes"`
	LastCheck time.Time `json:"lastCheck"`
	// Guard is what the typing guard waits for, if anything.
	Guard string `json:"guard,omitempty"`
	// Commands are the commands not finished, and those failed recently.
	Commands []CommandView `json:"commands"`
}

// CommandView is one command on the dashboard.
type CommandView struct {
	Key    string `json:"key"`
	State  string `json:"state"` // queued, typing, typed (waiting for the ack), failed
	Tries  int    `json:"tries"`
	Result string `json:"result,omitempty"`
}

func (e *Engine) updateBridgeViewLocked(now time.Time) {
	v := BridgeView{Guard: e.guardWaiting}
	last, inflight := e.br.Last(), e.br.InFlight()
	switch {
	case e.br.Up():
		v.State = "up"
	case last == nil:
		v.State = "checking"
	default:
		v.State = "down"
	}
	var h *bridge.Handshake
	if inflight != nil && inflight.Up() {
		h = inflight
	} else {
		h = last
	}
	if last != nil {
		v.LastCheck = last.Started
	}
	for _, r := range bridge.Routes {
		rv := struct {
			Route      string    `json:"route"`
			Answered   bool      `json:"answered"`
			RTTSeconds float64   `json:"rttSeconds"`
			LastLine   time.Time `json:"lastLine"`
		}{Route: string(r), LastLine: e.br.LastArrival(r)}
		if h != nil {
			if d, ok := h.RTT[r]; ok {
				rv.Answered, rv.RTTSeconds = true, d.Seconds()
			}
		}
		v.Routes = append(v.Routes, rv)
	}
	v.Summary = e.bridgeSummaryLocked(h, now)
	if v.State == "down" {
		v.Problem = e.bridgeProblemLocked()
		v.Advice = e.bridgeAdviceLocked()
	}
	for _, c := range e.br.Commands() {
		if c.Live() || (c.State == bridge.Failed && now.Sub(c.EndAt) < 10*time.Minute) {
			v.Commands = append(v.Commands, CommandView{Key: c.Key, State: c.State, Tries: c.Tries, Result: c.Result})
		}
	}
	e.snap.Bridge = v
}

func (e *Engine) bridgeSummaryLocked(h *bridge.Handshake, now time.Time) string {
	var parts []string
	if h != nil && h.Up() {
		best, bestRoute := time.Duration(-1), bridge.Route("")
		for _, r := range bridge.Routes {
			if d, ok := h.RTT[r]; ok && (best < 0 || d < best) {
				best, bestRoute = d, r
			}
		}
		parts = append(parts, fmt.Sprintf("round trip %.1f s via %s", best.Seconds(), routeName(bestRoute)))
	} else if h != nil {
		parts = append(parts, "no answer from the addon")
	} else {
		parts = append(parts, "checking the bridge")
	}
	cl := e.snap.ChatLog
	switch {
	case e.cfg.ChatLogPath == "":
	case !cl.Found:
		parts = append(parts, "chat log not found")
	case cl.LastGrowth.IsZero():
		parts = append(parts, "chat log not written since the Desktop started")
	case now.Sub(cl.LastGrowth) > time.Minute:
		parts = append(parts, "chat log not written since "+cl.LastGrowth.Local().Format("15:04"))
	}
	return strings.Join(parts, "; ")
}

func routeName(r bridge.Route) string {
	switch r {
	case bridge.Screen:
		return "screen"
	case bridge.LogPrint:
		return "chat log"
	case bridge.LogWhisper:
		return "chat log (whisper to self)"
	}
	return string(r)
}

// bridgeProblemLocked names the step that failed, from what the Desktop knows.
func (e *Engine) bridgeProblemLocked() string {
	last := e.br.Last()
	switch {
	case !e.snap.WoW.Found:
		return "WoW was not found: " + e.snap.WoW.Problem
	case last != nil && last.TypeError != "":
		return "the handshake could not be typed into WoW: " + last.TypeError
	case last == nil:
		return "the first handshake with the addon is still running (it takes a few seconds after WoW is found)"
	}
	var why []string
	if s := e.screenState(); s.Available && !s.Found && s.Problem != "" {
		why = append(why, "screen: "+s.Problem)
	}
	cl := e.snap.ChatLog
	switch {
	case e.cfg.ChatLogPath == "":
		why = append(why, "chat log: "+e.cfg.ChatLogProblem)
	case !cl.Found:
		why = append(why, "chat log: "+cl.Problem)
	default:
		why = append(why, "chat log: nothing from the addon arrived in "+e.cfg.ChatLogPath)
	}
	return "the addon did not answer the handshake within " + e.br.Options().HandshakeTimeout.String() + " (" + strings.Join(why, "; ") + ")"
}

// bridgeAdviceLocked is what a streamer can do, most likely first.
func (e *Engine) bridgeAdviceLocked() []string {
	adv := []string{
		"Make sure the MimironsGoldOMatic addon is enabled (type /mgm in WoW: the queue window opens).",
		"Keep WoW's window visible (not minimised, the top-left corner not covered, the UI not hidden with Alt+Z): the Desktop reads the addon's answers from a small strip there.",
	}
	if s := e.screenState(); s.Available && strings.Contains(strings.ToLower(s.Problem), "minimi") {
		adv = append([]string{"Restore WoW's window: it is minimised."}, adv...)
	}
	adv = append(adv, "Turn chat logging on in WoW (/mgm log) so the chat log can carry the answers too.")
	if p := e.cfg.ChatLogPath; p != "" && strings.Contains(strings.ToLower(p), `program files`) {
		adv = append(adv, fmt.Sprintf("WoW is installed under Program Files: Windows may write its chat log to %s instead of %s; set that path in Settings if it exists.", virtualStorePath(p), p))
	}
	adv = append(adv, "If WoW runs as administrator, run the Desktop as administrator too (or neither): Windows blocks keys sent to an elevated window.")
	return adv
}

// virtualStorePath is where Windows' file virtualisation redirects writes
// of a non-elevated program under Program Files:
// %LOCALAPPDATA%\VirtualStore\<path without the drive>.
func virtualStorePath(p string) string {
	rest := p
	if len(p) > 2 && p[1] == ':' {
		rest = p[2:]
	}
	return `%LOCALAPPDATA%\VirtualStore` + rest
}

func (e *Engine) screenState() ScreenState {
	if e.o.Screen == nil {
		return ScreenState{}
	}
	return e.o.Screen()
}

// ---- the typing guard ----

// ErrGuardStopped is returned by Gate when the Desktop stops while waiting.
var ErrGuardStopped = errors.New("not typed: the Desktop stopped while waiting for the streamer to finish typing")

// Gate is the injection queue's typing guard: it returns once the streamer
// is not typing in WoW — the keyboard idle for IdleFor (not required for
// lines the streamer asked for) and no edit box focused according to a
// fresh strip — so an automatic line never lands in, or sends, the
// streamer's half-typed text.
func (e *Engine) Gate(ctx context.Context, manual bool) error {
	for {
		wait, kind := e.guardReason(ctx, manual)
		e.mu.Lock()
		changed := e.guardWaiting != wait
		e.guardWaiting = wait
		if kind != e.guardKind && kind != "" {
			e.log.Info("waiting before typing into WoW", "reason", wait)
		}
		e.guardKind = kind
		e.mu.Unlock()
		if changed {
			e.changed()
		}
		if wait == "" {
			return nil
		}
		t := time.NewTimer(e.o.GuardPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ErrGuardStopped
		case <-t.C:
		}
	}
}

// guardReason is why a line must wait now ("" if it need not) and the kind
// of reason, so that the event log tells when waiting starts, not every poll.
func (e *Engine) guardReason(ctx context.Context, manual bool) (string, string) {
	scr := e.screenState()
	if scr.Available && scr.TypingKnown && scr.Typing {
		return "an edit box has the keyboard focus in WoW (the streamer is typing)", "focus"
	}
	if e.o.Idle == nil {
		return "", ""
	}
	idle, err := e.o.Idle(ctx)
	if err != nil {
		return "", "" // unknown: the strip's focus flag still guards
	}
	lastInput := time.Now().Add(-idle)
	if scr.Available && scr.TypingKnown && !scr.SeenAt.After(lastInput.Add(stripAfterInput)) {
		// The latest strip predates the latest key: a box the streamer
		// opened just now would not show yet.
		return "checking whether the streamer is typing (waiting for a strip newer than the last key press)", "checking"
	}
	if manual || idle >= e.o.IdleFor {
		return "", ""
	}
	// The Desktop's own keys count as input too (SendInput): input no later
	// than them is not the streamer's.
	if ours := e.queue.LastTyped(); !ours.IsZero() && !lastInput.After(ours.Add(ownKeysSlack)) {
		return "", ""
	}
	return fmt.Sprintf("the keyboard was used %.1f s ago (waiting for %.0f s of quiet)", idle.Seconds(), e.o.IdleFor.Seconds()), "keyboard"
}

// stripAfterInput is how much newer than the last key press a strip must be
// to show its consequence: the addon redraws on the next frame.
const stripAfterInput = 100 * time.Millisecond

// ownKeysSlack absorbs the delay between the Desktop's last key and the
// moment the system (or the simulator) records it.
const ownKeysSlack = 300 * time.Millisecond
