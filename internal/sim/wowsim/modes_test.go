package wowsim

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// logLines counts the lines in the chat log file.
func logLines(t *testing.T, path string) int {
	t.Helper()
	return strings.Count(readLog(t, path), "\r\n")
}

// TestChatLogWriteModes proves when logged lines reach the file in each
// mode; time is the client's clock handed to Append and Tick.
func TestChatLogWriteModes(t *testing.T) {
	t.Parallel()
	type step struct {
		op        string // append, tick, flush or close
		at        time.Duration
		wantLines int // lines in the file after the step
	}
	line := len(TimestampPrefix(testStart) + "line 0\r\n")
	tests := []struct {
		name  string
		opts  ChatLogOptions
		steps []step
	}{
		{"line by line", ChatLogOptions{Mode: LogLineByLine}, []step{
			{"append", 0, 1}, {"append", time.Second, 2}, {"close", 2 * time.Second, 2},
		}},
		// The zero options are the pessimistic client: nothing before exit.
		{"zero options: until exit", ChatLogOptions{}, []step{
			{"append", 0, 0}, {"tick", time.Hour, 0}, {"close", time.Hour, 1},
		}},
		{"chunked by size", ChatLogOptions{Mode: LogChunked, ChunkBytes: 3 * line}, []step{
			{"append", 0, 0}, {"append", 0, 0}, {"tick", time.Hour, 0}, {"append", 0, 3}, {"append", 0, 3}, {"close", 0, 4},
		}},
		{"chunked by delay", ChatLogOptions{Mode: LogChunked, ChunkDelay: 5 * time.Second}, []step{
			{"append", 0, 0}, {"append", 3 * time.Second, 0}, {"tick", 4999 * time.Millisecond, 0}, {"tick", 5 * time.Second, 2},
			{"append", 6 * time.Second, 2}, {"append", 11 * time.Second, 4},
		}},
		{"until exit", ChatLogOptions{Mode: LogUntilExit}, []step{
			{"append", 0, 0}, {"append", time.Second, 0}, {"tick", time.Hour, 0}, {"append", time.Hour, 0}, {"close", time.Hour, 3},
		}},
		{"until exit, flushed", ChatLogOptions{Mode: LogUntilExit}, []step{
			{"append", 0, 0}, {"flush", 0, 1}, {"append", 0, 1}, {"close", 0, 2}, {"close", 0, 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := NewChatLog(filepath.Join(t.TempDir(), "Logs", "WoWChatLog.txt"), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				at := testStart.Add(s.at)
				switch s.op {
				case "append":
					err = l.Append(at, "line "+string(rune('0'+i%10)))
				case "tick":
					err = l.Tick(at)
				case "flush":
					err = l.Flush()
				case "close":
					err = l.Close()
				}
				if err != nil {
					t.Fatalf("step %d %s: %v", i, s.op, err)
				}
				if got := logLines(t, l.Path()); got != s.wantLines {
					t.Fatalf("step %d %s at %v: %d lines in the file, want %d", i, s.op, s.at, got, s.wantLines)
				}
			}
			if l.Pending() != 0 && tt.steps[len(tt.steps)-1].op == "close" {
				t.Fatalf("%d bytes pending after close", l.Pending())
			}
		})
	}
}

// TestChatLogChunkDelayFollowsClientClock proves a chunked log is written
// as the client's clock moves (Advance), with no real waiting.
func TestChatLogChunkDelayFollowsClientClock(t *testing.T) {
	t.Parallel()
	l, err := NewChatLog(filepath.Join(t.TempDir(), "WoWChatLog.txt"), ChatLogOptions{Mode: LogChunked, ChunkDelay: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, func(cfg *Config) { cfg.ChatLog = l; cfg.LoggingChat = true })
	c.systemMessage("hello")
	if n := logLines(t, l.Path()); n != 0 {
		t.Fatalf("%d lines written at once, want none before the delay", n)
	}
	c.Advance(2 * time.Second)
	if n := logLines(t, l.Path()); n != 0 {
		t.Fatalf("%d lines written after 2 s, want none", n)
	}
	c.Advance(time.Second)
	if !strings.Contains(readLog(t, l.Path()), "  hello\r\n") {
		t.Fatalf("log after 3 s: %q", readLog(t, l.Path()))
	}
}

// TestPrintModes proves addon prints reach the log only when PrintsLogged,
// while chat events (a whisper, a system message) always do.
func TestPrintModes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode       PrintMode
		wantPrints bool
	}{{PrintsLogged, true}, {PrintsNotLogged, false}} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			t.Parallel()
			l, err := NewChatLog(filepath.Join(t.TempDir(), "WoWChatLog.txt"), ChatLogOptions{Mode: LogLineByLine})
			if err != nil {
				t.Fatal(err)
			}
			c := newTestClient(t, func(cfg *Config) { cfg.ChatLog = l; cfg.LoggingChat = true; cfg.Prints = tt.mode })
			execLua(t, c, `print("printed-line") DEFAULT_CHAT_FRAME:AddMessage("added-line")`)
			c.ReceiveWhisper("Bob", "whispered-line")
			c.systemMessage("system-line")
			log := readLog(t, l.Path())
			for _, s := range []string{"whispered-line", "system-line"} {
				if !strings.Contains(log, s) {
					t.Errorf("chat event %q not logged: %q", s, log)
				}
			}
			for _, s := range []string{"printed-line", "added-line"} {
				if strings.Contains(log, s) != tt.wantPrints {
					t.Errorf("print %q logged = %v, want %v: %q", s, !tt.wantPrints, tt.wantPrints, log)
				}
				if !contains(c.ChatLines(), s) {
					t.Errorf("print %q not shown in the chat frame", s)
				}
			}
		})
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// TestFlushToggleModes proves LoggingChat(false)→LoggingChat(true) writes a
// buffered log only when the toggle flushes (and /chatlog off/on likewise).
func TestFlushToggleModes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode   FlushToggleMode
		toggle string
		want   bool
	}{
		{ToggleFlushes, "/run LoggingChat(false) LoggingChat(true)", true},
		{ToggleNoop, "/run LoggingChat(false) LoggingChat(true)", false},
		{ToggleFlushes, "/run LoggingChat(true)", false}, // already on: no toggle, no flush
		{ToggleFlushes, "/chatlog\n/chatlog", true},
		{ToggleNoop, "/chatlog\n/chatlog", false},
	} {
		t.Run(tt.mode.String()+" "+tt.toggle, func(t *testing.T) {
			t.Parallel()
			l, err := NewChatLog(filepath.Join(t.TempDir(), "WoWChatLog.txt"), ChatLogOptions{Mode: LogUntilExit})
			if err != nil {
				t.Fatal(err)
			}
			c := newTestClient(t, func(cfg *Config) { cfg.ChatLog = l; cfg.LoggingChat = true; cfg.FlushToggle = tt.mode })
			c.systemMessage("before-toggle")
			if readLog(t, l.Path()) != "" {
				t.Fatal("the buffered log was written before the toggle")
			}
			for _, line := range strings.Split(tt.toggle, "\n") {
				if res := c.Type(line); res.Error != "" || res.Dropped != "" {
					t.Fatalf("%s: %+v", line, res)
				}
			}
			if got := strings.Contains(readLog(t, l.Path()), "before-toggle"); got != tt.want {
				t.Fatalf("written after the toggle = %v, want %v", got, tt.want)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(readLog(t, l.Path()), "before-toggle") {
				t.Fatal("the line is missing after exit")
			}
		})
	}
}

