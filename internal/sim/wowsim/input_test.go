package wowsim

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEditBoxFocus(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	got := evalString(t, c, `local log = {}
		local a = CreateFrame("EditBox", "BoxA", UIParent)
		local b = CreateFrame("EditBox", "BoxB", UIParent)
		for name, box in pairs({A = a, B = b}) do
			box:SetScript("OnEditFocusGained", function() log[#log + 1] = name .. "+" end)
			box:SetScript("OnEditFocusLost", function() log[#log + 1] = name .. "-" end)
		end
		assert(GetCurrentKeyBoardFocus() == nil)
		a:SetFocus()
		assert(a:HasFocus() and not b:HasFocus() and GetCurrentKeyBoardFocus() == a)
		b:SetFocus()
		assert(GetCurrentKeyBoardFocus() == b)
		b:Hide() -- a hidden edit box loses the focus
		assert(GetCurrentKeyBoardFocus() == nil and not b:HasFocus())
		a:SetFocus()
		a:ClearFocus()
		b:ClearFocus() -- not focused: nothing happens
		return table.concat(log, " ")`)
	if want := "A+ A- B+ B- A+ A-"; got != want {
		t.Fatalf("focus events %q, want %q", got, want)
	}
}

func TestChatBoxIsAFocusedEditBox(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	focus := func() string {
		return evalString(t, c, `local f = GetCurrentKeyBoardFocus() return f and f:GetName() or ""`)
	}
	if c.ChatBoxOpen() || focus() != "" || c.Frame("ChatFrame1EditBox").Shown {
		t.Fatal("the chat box starts open")
	}
	if evalString(t, c, `return tostring(DEFAULT_CHAT_FRAME.editBox == ChatFrame1EditBox)`) != "true" {
		t.Fatal("DEFAULT_CHAT_FRAME.editBox is not ChatFrame1EditBox")
	}
	c.OpenChatBox()
	if !c.ChatBoxOpen() || focus() != "ChatFrame1EditBox" || c.Focus() != "ChatFrame1EditBox" || !c.Frame("ChatFrame1EditBox").Visible {
		t.Fatalf("after Enter: open %v, focus %q", c.ChatBoxOpen(), focus())
	}
	// What is already in the box goes out with the posted line.
	execLua(t, c, `ChatFrame1EditBox:SetText("/run MGM_X")`)
	if res := c.Post(" = 5"); res.Line != "/run MGM_X = 5" || res.Error != "" {
		t.Fatalf("Enter sent %+v", res)
	}
	if got := evalString(t, c, "return tostring(MGM_X)"); got != "5" {
		t.Fatalf("MGM_X = %s: the box's whole text did not run", got)
	}
	if c.ChatBoxOpen() || focus() != "" || c.chatText() != "" || c.Frame("ChatFrame1EditBox").Shown {
		t.Fatal("sending did not empty and close the chat box")
	}
	// Focus set by Lua opens and closes it too.
	execLua(t, c, `ChatFrame1EditBox:SetFocus()`)
	if !c.ChatBoxOpen() {
		t.Fatal("SetFocus did not open the chat box")
	}
	execLua(t, c, `ChatFrame1EditBox:ClearFocus()`)
	if c.ChatBoxOpen() || c.Frame("ChatFrame1EditBox").Shown {
		t.Fatal("ClearFocus did not close the chat box")
	}
	c.OpenChatBox()
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if c.ChatBoxOpen() || c.Focus() != "" {
		t.Fatal("the chat box stayed open across /reload")
	}
	c.OpenChatBox()
	c.StartLoadingScreen(time.Second)
	if c.ChatBoxOpen() {
		t.Fatal("the chat box stayed open through a loading screen")
	}
}

// TestEnterKey: the real Enter opens a closed chat box and sends an open one.
func TestEnterKey(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	if res := c.PressEnter(); res.Sent != nil || res.Dropped != "" || !c.ChatBoxOpen() {
		t.Fatalf("Enter on a closed box: %+v, open %v", res, c.ChatBoxOpen())
	}
	execLua(t, c, `ChatFrame1EditBox:Insert("/run MGM_Y = 2")`)
	res := c.PressEnter()
	if res.Sent == nil || res.Sent.Line != "/run MGM_Y = 2" || c.ChatBoxOpen() {
		t.Fatalf("Enter on an open box: %+v", res)
	}
	if got := evalString(t, c, "return tostring(MGM_Y)"); got != "2" {
		t.Fatalf("MGM_Y = %s", got)
	}
	if len(c.TrampledStreamerText()) != 0 {
		t.Fatalf("no streamer text was in the box, yet %q", c.TrampledStreamerText())
	}
	c.StartLoadingScreen(time.Second)
	c.Advance(400 * time.Millisecond)
	if res := c.PressEnter(); res.Dropped != DroppedLoadingScreen || c.ChatBoxOpen() {
		t.Fatalf("Enter during a loading screen: %+v", res)
	}
	if c.IdleTime() != 0 {
		t.Fatal("a swallowed key is still keyboard input")
	}
}

func TestIdleTime(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	c.Advance(5 * time.Second)
	if got := c.IdleTime(); got != 5*time.Second {
		t.Fatalf("idle %v after 5 s without keys", got)
	}
	for name, key := range map[string]func(){
		"Post":       func() { c.Post("/run MGM_Z = 1") },
		"Type":       func() { c.Type("/run MGM_Z = 1") },
		"PressEnter": func() { c.PressEnter() },
	} {
		c.Advance(1500 * time.Millisecond)
		key()
		if got := c.IdleTime(); got != 0 {
			t.Errorf("%s: idle %v right after a key", name, got)
		}
	}
	c.closeChat()
}

