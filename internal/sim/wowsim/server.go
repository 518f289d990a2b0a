package wowsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

// ServerConfig sets up the HTTP face of the simulator ("mgm-sim wow").
type ServerConfig struct {
	// Client configures the simulated client; its ChatLog is set from LogPath.
	Client Config
	// LogPath is the WoWChatLog.txt to write.
	LogPath string
	// ChatLog sets when logged lines reach LogPath (default LogUntilExit:
	// they are written at Close).
	ChatLog ChatLogOptions
	// SavedVariablesPath, when set, is read at start and written at /reload,
	// reset and shutdown, like the client's WTF file.
	SavedVariablesPath string
	// Auto plays the other side: winners answer !twgold, gift recipients
	// !twgift, and the streamer mails queued rows at a mailbox.
	Auto bool
	// AutoReplyDelay is how long a whispered player takes to answer (default 2 s).
	AutoReplyDelay time.Duration
	// CommandDelay is the predecessor's CommandProcessingDelayMs: how long an
	// add-message /run line waits before it runs (default 100 ms).
	CommandDelay time.Duration
	// Tick is how often real time is fed to the fake clock (default 50 ms).
	Tick time.Duration
	// Roster, AllOnline and WhoRoute set up the world at start.
	Roster    []Player
	AllOnline bool
	WhoRoute  WhoRoute
}

// Command is a /run line received through add-message.
type Command struct {
	Command    string    `json:"command"`
	ReceivedAt time.Time `json:"receivedAt"`
}

// Server serves the /api/mock routes over one simulated client. Real time
// drives the client's fake clock from a ticker; every access holds mu,
// because a Lua state is single-threaded.
type Server struct {
	cfg ServerConfig
	log *ChatLog

	mu          sync.Mutex
	c           *Client
	commands    []Command
	autoConfirm bool
	echo        bool
	delay       time.Duration
	lastAuto    time.Time
	idleSince   time.Time
	lastTick    time.Time
}

// NewServer opens the log, loads the SavedVariables file if any and starts
// the client.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.AutoReplyDelay <= 0 {
		cfg.AutoReplyDelay = 2 * time.Second
	}
	if cfg.CommandDelay < 0 {
		cfg.CommandDelay = 0
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 50 * time.Millisecond
	}
	if cfg.WhoRoute == "" {
		cfg.WhoRoute = WhoRouteAuto
	}
	log, err := NewChatLog(cfg.LogPath, cfg.ChatLog)
	if err != nil {
		return nil, fmt.Errorf("chat log: %w", err)
	}
	cfg.Client.ChatLog = log
	if cfg.SavedVariablesPath != "" {
		b, err := os.ReadFile(cfg.SavedVariablesPath)
		switch {
		case err == nil:
			cfg.Client.SavedVariables = string(b)
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("saved variables: %w", err)
		}
	}
	s := &Server{cfg: cfg, log: log, delay: cfg.CommandDelay}
	c, err := s.newClient(cfg.Client.SavedVariables, nil)
	if err != nil {
		return nil, err
	}
	c.SetRoster(cfg.Roster, cfg.AllOnline)
	c.SetWhoRoute(cfg.WhoRoute)
	s.c = c
	return s, nil
}

func (s *Server) newClient(saved string, world *Client) (*Client, error) {
	cc := s.cfg.Client
	cc.SavedVariables = saved
	cc.Start = time.Now()
	if world != nil {
		cc.LoggingChat = world.loggingChat // the session's /chatlog switch survives a reset
	}
	c, err := New(cc)
	if err != nil {
		return nil, err
	}
	if world != nil {
		c.adoptWorld(world)
		c.SetWindow(world.Window()) // the desktop around the game survives a reset
	}
	c.OnWhisperSent = s.onWhisperSent
	c.OnSavedVariables = s.writeSavedVariables
	return c, nil
}

// LogPath is the absolute path of the chat log.
func (s *Server) LogPath() string { return s.log.Path() }

// Close writes the SavedVariables and the chat log's pending lines (as
// exiting the game would) and stops the client.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return nil
	}
	s.writeSavedVariables(s.c.SavedVariables())
	s.c.Close()
	s.c = nil
	return s.log.Close()
}

func (s *Server) writeSavedVariables(content string) {
	if s.cfg.SavedVariablesPath == "" {
		return
	}
	if err := os.WriteFile(s.cfg.SavedVariablesPath, []byte(content), 0o644); err != nil && s.c != nil {
		s.c.recordError("saved variables: " + err.Error())
	}
}

