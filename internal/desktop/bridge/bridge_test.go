package bridge

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)

func newBridge() *Bridge {
	return New(Options{}, rand.New(rand.NewPCG(1, 2)), NewState())
}

// up runs a handshake answered on the screen route.
func up(t *testing.T, b *Bridge, at time.Time) {
	t.Helper()
	nonce, _ := b.StartHandshake(at)
	b.PingTyped(nonce, at, nil)
	if !b.Pong(nonce, "Streamer", Screen, at.Add(400*time.Millisecond)) {
		t.Fatal("our own pong was refused")
	}
	if !b.Up() {
		t.Fatal("bridge not up after a pong")
	}
}

func TestAcceptOnceWhicheverRoute(t *testing.T) {
	b := newBridge()
	if !b.Accept(LogPrint, "e1:1", t0) {
		t.Fatal("first arrival refused")
	}
	if b.Accept(Screen, "e1:1", t0.Add(time.Second)) {
		t.Fatal("the same line by another route was accepted again")
	}
	if !b.Accept(Screen, "e2:1", t0) {
		t.Fatal("another epoch's line 1 was taken for a repeat")
	}
	// Both strip lines are acknowledged (the strip shows them until then);
	// the chat-log-only line is not in the strip and needs no ack.
	line := b.AckLine(t0)
	if line != `/run MGM_Ack("e1:1,e2:1")` {
		t.Fatalf("AckLine = %q", line)
	}
	b.Accept(Screen, "e2:2", t0.Add(time.Second))
	if l := b.AckLine(t0.Add(time.Second)); l != "" {
		t.Fatalf("a second ack within AckEvery: %q", l)
	}
	if l := b.AckLine(t0.Add(2 * time.Second)); l != `/run MGM_Ack("e2:2")` {
		t.Fatalf("AckLine = %q", l)
	}
}

func TestAckLineFitsTheChatBox(t *testing.T) {
	b := newBridge()
	for i := range 60 {
		b.Accept(Screen, "abcdefghijkl:"+strings.Repeat("9", 9)+string(rune('a'+i%26))+string(rune('a'+i/26)), t0)
	}
	seen := 0
	for i := 0; ; i++ {
		l := b.AckLine(t0.Add(time.Duration(i) * 3 * time.Second))
		if l == "" {
			break
		}
		if len(l) > 254 {
			t.Fatalf("ack line of %d characters", len(l))
		}
		seen += strings.Count(l, ",") + 1
	}
	if seen != 60 {
		t.Fatalf("acknowledged %d of 60 lines", seen)
	}
}

func TestHandshake(t *testing.T) {
	b := newBridge()
	if !b.HandshakeDue(t0) {
		t.Fatal("no handshake due at start")
	}
	nonce, line := b.StartHandshake(t0)
	if line != `/run MGM_Ping("`+nonce+`","n")` {
		t.Fatalf("ping line %q", line)
	}
	if b.HandshakeDue(t0) {
		t.Fatal("a second handshake while one is in flight")
	}
	b.PingTyped(nonce, t0.Add(time.Second), nil)
	if b.Pong("forged", "Mallory", LogWhisper, t0.Add(2*time.Second)) {
		t.Fatal("a pong with a nonce the Desktop never sent was accepted")
	}
	if b.Self() != "" {
		t.Fatal("a forged pong named the character")
	}
	b.Pong(nonce, "Streamer", Screen, t0.Add(1400*time.Millisecond))
	b.Pong(nonce, "Streamer", Screen, t0.Add(3*time.Second)) // a repeat keeps the first RTT
	if b.Tick(t0.Add(10*time.Second)) != nil {
		t.Fatal("handshake ended before its timeout")
	}
	h := b.Tick(t0.Add(16 * time.Second))
	if h == nil || !h.Up() || h.RTT[Screen] != 400*time.Millisecond || len(h.RTT) != 1 {
		t.Fatalf("handshake = %+v", h)
	}
	if b.Self() != "Streamer" {
		t.Fatalf("Self = %q", b.Self())
	}
	if b.HandshakeDue(t0.Add(time.Minute)) || !b.HandshakeDue(t0.Add(16*time.Second+2*time.Minute)) {
		t.Fatal("the next handshake is not HandshakeEvery later")
	}
	// A late pong on the whisper route still counts for the last handshake.
	b.Pong(nonce, "Streamer", LogWhisper, t0.Add(20*time.Second))
	if _, ok := b.Last().RTT[LogWhisper]; !ok {
		t.Fatal("late pong not recorded")
	}
}

