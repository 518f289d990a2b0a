package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config/option"
	"github.com/mimirons-goldomatic/mgm/internal/pgdsn"
)

const (
	keyEnvironment         = "Mgm__Environment"
	keyAspNetEnvironment   = "ASPNETCORE_ENVIRONMENT"
	keyListen              = "Mgm__Listen"
	keyAspNetURLs          = "ASPNETCORE_URLS"
	keyTLSDomain           = "Mgm__TlsDomain"
	keyTLSListen           = "Mgm__TlsListen"
	keyHTTPListen          = "Mgm__HttpListen"
	keyACMEDirectoryURL    = "Mgm__AcmeDirectoryUrl"
	keyACMEEmail           = "Mgm__AcmeEmail"
	keyACMECARoots         = "Mgm__AcmeCaRoots"
	keyDataDir             = "Mgm__DataDir"
	keyPostgres            = "ConnectionStrings__PostgreSQL"
	keyAPIKey              = "Mgm__ApiKey"
	keyDevSkipSubscriber   = "Mgm__DevSkipSubscriberCheck"
	keyE2eHarness          = "Mgm__EnableE2eHarness"
	keySpinInterval        = "Mgm__SpinIntervalSeconds"
	keyJobAttemptTimeout   = "Mgm__Jobs__AttemptTimeoutSeconds"
	keyJobRescueAfter      = "Mgm__Jobs__RescueAfterSeconds"
	keyCorsOrigins         = "Mgm__CorsOrigins"
	keyEntryRule           = "Mgm__EntryRule"
	keyCooldownCycles      = "Mgm__WinnerCooldownCycles"
	keyCooldownHours       = "Mgm__WinnerCooldownHours"
	keyDailyGoldBudget     = "Mgm__DailyGoldBudget"
	keyDrawOnlyWhileLive   = "Mgm__DrawOnlyWhileLive"
	keyRateViewerReads     = "Mgm__RateLimits__ViewerReadsPerMinute"
	keyRateViewerWrites    = "Mgm__RateLimits__ViewerWritesPerMinute"
	keyRateDesktop         = "Mgm__RateLimits__DesktopPerMinute"
	keyRateAnonymous       = "Mgm__RateLimits__AnonymousPerMinute"
	keyMetricsToken        = "Mgm__MetricsToken"
	keyMetricsListen       = "Mgm__MetricsListen"
	keyMetricsPublic       = "Mgm__MetricsPublic"
	keyLogLevel            = "Mgm__LogLevel"
	keyProofRetention      = "Mgm__DrawProofRetentionDays"
	keyExtSecret           = "Twitch__ExtensionSecret"
	keyExtClientID         = "Twitch__ExtensionClientId"
	keyValidateAudience    = "Twitch__ValidateAudience"
	keyExtOwnerID          = "Twitch__ExtensionOwnerId"
	keyEventSubSecret      = "Twitch__EventSubSecret"
	keyHelixBaseURL        = "Twitch__HelixApiBaseUrl"
	keyHelixClientID       = "Twitch__HelixClientId"
	keyBroadcasterToken    = "Twitch__BroadcasterAccessToken"
	keyBroadcasterUserID   = "Twitch__BroadcasterUserId"
	keyEventSubTransport   = "Twitch__EventSubTransport"
	keyEventSubWSURL       = "Twitch__EventSubWebSocketUrl"
	keyEventSubLease       = "Mgm__EventSub__LeaseSeconds"
	keyPublicURL           = "Mgm__PublicUrl"
	keyClientSecret        = "Twitch__ClientSecret"
	keyAuthBaseURL         = "Twitch__AuthBaseUrl"
	keyTokenEncryptionKey  = "Twitch__TokenEncryptionKey"
	keyCurrentVersion      = "Version__CurrentVersion"
	keyReleaseNotesURL     = "Version__ReleaseNotesUrl"
	keyMinDesktopVersion   = "Version__MinimumDesktopVersion"
	keyMinAddonVersion     = "Version__MinimumAddonVersion"
	keyMinExtensionVersion = "Version__MinimumExtensionVersion"
)

// setting is one row of the settings table: how it is documented and how it
// is read into a Config and shown in the startup banner.
type setting struct {
	option.Option
	// devSafe settings are fine in a local Development setup (an address,
	// a broadcaster id, a CORS origin, a Development-only switch), so setting
	// them does not select Production. A row without it selects Production
	// when set: the secrets that protect a public deployment, and any new
	// setting until someone decides otherwise (fail closed).
	devSafe bool
	value
}