// onWhisperSent is the --auto players answering the addon's whispers.
func (s *Server) onWhisperSent(w Whisper) {
	if !s.cfg.Auto {
		return
	}
	for _, word := range []string{"!twgold", "!twgift"} {
		if strings.HasSuffix(w.Text, word) {
			word, to := word, w.To
			s.c.After(s.cfg.AutoReplyDelay, func() { s.c.ReceiveWhisper(to, word) })
		}
	}
}

// Run feeds real time to the client until ctx ends.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	s.mu.Lock()
	s.lastTick = time.Now()
	s.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			if s.c != nil {
				s.c.Advance(now.Sub(s.lastTick))
				s.lastTick = now
				if s.cfg.Auto {
					s.autoMail()
				}
			}
			s.mu.Unlock()
		}
	}
}

// autoMail is the --auto streamer at the mailbox: one action at a time, at
// most every half second, so each step's events settle before the next.
func (s *Server) autoMail() {
	c := s.c
	now := c.Now()
	if now.Sub(s.lastAuto) < 500*time.Millisecond {
		return
	}
	rows := c.QueueRows()
	var ready, processing bool
	for _, r := range rows {
		ready = ready || r.State == "READY"
		processing = processing || r.State == "PROCESSING"
	}
	gifts := c.GiftQueueStates()
	for _, st := range gifts {
		ready = ready || st == "READY"
		processing = processing || st == "PROCESSING"
	}
	act := func(f func()) {
		f()
		s.lastAuto = now
		s.idleSince = time.Time{}
	}
	send := c.Frame("SendMailMailButton")
	switch {
	case !c.MailboxOpen() && ready:
		act(c.OpenMailbox)
	case !c.MailboxOpen():
		// Nothing to mail.
	case processing && send.Visible && send.Enabled:
		act(func() { _ = c.ClickButton("SendMailMailButton") })
	case c.Frame("MGMQueuePrepareButton").Visible && c.Frame("MGMQueuePrepareButton").Enabled:
		act(func() { _ = c.ClickButton("MGMQueuePrepareButton") })
	case len(rows)+len(gifts) == 0:
		if s.idleSince.IsZero() {
			s.idleSince = now
		} else if now.Sub(s.idleSince) >= 2*time.Second {
			act(c.CloseMailbox)
		}
	}
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/mock/health", s.health)
	mux.HandleFunc("POST /api/mock/reset", s.reset)
	mux.HandleFunc("POST /api/mock/add-message", s.addMessage)
	mux.HandleFunc("POST /api/mock/key", s.key)
	mux.HandleFunc("POST /api/mock/loading-screen", s.loadingScreen)
	mux.HandleFunc("GET /api/mock/commands", s.getCommands)
	mux.HandleFunc("POST /api/mock/set-response", s.setResponse)
	mux.HandleFunc("POST /api/mock/chat", s.chat)
	mux.HandleFunc("POST /api/mock/whisper", s.whisper)
	mux.HandleFunc("GET /api/mock/whispers", s.getWhispers)
	mux.HandleFunc("GET /api/mock/roster", s.getRoster)
	mux.HandleFunc("POST /api/mock/roster", s.setRoster)
	mux.HandleFunc("POST /api/mock/mailbox", s.mailbox)
	mux.HandleFunc("POST /api/mock/mail/prepare", s.prepareMail)
	mux.HandleFunc("POST /api/mock/mail/send", s.sendMail)
	mux.HandleFunc("GET /api/mock/mails", s.getMails)
	mux.HandleFunc("GET /api/mock/bags", s.getBags)
	mux.HandleFunc("POST /api/mock/bags", s.setBags)
	mux.HandleFunc("POST /api/mock/reload", s.reload)
	mux.HandleFunc("POST /api/mock/advance", s.advance)
	mux.HandleFunc("GET /api/mock/state", s.state)
	mux.HandleFunc("GET /api/mock/screen", s.screen)
	mux.HandleFunc("GET /api/mock/input", s.input)
	mux.HandleFunc("POST /api/mock/window", s.window)
	mux.HandleFunc("POST /api/mock/streamer-typing", s.streamerTyping)
	return mux
}

func writeError(w http.ResponseWriter, status int, msg string) {
	serve.JSON(w, status, map[string]string{"error": msg})
}

