// Package config turns mgm-ebs's environment variables and command-line
// arguments into a validated Config.
//
// Keys keep the names of the ASP.NET predecessor (Section__Key as environment
// variables, Section:Key on the command line) so that existing scripts and
// deployments keep working unchanged. Every problem is collected and reported
// at once, one per line, because an operator fixing a deployment should not
// have to restart once per mistake. Secret values never appear in errors or in
// Redacted, not even in part.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config/option"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// Environment is the deployment mode.
type Environment string

const (
	Development Environment = "Development"
	Production  Environment = "Production"
)

// Config is the validated configuration of one mgm-ebs process.
type Config struct {
	Environment Environment
	// Listen is a host:port for net.Listen; an empty host means all interfaces.
	Listen string
	// TLS is built-in HTTPS; with it Listen is TLS.Listen.
	TLS     TLS
	DataDir string
	// PostgresDSN is empty for SQLite; otherwise a postgres:// URL or a libpq
	// keyword/value string, both accepted by pgx as they are.
	PostgresDSN            string
	APIKeys                []string
	DevSkipSubscriberCheck bool
	// EnableE2eHarness is always false in Production.
	EnableE2eHarness bool
	SpinInterval     time.Duration
	// JobAttemptTimeout bounds one attempt of a durable job; JobRescueAfter
	// (0 = the queue's default) is how long a running job may go before it
	// is taken over as dead. Both differ from their defaults only in
	// Development.
	JobAttemptTimeout time.Duration
	JobRescueAfter    time.Duration
	CorsOrigins       []string
	RateLimits        RateLimits
	Controls          Controls
	// ExtensionSecret is the decoded HMAC key; empty means "not configured"
	// (in Development the caller falls back to the development key).
	ExtensionSecret   []byte
	ExtensionClientID string
	// ExtensionOwnerID is the Twitch user id of the extension's owner, the
	// user_id of the EBS's Extension PubSub tokens ("" = no push).
	ExtensionOwnerID string
	ValidateAudience bool
	EventSubSecret   string
	// HelixAPIBaseURL is the root without a trailing slash; callers append
	// "/helix/...".
	HelixAPIBaseURL        string
	HelixClientID          string
	BroadcasterAccessToken string
	BroadcasterUserID      string
	// EventSubTransport is EventSubWebhook or EventSubWebSocket.
	EventSubTransport    string
	EventSubWebSocketURL string
	// EventSubLeaseTTL is how long the replica holding the EventSub
	// WebSocket keeps its lease without renewing it, hence how soon another
	// replica takes over from a dead one. It differs from
	// DefaultEventSubLeaseTTL only in Development.
	EventSubLeaseTTL time.Duration
	// PublicURL is the https base Twitch reaches (no trailing slash); ""
	// when not set.
	PublicURL string
	// ClientSecret is the Twitch application's secret (HelixClientID's).
	ClientSecret string
	// AuthBaseURL is Twitch's OAuth root without a trailing slash.
	AuthBaseURL string
	// TokenEncryptionKey (32 bytes) encrypts the stored Twitch sign-in; nil
	// stores it as given.
	TokenEncryptionKey []byte
	Version            VersionInfo
	// MetricsToken, when set, is the Bearer token GET /metrics requires.
	MetricsToken string
	// MetricsListen, when set, is a host:port of its own that serves only
	// GET /metrics.
	MetricsListen string
	// MetricsPublic serves GET /metrics on the main listener without a
	// token in Production (Development always does).
	MetricsPublic bool
	// LogLevel is one of "debug", "info", "warn", "error".
	LogLevel string
	// DrawProofRetentionDays is how long a draw's list is kept for its
	// proof; 0 keeps it forever.
	DrawProofRetentionDays int

	// DevBroadcasterUserID is the gift queue's streamer in Development when
	// BroadcasterUserID is not set (DevBroadcaster); it is a default only,
	// so unlike BroadcasterUserID it refuses no other channel.
	DevBroadcasterUserID string

	// envReason names the rule that chose Environment, for the banner;
	// envInferred says no one asked for it explicitly.
	envReason   string
	envInferred bool
	// listenKey is the name Listen was read from, for messages.
	listenKey string
}

// Controls are the streamer's settings for the giveaway (issue 17); the
// defaults are the MVP's behaviour.
type Controls struct {
	// EntryRule is EntrySubscribers or EntryEveryone.
	EntryRule            string
	WinnerCooldownCycles int
	WinnerCooldownHours  int
	// DailyGoldBudget is gold per UTC day; 0 is unlimited.
	DailyGoldBudget   int
	DrawOnlyWhileLive bool
}

