package wowsim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// WhoRoute chooses how the simulated server delivers /who answers.
type WhoRoute string

const (
	// WhoRouteAuto behaves like 3.3.5a: WHO_LIST_UPDATE when who-to-UI is 1
	// or there are more than three results, CHAT_MSG_SYSTEM lines otherwise.
	WhoRouteAuto WhoRoute = "auto"
	// WhoRouteUI always answers with WHO_LIST_UPDATE.
	WhoRouteUI WhoRoute = "ui"
	// WhoRouteChat always answers with CHAT_MSG_SYSTEM lines.
	WhoRouteChat WhoRoute = "chat"
	// WhoRouteDrop never answers, like a server that dropped the query.
	WhoRouteDrop WhoRoute = "drop"
)

// ParseWhoRoute accepts the names above.
func ParseWhoRoute(s string) (WhoRoute, error) {
	switch r := WhoRoute(strings.ToLower(strings.TrimSpace(s))); r {
	case WhoRouteAuto, WhoRouteUI, WhoRouteChat, WhoRouteDrop:
		return r, nil
	}
	return "", fmt.Errorf("unknown who route %q (want auto, ui, chat or drop)", s)
}

// SelfWhisperMode is what the server does with a whisper the player sends to
// their own character (the bridge's log-whisper route). Nobody has measured
// it on the real server (issue 13), so the zero value is the pessimistic one.
type SelfWhisperMode int

const (
	// SelfWhisperNone: the server answers nothing, neither the echo
	// (CHAT_MSG_WHISPER_INFORM) nor the whisper itself; nothing is logged.
	SelfWhisperNone SelfWhisperMode = iota
	// SelfWhisperRelayed: after Config.SelfWhisperDelay the server echoes the
	// whisper (CHAT_MSG_WHISPER_INFORM, "To [Name]: text") and relays it back
	// (CHAT_MSG_WHISPER from the player, "[Name] whispers: text").
	SelfWhisperRelayed
)

func (m SelfWhisperMode) String() string {
	switch m {
	case SelfWhisperNone:
		return "none"
	case SelfWhisperRelayed:
		return "relayed"
	}
	return fmt.Sprintf("SelfWhisperMode(%d)", int(m))
}

// ParseSelfWhisperMode reads "none" or "relayed".
func ParseSelfWhisperMode(s string) (SelfWhisperMode, error) {
	for _, m := range []SelfWhisperMode{SelfWhisperNone, SelfWhisperRelayed} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("self whisper mode %q: want none or relayed", s)
}

// Player is another character in the simulated world, as /who reports it.
type Player struct {
	Name  string `json:"name"`
	Level int    `json:"level,omitempty"`
	Race  string `json:"race,omitempty"`
	Class string `json:"class,omitempty"`
	Zone  string `json:"zone,omitempty"`
	Guild string `json:"guild,omitempty"`
}

// Item is a stack in the streamer's bags.
type Item struct {
	Bag          int    `json:"bag"`
	Slot         int    `json:"slot"`
	ID           int    `json:"id"`
	Name         string `json:"name"`
	Count        int    `json:"count,omitempty"`
	Quality      int    `json:"quality,omitempty"`
	Texture      string `json:"texture,omitempty"`
	Soulbound    bool   `json:"soulbound,omitempty"`
	Quest        bool   `json:"quest,omitempty"`
	Conjured     bool   `json:"conjured,omitempty"`
	AccountBound bool   `json:"accountBound,omitempty"`
}