// readJSON decodes the body (field names match case-insensitively, so the
// predecessor's "Content" works too); an empty body leaves v as it is.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read the body: "+err.Error())
		return false
	}
	if strings.TrimSpace(string(body)) == "" {
		return true
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON: "+err.Error())
		return false
	}
	return true
}

// locked runs f with the client, or answers 503 after Close and reports false.
func (s *Server) locked(w http.ResponseWriter, f func(c *Client)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		writeError(w, http.StatusServiceUnavailable, "the simulator is shutting down")
		return false
	}
	f(s.c)
	return true
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "logFilePath": s.log.Path()})
}

// reset empties the log and the recorded commands and starts a fresh client
// with no SavedVariables; the world (roster, /who route, bags) and the
// set-response settings are kept.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	s.locked(w, func(c *Client) {
		if err := s.log.Truncate(); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		fresh, err := s.newClient("", c)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		c.Close()
		s.c = fresh
		s.commands = nil
		s.lastTick = time.Now()
		s.writeSavedVariables("")
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "logFilePath": s.log.Path()})
	})
}

var (
	runLine     = regexp.MustCompile(`(?i)^\s*/(run|script)\s`)
	acceptInLog = regexp.MustCompile(`\[MGM_ACCEPT:([0-9a-fA-F-]{8,64})\]`)
)

// addMessage is the predecessor's add-message: a /run line is typed into the
// chat box (after the command delay) and recorded; any other text is appended
// to the log as a line, and with auto-confirm an [MGM_ACCEPT:id] in it is
// answered with [MGM_CONFIRM:id].
func (s *Server) addMessage(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Content string `json:"content"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Content) == "" {
		writeError(w, http.StatusBadRequest, "Content is required.")
		return
	}
	received := time.Now().UTC()
	s.mu.Lock()
	delay, echo, autoConfirm := s.delay, s.echo, s.autoConfirm
	isRun := runLine.MatchString(req.Content)
	if isRun {
		s.commands = append(s.commands, Command{Command: req.Content, ReceivedAt: received})
	} else if s.c != nil {
		s.appendLog(req.Content)
	}
	s.mu.Unlock()

	resp := map[string]any{"content": req.Content, "timestamp": received}
	m := acceptInLog.FindStringSubmatch(req.Content)
	if isRun || (autoConfirm && m != nil) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(delay):
		}
	}
	ran := s.locked(w, func(c *Client) {
		switch {
		case isRun:
			trampled := len(c.TrampledStreamerText())
			res := c.Post(strings.TrimSpace(req.Content))
			if len(c.TrampledStreamerText()) > trampled {
				resp["trampledStreamerText"] = true
			}
			if echo {
				s.appendLog("[MGM_RUN_RECEIVED] " + req.Content)
			}
			resp["truncated"] = res.Truncated
			if res.Dropped != "" {
				resp["dropped"] = res.Dropped
			}
			if res.Error != "" {
				resp["error"] = res.Error
			}
		case autoConfirm && m != nil:
			s.appendLog("[MGM_CONFIRM:" + m[1] + "]")
		}
	})
	if ran {
		serve.JSON(w, http.StatusOK, resp)
	}
}

// appendLog writes a line straight into the log, whether or not the client
// logs chat (the predecessor's mock did so).
func (s *Server) appendLog(text string) {
	if err := s.log.Append(s.c.Now().In(s.c.cfg.Location), text); err != nil {
		s.c.recordError("chat log: " + err.Error())
	}
}

// key is the injector pressing a real key; only "Enter" is known: it opens a
// closed chat box (which Config.Keys KeysNeedOpenBox requires before
// add-message) and sends an open one's text.
func (s *Server) key(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Key string `json:"key"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if !strings.EqualFold(strings.TrimSpace(req.Key), "Enter") {
		writeError(w, http.StatusBadRequest, `"key" must be "Enter"`)
		return
	}
	s.locked(w, func(c *Client) {
		resp := map[string]any{"ok": true}
		trampled := len(c.TrampledStreamerText())
		res := c.PressEnter()
		if res.Dropped != "" {
			resp["dropped"] = res.Dropped
		}
		if res.Sent != nil {
			resp["sent"] = res.Sent.Line
		}
		if len(c.TrampledStreamerText()) > trampled {
			resp["trampledStreamerText"] = true
		}
		resp["chatBoxOpen"] = c.ChatBoxOpen()
		serve.JSON(w, http.StatusOK, resp)
	})
}