// TestKeyModes proves a posted line runs without opening the chat box only
// in KeysOpenBox mode, and that each line needs its own Enter otherwise.
func TestKeyModes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode      KeyMode
		open      bool
		wantDrop  string
		wantAfter string // the second line, posted with no new Enter
	}{
		{KeysOpenBox, false, "", ""},
		{KeysOpenBox, true, "", ""},
		{KeysNeedOpenBox, false, DroppedChatBoxClosed, DroppedChatBoxClosed},
		{KeysNeedOpenBox, true, "", DroppedChatBoxClosed},
	} {
		name := tt.mode.String()
		if tt.open {
			name += " after Enter"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(cfg *Config) { cfg.Keys = tt.mode })
			if tt.open && !c.OpenChatBox() {
				t.Fatal("Enter did not open the chat box")
			}
			res := c.Post("/run MGM_T = (MGM_T or 0) + 1")
			if res.Dropped != tt.wantDrop {
				t.Fatalf("first line dropped %q, want %q", res.Dropped, tt.wantDrop)
			}
			if c.ChatBoxOpen() {
				t.Fatal("the chat box stays open after Enter sent a line")
			}
			res = c.Post("/run MGM_T = (MGM_T or 0) + 1")
			if res.Dropped != tt.wantAfter {
				t.Fatalf("second line dropped %q, want %q", res.Dropped, tt.wantAfter)
			}
			want := 0
			for _, d := range []string{tt.wantDrop, tt.wantAfter} {
				if d == "" {
					want++
				}
			}
			if got := evalString(t, c, "return tostring(MGM_T or 0)"); got != string(rune('0'+want)) {
				t.Fatalf("lines run = %s, want %d", got, want)
			}
		})
	}
}

