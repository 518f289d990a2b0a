package wowsim

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// call sends body (JSON unless a string) and decodes a JSON answer into out.
func call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	r := testkit.Do(t, nil, method, url, testkit.Header(map[string]string{"Content-Type": "application/json"}), body)
	r.Decode(t, out)
	return r.Status
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var logMarker = regexp.MustCompile(`\[MGM_[A-Z_]+(?::[^\]]*)?\]`)

// logMarkers lists the markers in the log file, in order, after checking
// every line has the client's timestamp prefix.
func logMarkers(t *testing.T, path string) []string {
	t.Helper()
	prefix := regexp.MustCompile(`^\d{1,2}/\d{1,2} \d{2}:\d{2}:\d{2}\.\d{3}  `)
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(readLog(t, path), "\r\n"), "\r\n") {
		if line == "" {
			continue
		}
		if !prefix.MatchString(line) {
			t.Fatalf("log line without the client's timestamp prefix: %q", line)
		}
		// A bridge line counts as its marker; the simulator's own lines
		// ([MGM_RUN_RECEIVED], auto-confirm) have no sequence prefix.
		text := prefix.ReplaceAllString(line, "")
		if m := bridgeLine.FindStringSubmatch(text); m != nil {
			text = m[3]
		}
		out = append(out, logMarker.FindAllString(text, -1)...)
	}
	return out
}

func newTestServer(t *testing.T, cfg ServerConfig) (*Server, string) {
	t.Helper()
	cfg.Client.AddonDir = addonDir
	if cfg.LogPath == "" {
		cfg.LogPath = filepath.Join(t.TempDir(), "Logs", "WoWChatLog.txt")
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		s.mu.Lock()
		for _, e := range s.c.Errors() {
			t.Errorf("Lua error: %s", e.Message)
		}
		s.mu.Unlock()
		s.Close()
	})
	return s, hs.URL + "/api/mock"
}

// TestPredecessorMockContract replays the predecessor's WoWMock CI suite.
func TestPredecessorMockContract(t *testing.T) {
	t.Parallel()
	// The predecessor's mock wrote its log at once.
	s, base := newTestServer(t, ServerConfig{ChatLog: ChatLogOptions{Mode: LogLineByLine}})
	var health struct {
		OK          bool   `json:"ok"`
		LogFilePath string `json:"logFilePath"`
	}
	if code := call(t, "GET", base+"/health", nil, &health); code != 200 || !health.OK || health.LogFilePath != s.LogPath() {
		t.Fatalf("health %d %+v", code, health)
	}
	if code := call(t, "POST", base+"/reset", nil, &health); code != 200 || !health.OK {
		t.Fatalf("reset %d", code)
	}
	if _, err := os.Stat(health.LogFilePath); err != nil {
		t.Fatalf("reset should leave the log file: %v", err)
	}
	if readLog(t, health.LogFilePath) != "" {
		t.Fatal("reset should empty the log")
	}

	var added struct {
		Content   string    `json:"content"`
		Timestamp time.Time `json:"timestamp"`
	}
	line := `[MGM_WHO] {"candidates": ["Etoehero"]}`
	if code := call(t, "POST", base+"/add-message", map[string]string{"Content": line}, &added); code != 200 || added.Content != line || added.Timestamp.IsZero() {
		t.Fatalf("add-message %d %+v", code, added)
	}
	if !strings.Contains(readLog(t, s.LogPath()), "  "+line+"\r\n") {
		t.Fatalf("log %q", readLog(t, s.LogPath()))
	}

	run := `/run NotifyWinnerWhisper('abc','Etoehero')`
	call(t, "POST", base+"/add-message", map[string]string{"content": run}, nil)
	var cmds []Command
	call(t, "GET", base+"/commands", nil, &cmds)
	if len(cmds) != 1 || cmds[0].Command != run || cmds[0].ReceivedAt.IsZero() {
		t.Fatalf("commands %+v", cmds)
	}

	if code := call(t, "POST", base+"/set-response", map[string]any{"autoConfirmAccepts": true, "commandProcessingDelayMs": 150}, nil); code != 200 {
		t.Fatalf("set-response %d", code)
	}
	start := time.Now()
	call(t, "POST", base+"/add-message", map[string]string{"content": "[MGM_ACCEPT:11111111-2222-3333-4444-555555555555]"}, nil)
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("the auto-confirm should wait the processing delay")
	}
	if !strings.Contains(readLog(t, s.LogPath()), "[MGM_CONFIRM:11111111-2222-3333-4444-555555555555]\r\n") {
		t.Fatalf("auto-confirm missing: %q", readLog(t, s.LogPath()))
	}

	if code := call(t, "POST", base+"/add-message", map[string]string{"content": "[MGM_ACCEPT:not-a-guid]"}, nil); code != 200 {
		t.Fatalf("malformed marker: %d", code)
	}
	if code := call(t, "GET", base+"/health", nil, nil); code != 200 {
		t.Fatal("health after a malformed marker")
	}
	if !strings.Contains(readLog(t, s.LogPath()), "[MGM_ACCEPT:not-a-guid]") || strings.Contains(readLog(t, s.LogPath()), "[MGM_CONFIRM:not-a-guid]") {
		t.Fatal("a malformed marker is logged and not confirmed")
	}

	for _, body := range []string{`{"content":"   "}`, `{}`, ``} {
		var e struct{ Error string }
		if code := call(t, "POST", base+"/add-message", body, &e); code != 400 || e.Error != "Content is required." {
			t.Errorf("body %q: %d %+v", body, code, e)
		}
	}
	if code := call(t, "POST", base+"/add-message", `{"content":`, nil); code != 400 {
		t.Errorf("invalid JSON: %d", code)
	}
}

