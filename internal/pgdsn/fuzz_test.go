package pgdsn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// dsnForms write one connection in each form a deployment may use, quoting
// every value so that any bytes survive.
var dsnForms = []func(host, user, pass, db string) string{
	func(host, user, pass, db string) string {
		q := func(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }
		return "Host=" + host + ";Username=" + q(user) + ";Password=" + q(pass) + ";Database=" + q(db)
	},
	func(host, user, pass, db string) string {
		pct := func(v string) string {
			var b strings.Builder
			for i := 0; i < len(v); i++ {
				fmt.Fprintf(&b, "%%%02X", v[i])
			}
			return b.String()
		}
		return "postgres://" + pct(user) + ":" + pct(pass) + "@" + host + "/" + pct(db)
	},
	func(host, user, pass, db string) string {
		q := func(v string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'" }
		return "host=" + q(host) + " user=" + q(user) + " password=" + q(pass) + " dbname=" + q(db)
	},
}

// FuzzRedact checks that whatever password a connection string carries —
// as pgx itself reads it — Redact never shows it.
func FuzzRedact(f *testing.F) {
	for form := range dsnForms {
		f.Add(uint8(form), "db", "app", "Db-P@ss;w0rd", "mgm")
		f.Add(uint8(form), "localhost", "postgres", "postgres", "mgm")
		f.Add(uint8(form), "h", "u", "p@ss;w:rd/?#", "mgm")
		f.Add(uint8(form), "h", "u", `a"b;c`, "my db")
		f.Add(uint8(form), "h", "u", "a+b%20c", "")
		f.Add(uint8(form), "h", "u:x", "pa@ss@h", "db")
		f.Add(uint8(form), "h", "u", `it's \ quoted`, "d")
	}
	// A placeholder that shares nothing with what the fuzzer writes tells a
	// leak from a password that merely matches the rest of the string
	// ("mgm" as both password and database name).
	const placeholder = "\x01\x02placeholder\x03\x04"
	f.Fuzz(func(t *testing.T, form uint8, host, user, pass, db string) {
		build := dsnForms[int(form)%len(dsnForms)]
		dsn, err := Normalize(build(host, user, pass, db))
		if err != nil {
			return
		}
		cfg, err := pgconn.ParseConfig(dsn)
		if err != nil || cfg.Password == "" {
			return
		}
		got := Redact(dsn)
		if !strings.Contains(got, cfg.Password) {
			return
		}
		skel, err := Normalize(build(host, user, placeholder, db))
		if err != nil || strings.Contains(Redact(skel), cfg.Password) {
			return
		}
		t.Fatalf("Redact(%q) = %q shows the password %q", dsn, got, cfg.Password)
	})
}