// TestLoadingScreenSwallowsInput proves keys, typed or posted, and Enter
// are dropped until the loading screen ends, in every key mode.
func TestLoadingScreenSwallowsInput(t *testing.T) {
	t.Parallel()
	for _, mode := range []KeyMode{KeysOpenBox, KeysNeedOpenBox} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			c := newTestClient(t, func(cfg *Config) { cfg.Keys = mode })
			c.StartLoadingScreen(5 * time.Second)
			if c.OpenChatBox() {
				t.Fatal("Enter opened the chat box during the loading screen")
			}
			for _, res := range []TypeResult{c.Post("/run MGM_T = 1"), c.Type("/run MGM_T = 1")} {
				if res.Dropped != DroppedLoadingScreen {
					t.Fatalf("during the loading screen: %+v", res)
				}
			}
			c.Advance(4900 * time.Millisecond)
			if !c.Loading() || c.Post("/run MGM_T = 1").Dropped != DroppedLoadingScreen {
				t.Fatal("the loading screen ended early")
			}
			c.Advance(100 * time.Millisecond)
			if c.Loading() {
				t.Fatal("the loading screen did not end")
			}
			if got := evalString(t, c, "return tostring(MGM_T)"); got != "nil" {
				t.Fatalf("a swallowed line ran: MGM_T = %s", got)
			}
			c.OpenChatBox()
			if res := c.Post("/run MGM_T = 1"); res.Dropped != "" || res.Error != "" {
				t.Fatalf("after the loading screen: %+v", res)
			}
			if got := evalString(t, c, "return tostring(MGM_T)"); got != "1" {
				t.Fatalf("MGM_T = %s after the loading screen", got)
			}
		})
	}
}

