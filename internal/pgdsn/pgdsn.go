// Package pgdsn reads PostgreSQL connection strings in the three forms
// deployments set — the ADO.NET form of the ASP.NET predecessor
// ("Host=…;Database=…"), postgres:// URLs and libpq keyword/value strings — and
// renders them for logs without their credentials.
//
// Errors never quote the connection string or any of its values: a malformed
// string can put the password anywhere.
package pgdsn

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// Normalize returns a connection string pgx accepts. URLs and libpq
// keyword/value strings pass through; the ADO.NET form the predecessor used
// (and existing deployments still set) is converted to a postgres:// URL.
func Normalize(v string) (string, error) {
	if m := schemeRE.FindString(v); m != "" {
		scheme := strings.ToLower(strings.TrimSuffix(m, "://"))
		if scheme != "postgres" && scheme != "postgresql" {
			return "", errors.New("only postgres:// and postgresql:// URLs are supported")
		}
		// pgx recognises the scheme case-sensitively.
		v = scheme + v[len(m)-3:]
		if _, err := url.Parse(v); err != nil {
			return "", errors.New("is not a valid URL (percent-encode special characters in the user name and password)")
		}
		return v, nil
	}
	if isKeywordValue(v) {
		pairs, err := parseKeywordValue(v)
		if err != nil {
			return "", fmt.Errorf("is not a valid keyword/value connection string: %v", err)
		}
		for _, p := range pairs {
			if !isLibpqKeyName(p.key) {
				return "", fmt.Errorf("unknown keyword %q in keyword/value connection string (keywords are lowercase, e.g. host, port, dbname, user)", p.key)
			}
		}
		return v, nil
	}
	return adoToURL(v)
}

// libpqKeywords are the keywords libpq (and pgx) know; a string starting with
// one of them, spelled exactly, is a keyword/value string rather than ADO.NET.
var libpqKeywords = []string{
	"host", "hostaddr", "port", "dbname", "database", "user", "password", "passfile",
	"require_auth", "channel_binding", "connect_timeout", "client_encoding", "options",
	"application_name", "fallback_application_name", "keepalives", "keepalives_idle",
	"keepalives_interval", "keepalives_count", "tcp_user_timeout", "replication",
	"gssencmode", "sslmode", "requiressl", "sslnegotiation", "sslcompression", "sslcert",
	"sslkey", "sslpassword", "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir", "sslsni",
	"requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version",
	"min_protocol_version", "max_protocol_version", "krbsrvname", "krbspn", "gsslib",
	"gssdelegation", "service", "servicefile", "target_session_attrs", "load_balance_hosts",
}

// isKeywordValue tells libpq's "host=x dbname=y" from ADO.NET's
// "Host=x;Database=y". Both are key=value lists, so the distinguishing marks
// are ADO.NET's ';' separator and libpq's exact lowercase keywords.
func isKeywordValue(v string) bool {
	if hasUnquotedSemicolon(v) {
		return false
	}
	first, _, _ := strings.Cut(v, "=")
	return slices.Contains(libpqKeywords, strings.TrimSpace(first))
}

func hasUnquotedSemicolon(v string) bool {
	quoted := false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '\'':
			quoted = !quoted
		case ';':
			if !quoted {
				return true
			}
		}
	}
	return false
}

func isLibpqKeyName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

type kvPair struct{ key, value string }

// parseKeywordValue follows the libpq grammar as pgx implements it: keys end
// at '=', values are either '…' with backslash escapes or run to whitespace.
func parseKeywordValue(s string) ([]kvPair, error) {
	const space = " \t\n\r\v\f"
	var out []kvPair
	s = strings.TrimLeft(s, space)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return nil, errors.New("a keyword has no '='")
		}
		key := strings.Trim(s[:eq], space)
		if key == "" || strings.ContainsAny(key, space) {
			return nil, errors.New("a keyword is empty or contains spaces")
		}
		s = strings.TrimLeft(s[eq+1:], space)
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			s = s[1:]
			closed := false
			for len(s) > 0 {
				c := s[0]
				s = s[1:]
				if c == '\'' {
					closed = true
					break
				}
				if c == '\\' && len(s) > 0 {
					c = s[0]
					s = s[1:]
				}
				val.WriteByte(c)
			}
			if !closed {
				return nil, errors.New("unterminated quoted value")
			}
		} else {
			for len(s) > 0 && !strings.ContainsRune(space, rune(s[0])) {
				c := s[0]
				s = s[1:]
				if c == '\\' {
					if len(s) == 0 {
						break
					}
					c = s[0]
					s = s[1:]
				}
				val.WriteByte(c)
			}
		}
		out = append(out, kvPair{key, val.String()})
		s = strings.TrimLeft(s, space)
	}
	return out, nil
}