func TestAddMessageRunsLuaAndEchoes(t *testing.T) {
	t.Parallel()
	// The predecessor's mock ran lines as posted and logged prints at once.
	s, base := newTestServer(t, ServerConfig{CommandDelay: 0, ChatLog: ChatLogOptions{Mode: LogLineByLine},
		Client: Config{Prints: PrintsLogged, Keys: KeysOpenBox}})
	call(t, "POST", base+"/set-response", map[string]any{"echoRunCommandsToChatLog": true, "commandProcessingDelayMs": 0}, nil)
	var res map[string]any
	call(t, "POST", base+"/add-message", map[string]string{"content": `/run print("hello", 42)`}, &res)
	if res["truncated"] != false {
		t.Fatalf("response %+v", res)
	}
	log := readLog(t, s.LogPath())
	if !strings.Contains(log, "  hello 42\r\n") || !strings.HasSuffix(log, `  [MGM_RUN_RECEIVED] /run print("hello", 42)`+"\r\n") {
		t.Fatalf("log %q", log)
	}
	// A line longer than the chat box takes is cut, like typing it would be.
	long := `/run ReceiveGold("` + strings.Repeat("x", 300) + `")`
	call(t, "POST", base+"/add-message", map[string]string{"content": long}, &res)
	if res["truncated"] != true || res["error"] == nil {
		t.Fatalf("response %+v", res)
	}
	s.mu.Lock()
	s.c.ClearErrors()
	s.mu.Unlock()
}