func TestHandshakeDownAndRouteLetters(t *testing.T) {
	b := newBridge()
	nonce, _ := b.StartHandshake(t0)
	b.PingTyped(nonce, t0, nil)
	h := b.Tick(t0.Add(15 * time.Second))
	if h == nil || h.Up() || b.Up() {
		t.Fatalf("no answer within the timeout, yet up: %+v", h)
	}
	if !b.HandshakeDue(t0.Add(45 * time.Second)) {
		t.Fatal("a down bridge is not checked again after HandshakeRetry")
	}
	// Only the whisper route answers: ordinary lines go by whisper too.
	nonce, _ = b.StartHandshake(t0.Add(time.Minute))
	b.PingTyped(nonce, t0.Add(time.Minute), nil)
	b.Pong(nonce, "Streamer", LogWhisper, t0.Add(time.Minute+3*time.Second))
	b.Tick(t0.Add(2 * time.Minute))
	if _, line := b.StartHandshake(t0.Add(5 * time.Minute)); !strings.HasSuffix(line, `,"wn")`) {
		t.Fatalf("routes after a whisper-only handshake: %q", line)
	}
}

func TestPingNotTypedIsDown(t *testing.T) {
	b := newBridge()
	nonce, _ := b.StartHandshake(t0)
	b.PingTyped(nonce, t0, errors.New("WoW window not found"))
	if b.Up() || b.Last() == nil || b.Last().TypeError == "" {
		t.Fatalf("a ping that could not be typed: %+v", b.Last())
	}
}

func TestCommandLifecycle(t *testing.T) {
	b := newBridge()
	c, err := b.NewCommand("notify:p1", t0, func(id string) (string, error) { return `/run X("` + id + `")`, nil })
	if err != nil || c.State != Queued || !strings.Contains(c.Line, c.ID) {
		t.Fatalf("NewCommand = %+v, %v", c, err)
	}
	if again, _ := b.NewCommand("notify:p1", t0, nil); again != c {
		t.Fatal("a second live command for the same key")
	}
	if len(b.Due()) != 0 {
		t.Fatal("commands typed before the bridge answered a handshake")
	}
	up(t, b, t0)
	due := b.Due()
	if len(due) != 1 || due[0].State != Typing || due[0].Tries != 1 {
		t.Fatalf("Due = %+v", due)
	}
	b.Typed(c.ID, t0.Add(time.Second), nil)
	if len(b.Expire(t0.Add(20*time.Second))) != 0 || c.State != Typed {
		t.Fatalf("expired before AckTimeout: %+v", c)
	}
	b.Expire(t0.Add(22 * time.Second)) // no ack: typed again
	if c.State != Queued {
		t.Fatalf("state after the ack timeout: %+v", c)
	}
	b.Due()
	b.Typed(c.ID, t0.Add(23*time.Second), errors.New("chat box closed"))
	b.Due()
	b.Typed(c.ID, t0.Add(24*time.Second), nil)
	failed := b.Expire(t0.Add(50 * time.Second))
	if len(failed) != 1 || c.State != Failed || c.Tries != 3 {
		t.Fatalf("after the last try: %+v", c)
	}
	// A command failed a while ago starts over when a handshake succeeds.
	up(t, b, t0.Add(3*time.Minute))
	b.Tick(t0.Add(3*time.Minute + 16*time.Second))
	if c.State != Queued || c.Tries != 0 {
		t.Fatalf("failed command not revived: %+v", c)
	}
	b.Due()
	b.Typed(c.ID, t0.Add(4*time.Minute), nil)
	if got := b.Ack(c.ID, "whispered", t0.Add(4*time.Minute+time.Second)); got != c || c.State != Done || c.Result != "whispered" {
		t.Fatalf("Ack = %+v", got)
	}
	if b.Ack("unknown", "ok", t0) != nil {
		t.Fatal("an unknown command id was acknowledged")
	}
	next, _ := b.NewCommand("notify:p1", t0.Add(5*time.Minute), func(id string) (string, error) { return id, nil })
	if next == c {
		t.Fatal("a finished command was reused for a new one")
	}
}

func TestCommandsPrunedKeepLive(t *testing.T) {
	b := newBridge()
	live, _ := b.NewCommand("live", t0, func(id string) (string, error) { return id, nil })
	for i := range maxCommands + 50 {
		c, _ := b.NewCommand("k"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('a'+i/26%26)), t0, func(id string) (string, error) { return id, nil })
		b.Ack(c.ID, "ok", t0)
	}
	if len(b.st.Commands) > maxCommands || b.ByID(live.ID) == nil {
		t.Fatalf("%d commands kept; live one kept: %v", len(b.st.Commands), b.ByID(live.ID) != nil)
	}
}
