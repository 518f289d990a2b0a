package wowsim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

// Main runs "mgm-sim wow": the WoW client simulator with the addon loaded,
// serving the /api/mock routes until ctx ends.
//
// Settings come from flags; the predecessor's MockSettings keys are accepted
// too, as WOWMOCK_MockSettings__<Key> environment variables or [--]MockSettings:<Key>=<value>
// arguments (ApiPort, LogFilePath, CommandProcessingDelayMs, AutoConfirmAccepts,
// EchoRunCommandsToChatLog), so its CI runner keeps working. ApiPort keeps the
// loopback host: the predecessor listened on all interfaces, which --listen
// :5001 still allows.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("mgm-sim wow", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:5001", "listen address")
	logPath := fs.String("log", "Logs/WoWChatLog.txt", "chat log file to write (WoWChatLog.txt)")
	addon := fs.String("addon", "addon/MimironsGoldOMatic", "addon folder (with its .toc)")
	savedVars := fs.String("saved-variables", "", "SavedVariables file to load at start and write at /reload and exit (default: memory only)")
	auto := fs.Bool("auto", false, "play the other side: winners answer !twgold, gift recipients !twgift, queued rows get mailed")
	autoDelay := fs.Duration("auto-delay", 2*time.Second, "how long a whispered player takes to answer in --auto mode")
	roster := fs.String("roster", "", "comma-separated names of online players (default with --auto: everyone is online)")
	allOnline := fs.Bool("all-online", false, "every name is online for /who and whispers")
	whoRoute := fs.String("who-route", "auto", "how /who answers arrive: auto (like 3.3.5a), ui, chat or drop")
	locale := fs.String("locale", "enUS", "client locale for the global strings: enUS or ruRU")
	player := fs.String("player", "Streamer", "the streamer's character name")
	delayMs := fs.Int("command-delay-ms", 100, "delay before an add-message /run line runs (CommandProcessingDelayMs)")
	latency := fs.Duration("latency", 200*time.Millisecond, "server round trip for /who and mail answers")
	logMode := fs.String("chat-log-mode", "exit", "when chat log lines reach the file: exit (only when the simulator stops, the pessimistic default), chunked or line (at once)")
	chunkBytes := fs.Int("chat-log-chunk-bytes", 4096, "with --chat-log-mode chunked: bytes buffered before a write")
	chunkDelay := fs.Duration("chat-log-chunk-delay", 0, "with --chat-log-mode chunked: also write once the oldest buffered line is this old (0: never)")
	prints := fs.String("prints", "not-logged", "whether addon prints reach the chat log: not-logged (default) or logged")
	flushToggle := fs.String("flush-toggle", "noop", "what LoggingChat(false) then LoggingChat(true) does to the buffered log: noop (default) or flushes")
	keys := fs.String("keys", "need-open-box", "posted lines: need-open-box (dropped unless POST /key Enter came first; default), open-box (run as typed) or ignored (every key dropped silently, as for an elevated WoW)")
	resolution := fs.String("resolution", DefaultResolution, "the client's screen size (gxResolution), for GET /api/mock/screen")
	uiScale := fs.Float64("ui-scale", 1, "UIParent's scale, 0.64 to 1")
	window := fs.String("window", "visible", "the WoW window: visible, covered (another window over the top-left 400x200 pixels) or minimised")
	streamerTyping := fs.Duration("streamer-typing", 0, "the streamer starts typing a chat line on average once per this much time, e.g. 30s (0: never)")
	streamerSeed := fs.Uint64("streamer-seed", 0, "seed for --streamer-typing's random choices (0: a new one each run)")
	selfWhisper := fs.String("self-whisper", "none", "whispers to the player's own character: none (the server answers nothing) or relayed (echoed and relayed back)")
	selfWhisperDelay := fs.Duration("self-whisper-delay", 200*time.Millisecond, "with --self-whisper relayed: how long the relay takes")

	var rest []string
	settings := map[string]string{}
	for _, key := range []string{"ApiPort", "LogFilePath", "CommandProcessingDelayMs", "AutoConfirmAccepts", "EchoRunCommandsToChatLog"} {
		if v := getenv("WOWMOCK_MockSettings__" + key); v != "" {
			settings[key] = v
		}
	}
	for _, a := range args {
		if k, v, ok := strings.Cut(strings.TrimPrefix(a, "--"), "="); ok && strings.HasPrefix(k, "MockSettings:") {
			settings[strings.TrimPrefix(k, "MockSettings:")] = v
			continue
		}
		rest = append(rest, a)
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if v, ok := settings["ApiPort"]; ok {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("MockSettings ApiPort %q: want 1-65535", v)
		}
		*listen = net.JoinHostPort("127.0.0.1", v)
	}
	if v, ok := settings["LogFilePath"]; ok {
		*logPath = v
	}
	if v, ok := settings["CommandProcessingDelayMs"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("MockSettings CommandProcessingDelayMs %q: %w", v, err)
		}
		*delayMs = max(0, n)
	}
	route, err := ParseWhoRoute(*whoRoute)
	if err != nil {
		return err
	}
	lm, err := ParseLogWriteMode(*logMode)
	if err != nil {
		return err
	}
	pm, err := ParsePrintMode(*prints)
	if err != nil {
		return err
	}
	ft, err := ParseFlushToggleMode(*flushToggle)
	if err != nil {
		return err
	}
	km, err := ParseKeyMode(*keys)
	if err != nil {
		return err
	}
	ws, err := ParseWindowState(*window)
	if err != nil {
		return err
	}
	if _, _, err := ParseResolution(*resolution); err != nil {
		return err
	}
	if *streamerSeed == 0 {
		*streamerSeed = uint64(time.Now().UnixNano())
	}
	sw, err := ParseSelfWhisperMode(*selfWhisper)
	if err != nil {
		return err
	}
	var players []Player
	for _, n := range strings.Split(*roster, ",") {
		if n = strings.TrimSpace(n); n != "" {
			players = append(players, Player{Name: n})
		}
	}
	everyone := *allOnline || (*auto && len(players) == 0)

	srv, err := NewServer(ServerConfig{
		Client: Config{
			AddonDir:    *addon,
			PlayerName:  *player,
			Locale:      *locale,
			Latency:     *latency,
			Prints:      pm,
			FlushToggle: ft,
			Keys:        km,

			Resolution:       *resolution,
			UIScale:          *uiScale,
			Window:           ws,
			StreamerTyping:   *streamerTyping,
			StreamerSeed:     *streamerSeed,
			SelfWhisper:      sw,
			SelfWhisperDelay: *selfWhisperDelay,
		},
		LogPath:            *logPath,
		ChatLog:            ChatLogOptions{Mode: lm, ChunkBytes: *chunkBytes, ChunkDelay: *chunkDelay},
		SavedVariablesPath: *savedVars,
		Auto:               *auto,
		AutoReplyDelay:     *autoDelay,
		CommandDelay:       time.Duration(*delayMs) * time.Millisecond,
		Roster:             players,
		AllOnline:          everyone,
		WhoRoute:           route,
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.Close()) }() // writes the SavedVariables, as logging out would
	srv.autoConfirm = parseBool(settings["AutoConfirmAccepts"])
	srv.echo = parseBool(settings["EchoRunCommandsToChatLog"])

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go srv.Run(ctx)

	mode := "off"
	if *auto {
		mode = "on"
	}
	fmt.Fprintf(stdout, "mgm-sim wow: listening on http://%s (chat log %s, addon %s, auto %s)\n", ln.Addr(), srv.LogPath(), *addon, mode)

	return serve.Until(ctx, hs, ln, 5*time.Second)
}

func parseBool(s string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(s))
	return b
}