func TestStreamerTypingEpisode(t *testing.T) {
	t.Parallel()
	const half = "brb, getting co" // 15 characters: typed at 0, 100, …, 1400 ms
	for _, tt := range []struct {
		name     string
		send     bool
		keys     KeyMode
		injector func(c *Client) // at 1900 ms, while the text waits in the box
		trampled []string
		said     string // the /say line that went out, if any
	}{
		{name: "left alone, cleared", keys: KeysOpenBox},
		{name: "left alone, sent", keys: KeysOpenBox, send: true, said: "brb, getting coffee"},
		{name: "injector line garbles it", keys: KeysOpenBox, trampled: []string{half}, said: half + "/run MGM_X = 1",
			injector: func(c *Client) { c.Post("/run MGM_X = 1") }},
		{name: "need-open-box: injector line garbles it", keys: KeysNeedOpenBox, trampled: []string{half}, said: half + "/run MGM_X = 1",
			injector: func(c *Client) { c.Post("/run MGM_X = 1") }},
		{name: "injector Enter sends it", keys: KeysOpenBox, trampled: []string{half}, said: half,
			injector: func(c *Client) { c.PressEnter() }},
		{name: "need-open-box: Enter sends it, the line is dropped", keys: KeysNeedOpenBox, trampled: []string{half}, said: half,
			injector: func(c *Client) {
				if res := c.PressEnter(); res.Sent == nil {
					t.Errorf("Enter did not send the open box: %+v", res)
				}
				if res := c.Post("/run MGM_X = 1"); res.Dropped != DroppedChatBoxClosed {
					t.Errorf("line after the trample: %+v", res)
				}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(cfg *Config) { cfg.Keys = tt.keys })
			ep := TypingEpisode{Text: half, Rest: "ffee", CharDelay: 100 * time.Millisecond, Hold: 3 * time.Second, Send: tt.send}
			if err := c.StreamerTypes(ep); err != nil {
				t.Fatal(err)
			}
			if err := c.StreamerTypes(ep); err == nil {
				t.Fatal("a second episode started while the first runs")
			}
			c.Advance(700 * time.Millisecond)
			if got := c.chatText(); got != half[:8] {
				t.Fatalf("after 700 ms the box holds %q", got)
			}
			c.Advance(700 * time.Millisecond)
			if c.chatText() != half || c.Focus() != "ChatFrame1EditBox" || c.IdleTime() != 0 {
				t.Fatalf("after typing: box %q, focus %q, idle %v", c.chatText(), c.Focus(), c.IdleTime())
			}
			c.Advance(500 * time.Millisecond)
			if c.IdleTime() != 500*time.Millisecond || !c.StreamerTyping() {
				t.Fatalf("while the text waits: idle %v, typing %v", c.IdleTime(), c.StreamerTyping())
			}
			if tt.injector != nil {
				tt.injector(c)
			}
			c.Advance(10 * time.Second)
			if c.StreamerTyping() || c.ChatBoxOpen() || c.chatText() != "" {
				t.Fatalf("after the episode: typing %v, open %v, box %q", c.StreamerTyping(), c.ChatBoxOpen(), c.chatText())
			}
			if got := c.TrampledStreamerText(); !slices.Equal(got, tt.trampled) {
				t.Fatalf("trampled %q, want %q", got, tt.trampled)
			}
			said := ""
			for _, l := range c.ChatLines() {
				if _, s, ok := strings.Cut(l, "says: "); ok {
					said = s
				}
			}
			if said != tt.said {
				t.Fatalf("said %q, want %q", said, tt.said)
			}
			if got := evalString(t, c, "return tostring(MGM_X)"); got != "nil" {
				t.Fatalf("the injector's line ran: MGM_X = %s", got)
			}
			// With the box free again, the injector's lines are clean.
			if res := c.Post("/run MGM_X = 2"); res.Error != "" || res.Dropped != "" && tt.keys != KeysNeedOpenBox {
				t.Fatalf("line after the episode: %+v", res)
			}
			if len(c.TrampledStreamerText()) != len(tt.trampled) {
				t.Fatalf("a clean line counted as trampling: %q", c.TrampledStreamerText())
			}
		})
	}
}

// TestRandomStreamerTyping runs the --streamer-typing mode for ten minutes
// of client time: episodes happen about as often as asked, repeat exactly for
// one seed, and never count as trampled without an injector.
func TestRandomStreamerTyping(t *testing.T) {
	t.Parallel()
	trace := func(seed uint64) (string, int) {
		c := newTestClient(t, func(cfg *Config) { cfg.StreamerTyping = 20 * time.Second; cfg.StreamerSeed = seed })
		var b strings.Builder
		episodes, was := 0, false
		for i := 0; i < 6000; i++ {
			c.Advance(100 * time.Millisecond)
			if now := c.StreamerTyping(); now && !was {
				episodes++
			} else if now {
				b.WriteString(c.chatText())
			}
			was = c.StreamerTyping()
		}
		b.WriteString(strings.Join(c.ChatLines(), "\n"))
		if len(c.TrampledStreamerText()) != 0 {
			t.Errorf("seed %d: trampled %q with no injector", seed, c.TrampledStreamerText())
		}
		return b.String(), episodes
	}
	a, n := trace(1)
	t.Logf("%d episodes", n)
	if n < 10 || n > 45 {
		t.Fatalf("%d episodes in 10 minutes at one per 20 s on average", n)
	}
	if b, _ := trace(1); b != a {
		t.Fatal("the same seed typed differently")
	}
	if b, _ := trace(2); b == a {
		t.Fatal("another seed typed the same")
	}
}