// value is how one setting travels between text and a Config.
type value struct {
	// parse stores v — the value set, or else Default — in c, reporting
	// problems under key, the name v was read from.
	parse func(l *loader, c *Config, v, key string)
	// fallback settles a default that depends on other settings; it runs
	// after every set value has been parsed.
	fallback func(l *loader, c *Config)
	// show renders c's value for the banner ("" is shown as "not set"). A
	// Secret setting is shown as "set (N chars)" unless redact says more.
	show   func(c Config) string
	redact func(c Config) string
}

// settings is the single table of recognised settings: parsing, zero-config
// detection, Usage, the README table and Redacted all follow from it. Each
// value is parsed in this order, so a setting whose check needs another
// (ValidateAudience needs the client id) comes after it.
var settings = []setting{
	{Option: option.Option{Key: keyEnvironment, Aliases: []string{keyAspNetEnvironment},
		// DefaultNote is filled in by options() from the devSafe column.
		Help: "Development or Production; Development enables the development JWT key, the generated API key, unsigned EventSub and short cycles"},
		value: value{parse: parseEnvironment, fallback: inferEnvironment, show: showEnvironment}},
	{Option: option.Option{Key: keyListen, Aliases: []string{keyAspNetURLs}, Default: DefaultListen,
		Help: "listen address host:port (\":8080\" = all interfaces); " + keyAspNetURLs + " is an http URL, e.g. http://+:8080 (the first of a ';' list)"},
		devSafe: true, value: value{parse: parseListenSetting, show: func(c Config) string { return c.Listen }}},
	// Built-in HTTPS. The domain selects Production: it means a server the
	// internet reaches. The rest only shape it.
	{Option: option.Option{Key: keyTLSDomain,
		Help: "built-in HTTPS: the DNS name (e.g. ebs.example.com, its A/AAAA record pointing at this server) the EBS gets a certificate for " +
			"from an ACME CA and serves HTTPS for on " + keyTLSListen + ", answering the CA and redirecting to HTTPS on " + keyHTTPListen +
			"; " + keyListen + " is then not used, and " + keyPublicURL + " defaults to https://<domain>"},
		value: value{parse: parseTLSDomain, show: func(c Config) string { return c.TLS.Domain }}},
	{Option: option.Option{Key: keyTLSListen, DefaultNote: DefaultTLSListen + " with " + keyTLSDomain,
		Help: "the HTTPS listener's host:port"},
		devSafe: true, value: value{parse: parseTLSListen, show: func(c Config) string { return c.TLS.Listen }}},
	{Option: option.Option{Key: keyHTTPListen, DefaultNote: DefaultHTTPListen + " with " + keyTLSDomain,
		Help: "the plain HTTP listener's host:port: the CA's HTTP-01 challenge (the CA connects to port 80) and a redirect to HTTPS for everything else"},
		devSafe: true, value: value{parse: parseHTTPListen, show: func(c Config) string { return c.TLS.HTTPListen }}},
	{Option: option.Option{Key: keyACMEDirectoryURL, DefaultNote: "Let's Encrypt (" + DefaultACMEDirectoryURL + ")",
		Help: "the ACME CA's directory; to try a setup out without Let's Encrypt's tight production rate limits use its staging CA " + LetsEncryptStagingURL +
			" (its certificates are not trusted by browsers)"},
		devSafe: true, value: value{parse: parseACMEDirectory, show: func(c Config) string { return c.TLS.DirectoryURL }}},
	{Option: option.Option{Key: keyACMEEmail, Help: "contact address given to the CA (notices about the account or the certificate); optional"},
		devSafe: true, value: value{parse: parseACMEEmail, show: func(c Config) string { return c.TLS.Email }}},
	{Option: option.Option{Key: keyACMECARoots,
		Help: "a PEM file of CA certificates trusted, besides the system's, for the connection to the ACME server only: a private ACME CA, or the test CA in tests"},
		devSafe: true, value: text(func(c *Config) *string { return &c.TLS.CARootsFile })},
	{Option: option.Option{Key: keyDataDir, Default: DefaultDataDir, Help: "SQLite database and generated secrets (the development API key)"},
		devSafe: true, value: text(func(c *Config) *string { return &c.DataDir })},
	{Option: option.Option{Key: keyPostgres, DefaultNote: "empty = SQLite", Secret: true,
		Help: "PostgreSQL: ADO.NET (Host=…;Port=…;Database=…;Username=…;Password=…), postgres:// URL or libpq keyword/value string; the banner shows it without credentials"},
		value: value{parse: parsePostgres, redact: redactPostgres}},
	{Option: option.Option{Key: keyAPIKey, DefaultNote: "generated in Development", Secret: true,
		Help: fmt.Sprintf("Desktop API key(s), ','-separated for rotation; Production: each %d+ characters", MinAPIKeyLength)},
		value: value{parse: func(_ *loader, c *Config, v, _ string) { c.APIKeys = splitList(v) }, redact: func(c Config) string { return apiKeysSummary(c.APIKeys) }}},
	{Option: option.Option{Key: keyDevSkipSubscriber, Default: "false", DevOnly: true,
		Help: "panel enrollment (POST /api/payouts/claim) and panel gift requests skip the subscriber check"},
		devSafe: true, value: boolean(func(c *Config) *bool { return &c.DevSkipSubscriberCheck })},
	{Option: option.Option{Key: keyE2eHarness, Default: "false", DevOnly: true, Help: "enables POST /api/e2e/prepare-pending-payout"},
		devSafe: true, value: boolean(func(c *Config) *bool { return &c.EnableE2eHarness })},
	{Option: option.Option{Key: keySpinInterval, Default: strconv.Itoa(int(DefaultSpinInterval / time.Second)), DevOnly: true,
		Help: fmt.Sprintf("spin cycle length in seconds, %d–%d; phases scale with it (80/10/10 %%, grace 10 %%)", minSpinSeconds, maxSpinSeconds)},
		devSafe: true, value: value{parse: parseSpin, show: func(c Config) string { return strconv.Itoa(int(c.SpinInterval / time.Second)) }}},
	{Option: option.Option{Key: keyJobAttemptTimeout, Default: strconv.Itoa(int(DefaultJobAttemptTimeout / time.Second)), DevOnly: true,
		Help: fmt.Sprintf("one attempt of a background job (the reward announcement) in seconds, %d–%d", minJobSeconds, maxJobSeconds)},
		devSafe: true, value: value{parse: parseJobAttemptTimeout, show: func(c Config) string { return strconv.Itoa(int(c.JobAttemptTimeout / time.Second)) }}},
	{Option: option.Option{Key: keyJobRescueAfter, DefaultNote: "attempt timeout + 15", DevOnly: true,
		Help: "seconds a running job may go before another worker takes it over as dead; more than " + keyJobAttemptTimeout +
			", so that an attempt that timed out still records its outcome"},
		devSafe: true, value: value{parse: parseJobRescueAfter, show: showJobRescueAfter}},
	{Option: option.Option{Key: keyEntryRule, Default: EntrySubscribers,
		Help: "who may join the pool: subscribers, or everyone (a free way to enter where local rules require one)"},
		devSafe: true, value: value{parse: parseEntryRule, show: func(c Config) string { return c.Controls.EntryRule }}},
	{Option: option.Option{Key: keyCooldownCycles, Default: "0",
		Help: "a winner stays in the pool but is not drawn in the next N cycles after the one they won; 0 = no cooldown"},
		devSafe: true, value: count(func(c *Config) *int { return &c.Controls.WinnerCooldownCycles }, 0, 100_000)},
	{Option: option.Option{Key: keyCooldownHours, Default: "0",
		Help: "a winner is not drawn for N hours after their win (with " + keyCooldownCycles + ", the longer holds); 0 = no cooldown"},
		devSafe: true, value: count(func(c *Config) *int { return &c.Controls.WinnerCooldownHours }, 0, 24*366)},
	{Option: option.Option{Key: keyDailyGoldBudget, Default: "0",
		Help: "gold per UTC day: payouts created that day and not Cancelled, Failed or Expired count; a draw whose payout would exceed it does not happen until 00:00 UTC (roulette paused, reason budget); 0 = unlimited"},
		devSafe: true, value: count(func(c *Config) *int { return &c.Controls.DailyGoldBudget }, 0, 1_000_000_000)},
	{Option: option.Option{Key: keyDrawOnlyWhileLive, Default: "false",
		Help: "draw only while the stream is live (EventSub stream.online/stream.offline); until the EBS has heard either, the stream counts as offline"},
		devSafe: true, value: boolean(func(c *Config) *bool { return &c.Controls.DrawOnlyWhileLive })},
	{Option: option.Option{Key: keyCorsOrigins, DefaultNote: "extension origin (+ localhost in Development)",
		Help: "allowed browser origins, ','-separated"},
		devSafe: true, value: value{parse: parseCorsOrigins, fallback: defaultCors, show: showCors}},
	{Option: option.Option{Key: keyRateViewerReads, Default: "120", Help: "viewer reads per minute, 0 = unlimited"},
		devSafe: true, value: rate(func(c *Config) *int { return &c.RateLimits.ViewerReads })},
	{Option: option.Option{Key: keyRateViewerWrites, Default: "5", Help: "viewer writes per minute, 0 = unlimited"},
		devSafe: true, value: rate(func(c *Config) *int { return &c.RateLimits.ViewerWrites })},
	{Option: option.Option{Key: keyRateDesktop, Default: "600", Help: "Desktop requests per minute, 0 = unlimited"},
		devSafe: true, value: rate(func(c *Config) *int { return &c.RateLimits.Desktop })},
	{Option: option.Option{Key: keyRateAnonymous, Default: "120", Help: "anonymous requests per minute, 0 = unlimited; EventSub is never limited"},
		devSafe: true, value: rate(func(c *Config) *int { return &c.RateLimits.Anonymous })},
	{Option: option.Option{Key: keyMetricsToken, Secret: true,
		Help: "if set, GET /metrics requires Authorization: Bearer <token> wherever it is served (and is served on the main listener in Production)"},
		value: text(func(c *Config) *string { return &c.MetricsToken })},
	{Option: option.Option{Key: keyMetricsListen,
		Help: "a host:port of its own serving only GET /metrics, e.g. 127.0.0.1:9090 (keep it private)"},
		devSafe: true, value: value{parse: parseMetricsListen, show: func(c Config) string { return c.MetricsListen }}},
	{Option: option.Option{Key: keyMetricsPublic, Default: "false",
		Help: "Production: serve GET /metrics on the main listener to anyone; without it or a token it is not served there (Development always serves it)"},
		devSafe: true, value: boolean(func(c *Config) *bool { return &c.MetricsPublic })},
	{Option: option.Option{Key: keyProofRetention, Default: strconv.Itoa(DefaultDrawProofRetentionDays),
		Help: fmt.Sprintf("days a draw's list is kept for its proof (GET /api/roulette/cycles/{id}/proof), 0 = forever, at most %d; "+
			"after that the proof answers 410 draw_proof_expired with the commitment, list hash, size and index", maxProofRetentionDays)},
		devSafe: true, value: value{parse: parseProofRetention, show: func(c Config) string { return strconv.Itoa(c.DrawProofRetentionDays) }}},
	{Option: option.Option{Key: keyLogLevel, Default: DefaultLogLevel, Help: "debug, info, warn or error (JSON logs on stderr: a line per request, but a line per minute for the ordinary answers of the viewer polls and the EventSub webhook; see Performance)"},
		devSafe: true, value: value{parse: parseLogLevel, show: func(c Config) string { return c.LogLevel }}},
	{Option: option.Option{Key: keyExtSecret, Secret: true, Help: "base64 extension secret (JWT HMAC key); required in Production"},
		value: value{parse: parseExtSecret, redact: redactExtSecret}},
	{Option: option.Option{Key: keyExtClientID, Help: "extension client id (CORS origin, JWT audience)"},
		devSafe: true, value: value{parse: parseClientID, show: func(c Config) string { return c.ExtensionClientID }}},
	{Option: option.Option{Key: keyExtOwnerID,
		Help: "Twitch user id of the extension's owner: with " + keyExtClientID + ", " + keyExtSecret + " and " + keyBroadcasterUserID +
			" the EBS pushes the roulette to the panel through Extension PubSub (one replica sends); without them panels poll"},
		devSafe: true, value: value{parse: parseOwnerID, show: func(c Config) string { return c.ExtensionOwnerID }}},
	{Option: option.Option{Key: keyValidateAudience, Default: "false", Help: "require JWT aud = " + keyExtClientID},
		devSafe: true, value: value{parse: parseValidateAudience, show: func(c Config) string { return strconv.FormatBool(c.ValidateAudience) }}},
	{Option: option.Option{Key: keyEventSubSecret, Secret: true, Help: "EventSub HMAC secret; required in Production"},
		value: text(func(c *Config) *string { return &c.EventSubSecret })},
	{Option: option.Option{Key: keyHelixBaseURL, Default: DefaultHelixAPIBaseURL, Help: "Helix root, without /helix"},
		devSafe: true, value: value{parse: parseHelixSetting, show: func(c Config) string { return c.HelixAPIBaseURL }}},
	{Option: option.Option{Key: keyHelixClientID, Help: "Helix Client-Id"},
		devSafe: true, value: text(func(c *Config) *string { return &c.HelixClientID })},
	{Option: option.Option{Key: keyBroadcasterToken, Secret: true,
		Help: "broadcaster user access token for Helix: the reward line in chat, the subscriber check"},
		value: text(func(c *Config) *string { return &c.BroadcasterAccessToken })},
	{Option: option.Option{Key: keyBroadcasterUserID,
		DefaultNote: "in Development " + DevBroadcaster + ", for the gift queue only",
		Help:        "the broadcaster this deployment serves: other channels' tokens, chat messages and gift streamerIds are refused"},
		devSafe: true, value: value{parse: func(_ *loader, c *Config, v, _ string) { c.BroadcasterUserID = v }, fallback: devBroadcaster, show: showBroadcaster}},
	{Option: option.Option{Key: keyEventSubTransport, Default: EventSubWebhook,
		Help: "how chat reaches the EBS: " + EventSubWebhook + " (Twitch calls " + keyPublicURL + "/api/twitch/eventsub) or " +
			EventSubWebSocket + " (the EBS connects out; no public address needed; one replica holds the connection)"},
		devSafe: true, value: value{parse: parseEventSubTransport, show: func(c Config) string { return c.EventSubTransport }}},
	{Option: option.Option{Key: keyEventSubWSURL, Default: DefaultEventSubWebSocketURL, Help: "EventSub WebSocket server (ws:// or wss://)"},
		devSafe: true, value: value{parse: parseEventSubWSURL, show: func(c Config) string { return c.EventSubWebSocketURL }}},
	{Option: option.Option{Key: keyEventSubLease, Default: strconv.Itoa(int(DefaultEventSubLeaseTTL / time.Second)), DevOnly: true,
		Help: fmt.Sprintf("seconds the replica holding the EventSub WebSocket keeps it without renewing; another replica takes over "+
			"from a dead holder within about that and a third more, %d–%d", minLeaseSeconds, maxLeaseSeconds)},
		devSafe: true, value: value{parse: parseEventSubLease, show: func(c Config) string { return strconv.Itoa(int(c.EventSubLeaseTTL / time.Second)) }}},
	{Option: option.Option{Key: keyPublicURL,
		Help: "the https base address Twitch can reach; with " + keyEventSubTransport + "=" + EventSubWebhook +
			" the EBS keeps the chat subscription pointed at <it>/api/twitch/eventsub"},
		devSafe: true, value: value{parse: parsePublicURL, show: func(c Config) string { return c.PublicURL }}},
	// The sign-in settings are devSafe: a streamer tries "mgm-ebs twitch
	// login" locally first, and none of them guards the EBS's own endpoints.
	{Option: option.Option{Key: keyClientSecret, Secret: true,
		Help: "client secret of the Twitch application (" + keyHelixClientID + "): refreshing a confidential client's sign-in, app access tokens"},
		devSafe: true, value: text(func(c *Config) *string { return &c.ClientSecret })},
	{Option: option.Option{Key: keyAuthBaseURL, Default: DefaultAuthBaseURL, Help: "Twitch OAuth root, without /oauth2 (mgm-ebs twitch login, token refresh)"},
		devSafe: true, value: value{parse: parseAuthBaseURL, show: func(c Config) string { return c.AuthBaseURL }}},
	{Option: option.Option{Key: keyTokenEncryptionKey, Secret: true,
		Help: "base64 of 32 random bytes: the stored Twitch sign-in is encrypted with it (AES-256-GCM); keep it, a sign-in stored with it cannot be read without it"},
		devSafe: true, value: value{parse: parseTokenKey, redact: func(c Config) string {
			if len(c.TokenEncryptionKey) == 0 {
				return "not set (the Twitch sign-in is stored unencrypted)"
			}
			return "set (32 bytes)"
		}}},
	{Option: option.Option{Key: keyCurrentVersion, DefaultNote: "build version", Help: "served by GET /api/version"},
		devSafe: true, value: text(func(c *Config) *string { return &c.Version.CurrentVersion })},
	{Option: option.Option{Key: keyReleaseNotesURL, Help: "served by GET /api/version"},
		devSafe: true, value: value{parse: parseReleaseNotes, show: func(c Config) string { return c.Version.ReleaseNotesURL }}},
	{Option: option.Option{Key: keyMinDesktopVersion, Help: "served by GET /api/version"},
		devSafe: true, value: text(func(c *Config) *string { return &c.Version.MinimumDesktopVersion })},
	{Option: option.Option{Key: keyMinAddonVersion, Help: "served by GET /api/version"},
		devSafe: true, value: text(func(c *Config) *string { return &c.Version.MinimumAddonVersion })},
	{Option: option.Option{Key: keyMinExtensionVersion, Help: "served by GET /api/version"},
		devSafe: true, value: text(func(c *Config) *string { return &c.Version.MinimumExtensionVersion })},
}

