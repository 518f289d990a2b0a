package pgdsn

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Mask replaces credentials in Redact's output.
const Mask = "xxxxx"

// Redact shows where the database of a normalized connection string is,
// without any credential. When the string is too ambiguous to redact with
// certainty it shows only its length.
func Redact(dsn string) string {
	fallback := fmt.Sprintf("set (%d chars)", utf8.RuneCountInString(dsn))
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if r, ok := redactURL(dsn); ok {
			return r
		}
		return fallback
	}
	pairs, err := parseKeywordValue(dsn)
	if err != nil {
		return fallback
	}
	parts := make([]string, 0, len(pairs))
	for _, p := range pairs {
		v := p.value
		if isSecretParam(p.key) {
			v = Mask
		}
		if v == "" || strings.ContainsAny(v, " \t\r\n\v\f'\\") {
			v = "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
		}
		parts = append(parts, p.key+"="+v)
	}
	return strings.Join(parts, " ")
}

func isSecretParam(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "sslpassword"
}

func redactURL(dsn string) (string, bool) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", false
	}
	// pgx, like libpq, ends userinfo at the first '@' before any '/', while
	// net/url uses the last '@' of the authority. Redacting is only safe when
	// both agree on what the password is.
	_, rest, _ := strings.Cut(dsn, "://")
	pgxPass := ""
	if i := strings.IndexAny(rest, "@/"); i >= 0 && rest[i] == '@' {
		_, raw, _ := strings.Cut(rest[:i], ":")
		if pgxPass, err = url.PathUnescape(raw); err != nil {
			return "", false
		}
	}
	goPass := ""
	if u.User != nil {
		goPass, _ = u.User.Password()
	}
	if goPass != pgxPass {
		return "", false
	}
	if _, hasPass := u.User.Password(); hasPass {
		u.User = url.UserPassword(u.User.Username(), Mask)
	}
	if u.RawQuery != "" {
		pairs := strings.Split(u.RawQuery, "&")
		for i, p := range pairs {
			k, _, _ := strings.Cut(p, "=")
			if dk, err := url.PathUnescape(k); err != nil || isSecretParam(dk) {
				pairs[i] = k + "=" + Mask
			}
		}
		u.RawQuery = strings.Join(pairs, "&")
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), true
}
