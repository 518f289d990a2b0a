package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Redacted describes every setting for the startup banner, keyed by its
// environment-variable name. Secrets appear only as "set (N chars)" or
// "not set": even a prefix of a key narrows a brute-force search, and banners
// end up in log aggregators with wide access.
func (c Config) Redacted() map[string]string {
	m := map[string]string{
		keyEnvironment:         string(c.Environment),
		keyListen:              c.Listen,
		keyDataDir:             c.DataDir,
		keyAPIKey:              apiKeysSummary(c.APIKeys),
		keyDevSkipSubscriber:   strconv.FormatBool(c.DevSkipSubscriberCheck),
		keyE2eHarness:          strconv.FormatBool(c.EnableE2eHarness),
		keySpinInterval:        strconv.Itoa(int(c.SpinInterval / time.Second)),
		keyRateViewerReads:     rateString(c.RateLimits.ViewerReads),
		keyRateViewerWrites:    rateString(c.RateLimits.ViewerWrites),
		keyRateDesktop:         rateString(c.RateLimits.Desktop),
		keyRateAnonymous:       rateString(c.RateLimits.Anonymous),
		keyMetricsToken:        secretString(c.MetricsToken),
		keyLogLevel:            c.LogLevel,
		keyExtSecret:           "not set",
		keyExtClientID:         orNotSet(c.ExtensionClientID),
		keyValidateAudience:    strconv.FormatBool(c.ValidateAudience),
		keyEventSubSecret:      secretString(c.EventSubSecret),
		keyHelixBaseURL:        c.HelixAPIBaseURL,
		keyHelixClientID:       orNotSet(c.HelixClientID),
		keyBroadcasterToken:    secretString(c.BroadcasterAccessToken),
		keyBroadcasterUserID:   orNotSet(c.BroadcasterUserID),
		keyCurrentVersion:      orNotSet(c.Version.CurrentVersion),
		keyReleaseNotesURL:     orNotSet(c.Version.ReleaseNotesURL),
		keyMinDesktopVersion:   orNotSet(c.Version.MinimumDesktopVersion),
		keyMinAddonVersion:     orNotSet(c.Version.MinimumAddonVersion),
		keyMinExtensionVersion: orNotSet(c.Version.MinimumExtensionVersion),
	}
	if c.envSource != "" {
		m[keyEnvironment] += " (" + c.envSource + ")"
	}
	if c.PostgresDSN == "" {
		m[keyPostgres] = "not set (SQLite in " + c.DataDir + ")"
	} else {
		m[keyPostgres] = redactDSN(c.PostgresDSN)
	}
	if len(c.ExtensionSecret) > 0 {
		m[keyExtSecret] = fmt.Sprintf("set (%d bytes)", len(c.ExtensionSecret))
	}
	if len(c.CorsOrigins) == 0 {
		m[keyCorsOrigins] = "none"
	} else {
		m[keyCorsOrigins] = strings.Join(c.CorsOrigins, ",")
	}
	return m
}

func secretString(s string) string {
	if s == "" {
		return "not set"
	}
	return fmt.Sprintf("set (%d chars)", utf8.RuneCountInString(s))
}

func apiKeysSummary(keys []string) string {
	switch len(keys) {
	case 0:
		return "not set"
	case 1:
		return secretString(keys[0])
	}
	lens := make([]string, len(keys))
	for i, k := range keys {
		lens[i] = strconv.Itoa(utf8.RuneCountInString(k))
	}
	return fmt.Sprintf("set (%d keys: %s chars)", len(keys), strings.Join(lens, ", "))
}

func rateString(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.Itoa(n) + "/min"
}

func orNotSet(s string) string {
	if s == "" {
		return "not set"
	}
	return s
}