// parseADO splits an ADO.NET connection string the way
// DbConnectionStringBuilder does: ';'-separated key=value pairs, "==" is a
// literal '=' in a key, values may be quoted with ' or " (a doubled quote
// inside is literal), and whitespace around keys and values is insignificant.
func parseADO(s string) ([]kvPair, error) {
	var out []kvPair
	n := 0
	for {
		s = strings.TrimLeft(s, " \t\r\n;")
		if s == "" {
			return out, nil
		}
		n++
		var key strings.Builder
		found := false
		for len(s) > 0 {
			c := s[0]
			if c == ';' {
				break
			}
			s = s[1:]
			if c == '=' {
				if strings.HasPrefix(s, "=") {
					s = s[1:]
					key.WriteByte('=')
					continue
				}
				found = true
				break
			}
			key.WriteByte(c)
		}
		k := strings.TrimSpace(key.String())
		if !found {
			return nil, fmt.Errorf("element #%d has no '='", n)
		}
		if k == "" {
			return nil, fmt.Errorf("element #%d has an empty key", n)
		}
		s = strings.TrimLeft(s, " \t\r\n")
		var val string
		if len(s) > 0 && (s[0] == '\'' || s[0] == '"') {
			q := s[0]
			s = s[1:]
			var b strings.Builder
			closed := false
			for len(s) > 0 {
				c := s[0]
				s = s[1:]
				if c == q {
					if len(s) > 0 && s[0] == q {
						s = s[1:]
						b.WriteByte(q)
						continue
					}
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("the value of %q has no closing quote", k)
			}
			s = strings.TrimLeft(s, " \t\r\n")
			if len(s) > 0 && s[0] != ';' {
				return nil, fmt.Errorf("unexpected text after the quoted value of %q", k)
			}
			val = b.String()
		} else {
			end := strings.IndexByte(s, ';')
			if end < 0 {
				end = len(s)
			}
			val = strings.TrimSpace(s[:end])
			s = s[end:]
		}
		out = append(out, kvPair{k, val})
	}
}

// adoParams maps Npgsql keywords (lowercase, spaces removed) to libpq
// parameters pgx understands.
var adoParams = map[string]string{
	"host": "host", "server": "host",
	"port":     "port",
	"database": "database", "db": "database",
	"username": "user", "userid": "user", "user": "user", "uid": "user",
	"password": "password", "pwd": "password", "psw": "password",
	"sslmode":                 "sslmode",
	"timeout":                 "connect_timeout",
	"searchpath":              "search_path",
	"applicationname":         "application_name",
	"targetsessionattributes": "target_session_attrs",
	"rootcertificate":         "sslrootcert",
	"sslcertificate":          "sslcert",
	"sslkey":                  "sslkey",
	"sslpassword":             "sslpassword",
	"passfile":                "passfile",
	"kerberosservicename":     "krbsrvname", "krbsrvname": "krbsrvname",
	"options":        "options",
	"timezone":       "timezone",
	"clientencoding": "client_encoding",
}

// adoIgnored are Npgsql settings with no libpq equivalent. Pool sizing and
// timeouts belong to the storage layer's pool and contexts; passing them on
// as unknown parameters would make PostgreSQL reject the connection.
var adoIgnored = []string{
	"pooling", "minpoolsize", "minimumpoolsize", "maxpoolsize", "maximumpoolsize",
	"connectionidlelifetime", "connectionpruninginterval", "connectionlifetime",
	"enlist", "includeerrordetail", "trustservercertificate", "multiplexing",
	"writecoalescingbuffersize", "noresetonclose", "maxautoprepare", "autoprepareminusages",
	"commandtimeout", "internalcommandtimeout", "cancellationtimeout", "keepalive",
	"tcpkeepalive", "tcpkeepalivetime", "tcpkeepaliveinterval", "readbuffersize",
	"writebuffersize", "socketreceivebuffersize", "socketsendbuffersize",
	"servercompatibilitymode", "logparameters", "persistsecurityinfo", "loadbalancehosts",
	"hostrecheckseconds", "encoding", "includerealm", "integratedsecurity",
	"checkcertificaterevocation", "arraynullabilitymode", "loadtabletypes",
	"includefailedbatchedcommand",
}

var sslModes = map[string]string{
	"disable": "disable", "allow": "allow", "prefer": "prefer", "require": "require",
	"verifyca": "verify-ca", "verifyfull": "verify-full",
}

var sessionAttrs = map[string]string{
	"any": "any", "primary": "primary", "standby": "standby", "preferstandby": "prefer-standby",
	"readwrite": "read-write", "readonly": "read-only",
}

func adoToURL(v string) (string, error) {
	pairs, err := parseADO(v)
	if err != nil {
		return "", fmt.Errorf("is not a valid ADO.NET connection string: %v", err)
	}
	params := map[string]string{}
	for _, p := range pairs {
		norm := strings.ToLower(strings.Join(strings.Fields(p.key), ""))
		if slices.Contains(adoIgnored, norm) {
			continue
		}
		name, ok := adoParams[norm]
		if !ok {
			return "", fmt.Errorf("unknown key %q in ADO.NET connection string", p.key)
		}
		if p.value == "" {
			// Npgsql treats an empty value as "use the default".
			delete(params, name)
			continue
		}
		val := p.value
		switch name {
		case "sslmode":
			m, ok := sslModes[enumKey(val)]
			if !ok {
				return "", fmt.Errorf("%q must be Disable, Allow, Prefer, Require, VerifyCA or VerifyFull", p.key)
			}
			val = m
		case "target_session_attrs":
			m, ok := sessionAttrs[enumKey(val)]
			if !ok {
				return "", fmt.Errorf("%q must be Any, Primary, Standby, PreferStandby, ReadWrite or ReadOnly", p.key)
			}
			val = m
		case "connect_timeout":
			if n, err := strconv.Atoi(val); err != nil || n < 0 {
				return "", fmt.Errorf("%q must be a whole number of seconds", p.key)
			}
		case "port":
			if !validPort(val) {
				return "", fmt.Errorf("%q must be a port number", p.key)
			}
		}
		params[name] = val
	}

	hostVal, ok := params["host"]
	if !ok {
		return "", errors.New("the ADO.NET connection string has no Host")
	}
	netloc, socket, err := adoNetloc(hostVal, params["port"])
	if err != nil {
		return "", err
	}
	if socket != "" {
		params["host"] = socket
	} else {
		delete(params, "host")
		delete(params, "port")
	}

	var b strings.Builder
	b.WriteString("postgres://")
	user, hasUser := params["user"]
	pass, hasPass := params["password"]
	if hasUser || hasPass {
		b.WriteString(escapeComponent(user))
		if hasPass {
			b.WriteByte(':')
			b.WriteString(escapeComponent(pass))
		}
		b.WriteByte('@')
	}
	b.WriteString(netloc)
	if db, ok := params["database"]; ok {
		b.WriteByte('/')
		b.WriteString(escapeComponent(db))
	}
	delete(params, "user")
	delete(params, "password")
	delete(params, "database")
	sep := byte('?')
	for _, k := range slices.Sorted(maps.Keys(params)) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(escapeComponent(params[k]))
	}
	return b.String(), nil
}

