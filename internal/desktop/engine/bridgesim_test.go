package engine

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/bridge"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/eventlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/screen"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/sim/wowsim"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// simBridge is the engine against the WoW client simulator running the real
// addon, with both return routes wired as the Desktop wires them: the chat
// log and the screen reader.
type simBridge struct {
	t      *testing.T
	url    string
	ebs    *fakeEBS
	e      *Engine
	events *eventlog.Log
}

const handshakeTimeout = 2 * time.Second

func startSimBridge(t *testing.T, cfg wowsim.ServerConfig, ebs *fakeEBS) *simBridge {
	t.Helper()
	dir := t.TempDir()
	cfg.LogPath = filepath.Join(dir, "Logs", "WoWChatLog.txt")
	cfg.Client.AddonDir = filepath.Join("..", "..", "..", "addon", "MimironsGoldOMatic")
	cfg.Client.PlayerName = "Streamer"
	cfg.AllOnline = true
	cfg.Tick = 10 * time.Millisecond
	sim, err := wowsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(context.Background())
	go sim.Run(simCtx)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); stopSim(); sim.Close() })

	inj, err := inject.NewSimulator(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, err := screen.NewSimulator(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &simBridge{t: t, url: srv.URL, ebs: ebs, events: eventlog.New(1000, nil, nil, nil)}
	q := inject.NewQueue(inj, nil)
	var eng *Engine
	reader := screen.NewReader(src, screen.ReaderOptions{Interval: 50 * time.Millisecond,
		OnLine: func(line string, at time.Time) { eng.AcceptScreenLine(line, at) }})
	eng, err = New(Options{DataDir: dir, Queue: q, Log: slog.New(b.events), Rand: rand.New(rand.NewPCG(5, 6)),
		TailInterval: 20 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		Bridge:  bridge.Options{HandshakeTimeout: handshakeTimeout, HandshakeRetry: time.Second, AckTimeout: 3 * time.Second},
		IdleFor: 500 * time.Millisecond, GuardPoll: 20 * time.Millisecond,
		Screen: func() ScreenState {
			st := reader.Status()
			typing, known := st.Typing(time.Now(), time.Second)
			return ScreenState{Available: true, Found: st.Found, Problem: st.Error, Typing: typing, TypingKnown: known, SeenAt: st.FlagsAt}
		},
		Idle: inj.Idle,
	})
	if err != nil {
		t.Fatal(err)
	}
	q.SetGate(eng.Gate)
	b.e = eng
	eng.Configure(Config{EBS: ebs, EBSURL: "http://fake", PollInterval: 50 * time.Millisecond, ChatLogPath: cfg.LogPath})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 3)
	go func() { q.Run(ctx); done <- struct{}{} }()
	go func() { reader.Run(ctx); done <- struct{}{} }()
	go func() { eng.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		for range 3 {
			<-done
		}
	})
	return b
}