// options is the documentation half of settings. The environment's default
// is described from the table itself, so the README names exactly the
// settings that select Production.
func options() option.Table {
	t := make(option.Table, len(settings))
	var prod []string
	for i, s := range settings {
		t[i] = s.Option
		if !s.devSafe && s.Key != keyEnvironment {
			prod = append(prod, s.Key)
		}
	}
	t[0].DefaultNote = "Production if " + orList(prod) + " is set, else Development"
	return t
}

// DevBroadcaster is the gift queue's streamer in Development when no
// Twitch__BroadcasterUserId is set; the development panel's tokens carry it
// as their channel_id.
const DevBroadcaster = "dev-channel"

// shortFlags are conveniences for the settings people change by hand most.
var shortFlags = map[string]string{
	"listen":   keyListen,
	"data-dir": keyDataDir,
	"postgres": keyPostgres,
}

// Usage describes the command line and every recognised key.
func Usage() string {
	return `Usage: mgm-ebs [--Section:Key=value ...] [--listen host:port] [--data-dir dir] [--postgres dsn]

Every setting is read from an environment variable named Section__Key and may be
overridden on the command line as --Section:Key=value, --Section__Key=value or
Section:Key=value (keys are case-insensitive there). With nothing configured at
all, mgm-ebs starts in Development mode on 127.0.0.1:8080 with SQLite. Only the
secrets named in Mgm__Environment's default select Production; Development on an
address that is not loopback must be asked for with Mgm__Environment=Development.

Settings:
` + options().Usage() + `
Flags:
  --listen host:port    same as --Mgm:Listen
  --data-dir dir        same as --Mgm:DataDir
  --postgres dsn        same as --ConnectionStrings:PostgreSQL
  -h, --help            show this help
`
}

