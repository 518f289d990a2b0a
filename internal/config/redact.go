package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Redacted describes every setting for the startup banner, keyed by its
// environment-variable name. Secrets appear only as "set (N chars)" or
// "not set" (a connection string without its credentials): even a prefix of a
// key narrows a brute-force search, and banners end up in log aggregators
// with wide access.
func (c Config) Redacted() map[string]string {
	m := make(map[string]string, len(settings))
	for _, s := range settings {
		var v string
		switch {
		case s.redact != nil:
			v = s.redact(c)
		case s.Secret:
			v = secretString(s.show(c))
		default:
			v = s.show(c)
		}
		if v == "" {
			v = "not set"
		}
		m[s.Key] = v
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