// loadingScreen shows a loading screen for ms milliseconds (up to ten minutes).
func (s *Server) loadingScreen(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ms int64 `json:"ms"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Ms <= 0 || req.Ms > 600_000 {
		writeError(w, http.StatusBadRequest, "ms must be between 1 and 600000")
		return
	}
	s.locked(w, func(c *Client) {
		c.StartLoadingScreen(time.Duration(req.Ms) * time.Millisecond)
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "loading": c.Loading()})
	})
}

func (s *Server) getCommands(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := append([]Command{}, s.commands...)
	s.mu.Unlock()
	serve.JSON(w, http.StatusOK, out)
}

func (s *Server) setResponse(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AutoConfirmAccepts       bool `json:"autoConfirmAccepts"`
		EchoRunCommandsToChatLog bool `json:"echoRunCommandsToChatLog"`
		CommandProcessingDelayMs *int `json:"commandProcessingDelayMs"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	s.mu.Lock()
	s.autoConfirm = req.AutoConfirmAccepts
	s.echo = req.EchoRunCommandsToChatLog
	if req.CommandProcessingDelayMs != nil {
		s.delay = time.Duration(max(0, *req.CommandProcessingDelayMs)) * time.Millisecond
	}
	s.mu.Unlock()
	serve.JSON(w, http.StatusOK, map[string]any{"ok": true})
}

// chat types any line into the chat box (slash commands included).
func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Line string `json:"line"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Line) == "" {
		writeError(w, http.StatusBadRequest, "line is required")
		return
	}
	s.locked(w, func(c *Client) { serve.JSON(w, http.StatusOK, c.Type(req.Line)) })
}

func (s *Server) whisper(w http.ResponseWriter, r *http.Request) {
	var req struct {
		From string `json:"from"`
		Text string `json:"text"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.From) == "" {
		writeError(w, http.StatusBadRequest, "from is required")
		return
	}
	s.locked(w, func(c *Client) {
		c.ReceiveWhisper(strings.TrimSpace(req.From), req.Text)
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true})
	})
}

func (s *Server) getWhispers(w http.ResponseWriter, r *http.Request) {
	s.locked(w, func(c *Client) { serve.JSON(w, http.StatusOK, append([]Whisper{}, c.Whispers()...)) })
}

type rosterState struct {
	Players   []Player `json:"players"`
	AllOnline bool     `json:"allOnline"`
	WhoRoute  WhoRoute `json:"whoRoute"`
	WhoToUI   int      `json:"whoToUI"`
}

func currentRoster(c *Client) rosterState {
	players, all := c.Roster()
	return rosterState{Players: append([]Player{}, players...), AllOnline: all, WhoRoute: c.WhoRoute(), WhoToUI: c.WhoToUI()}
}

func (s *Server) getRoster(w http.ResponseWriter, r *http.Request) {
	s.locked(w, func(c *Client) { serve.JSON(w, http.StatusOK, currentRoster(c)) })
}

// setRoster replaces the online players and/or changes the /who route;
// omitted fields keep their value.
func (s *Server) setRoster(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Players   *[]Player `json:"players"`
		AllOnline *bool     `json:"allOnline"`
		WhoRoute  *string   `json:"whoRoute"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	var route WhoRoute
	if req.WhoRoute != nil {
		var err error
		if route, err = ParseWhoRoute(*req.WhoRoute); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if req.Players != nil {
		for _, p := range *req.Players {
			if strings.TrimSpace(p.Name) == "" {
				writeError(w, http.StatusBadRequest, "every player needs a name")
				return
			}
		}
	}
	s.locked(w, func(c *Client) {
		players, all := c.Roster()
		if req.Players != nil {
			players = *req.Players
		}
		if req.AllOnline != nil {
			all = *req.AllOnline
		}
		c.SetRoster(players, all)
		if route != "" {
			c.SetWhoRoute(route)
		}
		serve.JSON(w, http.StatusOK, currentRoster(c))
	})
}

func (s *Server) mailbox(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Open *bool `json:"open"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Open == nil {
		writeError(w, http.StatusBadRequest, `"open" (true or false) is required`)
		return
	}
	s.locked(w, func(c *Client) {
		if *req.Open {
			c.OpenMailbox()
		} else {
			c.CloseMailbox()
		}
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "mailboxOpen": c.MailboxOpen()})
	})
}

func clickStatus(err error) int {
	if errors.Is(err, ErrNoSuchButton) {
		return http.StatusNotFound
	}
	return http.StatusConflict
}