// Policy is the draw's policy these settings make.
func (c Controls) Policy() mgm.Policy {
	entry, ok := mgm.ParseEntryRule(c.EntryRule)
	if !ok {
		entry = mgm.EntrySubscribers
	}
	return mgm.Policy{
		Entry:             entry,
		Cooldown:          mgm.Cooldown{Cycles: c.WinnerCooldownCycles, Duration: time.Duration(c.WinnerCooldownHours) * time.Hour},
		DailyBudgetGold:   int64(c.DailyGoldBudget),
		DrawOnlyWhileLive: c.DrawOnlyWhileLive,
	}
}

// Who may enter (Mgm__EntryRule).
const (
	EntrySubscribers = "subscribers"
	EntryEveryone    = "everyone"
)

// RateLimits are requests per minute per client class; 0 means unlimited.
type RateLimits struct {
	ViewerReads  int
	ViewerWrites int
	Desktop      int
	Anonymous    int
}

// VersionInfo is served by GET /api/version; "" means not set.
type VersionInfo struct {
	CurrentVersion          string
	ReleaseNotesURL         string
	MinimumDesktopVersion   string
	MinimumAddonVersion     string
	MinimumExtensionVersion string
}

// Development reports whether development-only conveniences may be enabled.
func (c Config) Development() bool { return c.Environment == Development }

// EnvironmentReason names the rule that chose the environment, for the
// startup banner: "nothing configured", "Mgm__Environment=Development",
// "Twitch__ExtensionSecret is set". It is "" for a Config not made by Load.
func (c Config) EnvironmentReason() string { return c.envReason }

// Warnings are the lines the startup banner must show about a risky but
// deliberate configuration.
func (c Config) Warnings() []string {
	if c.Development() && c.Listen != "" && !IsLoopback(c.Listen) {
		return []string{fmt.Sprintf("WARNING: Development mode on %s, which is not a loopback address: its conveniences "+
			"(the public development JWT key, unsigned EventSub without a secret) are open to anyone who can reach it", c.Listen)}
	}
	return nil
}

// IsLoopback reports whether listen (host:port) accepts only connections from
// this machine. A host name other than localhost may resolve anywhere, and an
// empty host is every interface.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ErrHelp is returned by Load when the arguments ask for help; print Usage and
// exit successfully.
var ErrHelp = errors.New("config: help requested")

// Error lists every configuration problem found, one per line.
type Error struct {
	Problems []string
}

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }

// Defaults. They are constants rather than knobs because the spec fixes them.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultDataDir         = "./mgm-data"
	DefaultHelixAPIBaseURL = "https://api.twitch.tv"
	DefaultAuthBaseURL     = "https://id.twitch.tv"
	DefaultLogLevel        = "info"
	DefaultSpinInterval    = 300 * time.Second
	// DefaultDrawProofRetentionDays is app.DefaultDrawProofRetention in days.
	DefaultDrawProofRetentionDays = 30
	// maxProofRetentionDays keeps the retention a duration (ten years).
	maxProofRetentionDays = 3650
	// DefaultJobAttemptTimeout is the job queue's own default (internal/jobs).
	DefaultJobAttemptTimeout = 15 * time.Second
	// DefaultEventSubLeaseTTL is the EventSub WebSocket client's own default
	// (internal/twitchws).
	DefaultEventSubLeaseTTL = 10 * time.Second

	// MinAPIKeyLength is enforced in Production only, so that a newcomer's
	// hand-typed development key still works.
	MinAPIKeyLength = 24

	minSpinSeconds = 10
	maxSpinSeconds = 3600

	minJobSeconds = 1
	maxJobSeconds = 300

	minLeaseSeconds = 1
	maxLeaseSeconds = 60
)

// devCorsOrigins are the local origins a developer's browser or Vite dev server
// uses; the listen address's own origin is added to them.
var devCorsOrigins = []string{
	"http://localhost:8080",
	"http://127.0.0.1:8080",
	"http://localhost:5173",
	"http://127.0.0.1:5173",
}