// text is a setting kept as it is given.
func text(field func(*Config) *string) value {
	return value{
		parse: func(_ *loader, c *Config, v, _ string) { *field(c) = v },
		show:  func(c Config) string { return *field(&c) },
	}
}

func boolean(field func(*Config) *bool) value {
	return value{
		parse: func(l *loader, c *Config, v, key string) { *field(c) = l.boolean(key, v) },
		show:  func(c Config) string { return strconv.FormatBool(*field(&c)) },
	}
}

// rate is a requests-per-minute limit; the upper bound only guards against
// typos that overflow arithmetic in limiters, no real limit comes near it.
func rate(field func(*Config) *int) value {
	return value{
		parse: func(l *loader, c *Config, v, key string) {
			if n, ok := l.intIn(key, v, 0, 1_000_000); ok {
				*field(c) = n
			}
		},
		show: func(c Config) string {
			if n := *field(&c); n != 0 {
				return strconv.Itoa(n) + "/min"
			}
			return "unlimited"
		},
	}
}

// count is a whole number in [lo, hi].
func count(field func(*Config) *int, lo, hi int) value {
	return value{
		parse: func(l *loader, c *Config, v, key string) {
			if n, ok := l.intIn(key, v, lo, hi); ok {
				*field(c) = n
			}
		},
		show: func(c Config) string { return strconv.Itoa(*field(&c)) },
	}
}