func TestSimulationRoutes(t *testing.T) {
	t.Parallel()
	_, base := newTestServer(t, ServerConfig{CommandDelay: 0, Client: Config{Keys: KeysOpenBox}})
	var roster rosterState
	if code := call(t, "POST", base+"/roster", map[string]any{"players": []Player{{Name: "Hero"}}, "whoRoute": "chat"}, &roster); code != 200 ||
		len(roster.Players) != 1 || roster.WhoRoute != WhoRouteChat || roster.AllOnline {
		t.Fatalf("roster %d %+v", code, roster)
	}
	if code := call(t, "POST", base+"/roster", map[string]any{"whoRoute": "sideways"}, nil); code != 400 {
		t.Fatalf("bad route: %d", code)
	}
	call(t, "POST", base+"/add-message", map[string]string{"content": `/run MGM_RunWhoForSpin("c-1","Hero")`}, nil)
	call(t, "POST", base+"/advance", map[string]any{"ms": 1000}, nil)

	call(t, "POST", base+"/add-message", map[string]string{"content": `/run NotifyWinnerWhisper("p-1","Hero")`}, nil)
	call(t, "POST", base+"/whisper", map[string]string{"from": "hero", "text": "!twgold"}, nil)
	if code := call(t, "POST", base+"/whisper", map[string]string{"text": "!twgold"}, nil); code != 400 {
		t.Fatalf("whisper without from: %d", code)
	}

	items := []Item{{Bag: 0, Slot: 1, ID: 36913, Name: "Saronite Bar", Count: 5}, {Bag: 0, Slot: 2, ID: 6948, Name: "Hearthstone", Soulbound: true}}
	if code := call(t, "POST", base+"/bags", map[string]any{"items": items}, nil); code != 200 {
		t.Fatalf("bags %d", code)
	}
	if code := call(t, "POST", base+"/bags", map[string]any{"items": []Item{{Bag: 9, Slot: 1, ID: 1, Name: "x"}}}, nil); code != 400 {
		t.Fatalf("bad bags %d", code)
	}
	call(t, "POST", base+"/add-message", map[string]string{"content": `/run MGM_RequestGiftItems("g-1")`}, nil)

	if code := call(t, "POST", base+"/mail/prepare", nil, nil); code != 409 && code != 404 {
		t.Fatalf("prepare without a panel: %d", code)
	}
	call(t, "POST", base+"/add-message", map[string]string{"content": `/run ReceiveGold("p-1:Hero:10000000;")`}, nil)
	if code := call(t, "POST", base+"/mailbox", map[string]any{}, nil); code != 400 {
		t.Fatalf("mailbox without open: %d", code)
	}
	call(t, "POST", base+"/mailbox", map[string]any{"open": true}, nil)
	if code := call(t, "POST", base+"/mail/prepare", nil, nil); code != 200 {
		t.Fatalf("prepare %d", code)
	}
	var sent struct {
		Mail Mail `json:"mail"`
	}
	if code := call(t, "POST", base+"/mail/send", map[string]any{"fail": true, "reason": "Cannot find recipient"}, &sent); code != 200 || sent.Mail.To != "Hero" {
		t.Fatalf("send %d %+v", code, sent)
	}
	call(t, "POST", base+"/advance", map[string]any{"ms": 500}, nil)
	call(t, "POST", base+"/mail/prepare", nil, nil)
	call(t, "POST", base+"/mail/send", nil, nil)
	call(t, "POST", base+"/advance", map[string]any{"ms": 500}, nil)
	if code := call(t, "POST", base+"/mail/send", nil, nil); code != 409 {
		t.Fatalf("send with an empty form: %d", code)
	}
	var mails []Mail
	call(t, "GET", base+"/mails", nil, &mails)
	if len(mails) != 2 || !strings.HasPrefix(mails[0].Result, "failed") || mails[1].Result != "sent" {
		t.Fatalf("mails %+v", mails)
	}
	var chat TypeResult
	call(t, "POST", base+"/chat", map[string]string{"line": "/mgm update"}, &chat)
	call(t, "POST", base+"/mailbox", map[string]any{"open": false}, nil)
	call(t, "POST", base+"/reload", nil, nil)

	var state struct {
		Queue    []QueueRow `json:"queue"`
		Whispers []Whisper  `json:"whispers"`
		Errors   []LuaError `json:"errors"`
		Mailbox  bool       `json:"mailboxOpen"`
		Logging  bool       `json:"loggingChat"`
		Who      []string   `json:"whoQueries"`
	}
	call(t, "GET", base+"/state", nil, &state)
	if len(state.Queue) != 0 || len(state.Whispers) != 2 || len(state.Errors) != 0 || state.Mailbox || !state.Logging || len(state.Who) != 1 {
		t.Fatalf("state %+v", state)
	}
	var whispers []Whisper
	call(t, "GET", base+"/whispers", nil, &whispers)
	if len(whispers) != 2 || whispers[0].Text != consentText || whispers[1].Text != mailSentText {
		t.Fatalf("whispers %+v", whispers)
	}
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startMain runs "mgm-sim wow" with args on a free loopback port and returns
// its /api/mock base URL; the test's cleanup stops it and checks it exits cleanly.
func startMain(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testkit.Buffer
	done := make(chan error, 1)
	args = append([]string{"--listen", "127.0.0.1:0", "--addon", addonDir}, args...)
	go func() { done <- Main(ctx, args, func(string) string { return "" }, &stdout, &stderr) }()
	var url string
	waitFor(t, "the listening line", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Main returned early: %v; stderr %s", err, stderr.String())
		default:
		}
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			return true
		}
		return false
	})
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Main: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Main did not stop")
		}
	})
	return url + "/api/mock"
}