// Load reads configuration from getenv (usually os.Getenv) and args (usually
// os.Args[1:]). Arguments override environment variables. It returns ErrHelp
// when help was requested, and an *Error listing every problem otherwise.
func Load(getenv func(string) string, args []string) (Config, error) {
	flags, argProblems, help := option.ParseArgs(args, options(), shortFlags)
	if help {
		return Config{}, ErrHelp
	}
	l := &loader{settings: settings, src: option.Source{Getenv: getenv, Flags: flags}}
	l.problems = append(l.problems, argProblems...)
	c := l.load()
	if len(l.problems) > 0 {
		return Config{}, &Error{Problems: l.problems}
	}
	return c, nil
}

type loader struct {
	// settings is the package's table, carried here because its fallbacks
	// consult it (zero-config detection) and a package-level variable may not
	// refer to itself.
	settings []setting
	src      option.Source
	problems []string
}

func (l *loader) problemf(format string, a ...any) {
	l.problems = append(l.problems, fmt.Sprintf(format, a...))
}

func (l *loader) load() Config {
	var c Config
	var unset []setting
	for _, s := range l.settings {
		v, k := l.src.Get(s.Option)
		if v == "" {
			v = s.Default
		}
		if v == "" {
			unset = append(unset, s)
			continue
		}
		s.parse(l, &c, v, k)
	}
	l.settleTLS(&c)
	// Defaults that depend on other settings (the environment on what is
	// configured, CORS origins on the environment, client id and listen
	// address) are settled once everything set is known.
	for _, s := range unset {
		if s.fallback != nil {
			s.fallback(l, &c)
		}
	}

	if c.Environment == Production {
		before := len(l.problems)
		l.production(&c)
		if len(l.problems) > before && c.envInferred {
			l.problemf("(Production was assumed because %s; for a local setup set %s=Development)", c.envReason, keyEnvironment)
		}
	}
	if c.Environment == Development && c.envInferred && c.Listen != "" && !IsLoopback(c.Listen) {
		// Development's keys are public; a server others can reach runs
		// with them only when someone asked for it by name.
		l.problemf("%s: %s is not a loopback address, and Development mode was chosen only because %s: "+
			"set %s=Development to run Development there on purpose (its keys are public), or configure Production",
			c.listenKey, c.Listen, c.envReason, keyEnvironment)
	}
	// With an unknown environment (already reported) the environment-
	// dependent rules cannot be judged.
	return c
}

// productionKeys are the set settings that select Production, in table order.
func (l *loader) productionKeys() []string {
	var keys []string
	for _, s := range l.settings {
		if v, _ := l.src.Get(s.Option); v != "" && !s.devSafe {
			keys = append(keys, s.Key)
		}
	}
	return keys
}

// anySet reports whether any setting at all is present.
func (l *loader) anySet() bool {
	for _, s := range l.settings {
		if v, _ := l.src.Get(s.Option); v != "" {
			return true
		}
	}
	return false
}

// production applies the rules that keep a public deployment safe.
func (l *loader) production(c *Config) {
	if len(c.ExtensionSecret) == 0 {
		if v, _ := l.src.Lookup(keyExtSecret); v == "" {
			l.problemf("%s is required in Production (the base64 extension secret from the Twitch developer console)", keyExtSecret)
		}
	}
	if c.EventSubSecret == "" {
		l.problemf("%s is required in Production (the secret given to Twitch when creating EventSub subscriptions)", keyEventSubSecret)
	}
	if len(c.APIKeys) == 0 {
		l.problemf("%s is required in Production (at least one key of %d+ characters; separate several with ',')", keyAPIKey, MinAPIKeyLength)
	}
	l.secretStrength(c)
	if c.SpinInterval != 0 && c.SpinInterval != DefaultSpinInterval {
		l.problemf("%s may differ from %d only in Development (got %d)", keySpinInterval, int(DefaultSpinInterval/time.Second), int(c.SpinInterval/time.Second))
	}
	if c.JobAttemptTimeout != DefaultJobAttemptTimeout {
		l.problemf("%s may differ from %d only in Development (got %d)", keyJobAttemptTimeout,
			int(DefaultJobAttemptTimeout/time.Second), int(c.JobAttemptTimeout/time.Second))
	}
	if c.JobRescueAfter != 0 {
		l.problemf("%s may be set only in Development", keyJobRescueAfter)
	}
	if c.EventSubLeaseTTL != DefaultEventSubLeaseTTL {
		l.problemf("%s may differ from %d only in Development (got %d)", keyEventSubLease,
			int(DefaultEventSubLeaseTTL/time.Second), int(c.EventSubLeaseTTL/time.Second))
	}
	// The harness can fabricate payouts and the subscriber switch hands gold
	// to anyone; flags left over from CI must not open either on a public
	// deployment.
	c.EnableE2eHarness = false
	c.DevSkipSubscriberCheck = false
}