func parseEntryRule(l *loader, c *Config, v, key string) {
	switch r := strings.ToLower(strings.TrimSpace(v)); r {
	case EntrySubscribers, EntryEveryone:
		c.Controls.EntryRule = r
	default:
		l.problemf("%s must be %s or %s, got %q", key, EntrySubscribers, EntryEveryone, v)
	}
}

func parseEnvironment(l *loader, c *Config, v, key string) {
	switch strings.ToLower(v) {
	case "development", "dev":
		c.Environment = Development
	case "production", "prod":
		c.Environment = Production
	default:
		l.problemf("%s must be Development or Production, got %q", key, v)
		return
	}
	c.envReason = key + "=" + string(c.Environment)
}

func inferEnvironment(l *loader, c *Config) {
	c.envInferred = true
	if keys := l.productionKeys(); len(keys) > 0 {
		// Fail closed: a half-configured deployment must not silently run
		// with development keys and unverified webhooks.
		c.Environment = Production
		c.envReason = andList(keys) + " are set"
		if len(keys) == 1 {
			c.envReason = keys[0] + " is set"
		}
		return
	}
	// A newcomer who runs the binary with nothing configured, or only with
	// settings that make sense locally, gets a working local server rather
	// than a list of missing secrets.
	c.Environment = Development
	c.envReason = "no Production setting is set"
	if !l.anySet() {
		c.envReason = "nothing configured"
	}
}