// TestScriptedSession is the "done when": a session driven only
// through the HTTP routes of a running "mgm-sim wow" leaves exactly the
// ACCEPT and then the CONFIRM marker in the log, and both whispers. The
// client is kind about its log (written at once, prints logged); keys need
// the chat box opened, so each line follows an Enter, as the Desktop sends.
func TestScriptedSession(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "Logs", "WoWChatLog.txt")
	base := startMain(t, "--log", logPath, "--roster", "Norinn", "--chat-log-mode", "line", "--prints", "logged")
	const id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	post := func(path string, body any) {
		t.Helper()
		var e map[string]any
		if code := call(t, "POST", base+path, body, &e); code != 200 {
			t.Fatalf("POST %s: %d %v", path, code, e)
		}
	}
	postLine := func(line string) {
		t.Helper()
		post("/key", map[string]string{"key": "Enter"})
		var res map[string]any
		if code := call(t, "POST", base+"/add-message", map[string]string{"content": line}, &res); code != 200 || res["dropped"] != nil || res["error"] != nil {
			t.Fatalf("add-message %s: %d %v", line, code, res)
		}
	}
	postLine(fmt.Sprintf(`/run NotifyWinnerWhisper("%s","Norinn")`, id))
	post("/whisper", map[string]string{"from": "Norinn", "text": "!twgold"})
	postLine(fmt.Sprintf(`/run ReceiveGold("%s:Norinn:10000000;")`, id))
	post("/mailbox", map[string]bool{"open": true})
	post("/mail/prepare", nil)
	post("/mail/send", nil)

	var whispers []Whisper
	waitFor(t, "the mail-sent whisper", func() bool {
		call(t, "GET", base+"/whispers", nil, &whispers)
		return len(whispers) == 2
	})
	if whispers[0].To != "Norinn" || whispers[0].Text != consentText || whispers[1].To != "Norinn" || whispers[1].Text != mailSentText {
		t.Fatalf("whispers %+v", whispers)
	}
	want := []string{"[MGM_ACCEPT:" + id + "]", "[MGM_CONFIRM:" + id + "]"}
	if got := logMarkers(t, logPath); !slices.Equal(got, want) {
		t.Fatalf("log markers %q, want exactly %q\n%s", got, want, readLog(t, logPath))
	}
	var state struct {
		Queue  []QueueRow `json:"queue"`
		Errors []LuaError `json:"errors"`
	}
	call(t, "GET", base+"/state", nil, &state)
	if len(state.Queue) != 0 || len(state.Errors) != 0 {
		t.Fatalf("state %+v", state)
	}
}

// TestAutoMode: with --auto the winner consents, the streamer mails and the
// gift recipient confirms by themselves.
func TestAutoMode(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "WoWChatLog.txt")
	base := startMain(t, "--log", logPath, "--auto", "--auto-delay", "300ms", "--command-delay-ms", "0",
		"--chat-log-mode", "line", "--prints", "logged", "--keys", "open-box")
	const id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	for _, line := range []string{
		`/run MGM_RunWhoForSpin("11111111-1111-1111-1111-111111111111","Anyone")`,
		fmt.Sprintf(`/run NotifyWinnerWhisper("%s","Anyone")`, id),
		fmt.Sprintf(`/run ReceiveGold("%s:Anyone:10000000;")`, id),
		`/run MGM_RequestGiftConfirmation("22222222-2222-2222-2222-222222222222","Giftee")`,
	} {
		call(t, "POST", base+"/add-message", map[string]string{"content": line}, nil)
	}
	want := []string{
		"[MGM_WHO]",
		"[MGM_ACCEPT:" + id + "]",
		"[MGM_GIFT_ACCEPT:22222222-2222-2222-2222-222222222222]",
		"[MGM_CONFIRM:" + id + "]",
	}
	waitFor(t, "the automatic session", func() bool {
		got := logMarkers(t, logPath)
		for _, w := range want {
			if !slices.Contains(got, w) {
				return false
			}
		}
		return true
	})
	if !strings.Contains(readLog(t, logPath), `"characterName":"Anyone","online":true`) {
		t.Fatal("everyone is online in --auto mode")
	}
	var state struct {
		Mailbox bool `json:"mailboxOpen"`
	}
	waitFor(t, "the mailbox to close when the queue is empty", func() bool {
		call(t, "GET", base+"/state", nil, &state)
		return !state.Mailbox
	})
}