func enumKey(v string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(v))
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n <= 65535
}

// adoNetloc turns Npgsql's Host (possibly "h1,h2:5433", IPv6, or a Unix
// socket directory) and Port into a URL netloc, or into a socket directory
// that must travel as the host query parameter.
func adoNetloc(hostVal, port string) (netloc, socket string, err error) {
	var hosts []string
	for h := range strings.SplitSeq(hostVal, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return "", "", errors.New("the ADO.NET connection string has an empty Host")
	}
	if strings.HasPrefix(hosts[0], "/") {
		if len(hosts) > 1 {
			return "", "", errors.New("a Unix socket Host cannot be combined with other hosts")
		}
		return "", hosts[0], nil
	}
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		name, hp := h, ""
		ipv6 := false
		switch {
		case strings.HasPrefix(h, "["):
			end := strings.IndexByte(h, ']')
			if end < 0 {
				return "", "", errors.New("Host has an unterminated '[' IPv6 address")
			}
			name, ipv6 = h[1:end], true
			rest := h[end+1:]
			if rest != "" {
				var found bool
				if hp, found = strings.CutPrefix(rest, ":"); !found {
					return "", "", errors.New("Host has text after an IPv6 address")
				}
			}
		case strings.Count(h, ":") > 1:
			ipv6 = true
		case strings.Contains(h, ":"):
			name, hp, _ = strings.Cut(h, ":")
		}
		if hp == "" {
			hp = port
		} else if !validPort(hp) {
			return "", "", errors.New("Host contains an invalid port")
		}
		if !validHostName(name, ipv6) {
			return "", "", errors.New("Host contains a character not allowed in a host name")
		}
		if ipv6 {
			name = "[" + name + "]"
		}
		if hp != "" {
			name += ":" + hp
		}
		out = append(out, name)
	}
	return strings.Join(out, ","), "", nil
}

func validHostName(h string, ipv6 bool) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.':
		case !ipv6 && (c == '-' || c == '_'):
		case ipv6 && c == ':':
		default:
			return false
		}
	}
	return true
}

// escapeComponent percent-encodes everything but RFC 3986 unreserved
// characters. This is stricter than net/url on purpose: pgx decodes URLs the
// way libpq does, which does not treat '+' as a space and splits userinfo at
// the first ':' and '@'.
func escapeComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