func showEnvironment(c Config) string {
	if c.envReason == "" {
		return string(c.Environment)
	}
	return string(c.Environment) + " (" + c.envReason + ")"
}

// andList joins "a", "a and b", "a, b and c".
func andList(items []string) string { return joinLast(items, " and ") }

// orList joins "a", "a or b", "a, b or c".
func orList(items []string) string { return joinLast(items, " or ") }

func joinLast(items []string, last string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + last + items[len(items)-1]
}

func devBroadcaster(_ *loader, c *Config) {
	if c.Development() {
		c.DevBroadcasterUserID = DevBroadcaster
	}
}

func showBroadcaster(c Config) string {
	if c.BroadcasterUserID == "" && c.DevBroadcasterUserID != "" {
		return c.DevBroadcasterUserID + " (development default)"
	}
	return c.BroadcasterUserID
}

func parseListenSetting(l *loader, c *Config, v, key string) {
	if key == keyAspNetURLs {
		// ASP.NET accepts several URLs; one listener is enough for us, and
		// the first is the one deployments put first on purpose.
		v, _, _ = strings.Cut(v, ";")
		v = strings.TrimSpace(v)
	}
	if addr, err := parseListen(v); err != nil {
		l.problemf("%s: %v", key, err)
	} else {
		c.Listen, c.listenKey = addr, key
	}
}