// TestSavedVariablesFile: the file is written at /reload and at exit and read
// at the next start.
func TestSavedVariablesFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	svPath := filepath.Join(dir, "MimironsGoldOMatic.lua")
	args := []string{"--log", filepath.Join(dir, "WoWChatLog.txt"), "--saved-variables", svPath, "--command-delay-ms", "0", "--keys", "open-box"}

	ctx, cancel := context.WithCancel(context.Background())
	var out testkit.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, append([]string{"--listen", "127.0.0.1:0", "--addon", addonDir}, args...), func(string) string { return "" }, &out, &out)
	}()
	var base string
	waitFor(t, "start", func() bool {
		m := listening.FindStringSubmatch(out.String())
		if m != nil {
			base = m[1] + "/api/mock"
		}
		return m != nil
	})
	call(t, "POST", base+"/add-message", map[string]string{"content": `/run ReceiveGold("p-1:Norinn:10000000;")`}, nil)
	call(t, "POST", base+"/chat", map[string]string{"line": "/reload"}, nil)
	if !strings.Contains(readLog(t, svPath), `["payoutId"] = "p-1"`) {
		t.Fatalf("/reload should write the file: %q", readLog(t, svPath))
	}
	call(t, "POST", base+"/add-message", map[string]string{"content": `/run ReceiveGold("p-2:Thrall:5;")`}, nil)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readLog(t, svPath), `["payoutId"] = "p-2"`) {
		t.Fatalf("exit should write the file: %q", readLog(t, svPath))
	}

	base = startMain(t, args...)
	var state struct {
		Queue []QueueRow `json:"queue"`
	}
	call(t, "GET", base+"/state", nil, &state)
	if len(state.Queue) != 2 || state.Queue[0].PayoutID != "p-1" || state.Queue[1].PayoutID != "p-2" {
		t.Fatalf("queue after restart %+v", state.Queue)
	}
}

func TestMainSettings(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	for _, args := range [][]string{
		{"--who-route", "sideways"},
		{"--locale", "deDE", "--addon", addonDir, "--log", filepath.Join(t.TempDir(), "x.txt")},
		{"MockSettings:ApiPort=99999"},
		{"stray"},
		{"--addon", filepath.Join(t.TempDir(), "NoAddon"), "--log", filepath.Join(t.TempDir(), "x.txt")},
	} {
		if err := Main(context.Background(), args, func(string) string { return "" }, &out, &out); err == nil {
			t.Errorf("%q should fail", args)
		}
	}
	// The predecessor's settings names still work.
	logPath := filepath.Join(t.TempDir(), "Logs", "chat.txt")
	env := map[string]string{"WOWMOCK_MockSettings__LogFilePath": logPath}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var buf testkit.Buffer
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, []string{"--listen", "127.0.0.1:0", "--addon", addonDir, "--chat-log-mode", "line", "MockSettings:AutoConfirmAccepts=true"},
			func(k string) string { return env[k] }, &buf, &buf)
	}()
	waitFor(t, "start", func() bool { return listening.MatchString(buf.String()) })
	base := listening.FindStringSubmatch(buf.String())[1] + "/api/mock"
	var health struct {
		LogFilePath string `json:"logFilePath"`
	}
	call(t, "GET", base+"/health", nil, &health)
	if health.LogFilePath != logPath {
		t.Fatalf("log path %q, want %q", health.LogFilePath, logPath)
	}
	call(t, "POST", base+"/add-message", map[string]string{"content": "[MGM_ACCEPT:11111111-2222-3333-4444-555555555555]"}, nil)
	if !strings.Contains(readLog(t, logPath), "[MGM_CONFIRM:11111111-2222-3333-4444-555555555555]") {
		t.Fatal("MockSettings:AutoConfirmAccepts=true should turn auto-confirm on")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