// Whisper is a whisper the streamer's client sent.
type Whisper struct {
	To   string    `json:"to"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Mail is a mail the client handed to the server with SendMail.
type Mail struct {
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	Copper  int64     `json:"copper"`
	COD     int64     `json:"cod"`
	At      time.Time `json:"at"`
	Result  string    `json:"result"`          // "pending", "sent" or "failed: <reason>"
	Items   []Item    `json:"items,omitempty"` // attached stacks, as they were in the bags
}

// LuaError is an error raised by Lua code, as the client's error frame would show it.
type LuaError struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

func (e LuaError) String() string { return e.Message }

// QueueRow is one row of the addon's mail queue, read from its SavedVariables.
type QueueRow struct {
	PayoutID      string `json:"payoutId"`
	CharacterName string `json:"characterName"`
	Copper        int64  `json:"copper"`
	State         string `json:"state"`
}

// Config sets up a Client. Zero values get the defaults noted.
type Config struct {
	// AddonDir is the addon folder holding <name>.toc (required).
	AddonDir string
	// SavedVariables is the addon's saved variables file content (Lua source,
	// as the client writes it under WTF), loaded at login; empty for none.
	SavedVariables string
	// PlayerName and Realm of the streamer's character ("Streamer", "Icecrown").
	PlayerName, Realm string
	// Locale selects the global strings: "enUS" (default) or "ruRU".
	Locale string
	// Start is the fake clock's start time (default: now).
	Start time.Time
	// Location is the client's local time zone, for date() and the chat log
	// timestamps (default time.Local).
	Location *time.Location
	// FrameInterval is the simulated frame time: OnUpdate runs once per
	// interval while Advance moves the clock (default 50 ms).
	FrameInterval time.Duration
	// Latency is the server round trip for /who and mail answers (default 200 ms).
	Latency time.Duration
	// ChatLog receives the chat frame's lines while chat logging is on (may be nil).
	ChatLog *ChatLog
	// ExposeGetWhoToUI adds a GetWhoToUI() getter. 3.3.5a is not known to
	// have one, so it is off by default; the addon must cope either way.
	ExposeGetWhoToUI bool
	// Money is the character's copper (default 50,000 gold).
	Money int64
	// WhoThrottle drops a /who sent sooner than this after the previous one,
	// as the server silently does (default 0: never dropped).
	WhoThrottle time.Duration
	// LoggingChat starts the client with chat logging already on.
	LoggingChat bool
	// Prints says whether addon prints reach the chat log (default: they do
	// not).
	Prints PrintMode
	// FlushToggle says whether LoggingChat(false) then LoggingChat(true)
	// writes the chat log's pending lines (default: it does not).
	FlushToggle FlushToggleMode
	// Keys says whether a posted line needs the chat box opened first
	// (default: it does), or whether the injector's keys reach the client at
	// all (KeysIgnored).
	Keys KeyMode

	// Resolution is the client's gxResolution, the size of the virtual
	// screen in pixels (default "1280x720").
	Resolution string
	// UIScale is UIParent's scale, 0.64–1 (default 1).
	UIScale float64
	// Window is the WoW window's state at start (default: visible).
	Window WindowState
	// StreamerTyping makes the simulated streamer start typing a chat line
	// now and then: on average once per this much client time (0: never).
	StreamerTyping time.Duration
	// StreamerSeed seeds the streamer's random choices.
	StreamerSeed uint64
	// SelfWhisper says whether the server relays a whisper to the player's
	// own character (default: it does not); SelfWhisperDelay is how long the
	// relay takes on the client's clock (default: Latency).
	SelfWhisper      SelfWhisperMode
	SelfWhisperDelay time.Duration
}

type task struct {
	at  time.Time
	seq int
	fn  func()
}

// Client is one simulated WoW client with the addon loaded. It is not safe for
// concurrent use; the HTTP server serialises access with a mutex.
type Client struct {
	cfg      Config
	toc      TOC
	addon    string // addon folder name, as ADDON_LOADED reports it
	gs       map[string]string
	start    time.Time
	now      time.Time
	vm       *vm
	tasks    []task
	taskSeq  int
	reloadUI bool
	loggedIn bool

	// The world and the character.
	roster          []Player
	allOnline       bool
	whoRoute        WhoRoute
	whoToUI         int
	whoList         []Player
	lastWho         time.Time
	whoQueries      []string
	loggingChat     bool
	mailboxOpen     bool
	money           int64
	sendMoney       int64
	sendCOD         int64
	nextMailFailure string
	mails           []Mail
	cursor          *slotRef                 // the bag item on the cursor
	attachments     [attachmentsMax]*slotRef // the Send Mail form's attachment slots
	bagSizes        [5]int
	items           []Item
	whisperCounter  int
	loadingUntil    time.Time
	chatEvent       int  // >0 while the chat frame shows a chat event
	desk            desk // the window, the screen and the keyboard (input.go, screen.go)

	// What happened, for tests and the state dump.
	whispers  []Whisper
	chatLines []string
	errs      []LuaError
	blocked   []string
	uiErrors  []string
	saved     string // the SavedVariables as last written

	// OnWhisperSent, when set, is called after the client whispered an online
	// player (the --auto mode answers from here).
	OnWhisperSent func(Whisper)
	// OnSavedVariables, when set, receives the SavedVariables file content
	// each time the client writes it (at /reload).
	OnSavedVariables func(string)
}

// New loads the addon into a fresh client and logs in (ADDON_LOADED,
// PLAYER_LOGIN, PLAYER_ENTERING_WORLD, VARIABLES_LOADED).
func New(cfg Config) (*Client, error) {
	if cfg.AddonDir == "" {
		return nil, errors.New("wowsim: Config.AddonDir is required")
	}
	if cfg.PlayerName == "" {
		cfg.PlayerName = "Streamer"
	}
	if cfg.Realm == "" {
		cfg.Realm = "Icecrown"
	}
	if cfg.Locale == "" {
		cfg.Locale = "enUS"
	}
	strs, ok := globalStrings[cfg.Locale]
	if !ok {
		return nil, fmt.Errorf("wowsim: unknown locale %q (want enUS or ruRU)", cfg.Locale)
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now()
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.FrameInterval <= 0 {
		cfg.FrameInterval = 50 * time.Millisecond
	}
	if cfg.Latency <= 0 {
		cfg.Latency = 200 * time.Millisecond
	}
	if cfg.SelfWhisperDelay <= 0 {
		cfg.SelfWhisperDelay = cfg.Latency
	}
	if cfg.Money == 0 {
		cfg.Money = 50000 * 10000
	}
	toc, err := ReadTOC(cfg.AddonDir)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:         cfg,
		toc:         toc,
		addon:       filepath.Base(filepath.Clean(cfg.AddonDir)),
		gs:          strs,
		start:       cfg.Start,
		now:         cfg.Start,
		whoRoute:    WhoRouteAuto,
		money:       cfg.Money,
		bagSizes:    [5]int{16, 16, 16, 16, 16},
		saved:       cfg.SavedVariables,
		loggingChat: cfg.LoggingChat,
	}
	if err := c.initDesk(); err != nil {
		return nil, fmt.Errorf("wowsim: %w", err)
	}
	if err := c.boot(); err != nil {
		return nil, err
	}
	return c, nil
}

// boot starts a fresh VM, loads the addon and the saved variables and fires
// the login events, as the client does at login and after /reload.
func (c *Client) boot() error {
	v, err := newVM(c)
	if err != nil {
		return err
	}
	c.vm = v
	c.loggedIn = false
	for _, f := range c.toc.Files {
		path := filepath.Join(c.cfg.AddonDir, filepath.FromSlash(f))
		src, err := os.ReadFile(path)
		if err != nil {
			// The client skips a missing file and reports it; so do we.
			c.recordError(fmt.Sprintf("Couldn't open %s", f))
			continue
		}
		c.runChunk(string(src), `Interface\AddOns\`+c.addon+`\`+strings.ReplaceAll(f, "/", `\`))
	}
	c.restoreSavedVariables()
	c.Fire("ADDON_LOADED", lua.LString(c.addon))
	c.loggedIn = true
	c.Fire("PLAYER_LOGIN")
	c.Fire("PLAYER_ENTERING_WORLD")
	c.Fire("VARIABLES_LOADED")
	return nil
}

// Close releases the VM.
func (c *Client) Close() {
	if c.vm != nil {
		c.vm.L.Close()
		c.vm = nil
	}
}

// Reload is /reload: the SavedVariables are written, the addon files run again
// in a fresh VM and get the variables back. The world (mailbox server state
// aside: the mailbox closes) and answers still in flight are kept.
func (c *Client) Reload() error {
	c.reloadUI = false
	c.saved = c.SavedVariables()
	if c.OnSavedVariables != nil {
		c.OnSavedVariables(c.saved)
	}
	c.vm.L.Close()
	c.vm = nil
	c.mailboxOpen = false
	c.sendMoney, c.sendCOD = 0, 0
	c.attachments, c.cursor = [attachmentsMax]*slotRef{}, nil
	return c.boot()
}

// SavedVariables serializes the addon's saved variables as the client writes
// them to WTF\Account\…\SavedVariables\<addon>.lua.
func (c *Client) SavedVariables() string {
	if c.vm == nil {
		return c.saved
	}
	return serializeSavedVariables(c.vm.L, c.toc.SavedVariables)
}

func (c *Client) restoreSavedVariables() {
	if strings.TrimSpace(c.saved) == "" {
		return
	}
	L := c.vm.L
	fn, err := L.Load(strings.NewReader(c.saved), "SavedVariables\\"+c.addon+".lua")
	if err != nil {
		c.recordError("SavedVariables: " + err.Error())
		return
	}
	// Run the file in its own environment and copy only the declared names,
	// like the client, which ignores anything else in the file.
	env := L.NewTable()
	L.SetFEnv(fn, env)
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
		c.recordError("SavedVariables: " + err.Error())
		return
	}
	for _, name := range c.toc.SavedVariables {
		if v := env.RawGetString(name); v != lua.LNil {
			L.SetGlobal(name, v)
		}
	}
}

// Now is the fake clock.
func (c *Client) Now() time.Time { return c.now }

// GetTime is what the Lua GetTime() returns: seconds since the client started,
// plus a constant so it does not look like a fresh boot.
func (c *Client) getTime() float64 {
	return 1000 + c.now.Sub(c.start).Seconds()
}

// After schedules fn to run when the fake clock reaches now+d.
func (c *Client) After(d time.Duration, fn func()) {
	c.taskSeq++
	t := task{at: c.now.Add(d), seq: c.taskSeq, fn: fn}
	i := sort.Search(len(c.tasks), func(i int) bool {
		a := c.tasks[i]
		return a.at.After(t.at) || (a.at.Equal(t.at) && a.seq > t.seq)
	})
	c.tasks = append(c.tasks, task{})
	copy(c.tasks[i+1:], c.tasks[i:])
	c.tasks[i] = t
}

func (c *Client) runDue() {
	for len(c.tasks) > 0 && !c.tasks[0].at.After(c.now) {
		t := c.tasks[0]
		c.tasks = c.tasks[1:]
		t.fn()
		c.settle()
	}
}

// settle performs a ReloadUI() requested by Lua code once that code returned.
func (c *Client) settle() {
	if c.reloadUI {
		if err := c.Reload(); err != nil {
			c.recordError("reload: " + err.Error())
		}
	}
}

// Advance moves the fake clock by d, one frame at a time: due server answers
// and scheduled actions run, then every visible frame's OnUpdate.
func (c *Client) Advance(d time.Duration) {
	target := c.now.Add(d)
	c.runDue()
	for c.now.Before(target) {
		step := c.cfg.FrameInterval
		if rem := target.Sub(c.now); rem < step {
			step = rem
		}
		c.now = c.now.Add(step)
		c.runDue()
		c.vm.onUpdate(step.Seconds())
		c.settle()
		if c.cfg.ChatLog != nil {
			if err := c.cfg.ChatLog.Tick(c.now.In(c.cfg.Location)); err != nil {
				c.recordError("chat log: " + err.Error())
			}
		}
	}
}

// Fire delivers a game event to every frame registered for it, in
// registration order.
func (c *Client) Fire(event string, args ...lua.LValue) {
	c.vm.fire(event, args...)
	c.settle()
}

func (c *Client) recordError(msg string) {
	c.errs = append(c.errs, LuaError{At: c.now, Message: msg})
}

// Errors returns the Lua errors caught so far.
func (c *Client) Errors() []LuaError { return append([]LuaError(nil), c.errs...) }

// ClearErrors forgets the caught errors.
func (c *Client) ClearErrors() { c.errs = nil }

// Blocked lists the protected calls that were blocked ("RunMacroText()").
func (c *Client) Blocked() []string { return append([]string(nil), c.blocked...) }

// UIErrors lists the red error texts the client showed (UIErrorsFrame).
func (c *Client) UIErrors() []string { return append([]string(nil), c.uiErrors...) }

// Whispers lists the whispers the client sent, oldest first.
func (c *Client) Whispers() []Whisper { return append([]Whisper(nil), c.whispers...) }

// Mails lists the mails handed to the server.
func (c *Client) Mails() []Mail { return append([]Mail(nil), c.mails...) }

// ChatLines lists every line the chat frame printed (logged or not).
func (c *Client) ChatLines() []string { return append([]string(nil), c.chatLines...) }

// WhoQueries lists the filters passed to SendWho.
func (c *Client) WhoQueries() []string { return append([]string(nil), c.whoQueries...) }

// WhoToUI is the current who-to-UI setting.
func (c *Client) WhoToUI() int { return c.whoToUI }

// LoggingChat reports whether chat logging is on.
func (c *Client) LoggingChat() bool { return c.loggingChat }

// MailboxOpen reports whether the character is at an open mailbox.
func (c *Client) MailboxOpen() bool { return c.mailboxOpen }

// Money is the character's copper.
func (c *Client) Money() int64 { return c.money }

// SetRoster replaces the online players; allOnline makes every name online.
func (c *Client) SetRoster(players []Player, allOnline bool) {
	c.roster = append([]Player(nil), players...)
	c.allOnline = allOnline
}

// Roster returns the online players and the all-online switch.
func (c *Client) Roster() ([]Player, bool) { return append([]Player(nil), c.roster...), c.allOnline }

// SetWhoRoute chooses how /who answers are delivered.
func (c *Client) SetWhoRoute(r WhoRoute) { c.whoRoute = r }

// WhoRoute returns the current /who delivery route.
func (c *Client) WhoRoute() WhoRoute { return c.whoRoute }

// SetBags replaces the bag contents; sizes (may be nil) sets the slot count of
// bags 0–4.
func (c *Client) SetBags(items []Item, sizes []int) error {
	var bs [5]int
	copy(bs[:], c.bagSizes[:])
	for i, n := range sizes {
		if i >= len(bs) {
			return fmt.Errorf("bag sizes: only bags 0-4 exist")
		}
		if n < 0 || n > 36 {
			return fmt.Errorf("bag %d: size %d out of range 0-36", i, n)
		}
		bs[i] = n
	}
	seen := map[[2]int]bool{}
	for _, it := range items {
		if it.Bag < 0 || it.Bag > 4 || it.Slot < 1 || it.Slot > bs[it.Bag] {
			return fmt.Errorf("item %q: bag %d slot %d does not exist", it.Name, it.Bag, it.Slot)
		}
		if seen[[2]int{it.Bag, it.Slot}] {
			return fmt.Errorf("bag %d slot %d holds two items", it.Bag, it.Slot)
		}
		seen[[2]int{it.Bag, it.Slot}] = true
		if it.ID <= 0 || it.Name == "" {
			return fmt.Errorf("item in bag %d slot %d needs an id and a name", it.Bag, it.Slot)
		}
	}
	c.bagSizes = bs
	c.items = append([]Item(nil), items...)
	return nil
}

// adoptWorld copies the simulated world (who is online, how /who answers,
// the bags, the money) from another client, for a reset that keeps it.
func (c *Client) adoptWorld(o *Client) {
	c.roster = append([]Player(nil), o.roster...)
	c.allOnline = o.allOnline
	c.whoRoute = o.whoRoute
	c.bagSizes = o.bagSizes
	c.items = append([]Item(nil), o.items...)
	c.money = o.money
}

// Items returns the bag contents.
func (c *Client) Items() []Item { return append([]Item(nil), c.items...) }

func (c *Client) isOnline(name string) bool {
	if c.allOnline {
		return true
	}
	short := shortName(name)
	for _, p := range c.roster {
		if strings.EqualFold(p.Name, short) {
			return true
		}
	}
	return false
}

func fillPlayer(p Player) Player {
	if p.Level == 0 {
		p.Level = 80
	}
	if p.Race == "" {
		p.Race = "Human"
	}
	if p.Class == "" {
		p.Class = "Warrior"
	}
	if p.Zone == "" {
		p.Zone = "Dalaran"
	}
	return p
}

func shortName(name string) string {
	name = strings.TrimSpace(name)
	if i := strings.IndexByte(name, '-'); i > 0 {
		return name[:i]
	}
	return name
}

// SelfWhisper is the server's handling of whispers to one's own character.
func (c *Client) SelfWhisper() SelfWhisperMode { return c.cfg.SelfWhisper }

// ReceiveWhisper is another player whispering the streamer: CHAT_MSG_WHISPER
// with the sender as given ("Name" or "Name-Realm").
func (c *Client) ReceiveWhisper(from, text string) {
	c.Fire("CHAT_MSG_WHISPER", c.whisperArgs(from, text)...)
}

// whisperArgs are CHAT_MSG_WHISPER's arguments for a whisper from from.
func (c *Client) whisperArgs(from, text string) []lua.LValue {
	c.whisperCounter++
	return []lua.LValue{lua.LString(text), lua.LString(from), lua.LString(""), lua.LString(""),
		lua.LString(c.cfg.PlayerName), lua.LString(""), lua.LNumber(0), lua.LNumber(0), lua.LString(""),
		lua.LNumber(0), lua.LNumber(c.whisperCounter), lua.LString("")}
}

// OpenMailbox is the streamer right-clicking a mailbox: MAIL_SHOW.
func (c *Client) OpenMailbox() {
	if c.mailboxOpen {
		return
	}
	c.mailboxOpen = true
	c.Fire("MAIL_SHOW")
}

// CloseMailbox is the streamer walking away or closing the mail frame: MAIL_CLOSED.
func (c *Client) CloseMailbox() {
	c.closeMail()
	c.settle()
}

func (c *Client) closeMail() {
	if !c.mailboxOpen {
		return
	}
	c.mailboxOpen = false
	c.sendMoney, c.sendCOD = 0, 0
	c.attachments = [attachmentsMax]*slotRef{} // attached items stay in the bags
	c.vm.fire("MAIL_CLOSED")
}

// FailNextMail makes the server refuse the next SendMail with MAIL_FAILED.
func (c *Client) FailNextMail(reason string) {
	if reason == "" {
		reason = "mail failed"
	}
	c.nextMailFailure = reason
}

// ComposeMail is the streamer filling the Send Mail form by hand (switching to
// the Send Mail tab first). It does not send.
func (c *Client) ComposeMail(to, subject string, copper int64) error {
	if !c.mailboxOpen {
		return errors.New("the mailbox is not open")
	}
	code := fmt.Sprintf(`MailFrameTab_OnClick(nil, 2)
SendMailNameEditBox:SetText(%s)
SendMailSubjectEditBox:SetText(%s)
MoneyInputFrame_SetCopper(SendMailMoney, %d)`, luaQuote(to), luaQuote(subject), copper)
	return c.blizzard(code)
}

// blizzard runs simulator-side Lua (standing in for the player using the
// default UI); errors here are simulator bugs and are returned.
func (c *Client) blizzard(code string) error {
	L := c.vm.L
	fn, err := L.LoadString(code)
	if err != nil {
		return err
	}
	err = L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true})
	c.settle()
	return err
}

// Click errors.
var (
	ErrNoSuchButton   = errors.New("no such button")
	ErrButtonHidden   = errors.New("the button is not visible")
	ErrButtonDisabled = errors.New("the button is disabled")
)

// ClickButton is the streamer clicking a named button with the mouse: it must
// exist, be visible and be enabled (a disabled button ignores clicks).
func (c *Client) ClickButton(name string) error {
	w := c.vm.named[name]
	if w == nil || (w.kind != "Button" && w.kind != "CheckButton") {
		return fmt.Errorf("%w: %s", ErrNoSuchButton, name)
	}
	if !w.visible() {
		return fmt.Errorf("%w: %s", ErrButtonHidden, name)
	}
	if !w.enabled {
		return fmt.Errorf("%w: %s", ErrButtonDisabled, name)
	}
	c.vm.click(w, "LeftButton")
	c.settle()
	return nil
}

// FrameState describes a named frame for tests and the state dump.
type FrameState struct {
	Exists  bool   `json:"exists"`
	Shown   bool   `json:"shown"`
	Visible bool   `json:"visible"`
	Enabled bool   `json:"enabled"`
	Text    string `json:"text"`
}

// Frame returns the state of the named frame or font string.
func (c *Client) Frame(name string) FrameState {
	w := c.vm.named[name]
	if w == nil {
		return FrameState{}
	}
	return FrameState{Exists: true, Shown: w.shown, Visible: w.visible(), Enabled: w.enabled, Text: w.text}
}

// TypeResult says what the chat box did with a typed line.
type TypeResult struct {
	// Line is what the edit box kept (at most 255 characters).
	Line string `json:"line"`
	// Truncated is set when the typed text was longer than the edit box allows.
	Truncated bool `json:"truncated"`
	// Error is the Lua error a /run line raised, if any.
	Error string `json:"error,omitempty"`
	// Dropped says why the client ignored the keys (nothing ran), if it did.
	Dropped string `json:"dropped,omitempty"`
}

// Why posted keys are dropped (TypeResult.Dropped).
const (
	DroppedLoadingScreen = "loading screen"
	DroppedChatBoxClosed = "chat box closed"
)

// OpenChatBox is the real Enter key with the chat box closed: the box opens
// for the next line. It reports false during a loading screen, and with
// KeysIgnored, where the key never reaches the client.
func (c *Client) OpenChatBox() bool {
	if c.cfg.Keys == KeysIgnored {
		return false
	}
	c.touchInput()
	if c.Loading() {
		return false
	}
	if !c.ChatBoxOpen() {
		c.openChat()
	}
	return true
}

// StartLoadingScreen shows a loading screen for d: every key is swallowed
// until it ends with PLAYER_ENTERING_WORLD, as a zone change does.
func (c *Client) StartLoadingScreen(d time.Duration) {
	c.closeChat()
	c.loadingUntil = c.now.Add(d)
	c.After(d, func() { c.Fire("PLAYER_ENTERING_WORLD") })
}

// Loading reports whether a loading screen is showing.
func (c *Client) Loading() bool { return c.now.Before(c.loadingUntil) }

// Post is the injector's keys: the characters of line, then Enter, posted
// to the window. With Config.Keys KeysNeedOpenBox they are dropped unless
// OpenChatBox came first; a loading screen drops them in every mode.
func (c *Client) Post(line string) TypeResult {
	if c.cfg.Keys == KeysIgnored {
		return TypeResult{} // blocked before WoW: no trace, no input
	}
	c.touchInput()
	switch {
	case c.Loading():
		return TypeResult{Dropped: DroppedLoadingScreen}
	case c.cfg.Keys == KeysNeedOpenBox && !c.ChatBoxOpen():
		return TypeResult{Dropped: DroppedChatBoxClosed}
	}
	return c.typeAndSend(line, true)
}

// MaxChatLetters is the chat edit box's letters="255" in 3.3.5 FrameXML.
const MaxChatLetters = 255

// Type is the streamer (or the Desktop's key injection) typing a line into
// the chat edit box and pressing Enter. The edit box keeps at most 255
// characters — extra keystrokes are ignored, so a longer /run line is cut and
// usually fails to compile. Slash commands run like the client's
// ChatEdit_ParseText: /run and /script, /reload (and /console reloadui), /who,
// /chatlog, and any SlashCmdList entry; other text is said in /say.
func (c *Client) Type(line string) TypeResult {
	c.touchInput()
	if c.Loading() {
		return TypeResult{Dropped: DroppedLoadingScreen}
	}
	return c.typeAndSend(line, false)
}

// runChatLine is ChatEdit_ParseText: the chat box sent line.
func (c *Client) runChatLine(line string) TypeResult {
	res := TypeResult{}
	if utf8.RuneCountInString(line) > MaxChatLetters {
		line = truncateRunes(line, MaxChatLetters)
		res.Truncated = true
	}
	res.Line = line
	defer c.settle()
	text := strings.TrimSpace(line)
	if text == "" {
		return res
	}
	if !strings.HasPrefix(text, "/") {
		c.vm.callGlobal("SendChatMessage", lua.LString(text), lua.LString("SAY"))
		return res
	}
	cmd, rest, _ := strings.Cut(text, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(cmd) {
	case "/run", "/script":
		if err := c.vm.runScript(rest); err != nil {
			res.Error = err.Error()
		}
	case "/reload":
		c.reloadUI = true
	case "/console":
		if strings.EqualFold(rest, "reloadui") {
			c.reloadUI = true
		}
	case "/who":
		c.sendWho(rest)
	case "/chatlog":
		c.setLoggingChat(!c.loggingChat)
		if c.loggingChat {
			c.systemMessage(c.gs["CHATLOGENABLED"])
		} else {
			c.systemMessage(c.gs["CHATLOGDISABLED"])
		}
	default:
		if !c.vm.slashCommand(cmd, rest) {
			c.systemMessage(c.gs["HELP_TEXT_SIMPLE"])
		}
	}
	return res
}

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// systemMessage is a server system message: CHAT_MSG_SYSTEM.
func (c *Client) systemMessage(text string) {
	c.vm.fire("CHAT_MSG_SYSTEM", lua.LString(text))
}

// setLoggingChat switches chat logging; switching it back on writes the
// chat log's pending lines when Config.FlushToggle says the toggle flushes.
func (c *Client) setLoggingChat(on bool) {
	was := c.loggingChat
	c.loggingChat = on
	if !was && on && c.cfg.FlushToggle == ToggleFlushes && c.cfg.ChatLog != nil {
		if err := c.cfg.ChatLog.Flush(); err != nil {
			c.recordError("chat log: " + err.Error())
		}
	}
}

// printed is called for every line the chat frame shows.
func (c *Client) printed(text string) {
	c.chatLines = append(c.chatLines, text)
	if c.cfg.Prints == PrintsNotLogged && c.chatEvent == 0 {
		return
	}
	if c.loggingChat && c.cfg.ChatLog != nil {
		if err := c.cfg.ChatLog.Append(c.now.In(c.cfg.Location), text); err != nil {
			c.recordError("chat log: " + err.Error())
		}
	}
}

// QueueRows reads the addon's mail queue from its saved table.
func (c *Client) QueueRows() []QueueRow {
	db, ok := c.vm.L.GetGlobal("MimironsGoldOMaticDB").(*lua.LTable)
	if !ok {
		return nil
	}
	q, ok := db.RawGetString("queue").(*lua.LTable)
	if !ok {
		return nil
	}
	var rows []QueueRow
	for i := 1; i <= q.Len(); i++ {
		r, ok := q.RawGetInt(i).(*lua.LTable)
		if !ok {
			continue
		}
		row := QueueRow{
			PayoutID:      lua.LVAsString(r.RawGetString("payoutId")),
			CharacterName: lua.LVAsString(r.RawGetString("characterName")),
			State:         lua.LVAsString(r.RawGetString("state")),
		}
		if n, ok := r.RawGetString("copper").(lua.LNumber); ok {
			row.Copper = int64(n)
		}
		rows = append(rows, row)
	}
	return rows
}

// Eval runs Lua code in the client (as /run would, without the chat box's
// length limit) and returns its results.
func (c *Client) Eval(code string) ([]lua.LValue, error) {
	L := c.vm.L
	fn, err := L.LoadString(code)
	if err != nil {
		return nil, err
	}
	top := L.GetTop()
	if err := L.CallByParam(lua.P{Fn: fn, NRet: lua.MultRet, Protect: true}); err != nil {
		return nil, err
	}
	n := L.GetTop() - top
	out := make([]lua.LValue, n)
	for i := 0; i < n; i++ {
		out[i] = L.Get(top + 1 + i)
	}
	L.Pop(n)
	c.settle()
	return out, nil
}

// luaQuote renders s as a Lua string literal.
func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' || ch == '"':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch == '\n':
			b.WriteString(`\n`)
		case ch == '\r':
			b.WriteString(`\r`)
		case ch < 0x20 || ch == 0x7f:
			fmt.Fprintf(&b, `\%03d`, ch)
		default:
			b.WriteByte(ch)
		}
	}
	b.WriteByte('"')
	return b.String()
}