func (l *loader) boolean(key, v string) bool {
	switch strings.ToLower(v) {
	case "true", "1", "yes":
		return true
	case "false", "0", "no":
		return false
	}
	l.problemf("%s must be true or false, got %q", key, v)
	return false
}

func (l *loader) intIn(key, v string, lo, hi int) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil {
		l.problemf("%s must be a whole number, got %q", key, v)
		return 0, false
	}
	if n < lo || n > hi {
		l.problemf("%s must be between %d and %d, got %d", key, lo, hi, n)
		return 0, false
	}
	return n, true
}

// splitList splits a ','-separated value, trimming entries and dropping empty
// ones and duplicates, so "a, b,," is two entries.
func splitList(v string) []string {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = appendUnique(out, part)
		}
	}
	return out
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// decodeBase64 accepts padded and unpadded, standard and URL-safe alphabets,
// because secrets get copied through tools that strip padding or re-encode.
func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b, true
		}
	}
	return nil, false
}

// isClientID guards the client id because it is spliced into a CORS origin.
func isClientID(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// parseListen accepts host:port or an ASP.NET-style http URL.
func parseListen(v string) (string, error) {
	scheme, rest, isURL := strings.Cut(v, "://")
	if !isURL {
		return splitListen(v, v)
	}
	switch strings.ToLower(scheme) {
	case "http":
	case "https":
		return "", errors.New("https is not supported here: set " + keyTLSDomain + " for built-in HTTPS, or terminate TLS in a reverse proxy and use an http:// address")
	default:
		return "", fmt.Errorf("unsupported scheme %q; use http://host:port or host:port", scheme)
	}
	hostport, path, _ := strings.Cut(rest, "/")
	if path != "" {
		return "", fmt.Errorf("a path in %q is not supported; give only http://host:port", v)
	}
	if !hasPort(hostport) {
		// ASP.NET's default for http URLs without a port.
		hostport = net.JoinHostPort(strings.Trim(hostport, "[]"), "80")
	}
	return splitListen(hostport, v)
}

func hasPort(hostport string) bool {
	if strings.HasPrefix(hostport, "[") {
		return strings.Contains(hostport, "]:")
	}
	return strings.Count(hostport, ":") == 1
}

func splitListen(hostport, orig string) (string, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", fmt.Errorf("%q is not host:port (for example 127.0.0.1:8080 or :8080)", orig)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("invalid port in %q", orig)
	}
	if host == "+" || host == "*" {
		host = ""
	}
	if strings.ContainsAny(host, " \t/@?#") {
		return "", fmt.Errorf("invalid host in %q", orig)
	}
	return net.JoinHostPort(host, port), nil
}

func parseHelixBaseURL(v string) (string, error) {
	v = strings.TrimRight(v, "/")
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("must be an absolute http(s) URL such as https://api.twitch.tv")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("must be a plain root URL without credentials, query or fragment")
	}
	if strings.HasSuffix(strings.ToLower(u.Path), "/helix") {
		return "", errors.New("must be the API root without the trailing /helix (it is appended to every call), e.g. https://api.twitch.tv")
	}
	return v, nil
}

// normalizeOrigin makes configured origins comparable with the Origin header
// browsers send: lowercase scheme and host, no path, no trailing slash.
func normalizeOrigin(o string) (string, error) {
	if o == "*" {
		return o, nil
	}
	u, err := url.Parse(strings.TrimRight(o, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q is not an origin (scheme://host[:port], e.g. https://abc123.ext-twitch.tv)", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

func defaultCorsOrigins(env Environment, clientID, listen string) []string {
	var out []string
	if clientID != "" {
		out = append(out, "https://"+strings.ToLower(clientID)+".ext-twitch.tv")
	}
	if env != Development {
		return out
	}
	for _, o := range devCorsOrigins {
		out = appendUnique(out, o)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return out
	}
	switch host {
	case "", "0.0.0.0", "::":
		// A browser never uses the wildcard address as an origin; it uses
		// one of the loopback names.
		out = appendUnique(out, "http://"+net.JoinHostPort("localhost", port))
		out = appendUnique(out, "http://"+net.JoinHostPort("127.0.0.1", port))
	default:
		out = appendUnique(out, "http://"+strings.ToLower(net.JoinHostPort(host, port)))
	}
	return out
}