// prepareMail clicks the addon's Prepare Mail button.
func (s *Server) prepareMail(w http.ResponseWriter, r *http.Request) {
	s.locked(w, func(c *Client) {
		if err := c.ClickButton("MGMQueuePrepareButton"); err != nil {
			writeError(w, clickStatus(err), err.Error())
			return
		}
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "queue": c.QueueRows()})
	})
}

// sendMail clicks Send on the Send Mail tab; {"fail":true,"reason":…} makes
// the server refuse this mail (MAIL_FAILED).
func (s *Server) sendMail(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Fail   bool   `json:"fail"`
		Reason string `json:"reason"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	s.locked(w, func(c *Client) {
		if req.Fail {
			c.FailNextMail(req.Reason)
		}
		if err := c.ClickButton("SendMailMailButton"); err != nil {
			c.nextMailFailure = ""
			writeError(w, clickStatus(err), err.Error())
			return
		}
		mails := c.Mails()
		var last any
		if len(mails) > 0 {
			last = mails[len(mails)-1]
		}
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "mail": last})
	})
}

func (s *Server) getMails(w http.ResponseWriter, r *http.Request) {
	s.locked(w, func(c *Client) { serve.JSON(w, http.StatusOK, append([]Mail{}, c.Mails()...)) })
}

func (s *Server) getBags(w http.ResponseWriter, r *http.Request) {
	s.locked(w, func(c *Client) {
		serve.JSON(w, http.StatusOK, map[string]any{"items": append([]Item{}, c.Items()...), "sizes": c.bagSizes})
	})
}

func (s *Server) setBags(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Items []Item `json:"items"`
		Sizes []int  `json:"sizes"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	s.locked(w, func(c *Client) {
		if err := c.SetBags(req.Items, req.Sizes); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true})
	})
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	s.locked(w, func(c *Client) {
		if err := c.Reload(); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true})
	})
}

// advance moves the fake clock ahead at once (up to ten minutes), e.g. to
// reach the addon's /who timeout without waiting for it.
func (s *Server) advance(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ms int64 `json:"ms"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	if req.Ms < 0 || req.Ms > 600_000 {
		writeError(w, http.StatusBadRequest, "ms must be between 0 and 600000")
		return
	}
	s.locked(w, func(c *Client) {
		c.Advance(time.Duration(req.Ms) * time.Millisecond)
		serve.JSON(w, http.StatusOK, map[string]any{"ok": true, "now": c.Now()})
	})
}

// state dumps everything a test or a curious developer may want to see.
func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	s.locked(w, func(c *Client) {
		serve.JSON(w, http.StatusOK, map[string]any{
			"now":                  c.Now(),
			"auto":                 s.cfg.Auto,
			"loggingChat":          c.LoggingChat(),
			"chatLogMode":          s.log.Mode().String(),
			"chatLogPending":       s.log.Pending(),
			"prints":               c.cfg.Prints.String(),
			"flushToggle":          c.cfg.FlushToggle.String(),
			"keys":                 c.cfg.Keys.String(),
			"selfWhisper":          c.cfg.SelfWhisper.String(),
			"chatBoxOpen":          c.ChatBoxOpen(),
			"chatBoxText":          c.chatText(),
			"input":                currentInput(c),
			"resolution":           c.cfg.Resolution,
			"streamerTyping":       c.StreamerTyping(),
			"trampledStreamerText": append([]string{}, c.TrampledStreamerText()...),
			"loading":              c.Loading(),
			"mailboxOpen":          c.MailboxOpen(),
			"money":                c.Money(),
			"roster":               currentRoster(c),
			"queue":                append([]QueueRow{}, c.QueueRows()...),
			"queuePanel":           c.Frame("MGMQueuePanel"),
			"prepareButton":        c.Frame("MGMQueuePrepareButton"),
			"sendButton":           c.Frame("SendMailMailButton"),
			"chatFrame":            append([]string{}, c.ChatLines()...),
			"whoQueries":           append([]string{}, c.WhoQueries()...),
			"whispers":             append([]Whisper{}, c.Whispers()...),
			"mails":                append([]Mail{}, c.Mails()...),
			"errors":               append([]LuaError{}, c.Errors()...),
			"blocked":              append([]string{}, c.Blocked()...),
			"uiErrors":             append([]string{}, c.UIErrors()...),
			"savedVariables":       c.SavedVariables(),
		})
	})
}