func parseMetricsListen(l *loader, c *Config, v, key string) {
	if addr, err := parseListen(v); err != nil {
		l.problemf("%s: %v", key, err)
	} else {
		c.MetricsListen = addr
	}
}

func parsePostgres(l *loader, c *Config, v, key string) {
	if dsn, err := pgdsn.Normalize(v); err != nil {
		l.problemf("%s: %v", key, err)
	} else {
		c.PostgresDSN = dsn
	}
}

func redactPostgres(c Config) string {
	if c.PostgresDSN == "" {
		return "not set (SQLite in " + c.DataDir + ")"
	}
	return pgdsn.Redact(c.PostgresDSN)
}

func parseSpin(l *loader, c *Config, v, key string) {
	if s, ok := l.intIn(key, v, minSpinSeconds, maxSpinSeconds); ok {
		c.SpinInterval = time.Duration(s) * time.Second
	}
}

func parseProofRetention(l *loader, c *Config, v, key string) {
	if d, ok := l.intIn(key, v, 0, maxProofRetentionDays); ok {
		c.DrawProofRetentionDays = d
	}
}

func parseJobAttemptTimeout(l *loader, c *Config, v, key string) {
	if s, ok := l.intIn(key, v, minJobSeconds, maxJobSeconds); ok {
		c.JobAttemptTimeout = time.Duration(s) * time.Second
	}
}

// parseJobRescueAfter runs after parseJobAttemptTimeout (table order). River
// refuses a rescue before the attempt's timeout; at the timeout itself a
// second worker would find the first's claim and record a failure while the
// first might still post, hence strictly greater.
func parseJobRescueAfter(l *loader, c *Config, v, key string) {
	s, ok := l.intIn(key, v, minJobSeconds, 2*maxJobSeconds)
	if !ok {
		return
	}
	if d := time.Duration(s) * time.Second; c.JobAttemptTimeout > 0 && d <= c.JobAttemptTimeout {
		l.problemf("%s must be greater than %s (%d), got %d", key, keyJobAttemptTimeout, int(c.JobAttemptTimeout/time.Second), s)
	} else {
		c.JobRescueAfter = d
	}
}

func showJobRescueAfter(c Config) string {
	if c.JobRescueAfter == 0 {
		return strconv.Itoa(int((c.JobAttemptTimeout+15*time.Second)/time.Second)) + " (attempt timeout + 15)"
	}
	return strconv.Itoa(int(c.JobRescueAfter / time.Second))
}

func parseEventSubLease(l *loader, c *Config, v, key string) {
	if s, ok := l.intIn(key, v, minLeaseSeconds, maxLeaseSeconds); ok {
		c.EventSubLeaseTTL = time.Duration(s) * time.Second
	}
}

func parseCorsOrigins(l *loader, c *Config, v, key string) {
	for _, o := range splitList(v) {
		norm, err := normalizeOrigin(o)
		if err != nil {
			l.problemf("%s: %v", key, err)
			continue
		}
		c.CorsOrigins = appendUnique(c.CorsOrigins, norm)
	}
}

func defaultCors(_ *loader, c *Config) {
	c.CorsOrigins = defaultCorsOrigins(c.Environment, c.ExtensionClientID, c.Listen)
}

func showCors(c Config) string {
	if len(c.CorsOrigins) == 0 {
		return "none"
	}
	return strings.Join(c.CorsOrigins, ",")
}

