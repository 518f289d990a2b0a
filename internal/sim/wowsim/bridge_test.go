package wowsim

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The addon's side of docs/bridge.md, run on the simulated client.

// bridgeLines returns the chat frame's bridge lines, parsed.
type seqLine struct {
	epoch  string
	n      int
	marker string
}

func seqLines(c *Client) []seqLine {
	var out []seqLine
	for _, l := range c.ChatLines() {
		if m := bridgeLine.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[2])
			out = append(out, seqLine{m[1], n, m[3]})
		}
	}
	return out
}

func outboxKeys(t *testing.T, c *Client) []string {
	t.Helper()
	s := evalString(t, c, `local out = {}
for _, e in ipairs(MimironsGoldOMaticDB.outbox) do out[#out + 1] = e.epoch .. ":" .. e.n end
return table.concat(out, ",")`)
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func TestBridgeLinesPerLoad(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	c.Type("/mgm update")
	c.Type("/mgm update")
	first := seqLines(c)
	if len(first) != 2 || first[0].epoch != first[1].epoch || first[0].n != 1 || first[1].n != 2 ||
		first[0].marker != "[MGM_UPDATE_CHECK]" {
		t.Fatalf("bridge lines %+v", first)
	}
	if !regexp.MustCompile(`^[0-9a-z]{1,12}$`).MatchString(first[0].epoch) {
		t.Fatalf("epoch %q", first[0].epoch)
	}
	// A reload on the same frame (same time(), same GetTime()) still starts
	// a new epoch, numbered from 1 again.
	for range 2 {
		if err := c.Reload(); err != nil {
			t.Fatal(err)
		}
		c.Type("/mgm update")
	}
	all := seqLines(c)
	if len(all) != 4 || all[2].n != 1 || all[3].n != 1 || all[2].epoch == first[0].epoch || all[3].epoch == all[2].epoch {
		t.Fatalf("bridge lines after two reloads %+v", all)
	}
}

func TestOutboxSurvivesReloadAndDrainsOnAck(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	for range 3 {
		c.Type("/mgm update")
	}
	before := outboxKeys(t, c)
	if len(before) != 3 {
		t.Fatalf("outbox %q", before)
	}
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := outboxKeys(t, c); !slices.Equal(got, before) {
		t.Fatalf("outbox after /reload %q, want %q", got, before)
	}
	c.Type("/mgm update") // a line of the new epoch joins the old ones
	after := outboxKeys(t, c)
	if len(after) != 4 || !strings.HasSuffix(after[3], ":1") {
		t.Fatalf("outbox %q", after)
	}
	run(t, c, fmt.Sprintf(`MGM_Ack("%s, junk,%s,zz:99,:1,%s:x")`, before[0], before[2], before[1][:strings.Index(before[1], ":")]))
	if got := outboxKeys(t, c); !slices.Equal(got, []string{before[1], after[3]}) {
		t.Fatalf("outbox after MGM_Ack %q, want %q", got, []string{before[1], after[3]})
	}
	run(t, c, `MGM_Ack()`)
	run(t, c, `MGM_Ack(42)`)
	run(t, c, `MGM_Ack({})`)
	run(t, c, fmt.Sprintf(`MGM_Ack("%s,%s")`, before[1], after[3]))
	if got := outboxKeys(t, c); len(got) != 0 {
		t.Fatalf("outbox %q, want empty", got)
	}
}

func TestOutboxKeepsTheNewest64(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	for range 70 {
		c.Type("/mgm update")
	}
	got := outboxKeys(t, c)
	if len(got) != 64 || !strings.HasSuffix(got[0], ":7") || !strings.HasSuffix(got[63], ":70") {
		t.Fatalf("outbox %d lines, %q … %q", len(got), got[0], got[len(got)-1])
	}
}

// TestCommandAcks: every entry point with a command id answers one
// [MGM_ACK:<cmd>:<result>] after its own markers.
func TestCommandAcks(t *testing.T) {
	t.Parallel()
	bag := []Item{{Bag: 0, Slot: 1, ID: 2589, Name: "Linen Cloth", Count: 5}}
	tests := []struct {
		name    string
		saved   string
		online  bool
		code    string
		markers []string
		queue   []string
		gifts   int
	}{
		{name: "notify whispered", online: true, code: `NotifyWinnerWhisper("p-1","Norinn","c1")`, markers: []string{"[MGM_ACK:c1:whispered]"}},
		{name: "notify offline", code: `NotifyWinnerWhisper("p-1","Norinn","c1")`, markers: []string{"[MGM_ACK:c1:offline]"}},
		{name: "notify bad", online: true, code: `NotifyWinnerWhisper("p]1","Norinn","c1")`, markers: []string{"[MGM_ACK:c1:bad]"}},
		{name: "gold ok", code: `ReceiveGold("p-1:Norinn:5;","c1")`, markers: []string{"[MGM_ACK:c1:ok]"}, queue: []string{"p-1:Norinn:5:READY"}},
		{name: "gold bad", code: `ReceiveGold("garbage","c1")`, markers: []string{"[MGM_ACK:c1:bad]"}},
		{name: "gold empty", code: `ReceiveGold("","c1")`, markers: []string{"[MGM_ACK:c1:bad]"}},
		{name: "gold refused", saved: `MimironsGoldOMaticDB = { mailed = { "p-1" } }`, code: `ReceiveGold("p-1:Norinn:5","c1")`,
			markers: []string{"[MGM_ALREADY_MAILED:p-1]", "[MGM_ACK:c1:refused]"}},
		{name: "gold partly refused", saved: `MimironsGoldOMaticDB = { mailed = { "p-1" } }`, code: `ReceiveGold("p-1:Norinn:5;p-2:Bob:7","c1")`,
			markers: []string{"[MGM_ALREADY_MAILED:p-1]", "[MGM_ACK:c1:ok]"}, queue: []string{"p-2:Bob:7:READY"}},
		{name: "who ok", online: true, code: `MGM_RunWhoForSpin("s-1","Hero","c1")`, markers: []string{"[MGM_ACK:c1:ok]",
			`[MGM_WHO]{"schemaVersion":1,"spinCycleId":"s-1","characterName":"Hero","online":true,"capturedAt":"2026-04-03T21:15:00.000Z"}`}},
		{name: "who bad", code: `MGM_RunWhoForSpin("s-1","Two Words","c1")`, markers: []string{"[MGM_ACK:c1:bad]"}},
		{name: "items ok", code: `MGM_RequestGiftItems("g-1","c1")`, markers: []string{
			`[MGM_ITEMS:g-1][{"name":"Linen Cloth","id":2589,"count":5,"link":"|cff9d9d9d|Hitem:2589:0:0:0:0:0:0:0:80|h[Linen Cloth]|h|r","texture":"Interface\\Icons\\INV_Misc_QuestionMark","bagId":0,"slotId":1}]`,
			"[MGM_ACK:c1:ok]"}},
		{name: "items bad", code: `MGM_RequestGiftItems("g 1","c1")`, markers: []string{"[MGM_ACK:c1:bad]"}},
		{name: "gift confirm whispered", online: true, code: `MGM_RequestGiftConfirmation("g-1","Bob","c1")`, markers: []string{"[MGM_ACK:c1:whispered]"}},
		{name: "gift confirm offline", code: `MGM_RequestGiftConfirmation("g-1","Bob","c1")`, markers: []string{"[MGM_ACK:c1:offline]"}},
		{name: "gift confirm bad", code: `MGM_RequestGiftConfirmation("g-1",7,"c1")`, markers: []string{"[MGM_ACK:c1:bad]"}},
		{name: "queue gift ok", code: `MGM_QueueGift("g-1","Bob","0","1","2589","c1")`, markers: []string{"[MGM_ACK:c1:ok]"}, gifts: 1},
		{name: "queue gift missing", code: `MGM_QueueGift("g-1","Bob","0","1","4306","c1")`, markers: []string{"[MGM_GIFT_MISSING:g-1]", "[MGM_ACK:c1:refused]"}},
		{name: "queue gift mailed", saved: `MimironsGoldOMaticDB = { giftsMailed = { "g-1" } }`, code: `MGM_QueueGift("g-1","Bob","0","1","2589","c1")`,
			markers: []string{"[MGM_GIFT_ALREADY_MAILED:g-1]", "[MGM_ACK:c1:refused]"}},
		{name: "queue gift not allowed", saved: `MimironsGoldOMaticDB = { giftDeny = { 2589 } }`, code: `MGM_QueueGift("g-1","Bob","0","1","2589","c1")`,
			markers: []string{"[MGM_GIFT_NOT_ALLOWED:g-1]", "[MGM_ACK:c1:refused]"}},
		{name: "queue gift bad", code: `MGM_QueueGift("g-1","Bob","x","1","2589","c1")`, markers: []string{"[MGM_ACK:c1:bad]"}},
		// A command id the addon cannot echo safely: nothing is done, nothing acknowledged.
		{name: "unusable command id", code: `ReceiveGold("p-1:Norinn:5","C]1")`},
		{name: "number command id", code: `ReceiveGold("p-1:Norinn:5",7)`},
		{name: "long command id", code: `ReceiveGold("p-1:Norinn:5","abcdefghijklmnopq")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(cfg *Config) { cfg.SavedVariables = tt.saved })
			c.SetRoster([]Player{{Name: "Hero"}}, tt.online)
			if err := c.SetBags(bag, nil); err != nil {
				t.Fatal(err)
			}
			run(t, c, tt.code)
			c.Advance(11 * time.Second)
			if got := markers(c); !slices.Equal(got, tt.markers) {
				t.Errorf("markers %q, want %q", got, tt.markers)
			}
			if got := queueSummary(c); !slices.Equal(got, tt.queue) {
				t.Errorf("queue %q, want %q", got, tt.queue)
			}
			if got := evalString(t, c, "return #MimironsGoldOMaticDB.giftQueue"); got != strconv.Itoa(tt.gifts) {
				t.Errorf("gift queue %s, want %d", got, tt.gifts)
			}
		})
	}
}

// TestWhisperAckWaitsForTheServer: without an echo the ack is nowhisper,
// ten seconds later — not before. A whisper to one's own character that
// the server does not relay is such a whisper.
func TestWhisperAckWaitsForTheServer(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	run(t, c, `NotifyWinnerWhisper("p-1","Streamer","c1")`)
	c.Advance(9900 * time.Millisecond)
	run(t, c, `NotifyWinnerWhisper("p-1","Streamer","c1")`) // a repeat while waiting: answered with the first
	if got := markers(c); len(got) != 0 {
		t.Fatalf("acknowledged before the timeout: %q", got)
	}
	c.Advance(200 * time.Millisecond)
	want := []string{"[MGM_ACK:c1:nowhisper]", "[MGM_ACK:c1:nowhisper]"}
	if got := markers(c); !slices.Equal(got, want) {
		t.Fatalf("markers %q, want %q", got, want)
	}
	if n := len(c.Whispers()); n != 1 {
		t.Fatalf("%d whispers, want 1 (a repeat is not whispered again)", n)
	}
	run(t, c, `NotifyWinnerWhisper("p-1","Streamer","c1")`)
	if got := markers(c); len(got) != 3 || got[2] != "[MGM_ACK:c1:nowhisper]" {
		t.Fatalf("markers %q", got)
	}
}

// TestRelayedWhisperAck: with a relaying server the echo comes later; the
// ack (and the answer to a repeat made meanwhile) waits for it.
func TestRelayedWhisperAck(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, func(cfg *Config) { cfg.SelfWhisper, cfg.SelfWhisperDelay = SelfWhisperRelayed, 3*time.Second })
	run(t, c, `MGM_RequestGiftConfirmation("g-1","streamer","c1")`)
	c.Advance(time.Second)
	run(t, c, `MGM_RequestGiftConfirmation("g-1","streamer","c1")`)
	if got := markers(c); len(got) != 0 {
		t.Fatalf("acknowledged before the echo: %q", got)
	}
	c.Advance(2100 * time.Millisecond)
	want := []string{"[MGM_ACK:c1:whispered]", "[MGM_ACK:c1:whispered]"}
	if got := markers(c); !slices.Equal(got, want) {
		t.Fatalf("markers %q, want %q", got, want)
	}
}

// TestCommandDuplicates: a repeated command id is answered from memory,
// across /reload, without doing the work again.
func TestCommandDuplicates(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	run(t, c, `ReceiveGold("p-1:Norinn:5","g1")`)
	run(t, c, `NotifyWinnerWhisper("p-1","Norinn","n1")`)
	run(t, c, `MGM_RunWhoForSpin("s-1","Hero","w1")`)
	c.Advance(time.Second)
	run(t, c, `ReceiveGold("p-1:Norinn:5;p-2:Bob:9","g1")`) // same id, other content: still a repeat
	run(t, c, `NotifyWinnerWhisper("p-1","Norinn","n1")`)
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	run(t, c, `MGM_RunWhoForSpin("s-1","Hero","w1")`)
	run(t, c, `NotifyWinnerWhisper("p-1","Norinn","n1")`)
	run(t, c, `ReceiveGold("p-2:Bob:9","g2")`)
	c.Advance(10 * time.Second)
	want := []string{
		"[MGM_ACK:g1:ok]", "[MGM_ACK:n1:whispered]", "[MGM_ACK:w1:ok]",
		`[MGM_WHO]{"schemaVersion":1,"spinCycleId":"s-1","characterName":"Hero","online":true,"capturedAt":"2026-04-03T21:15:00.000Z"}`,
		"[MGM_ACK:g1:dup]", "[MGM_ACK:n1:whispered]",
		"[MGM_ACK:w1:dup]", "[MGM_ACK:n1:whispered]", "[MGM_ACK:g2:ok]",
	}
	if got := markers(c); !slices.Equal(got, want) {
		t.Fatalf("markers\n got %q\nwant %q", got, want)
	}
	if got := whisperTexts(c); !slices.Equal(got, []string{"Norinn: " + consentText}) {
		t.Fatalf("whispers %q", got)
	}
	if got := c.WhoQueries(); len(got) != 1 {
		t.Fatalf("who queries %q", got)
	}
	if got := queueSummary(c); !slices.Equal(got, []string{"p-1:Norinn:5:READY", "p-2:Bob:9:READY"}) {
		t.Fatalf("queue %q", got)
	}
}

// TestCommandMemoryKeepsTheLast200 ids.
func TestCommandMemoryKeepsTheLast200(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	execLua(t, c, `for i = 1, 201 do MGM_RequestGiftItems("g-1", "k" .. i) end`)
	before := len(markers(c))
	run(t, c, `MGM_RequestGiftItems("g-1","k1")`) // forgotten: done again (and k2 is now the oldest one, dropped)
	run(t, c, `MGM_RequestGiftItems("g-1","k3")`)
	got := markers(c)[before:]
	want := []string{"[MGM_ITEMS:g-1][]", "[MGM_ACK:k1:ok]", "[MGM_ACK:k3:dup]"}
	if !slices.Equal(got, want) {
		t.Fatalf("markers %q, want %q", got, want)
	}
	if n := evalString(t, c, "return #MimironsGoldOMaticDB.commands"); n != "200" {
		t.Fatalf("%s command ids remembered", n)
	}
}

func chatLogAt(t *testing.T, opts ChatLogOptions) *ChatLog {
	t.Helper()
	l, err := NewChatLog(filepath.Join(t.TempDir(), "WoWChatLog.txt"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func fileText(t *testing.T, l *ChatLog) string {
	t.Helper()
	b, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPing: the pong goes out on every route: outbox and print, a whisper to
// self (which reaches the log only when the server relays it), and a nudge.
func TestPing(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		self   SelfWhisperMode
		prints PrintMode
		mode   LogWriteMode
		flush  FlushToggleMode
		inLog  []string // log lines (after the timestamp) carrying the pong
	}{
		{name: "printed, line by line", prints: PrintsLogged, mode: LogLineByLine, inLog: []string{"%s"}},
		{name: "prints not logged, no relay", prints: PrintsNotLogged, mode: LogLineByLine},
		{name: "prints not logged, relayed", self: SelfWhisperRelayed, prints: PrintsNotLogged, mode: LogLineByLine,
			inLog: []string{"To [Streamer]: %s", "[Streamer] whispers: %s"}},
		{name: "logged until exit, the nudge flushes", prints: PrintsLogged, mode: LogUntilExit, flush: ToggleFlushes, inLog: []string{"%s"}},
		{name: "logged until exit, the nudge does nothing", self: SelfWhisperRelayed, prints: PrintsLogged, mode: LogUntilExit, flush: ToggleNoop},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			log := chatLogAt(t, ChatLogOptions{Mode: tt.mode})
			c := newTestClient(t, func(cfg *Config) {
				cfg.ChatLog, cfg.SelfWhisper, cfg.Prints, cfg.FlushToggle = log, tt.self, tt.prints, tt.flush
			})
			run(t, c, `MGM_Ping("n0nce42","")`)
			c.Advance(time.Second)
			lines := seqLines(c)
			if len(lines) != 1 || lines[0].marker != "[MGM_PONG:n0nce42:Streamer]" {
				t.Fatalf("bridge lines %+v", lines)
			}
			pong := fmt.Sprintf("[MGM_SEQ:%s:1][MGM_PONG:n0nce42:Streamer]", lines[0].epoch)
			if got := whisperTexts(c); !slices.Equal(got, []string{"Streamer: " + pong}) {
				t.Fatalf("whispers %q", got)
			}
			if got := outboxKeys(t, c); !slices.Equal(got, []string{lines[0].epoch + ":1"}) {
				t.Fatalf("outbox %q", got)
			}
			var got []string
			for _, l := range strings.Split(fileText(t, log), "\r\n") {
				if strings.Contains(l, "MGM_PONG") {
					got = append(got, l[strings.Index(l, "  ")+2:])
				}
			}
			var want []string
			for _, f := range tt.inLog {
				want = append(want, fmt.Sprintf(f, pong))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("chat log pong lines %q, want %q", got, want)
			}
		})
	}
}

func TestPingRefusesBadNoncesAndLeavesLoggingOff(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	for _, code := range []string{`MGM_Ping()`, `MGM_Ping("ABC")`, `MGM_Ping("a:b")`, `MGM_Ping("abcdefghijklmnopq")`, `MGM_Ping(5)`} {
		run(t, c, code)
	}
	if got := markers(c); len(got) != 0 {
		t.Fatalf("markers %q", got)
	}
	c.Type("/chatlog") // the streamer turns logging off; the nudge must not turn it on
	run(t, c, `MGM_Ping("x","n")`)
	if c.LoggingChat() {
		t.Fatal("the pong's nudge turned chat logging on")
	}
}

// TestRouteWhisper: after MGM_Ping(…, "w") ordinary lines of at most 255
// bytes are also whispered to self, at most one a second; acknowledged
// lines are skipped. Without "w" they are not.
func TestRouteWhisper(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	var items []Item
	for i := range 3 {
		items = append(items, Item{Bag: 0, Slot: i + 1, ID: 2589 + i, Name: "Cloth " + strconv.Itoa(i)})
	}
	if err := c.SetBags(items, nil); err != nil {
		t.Fatal(err)
	}
	c.Type("/mgm update") // before any ping: no whisper
	run(t, c, `MGM_Ping("p1","w")`)
	c.Type("/mgm update")
	run(t, c, `MGM_RequestGiftItems("g-1")`) // one line of more than 255 bytes: never whispered
	c.Type("/mgm update")
	c.Type("/mgm update")
	lines := seqLines(c)
	if len(lines) != 6 {
		t.Fatalf("bridge lines %+v", lines)
	}
	e := lines[0].epoch
	run(t, c, fmt.Sprintf(`MGM_Ack("%s:5")`, e)) // read from the strip before its whisper
	c.Advance(10 * time.Second)
	var got []string
	var at []time.Time
	for _, w := range c.Whispers() {
		if w.To != "Streamer" {
			t.Fatalf("whisper to %q", w.To)
		}
		m := bridgeLine.FindStringSubmatch(w.Text)
		if m == nil {
			t.Fatalf("whisper %q", w.Text)
		}
		got = append(got, m[2])
		at = append(at, w.At)
	}
	if want := []string{"2", "3", "6"}; !slices.Equal(got, want) {
		t.Fatalf("whispered lines %q, want %q", got, want)
	}
	for i := 1; i < len(at); i++ {
		if at[i].Sub(at[i-1]) < time.Second {
			t.Fatalf("whispers %v apart", at[i].Sub(at[i-1]))
		}
	}
	// The next ping without "w" ends it.
	run(t, c, `MGM_Ping("p2","")`)
	c.Type("/mgm update")
	c.Advance(5 * time.Second)
	if n := len(c.Whispers()); n != 4 { // three lines and the second pong
		t.Fatalf("%d whispers, want 4", n)
	}
}

// TestRouteNudge: after MGM_Ping(…, "n") the chat log is nudged after
// ordinary lines, at most once a second; with a client that writes its log
// only on exit (and on the toggle) the lines reach the file.
func TestRouteNudge(t *testing.T) {
	t.Parallel()
	for _, routes := range []string{"n", ""} {
		t.Run("routes "+routes, func(t *testing.T) {
			t.Parallel()
			log := chatLogAt(t, ChatLogOptions{Mode: LogUntilExit})
			c := newTestClient(t, func(cfg *Config) { cfg.ChatLog, cfg.Prints, cfg.FlushToggle = log, PrintsLogged, ToggleFlushes })
			execLua(t, c, `local orig = LoggingChat
TestNudges = {}
LoggingChat = function(...)
	if select("#", ...) > 0 and not ... then TestNudges[#TestNudges + 1] = GetTime() end
	return orig(...)
end`)
			run(t, c, fmt.Sprintf(`MGM_Ping("p1",%q)`, routes))
			for range 5 {
				c.Type("/mgm update")
				c.Advance(300 * time.Millisecond)
			}
			c.Advance(2 * time.Second)
			times := strings.Fields(evalString(t, c, `return table.concat(TestNudges, " ")`))
			written := strings.Count(fileText(t, log), "[MGM_UPDATE_CHECK]")
			if routes == "" {
				if len(times) != 1 || written != 0 {
					t.Fatalf("nudges at %q (want only the pong's), %d lines written", times, written)
				}
				return
			}
			if len(times) < 3 || written != 5 {
				t.Fatalf("nudges at %q, %d of 5 lines written", times, written)
			}
			for i := 1; i < len(times); i++ {
				a, _ := strconv.ParseFloat(times[i-1], 64)
				b, _ := strconv.ParseFloat(times[i], 64)
				if b-a < 0.999 {
					t.Fatalf("nudges at %q: less than a second apart", times)
				}
			}
		})
	}
}

// refPage is docs/bridge.md's page layout, written independently of the addon.
func refPage(flags, heartbeat, lineID, page, count int, payload string) []byte {
	b := make([]byte, 192)
	b[0] = 1
	b[1] = byte(flags)
	binary.BigEndian.PutUint16(b[2:], uint16(heartbeat))
	binary.BigEndian.PutUint16(b[4:], uint16(lineID))
	b[6], b[7], b[8] = byte(page), byte(count), byte(len(payload))
	copy(b[9:], payload)
	var s1, s2 int
	for _, x := range b[:189] {
		s1 = (s1 + int(x)) % 255
		s2 = (s2 + s1) % 255
	}
	binary.BigEndian.PutUint16(b[189:], uint16(s2<<8|s1))
	return b
}

func luaBytes(t *testing.T, c *Client, expr string) []byte {
	t.Helper()
	s := evalString(t, c, "local Core = MimironsGoldOMaticCore; local b = "+expr+"; return table.concat(b, \",\")")
	var out []byte
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 255 {
			t.Fatalf("%s: byte %q", expr, f)
		}
		out = append(out, byte(n))
	}
	return out
}

func TestStripPageBytes(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	long := strings.Repeat("é", 90) // 180 bytes
	for _, tt := range []struct {
		flags, heartbeat, lineID, page, count int
		payload                               string
	}{
		{0, 0, 0, 0, 0, ""},
		{7, 1, 1, 0, 1, "[MGM_SEQ:abc:1][MGM_UPDATE_CHECK]"},
		{4, 65535, 65535, 2, 3, "tail of a line"},
		{1, 258, 70000 % 65536, 0, 1, long},
		{2, 0xABCD, 0x1234, 254, 255, "\x00\xff\x01"},
	} {
		expr := fmt.Sprintf("Core.StripPage(%d, %d, %d, %d, %d, %s)", tt.flags, tt.heartbeat, tt.lineID, tt.page, tt.count, luaQuote(tt.payload))
		if got, want := luaBytes(t, c, expr), refPage(tt.flags, tt.heartbeat, tt.lineID, tt.page, tt.count, tt.payload); string(got) != string(want) {
			t.Errorf("%s\n got %v\nwant %v", expr, got, want)
		}
	}
	// Heartbeat and line id wrap at 65536.
	if got, want := luaBytes(t, c, `Core.StripPage(0, 65541, 70000, 0, 1, "x")`), refPage(0, 5, 70000-65536, 0, 1, "x"); string(got) != string(want) {
		t.Errorf("wrapping: got %v, want %v", got, want)
	}
	for _, tt := range []struct {
		expr, want string
	}{
		{`Core.StripFlags(true, false, true)`, "5"},
		{`Core.StripFlags(false, true, false)`, "2"},
		{`Core.StripFlags(nil, nil, nil)`, "0"},
		{`Core.Fletcher16({1, 2}, 2)`, strconv.Itoa(4<<8 | 3)},
		{`table.concat(Core.SplitPages(string.rep("a", 180) .. string.rep("b", 180) .. "cc"), "|")`,
			strings.Repeat("a", 180) + "|" + strings.Repeat("b", 180) + "|cc"},
		{`#Core.SplitPages(string.rep("a", 180))`, "1"},
		{`#Core.SplitPages("")`, "1"},
		{`Core.Base36(35) .. Core.Base36(36) .. Core.Base36(5, 3) .. Core.Base36(46656, 2)`, "z10005" + "00"},
		{`Core.NewEpoch(1775250900, 1000.05, 3)`, pad36(1775250900, 6) + pad36(1000050, 4) + pad36(3, 2)},
		{`Core.NewEpoch(2176782336 + 5, 1679.616, 1296 + 7)`, pad36(5, 6) + pad36(0, 4) + pad36(7, 2)},
		{`Core.BridgeLine("e1", 12, "[MGM_X]")`, "[MGM_SEQ:e1:12][MGM_X]"},
		{`tostring(Core.IsToken("abc123")) .. tostring(Core.IsToken("A")) .. tostring(Core.IsToken(""))`, "truefalsefalse"},
	} {
		if got := evalString(t, c, "local Core = MimironsGoldOMaticCore; return "+tt.expr); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func pad36(n int64, width int) string {
	s := strconv.FormatInt(n, 36)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// readStrip decodes the page the strip drew last (MimironsGoldOMaticStrip.bytes).
type stripState struct {
	flags, heartbeat, lineID, page, count int
	payload                               string
}

func readStrip(t *testing.T, c *Client) stripState {
	t.Helper()
	b := luaBytes(t, c, "MimironsGoldOMaticStrip.bytes")
	if len(b) != 192 || b[0] != 1 || b[191] != 0 {
		t.Fatalf("strip bytes %v", b)
	}
	var s1, s2 int
	for _, x := range b[:189] {
		s1 = (s1 + int(x)) % 255
		s2 = (s2 + s1) % 255
	}
	if binary.BigEndian.Uint16(b[189:]) != uint16(s2<<8|s1) {
		t.Fatalf("strip checksum: %v", b)
	}
	n := int(b[8])
	return stripState{int(b[1]), int(binary.BigEndian.Uint16(b[2:])), int(binary.BigEndian.Uint16(b[4:])), int(b[6]), int(b[7]), string(b[9 : 9+n])}
}

// TestStripShowsTheOutbox: the strip is the parentless TOOLTIP frame of
// docs/bridge.md; it carries the live flags, and shows every page of every
// outbox line, 0.3 s each, oldest first, then starts over.
func TestStripShowsTheOutbox(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	geo := evalString(t, c, `local f = MimironsGoldOMaticStrip
return table.concat({tostring(f:GetParent()), f:GetFrameStrata(), string.format("%.4f %.4f", f:GetWidth(), f:GetHeight()), tostring(f:IsVisible())}, " ")`)
	// 1280x720: a pixel is 768/720 units, a cell 3 pixels.
	if want := fmt.Sprintf("nil TOOLTIP %.4f %.4f 1", 66*3*768.0/720, 3*768.0/720); geo != want {
		t.Fatalf("strip %q, want %q", geo, want)
	}
	c.Advance(100 * time.Millisecond)
	empty := readStrip(t, c)
	if empty.flags != 4 || empty.lineID != 0 || empty.count != 0 || empty.payload != "" {
		t.Fatalf("empty strip %+v (want logging flag only)", empty)
	}
	// With nothing new, the heartbeat still moves once a second.
	c.Advance(3 * time.Second)
	if hb := readStrip(t, c).heartbeat; hb < empty.heartbeat+3 || hb > empty.heartbeat+4 {
		t.Fatalf("heartbeat %d after 3 s, from %d", hb, empty.heartbeat)
	}

	var items []Item
	for i := range 2 {
		items = append(items, Item{Bag: 0, Slot: i + 1, ID: 2589 + i, Name: "Cloth " + strconv.Itoa(i)})
	}
	if err := c.SetBags(items, nil); err != nil {
		t.Fatal(err)
	}
	run(t, c, `MGM_RequestGiftItems("g-1")`) // about 390 bytes: three pages
	c.Type("/mgm update")
	c.OpenMailbox()
	lines := c.ChatLines()
	var long, short string
	for _, l := range lines {
		if strings.Contains(l, "[MGM_ITEMS") {
			long = l
		} else if strings.Contains(l, "[MGM_UPDATE_CHECK]") {
			short = l
		}
	}
	if len(long) <= 360 || len(long) > 540 {
		t.Fatalf("items line of %d bytes, want three pages", len(long))
	}
	type view struct{ lineID, page, count int }
	var seen []view
	joined, done := map[int]string{}, map[int]bool{}
	lastHB := -1
	for range 40 { // 100 ms samples, like the Desktop
		c.Advance(100 * time.Millisecond)
		s := readStrip(t, c)
		if s.flags != 4|2 {
			t.Fatalf("flags %d with the mailbox open and logging on", s.flags)
		}
		v := view{s.lineID, s.page, s.count}
		if len(seen) == 0 || seen[len(seen)-1] != v {
			if lastHB >= 0 && s.heartbeat == lastHB {
				t.Fatalf("page flipped without a heartbeat: %+v", s)
			}
			seen = append(seen, v)
			if !done[s.lineID] {
				joined[s.lineID] += s.payload
				done[s.lineID] = s.page == s.count-1
			}
		}
		lastHB = s.heartbeat
	}
	want := []view{{1, 0, 3}, {1, 1, 3}, {1, 2, 3}, {2, 0, 1}, {1, 0, 3}}
	if len(seen) < len(want) || !slices.Equal(seen[:len(want)], want) {
		t.Fatalf("pages shown %v, want %v first", seen, want)
	}
	if joined[1] != long || joined[2] != short {
		t.Fatalf("joined pages %q / %q, want %q / %q", joined[1], joined[2], long, short)
	}
	// Acknowledged lines leave the strip.
	e := seqLines(c)[0].epoch
	run(t, c, fmt.Sprintf(`MGM_Ack("%s:1,%s:2")`, e, e))
	c.Advance(100 * time.Millisecond)
	if s := readStrip(t, c); s.count != 0 || s.lineID != 0 {
		t.Fatalf("strip after MGM_Ack %+v", s)
	}
}

// TestLanguage: the streamer's messages follow /mgm lang; the winner's
// whisper stays Russian.
func TestLanguage(t *testing.T) {
	t.Parallel()
	c := allOnline(newTestClient(t))
	if got := slashLines(t, c, "/mgm help"); len(got) != 1 || !strings.Contains(got[0], "/mgm lang en|ru") {
		t.Fatalf("help %q", got)
	}
	if got := slashLines(t, c, "/mgm lang ru"); !slices.Equal(got, []string{"MGM: сообщения теперь на русском."}) {
		t.Fatalf("/mgm lang ru: %q", got)
	}
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := slashLines(t, c, "/mgm gift clear"); !slices.Equal(got, []string{"MGM: списки разрешённых и запрещённых подарков очищены: дарить можно любой предмет, который можно отправить почтой."}) {
		t.Fatalf("after /reload: %q", got)
	}
	if got := slashLines(t, c, "/mgm"); len(got) != 0 || c.Frame("MGMQueuePanel").Visible != true {
		t.Fatalf("/mgm printed %q", got)
	}
	if got := evalString(t, c, "return MGMQueuePrepareButton:GetText()"); got != "Подготовить письмо" {
		t.Fatalf("button %q", got)
	}
	run(t, c, `NotifyWinnerWhisper("p-1","Norinn")`)
	if got := whisperTexts(c); !slices.Equal(got, []string{"Norinn: " + consentText}) {
		t.Fatalf("whispers %q", got)
	}
	if got := slashLines(t, c, "/mgm lang xx"); !slices.Equal(got, []string{"MGM: /mgm lang en или /mgm lang ru: язык этих сообщений."}) {
		t.Fatalf("/mgm lang xx: %q", got)
	}
	if got := slashLines(t, c, "/mgm lang EN"); !slices.Equal(got, []string{"MGM: messages are now in English."}) {
		t.Fatalf("/mgm lang EN: %q", got)
	}
	if got := evalString(t, c, "return MGMQueuePrepareButton:GetText()"); got != "Prepare Mail" {
		t.Fatalf("button %q", got)
	}
}

// TestLanguagesMatch: both message tables have the same keys and the same
// format directives per key, so switching can never break a string.format.
func TestLanguagesMatch(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join(addonDir, "MimironsGoldOMatic.lua"))
	if err != nil {
		t.Fatal(err)
	}
	table := func(lang string) map[string]string {
		start := strings.Index(string(src), "STRINGS."+lang+" = {")
		if start < 0 {
			t.Fatalf("no STRINGS.%s", lang)
		}
		body := string(src[start:])
		body = body[:strings.Index(body, "\n}\n")]
		out := map[string]string{}
		if n := strings.Count(body, "\n\t"); n != len(regexp.MustCompile(`(?m)^\t([A-Z_0-9]+) = "(.*)",$`).FindAllString(body, -1)) {
			t.Fatalf("STRINGS.%s: %d lines, not all of them KEY = \"text\",", lang, n)
		}
		for _, m := range regexp.MustCompile(`(?m)^\t([A-Z_0-9]+) = "(.*)",$`).FindAllStringSubmatch(body, -1) {
			out[m[1]] = strings.Join(regexp.MustCompile(`%[ds]`).FindAllString(m[2], -1), "")
		}
		return out
	}
	en, ru := table("en"), table("ru")
	if len(en) < 38 {
		t.Fatalf("only %d English strings found", len(en))
	}
	for k, v := range en {
		if r, ok := ru[k]; !ok || r != v {
			t.Errorf("%s: English directives %q, Russian %q (present %v)", k, v, r, ok)
		}
	}
	for k := range ru {
		if _, ok := en[k]; !ok {
			t.Errorf("%s: only in Russian", k)
		}
	}
}
