package config

import (
	"fmt"
	"strings"
)

const (
	keyEnvironment         = "Mgm__Environment"
	keyAspNetEnvironment   = "ASPNETCORE_ENVIRONMENT"
	keyListen              = "Mgm__Listen"
	keyAspNetURLs          = "ASPNETCORE_URLS"
	keyDataDir             = "Mgm__DataDir"
	keyPostgres            = "ConnectionStrings__PostgreSQL"
	keyAPIKey              = "Mgm__ApiKey"
	keyDevSkipSubscriber   = "Mgm__DevSkipSubscriberCheck"
	keyE2eHarness          = "Mgm__EnableE2eHarness"
	keySpinInterval        = "Mgm__SpinIntervalSeconds"
	keyCorsOrigins         = "Mgm__CorsOrigins"
	keyRateViewerReads     = "Mgm__RateLimits__ViewerReadsPerMinute"
	keyRateViewerWrites    = "Mgm__RateLimits__ViewerWritesPerMinute"
	keyRateDesktop         = "Mgm__RateLimits__DesktopPerMinute"
	keyRateAnonymous       = "Mgm__RateLimits__AnonymousPerMinute"
	keyMetricsToken        = "Mgm__MetricsToken"
	keyLogLevel            = "Mgm__LogLevel"
	keyExtSecret           = "Twitch__ExtensionSecret"
	keyExtClientID         = "Twitch__ExtensionClientId"
	keyValidateAudience    = "Twitch__ValidateAudience"
	keyEventSubSecret      = "Twitch__EventSubSecret"
	keyHelixBaseURL        = "Twitch__HelixApiBaseUrl"
	keyHelixClientID       = "Twitch__HelixClientId"
	keyBroadcasterToken    = "Twitch__BroadcasterAccessToken"
	keyBroadcasterUserID   = "Twitch__BroadcasterUserId"
	keyCurrentVersion      = "Version__CurrentVersion"
	keyReleaseNotesURL     = "Version__ReleaseNotesUrl"
	keyMinDesktopVersion   = "Version__MinimumDesktopVersion"
	keyMinAddonVersion     = "Version__MinimumAddonVersion"
	keyMinExtensionVersion = "Version__MinimumExtensionVersion"
)

type keyInfo struct {
	name, def, help string
}

// keys is the single list of recognised settings: it drives the command-line
// parser, zero-config detection and Usage, so they cannot drift apart.
var keys = []keyInfo{
	{keyEnvironment, "Development if nothing is configured, else Production", "Development or Production"},
	{keyAspNetEnvironment, "", "fallback for " + keyEnvironment},
	{keyListen, DefaultListen, "listen address host:port (\":8080\" = all interfaces)"},
	{keyAspNetURLs, "", "fallback for " + keyListen + ", e.g. http://+:8080 (first of a ';' list)"},
	{keyDataDir, DefaultDataDir, "SQLite database and generated secrets"},
	{keyPostgres, "empty = SQLite", "PostgreSQL: ADO.NET (Host=…;Database=…), postgres:// URL or libpq keyword/value string"},
	{keyAPIKey, "generated in Development", "Desktop API key(s), ','-separated; Production: each 24+ characters"},
	{keyDevSkipSubscriber, "false", "Development only: panel enrollment and gift requests skip the subscriber check"},
	{keyE2eHarness, "false", "Development only: enables POST /api/e2e/prepare-pending-payout"},
	{keySpinInterval, "300", "spin cycle length in seconds, 10–3600; other than 300 only in Development"},
	{keyCorsOrigins, "extension origin (+ localhost in Development)", "allowed browser origins, ','-separated"},
	{keyRateViewerReads, "120", "viewer reads per minute, 0 = unlimited"},
	{keyRateViewerWrites, "5", "viewer writes per minute, 0 = unlimited"},
	{keyRateDesktop, "600", "Desktop requests per minute, 0 = unlimited"},
	{keyRateAnonymous, "120", "anonymous requests per minute, 0 = unlimited"},
	{keyMetricsToken, "", "if set, GET /metrics requires Authorization: Bearer <token>"},
	{keyLogLevel, DefaultLogLevel, "debug, info, warn or error"},
	{keyExtSecret, "", "base64 extension secret (JWT HMAC key); required in Production"},
	{keyExtClientID, "", "extension client id (CORS origin, JWT audience)"},
	{keyValidateAudience, "false", "require JWT aud = " + keyExtClientID},
	{keyEventSubSecret, "", "EventSub HMAC secret; required in Production"},
	{keyHelixBaseURL, DefaultHelixAPIBaseURL, "Helix root, without /helix"},
	{keyHelixClientID, "", "Helix Client-Id"},
	{keyBroadcasterToken, "", "broadcaster user access token for Helix"},
	{keyBroadcasterUserID, "", "the broadcaster this deployment serves"},
	{keyCurrentVersion, "build version", "served by GET /api/version"},
	{keyReleaseNotesURL, "", "served by GET /api/version"},
	{keyMinDesktopVersion, "", "served by GET /api/version"},
	{keyMinAddonVersion, "", "served by GET /api/version"},
	{keyMinExtensionVersion, "", "served by GET /api/version"},
}