func parseLogLevel(l *loader, c *Config, v, key string) {
	switch strings.ToLower(v) {
	case "debug":
		c.LogLevel = "debug"
	case "info", "information":
		c.LogLevel = "info"
	case "warn", "warning":
		c.LogLevel = "warn"
	case "error":
		c.LogLevel = "error"
	default:
		l.problemf("%s must be debug, info, warn or error, got %q", key, v)
	}
}

func parseExtSecret(l *loader, c *Config, v, key string) {
	if b, ok := decodeBase64(v); ok {
		c.ExtensionSecret = b
	} else {
		l.problemf("%s is not valid base64 (copy the extension secret exactly as the Twitch developer console shows it)", key)
	}
}

func redactExtSecret(c Config) string {
	if len(c.ExtensionSecret) == 0 {
		return "not set"
	}
	return fmt.Sprintf("set (%d bytes)", len(c.ExtensionSecret))
}

func parseClientID(l *loader, c *Config, v, key string) {
	if !isClientID(v) {
		l.problemf("%s must contain only letters and digits, got %q", key, v)
	} else {
		c.ExtensionClientID = v
	}
}

func parseOwnerID(l *loader, c *Config, v, key string) {
	if !isUserID(v) {
		l.problemf("%s must be a numeric Twitch user id, got %q", key, v)
	} else {
		c.ExtensionOwnerID = v
	}
}

// isUserID: Twitch user ids are decimal digits.
func isUserID(v string) bool {
	if v == "" || len(v) > 32 {
		return false
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func parseValidateAudience(l *loader, c *Config, v, key string) {
	c.ValidateAudience = l.boolean(key, v)
	if c.ValidateAudience && c.ExtensionClientID == "" {
		l.problemf("%s=true needs %s (the audience to require)", key, keyExtClientID)
	}
}

func parseHelixSetting(l *loader, c *Config, v, key string) {
	if u, err := parseHelixBaseURL(v); err != nil {
		l.problemf("%s: %v", key, err)
	} else {
		c.HelixAPIBaseURL = u
	}
}

func parseReleaseNotes(l *loader, c *Config, v, key string) {
	if !isHTTPURL(v) {
		l.problemf("%s must be an absolute http(s) URL, got %q", key, v)
	} else {
		c.Version.ReleaseNotesURL = v
	}
}

// EventSub transports (Twitch__EventSubTransport).
const (
	EventSubWebhook   = "webhook"
	EventSubWebSocket = "websocket"
)

// DefaultEventSubWebSocketURL is Twitch's EventSub WebSocket server.
const DefaultEventSubWebSocketURL = "wss://eventsub.wss.twitch.tv/ws"

func parseEventSubTransport(l *loader, c *Config, v, key string) {
	switch t := strings.ToLower(strings.TrimSpace(v)); t {
	case EventSubWebhook, EventSubWebSocket:
		c.EventSubTransport = t
	default:
		l.problemf("%s must be %s or %s, got %q", key, EventSubWebhook, EventSubWebSocket, v)
	}
}

func parseEventSubWSURL(l *loader, c *Config, v, key string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		l.problemf("%s must be an absolute ws:// or wss:// URL, got %q", key, v)
		return
	}
	c.EventSubWebSocketURL = v
}

func parsePublicURL(l *loader, c *Config, v, key string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || !isHTTPURL(v) || u.RawQuery != "" || u.Fragment != "" {
		l.problemf("%s must be the absolute https:// address Twitch reaches this EBS at (no query), got %q", key, v)
		return
	}
	c.PublicURL = strings.TrimRight(v, "/")
}

func parseAuthBaseURL(l *loader, c *Config, v, key string) {
	v = strings.TrimRight(v, "/")
	u, err := url.Parse(v)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		l.problemf("%s must be an absolute http(s) URL such as %s", key, DefaultAuthBaseURL)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		l.problemf("%s must be a plain root URL without credentials, query or fragment", key)
	case strings.HasSuffix(strings.ToLower(u.Path), "/oauth2"):
		l.problemf("%s must be the root without the trailing /oauth2 (it is appended to every call), e.g. %s", key, DefaultAuthBaseURL)
	default:
		c.AuthBaseURL = v
	}
}

func parseTokenKey(l *loader, c *Config, v, key string) {
	b, ok := decodeBase64(v)
	switch {
	case !ok:
		l.problemf("%s is not valid base64 (generate one with: openssl rand -base64 32)", key)
	case len(b) != 32:
		l.problemf("%s must decode to 32 bytes, got %d (generate one with: openssl rand -base64 32)", key, len(b))
	default:
		c.TokenEncryptionKey = b
	}
}
