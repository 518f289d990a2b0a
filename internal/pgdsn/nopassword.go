package pgdsn

import (
	"net/url"
	"strings"
)

// WithoutPassword returns a normalized connection string with its
// credentials removed but everything else kept, for a command an operator
// copies (pg_dump, psql): they then give the password through PGPASSWORD or
// ~/.pgpass, never on a command line others can read. ok is false when the
// string is too ambiguous to strip with certainty (see Redact).
func WithoutPassword(dsn string) (string, bool) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if _, ok := redactURL(dsn); !ok {
			return "", false
		}
		u, err := url.Parse(dsn)
		if err != nil {
			return "", false
		}
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
		if u.RawQuery != "" {
			var kept []string
			for p := range strings.SplitSeq(u.RawQuery, "&") {
				k, _, _ := strings.Cut(p, "=")
				if dk, err := url.PathUnescape(k); err != nil || isSecretParam(dk) {
					continue
				}
				kept = append(kept, p)
			}
			u.RawQuery = strings.Join(kept, "&")
		}
		u.Fragment, u.RawFragment = "", ""
		return u.String(), true
	}
	pairs, err := parseKeywordValue(dsn)
	if err != nil {
		return "", false
	}
	parts := make([]string, 0, len(pairs))
	for _, p := range pairs {
		if isSecretParam(p.key) {
			continue
		}
		v := p.value
		if v == "" || strings.ContainsAny(v, " \t\r\n\v\f'\\") {
			v = "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
		}
		parts = append(parts, p.key+"="+v)
	}
	return strings.Join(parts, " "), true
}