// shortFlags are conveniences for the settings people change by hand most.
var shortFlags = map[string]string{
	"listen":   keyListen,
	"data-dir": keyDataDir,
	"postgres": keyPostgres,
}

// Usage describes the command line and every recognised key.
func Usage() string {
	var b strings.Builder
	b.WriteString(`Usage: mgm-ebs [--Section:Key=value ...] [--listen host:port] [--data-dir dir] [--postgres dsn]

Every setting is read from an environment variable named Section__Key and may be
overridden on the command line as --Section:Key=value, --Section__Key=value or
Section:Key=value (keys are case-insensitive there). With nothing configured at
all, mgm-ebs starts in Development mode on 127.0.0.1:8080 with SQLite.

Settings:
`)
	width := 0
	for _, k := range keys {
		width = max(width, len(k.name))
	}
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-*s  %s", width, k.name, k.help)
		if k.def != "" {
			fmt.Fprintf(&b, " (default: %s)", k.def)
		}
		b.WriteByte('\n')
	}
	b.WriteString(`
Flags:
  --listen host:port    same as --Mgm:Listen
  --data-dir dir        same as --Mgm:DataDir
  --postgres dsn        same as --ConnectionStrings:PostgreSQL
  -h, --help            show this help
`)
	return b.String()
}

// source layers command-line values over environment variables.
type source struct {
	getenv func(string) string
	flags  map[string]string // canonical key → value; present even when empty
}

// lookup returns the trimmed value of the first of keys that is set, with the
// key it came from. A command-line value beats any environment variable, even
// one of a preferred alias, because it is the most deliberate input. An
// explicitly empty command-line value hides the environment variable.
func (s source) lookup(keys ...string) (value, key string) {
	for _, k := range keys {
		if v, ok := s.flags[k]; ok {
			if v = strings.TrimSpace(v); v != "" {
				return v, k
			}
		}
	}
	for _, k := range keys {
		if _, ok := s.flags[k]; ok {
			continue
		}
		if v := strings.TrimSpace(s.env(k)); v != "" {
			return v, k
		}
	}
	return "", keys[0]
}

// env also tries the all-caps spelling, which ASP.NET accepted (its keys are
// case-insensitive) and which container tooling often produces.
func (s source) env(k string) string {
	if s.getenv == nil {
		return ""
	}
	if v := s.getenv(k); v != "" {
		return v
	}
	if up := strings.ToUpper(k); up != k {
		return s.getenv(up)
	}
	return ""
}

// anySet reports whether any deployment setting is present. Where to listen,
// where to keep data and how much to log are conveniences a newcomer reaches
// for first ("go run ./cmd/mgm-ebs --listen :9000"), and short cycles and the
// test harness exist only in Development; none of them says "production", so
// they leave the default at Development.
func (s source) anySet() bool {
	for _, k := range keys {
		switch k.name {
		case keyListen, keyAspNetURLs, keyDataDir, keyLogLevel, keySpinInterval, keyE2eHarness:
			continue
		}
		if v, _ := s.lookup(k.name); v != "" {
			return true
		}
	}
	return false
}

// canonicalKey maps a command-line key (Section:Key or Section__Key, any case)
// to its environment-variable spelling.
func canonicalKey(name string) (string, bool) {
	n := strings.ReplaceAll(name, ":", "__")
	for _, k := range keys {
		if strings.EqualFold(n, k.name) {
			return k.name, true
		}
	}
	return "", false
}

// parseArgs parses .NET-style settings and the short flags by hand: the
// flag package cannot express Section:Key names, and a FlagSet per call would
// still need the same key table.
func parseArgs(args []string) (flags map[string]string, problems []string, help bool) {
	flags = map[string]string{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch arg {
		case "-h", "-help", "--help", "-?", "/?":
			return nil, nil, true
		}

		prefix := ""
		switch {
		case strings.HasPrefix(arg, "--"):
			prefix = "--"
		case strings.HasPrefix(arg, "-"), strings.HasPrefix(arg, "/"):
			prefix = arg[:1]
		}
		dashed := prefix != ""
		name, value, hasValue := strings.Cut(arg[len(prefix):], "=")

		if !dashed && !hasValue {
			// Never echoed: a stray positional argument is often a secret
			// that lost its key.
			problems = append(problems, fmt.Sprintf("unexpected argument #%d; settings are given as --Section:Key=value (see --help)", i+1))
			continue
		}

		key, ok := "", false
		if dashed {
			key, ok = shortFlags[strings.ToLower(name)]
		}
		if !ok {
			key, ok = canonicalKey(name)
		}

		if !hasValue {
			// --key value: the value is the next argument unless that looks
			// like another flag.
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				value, hasValue = args[i], true
			}
		}
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("unknown argument %q (see --help for the recognised keys)", prefix+name))
		case !hasValue:
			problems = append(problems, fmt.Sprintf("argument %q needs a value", prefix+name))
		default:
			flags[key] = value
		}
	}
	return flags, problems, false
}