// TestServerModes drives the modes through the HTTP API the Desktop's
// simulator injector uses.
func TestServerModes(t *testing.T) {
	t.Parallel()
	t.Run("chat log until exit", func(t *testing.T) {
		t.Parallel()
		s, base := newTestServer(t, ServerConfig{ChatLog: ChatLogOptions{Mode: LogUntilExit},
			Client: Config{FlushToggle: ToggleNoop, Prints: PrintsLogged, Keys: KeysOpenBox}})
		call(t, "POST", base+"/add-message", map[string]string{"content": "[MGM_WHO] {}"}, nil)
		call(t, "POST", base+"/add-message", map[string]string{"content": `/run print("[MGM_TEST]")`}, nil)
		call(t, "POST", base+"/add-message", map[string]string{"content": "/run LoggingChat(false) LoggingChat(true)"}, nil)
		var st struct {
			ChatLogMode    string `json:"chatLogMode"`
			ChatLogPending int    `json:"chatLogPending"`
		}
		call(t, "GET", base+"/state", nil, &st)
		if st.ChatLogMode != "exit" || st.ChatLogPending == 0 {
			t.Fatalf("state %+v", st)
		}
		if log := readLog(t, s.LogPath()); log != "" {
			t.Fatalf("the log was written while the client runs: %q", log)
		}
		s.mu.Lock()
		c := s.c
		s.mu.Unlock()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		s.c = c // the cleanup checks its Lua errors
		s.mu.Unlock()
		got := logMarkers(t, s.LogPath())
		if !contains(got, "[MGM_WHO]") || !contains(got, "[MGM_TEST]") {
			t.Fatalf("markers after exit: %q", got)
		}
	})
	t.Run("keys need the chat box opened", func(t *testing.T) {
		t.Parallel()
		s, base := newTestServer(t, ServerConfig{Client: Config{Keys: KeysNeedOpenBox}})
		var res struct {
			Dropped     string `json:"dropped"`
			ChatBoxOpen bool   `json:"chatBoxOpen"`
		}
		call(t, "POST", base+"/add-message", map[string]string{"content": "/run MGM_T = (MGM_T or 0) + 1"}, &res)
		if res.Dropped != DroppedChatBoxClosed {
			t.Fatalf("add-message with the box closed: %+v", res)
		}
		if code := call(t, "POST", base+"/key", map[string]string{"key": "Enter"}, &res); code != 200 || !res.ChatBoxOpen {
			t.Fatalf("key Enter %d %+v", code, res)
		}
		res.Dropped = ""
		call(t, "POST", base+"/add-message", map[string]string{"content": "/run MGM_T = (MGM_T or 0) + 1"}, &res)
		if res.Dropped != "" {
			t.Fatalf("add-message after Enter: %+v", res)
		}
		if code := call(t, "POST", base+"/key", map[string]string{"key": "Escape"}, nil); code != 400 {
			t.Fatalf("unknown key: %d", code)
		}
		s.mu.Lock()
		got := evalString(t, s.c, "return tostring(MGM_T)")
		s.mu.Unlock()
		if got != "1" {
			t.Fatalf("MGM_T = %s, want 1 (only the line after Enter runs)", got)
		}
	})
	t.Run("loading screen", func(t *testing.T) {
		t.Parallel()
		s, base := newTestServer(t, ServerConfig{})
		if code := call(t, "POST", base+"/loading-screen", map[string]int{"ms": 0}, nil); code != 400 {
			t.Fatalf("ms 0: %d", code)
		}
		call(t, "POST", base+"/loading-screen", map[string]int{"ms": 600_000}, nil)
		var res struct {
			Dropped string `json:"dropped"`
		}
		call(t, "POST", base+"/add-message", map[string]string{"content": "/run MGM_T = 1"}, &res)
		if res.Dropped != DroppedLoadingScreen {
			t.Fatalf("add-message during the loading screen: %+v", res)
		}
		call(t, "POST", base+"/advance", map[string]int{"ms": 600_000}, nil)
		// The default keys need the chat box opened, as the real client does.
		call(t, "POST", base+"/key", map[string]string{"key": "Enter"}, nil)
		res.Dropped = ""
		call(t, "POST", base+"/add-message", map[string]string{"content": "/run MGM_T = 1"}, &res)
		if res.Dropped != "" {
			t.Fatalf("add-message after the loading screen: %+v", res)
		}
		s.mu.Lock()
		got := evalString(t, s.c, "return tostring(MGM_T)")
		s.mu.Unlock()
		if got != "1" {
			t.Fatalf("MGM_T = %s", got)
		}
	})
}

func TestModeStrings(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"line", "chunked", "exit"} {
		if m, err := ParseLogWriteMode(s); err != nil || m.String() != s {
			t.Errorf("%s: %v %v", s, m, err)
		}
	}
	for _, s := range []string{"logged", "not-logged"} {
		if m, err := ParsePrintMode(s); err != nil || m.String() != s {
			t.Errorf("%s: %v %v", s, m, err)
		}
	}
	for _, s := range []string{"flushes", "noop"} {
		if m, err := ParseFlushToggleMode(s); err != nil || m.String() != s {
			t.Errorf("%s: %v %v", s, m, err)
		}
	}
	for _, s := range []string{"open-box", "need-open-box", "ignored"} {
		if m, err := ParseKeyMode(s); err != nil || m.String() != s {
			t.Errorf("%s: %v %v", s, m, err)
		}
	}
	if _, err := ParseLogWriteMode("bogus"); err == nil {
		t.Error("bogus mode accepted")
	}
}