func (b *simBridge) eventually(what string, within time.Duration, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out after %s waiting for %s\nbridge: %+v\nevents:\n%s", within, what, b.e.Snapshot().Bridge, b.events.Export())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// simState is the part of GET /api/mock/state the tests read.
type simState struct {
	Whispers             []wowsim.Whisper `json:"whispers"`
	TrampledStreamerText []string         `json:"trampledStreamerText"`
	ChatBoxText          string           `json:"chatBoxText"`
	StreamerTyping       bool             `json:"streamerTyping"`
}

func (b *simBridge) state() simState {
	var s simState
	testkit.Call(b.t, http.MethodGet, b.url+"/api/mock/state", nil, nil, &s)
	return s
}

func (b *simBridge) consentWhispers(to string) int {
	n := 0
	for _, w := range b.state().Whispers {
		if w.To == to && strings.HasPrefix(w.Text, "Поздравляю") {
			n++
		}
	}
	return n
}

func acceptedPayout(ebs *fakeEBS, id, name string) {
	ebs.addPayout(id, name, "Pending")
	ebs.mu.Lock()
	ebs.payouts[id].AcceptedAt = &ebsapi.Time{Time: time.Now()}
	ebs.mu.Unlock()
}

// TestBridgeWorksWithTheChatLogNeverWritten: the simulator's default is the
// pessimistic client (the chat log reaches the disk only when WoW exits, prints are not
// logged). The handshake answers through the screen, a winner is whispered
// and the whisper is acknowledged as gone out; Sync's ReceiveGold is
// acknowledged too.
func TestBridgeWorksWithTheChatLogNeverWritten(t *testing.T) {
	ebs := newFakeEBS()
	ebs.addPayout(p1, "Thrall", "Pending")
	acceptedPayout(ebs, p2, "Jaina")
	b := startSimBridge(t, wowsim.ServerConfig{}, ebs)
	b.eventually("the bridge up", 10*time.Second, func() bool { return b.e.Snapshot().Bridge.State == "up" })
	v := b.e.Snapshot().Bridge
	if !v.Routes[0].Answered || v.Routes[0].Route != "screen" || v.Routes[1].Answered || v.Routes[2].Answered {
		t.Fatalf("routes: %+v", v.Routes)
	}
	if !strings.Contains(v.Summary, "via screen") {
		t.Fatalf("summary %q", v.Summary)
	}
	b.eventually("the winner whispered and acknowledged", 15*time.Second, func() bool {
		return b.e.Snapshot().Payouts != nil && b.e.Snapshot().Payouts[0].Notified
	})
	if n := b.consentWhispers("Thrall"); n != 1 {
		t.Fatalf("Thrall whispered %d times", n)
	}
	if r := b.e.Sync(context.Background()); !r.OK || r.Injected != 1 {
		t.Fatalf("sync: %+v", r)
	}
	b.eventually("ReceiveGold acknowledged", 15*time.Second, func() bool {
		b.e.mu.Lock()
		cmds := b.e.br.Commands()
		b.e.mu.Unlock()
		for _, c := range cmds {
			if strings.HasPrefix(c.Key, "sync:") {
				return c.State == bridge.Done && c.Result == "ok"
			}
		}
		return false
	})
}

// TestBridgeDownWhenEveryRouteIsBroken: a client whose answers cannot come
// back (minimised and no chat log; covered and no chat log; keys blocked
// as for an elevated WoW) is reported down within one handshake period,
// with the step that failed, and Sync moves no payout.
func TestBridgeDownWhenEveryRouteIsBroken(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  wowsim.ServerConfig
		want string
	}{
		{"minimised, chat log never written", wowsim.ServerConfig{Client: wowsim.Config{Window: wowsim.WindowMinimised}}, "minimised"},
		{"covered, chat log never written", wowsim.ServerConfig{Client: wowsim.Config{Window: wowsim.WindowCovered}}, "strip"},
		{"keys blocked", wowsim.ServerConfig{Client: wowsim.Config{Keys: wowsim.KeysIgnored}}, "did not answer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ebs := newFakeEBS()
			acceptedPayout(ebs, p1, "Thrall")
			b := startSimBridge(t, tt.cfg, ebs)
			// One handshake period: the ping's typing plus its timeout.
			b.eventually("the bridge reported down", handshakeTimeout+3*time.Second, func() bool { return b.e.Snapshot().Bridge.State == "down" })
			v := b.e.Snapshot().Bridge
			if !strings.Contains(strings.ToLower(v.Problem+" "+strings.Join(v.Advice, " ")), tt.want) || len(v.Advice) == 0 {
				t.Fatalf("problem %q, advice %q: want it to mention %q", v.Problem, v.Advice, tt.want)
			}
			r := b.e.Sync(context.Background())
			if r.OK || !strings.Contains(r.Message, "nothing was changed") {
				t.Fatalf("sync with the bridge down: %+v", r)
			}
			if s := ebs.payout(p1).Status; s != "Pending" || ebs.count("SetPayoutStatus") != 0 {
				t.Fatalf("a payout moved with the bridge down: %s, %d PATCHes", s, ebs.count("SetPayoutStatus"))
			}
		})
	}
}

// TestAutomaticLineWaitsForTheStreamersTyping: the streamer has half a
// message in the chat box when the Desktop wants to whisper a winner; the
// line waits, the streamer's text is neither sent nor garbled, and the
// whisper goes out once the box is free.
func TestAutomaticLineWaitsForTheStreamersTyping(t *testing.T) {
	ebs := newFakeEBS()
	b := startSimBridge(t, wowsim.ServerConfig{}, ebs)
	b.eventually("the bridge up", 10*time.Second, func() bool { return b.e.Snapshot().Bridge.State == "up" })
	// The simulator refuses to start an episode (409) while the chat box is
	// open — the Desktop may be typing an acknowledgement at that moment.
	b.eventually("the streamer typing", 10*time.Second, func() bool {
		if !b.state().StreamerTyping {
			testkit.Call(b.t, http.MethodPost, b.url+"/api/mock/streamer-typing",
				nil, map[string]any{"text": "brb, getting coff", "holdMs": 3000, "charMs": 20}, nil)
		}
		return b.state().ChatBoxText != ""
	})
	ebs.addPayout(p1, "Thrall", "Pending")
	b.e.Refresh()
	b.eventually("the guard holding the line", 5*time.Second, func() bool {
		return strings.Contains(b.e.Snapshot().Bridge.Guard, "edit box has the keyboard focus")
	})
	if n := b.consentWhispers("Thrall"); n != 0 {
		t.Fatal("the whisper was typed while the streamer was typing")
	}
	b.eventually("the whisper after the streamer's episode", 15*time.Second, func() bool { return b.consentWhispers("Thrall") == 1 })
	if s := b.state(); len(s.TrampledStreamerText) != 0 {
		t.Fatalf("the streamer's text was trampled: %q", s.TrampledStreamerText)
	}
}