// TestMainModeFlags proves mgm-sim wow's flags set the modes, default to
// the pessimistic client and refuse unknown values.
func TestMainModeFlags(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	for _, args := range [][]string{
		{"--chat-log-mode", "never"}, {"--prints", "maybe"}, {"--flush-toggle", "sometimes"}, {"--keys", "any"},
	} {
		if err := Main(context.Background(), args, func(string) string { return "" }, &out, &out); err == nil {
			t.Errorf("%q should fail", args)
		}
	}
	type modes struct {
		ChatLogMode string `json:"chatLogMode"`
		Prints      string `json:"prints"`
		FlushToggle string `json:"flushToggle"`
		Keys        string `json:"keys"`
	}
	for _, tt := range []struct {
		name string
		args []string
		want modes
	}{
		{"defaults", nil, modes{"exit", "not-logged", "noop", "need-open-box"}},
		{"kind", []string{"--chat-log-mode", "line", "--prints", "logged", "--flush-toggle", "flushes", "--keys", "open-box"},
			modes{"line", "logged", "flushes", "open-box"}},
		{"chunked, keys ignored", []string{"--chat-log-mode", "chunked", "--keys", "ignored"},
			modes{"chunked", "not-logged", "noop", "ignored"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logPath := filepath.Join(t.TempDir(), "Logs", "WoWChatLog.txt")
			base := startMain(t, append([]string{"--log", logPath}, tt.args...)...)
			var st modes
			call(t, "GET", base+"/state", nil, &st)
			if st != tt.want {
				t.Fatalf("state %+v, want %+v", st, tt.want)
			}
		})
	}
}

// TestZeroConfigIsPessimistic: a Config or ServerConfig that chooses nothing
// is the client at its least helpful, in every doubtful mode.
func TestZeroConfigIsPessimistic(t *testing.T) {
	t.Parallel()
	var cfg Config
	if cfg.Prints != PrintsNotLogged || cfg.FlushToggle != ToggleNoop || cfg.Keys != KeysNeedOpenBox || cfg.SelfWhisper != SelfWhisperNone {
		t.Fatalf("zero Config: prints %v, flush toggle %v, keys %v, self whisper %v", cfg.Prints, cfg.FlushToggle, cfg.Keys, cfg.SelfWhisper)
	}
	if m := (ServerConfig{}).ChatLog.Mode; m != LogUntilExit {
		t.Fatalf("zero ServerConfig's chat log mode %v", m)
	}

	// And it behaves so: run through the server with nothing chosen, a
	// posted line is dropped until Enter, a print is not logged, a chat
	// event is logged but not written before exit, the toggle writes nothing.
	s, base := newTestServer(t, ServerConfig{})
	var st struct {
		ChatLogMode string `json:"chatLogMode"`
		Prints      string `json:"prints"`
		FlushToggle string `json:"flushToggle"`
		Keys        string `json:"keys"`
		SelfWhisper string `json:"selfWhisper"`
	}
	call(t, "GET", base+"/state", nil, &st)
	if st.ChatLogMode != "exit" || st.Prints != "not-logged" || st.FlushToggle != "noop" || st.Keys != "need-open-box" || st.SelfWhisper != "none" {
		t.Fatalf("state %+v", st)
	}
	var res map[string]any
	call(t, "POST", base+"/add-message", map[string]string{"content": `/run print("zero-print")`}, &res)
	if res["dropped"] != DroppedChatBoxClosed {
		t.Fatalf("a line posted to a closed chat box: %v", res)
	}
	call(t, "POST", base+"/key", map[string]string{"key": "Enter"}, nil)
	res = nil // a map decodes on top of the last answer
	call(t, "POST", base+"/add-message", map[string]string{"content": `/run print("zero-print") LoggingChat(true)`}, &res)
	if res["dropped"] != nil || res["error"] != nil {
		t.Fatalf("a line after Enter: %v", res)
	}
	call(t, "POST", base+"/key", map[string]string{"key": "Enter"}, nil)
	res = nil
	call(t, "POST", base+"/add-message", map[string]string{"content": `/run SendChatMessage("zero-say", "SAY") LoggingChat(false) LoggingChat(true)`}, &res)
	if res["dropped"] != nil || res["error"] != nil {
		t.Fatalf("a line after Enter: %v", res)
	}
	s.mu.Lock()
	c := s.c
	shown := contains(c.ChatLines(), "zero-print") && contains(c.ChatLines(), "zero-say")
	s.mu.Unlock()
	if !shown {
		t.Fatal("the lines after Enter did not run")
	}
	if log := readLog(t, s.LogPath()); log != "" {
		t.Fatalf("the log was written while the client runs: %q", log)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.c = c // the cleanup checks its Lua errors
	s.mu.Unlock()
	log := readLog(t, s.LogPath())
	if !strings.Contains(log, "zero-say") || strings.Contains(log, "zero-print") {
		t.Fatalf("log after exit (want the /say line, not the print): %q", log)
	}
}

// TestKeysIgnored: with KeysIgnored (an elevated WoW) every injector key is
// dropped before the client sees it, and nothing tells the injector so.
func TestKeysIgnored(t *testing.T) {
	t.Parallel()
	t.Run("client", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, func(cfg *Config) { cfg.Keys = KeysIgnored })
		c.Advance(2 * time.Second)
		if c.OpenChatBox() || c.ChatBoxOpen() {
			t.Fatal("Enter opened the chat box of an elevated WoW")
		}
		if res := c.PressEnter(); res != (EnterResult{}) || c.ChatBoxOpen() {
			t.Fatalf("PressEnter: %+v, open %v", res, c.ChatBoxOpen())
		}
		if res := c.Post("/run MGM_T = 1"); res != (TypeResult{}) {
			t.Fatalf("Post: %+v", res)
		}
		if got := evalString(t, c, "return tostring(MGM_T)"); got != "nil" {
			t.Fatalf("an ignored line ran: MGM_T = %s", got)
		}
		if c.IdleTime() != 2*time.Second {
			t.Fatalf("idle %v: an ignored key counted as keyboard input", c.IdleTime())
		}
		// The streamer's own keys still work.
		if res := c.Type("/run MGM_T = 2"); res.Dropped != "" || res.Error != "" {
			t.Fatalf("the streamer's line: %+v", res)
		}
		if got := evalString(t, c, "return tostring(MGM_T)"); got != "2" {
			t.Fatalf("MGM_T = %s after the streamer's line", got)
		}
	})
	t.Run("server", func(t *testing.T) {
		t.Parallel()
		s, base := newTestServer(t, ServerConfig{Client: Config{Keys: KeysIgnored}})
		s.mu.Lock()
		s.c.Advance(3 * time.Second) // Run's ticks add real time on top
		s.mu.Unlock()
		var res map[string]any
		if code := call(t, "POST", base+"/key", map[string]string{"key": "Enter"}, &res); code != 200 ||
			res["ok"] != true || res["dropped"] != nil || res["sent"] != nil || res["chatBoxOpen"] != false {
			t.Fatalf("POST /key Enter: %d %v", code, res)
		}
		res = nil
		if code := call(t, "POST", base+"/add-message", map[string]string{"content": "/run MGM_T = 1"}, &res); code != 200 ||
			res["dropped"] != nil || res["error"] != nil || res["truncated"] != false {
			t.Fatalf("POST /add-message: %d %v", code, res)
		}
		var in inputState
		call(t, "GET", base+"/input", nil, &in)
		if in.IdleMs < 3000 || in.Focus != "" {
			t.Fatalf("input %+v: an ignored key counted as keyboard input", in)
		}
		s.mu.Lock()
		ran := evalString(t, s.c, "return tostring(MGM_T)")
		s.mu.Unlock()
		if ran != "nil" {
			t.Fatalf("an ignored line ran: MGM_T = %s", ran)
		}
	})
}
