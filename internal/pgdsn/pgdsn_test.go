package pgdsn

import (
	"net/url"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		// user, password and database the URL must decode to, when want is "".
		user, pass, db string
	}{
		{name: "CI ADO.NET", in: "Host=localhost;Port=5432;Database=mgm;Username=postgres;Password=postgres",
			want: "postgres://postgres:postgres@localhost:5432/mgm"},
		{name: "trailing semicolon and spaces", in: " Host = db.example ; Database = mgm ; Username = app ; ",
			want: "postgres://app@db.example/mgm"},
		{name: "lower-case keys and synonyms", in: "server=db;port=6432;user id=app;pwd=pw;db=x",
			want: "postgres://app:pw@db:6432/x"},
		{name: "User ID, UserId, User", in: "Host=h;User ID=a;UserId=b;User=c", want: "postgres://c@h"},
		{name: "single-quoted password with ; and @", in: "Host=h;Username=u;Password='p@ss;w:rd/?#';Database=mgm",
			user: "u", pass: "p@ss;w:rd/?#", db: "mgm"},
		{name: "double-quoted password with doubled quote", in: `Host=h;Username=u;Password="a""b;c";Database=my db`,
			user: "u", pass: `a"b;c`, db: "my db"},
		{name: "plus and percent in password", in: "Host=h;Username=u;Password=a+b%20c", user: "u", pass: "a+b%20c"},
		{name: "SSL Mode Require", in: "Host=h;Database=d;SSL Mode=Require", want: "postgres://h/d?sslmode=require"},
		{name: "SslMode VerifyFull", in: "Host=h;SslMode=VerifyFull", want: "postgres://h?sslmode=verify-full"},
		{name: "VerifyCA", in: "Host=h;sslmode=verify-ca;Database=d", want: "postgres://h/d?sslmode=verify-ca"},
		{name: "mapped parameters", in: "Host=h;Database=d;Timeout=15;Search Path=mgm, public;Application Name=mgm ebs;Target Session Attributes=ReadWrite",
			want: "postgres://h/d?application_name=mgm%20ebs&connect_timeout=15&search_path=mgm%2C%20public&target_session_attrs=read-write"},
		{name: "pool settings ignored", in: "Host=h;Database=d;Pooling=true;Maximum Pool Size=50;Minimum Pool Size=1;Command Timeout=30;Trust Server Certificate=true",
			want: "postgres://h/d"},
		{name: "several hosts", in: "Host=a,b:5433;Port=5432;Database=d", want: "postgres://a:5432,b:5433/d"},
		{name: "IPv6 host", in: "Host=::1;Port=5432;Database=d", want: "postgres://[::1]:5432/d"},
		{name: "Unix socket", in: "Host=/var/run/postgresql;Database=d;Username=u", want: "postgres://u@/d?host=%2Fvar%2Frun%2Fpostgresql"},
		{name: "URL passes through", in: "postgres://u:p%40ss@db:5432/mgm?sslmode=require", want: "postgres://u:p%40ss@db:5432/mgm?sslmode=require"},
		{name: "postgresql URL passes through", in: "postgresql://db/mgm", want: "postgresql://db/mgm"},
		{name: "upper-case scheme is lowered for pgx", in: "POSTGRES://db/mgm", want: "postgres://db/mgm"},
		{name: "keyword/value passes through", in: "host=localhost port=5432 dbname=mgm user=postgres password='a b;c' sslmode=disable",
			want: "host=localhost port=5432 dbname=mgm user=postgres password='a b;c' sslmode=disable"},
		{name: "single lower-case keyword", in: "host=localhost", want: "host=localhost"},
		{name: "single ADO key", in: "Host=localhost", want: "postgres://localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn, err := Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if tt.want != "" {
				if dsn != tt.want {
					t.Errorf("Normalize = %q, want %q", dsn, tt.want)
				}
				return
			}
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatalf("%q does not parse: %v", dsn, err)
			}
			pass, _ := u.User.Password()
			if u.Scheme != "postgres" || u.User.Username() != tt.user || pass != tt.pass || strings.TrimPrefix(u.Path, "/") != tt.db {
				t.Errorf("%q decodes to user %q pass %q db %q; want %q %q %q", dsn, u.User.Username(), pass, u.Path, tt.user, tt.pass, tt.db)
			}
			// pgx ends userinfo at the first '@' and splits it at the first ':'.
			_, rest, _ := strings.Cut(dsn, "://")
			if at := strings.IndexAny(rest, "@/"); at < 0 || rest[at] != '@' || strings.Count(rest[:at], ":") > 1 || strings.Contains(rest, "+") {
				t.Errorf("%q is ambiguous for a libpq-style parser", dsn)
			}
		})
	}

	bad := []struct {
		name, in, want string
		secret         string
	}{
		{"unknown key", "Host=h;Password=hunter2secret;Frobnicate=yes", `unknown key "Frobnicate"`, "hunter2secret"},
		{"bad ssl mode", "Host=h;Password=hunter2secret;SSL Mode=Sometimes", "SSL Mode", "hunter2secret"},
		{"no host", "Database=d;Password=hunter2secret", "no Host", "hunter2secret"},
		{"unterminated quote", "Host=h;Password='hunter2secret", "no closing quote", "hunter2secret"},
		{"element without =", "Host=h;hunter2secret", "element #2 has no '='", "hunter2secret"},
		{"bad port", "Host=h;Port=abc;Password=hunter2secret", "Port", "hunter2secret"},
		{"other scheme", "mysql://u:hunter2secret@h/db", "postgres://", "hunter2secret"},
		{"bad URL", "postgres://u:hunter2secret@h:port/db", "not a valid URL", "hunter2secret"},
		{"bad keyword string", "host=h password='hunter2secret", "keyword/value", "hunter2secret"},
		{"upper-case keyword in keyword string", "host=h Password=hunter2secret", `unknown keyword "Password"`, "hunter2secret"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Normalize(tt.in)
			if err == nil {
				t.Fatal("Normalize accepted it")
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

// redactCases are connection strings of every form, with the password each
// carries and a second secret parameter (sslpassword or password=).
var redactCases = []struct{ name, dsn, pass string }{
	{"ADO.NET", "Host=db;Port=5432;Database=mgm;Username=app;Password='Db-P@ss;w0rd';SSL Password=sslpass-secret", "Db-P@ss;w0rd"},
	{"URL", "postgres://app:Db-P%40ss%3Bw0rd@db:5432/mgm?sslmode=require&password=other-secret", "Db-P@ss;w0rd"},
	{"keyword/value", "host=db dbname=mgm user=app password='Db-P@ss;w0rd' sslpassword=sslpass-secret", "Db-P@ss;w0rd"},
}

func TestRedact(t *testing.T) {
	for _, tt := range redactCases {
		t.Run(tt.name, func(t *testing.T) {
			dsn, err := Normalize(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			got := Redact(dsn)
			for _, s := range []string{tt.pass, url.QueryEscape(tt.pass), escapeComponent(tt.pass), "sslpass-secret", "other-secret"} {
				if strings.Contains(got, s) {
					t.Errorf("Redact(%q) = %q contains %q", dsn, got, s)
				}
			}
			if !strings.Contains(got, "db") || !strings.Contains(got, "mgm") || !strings.Contains(got, Mask) {
				t.Errorf("Redact(%q) = %q should still show host and database", dsn, got)
			}
		})
	}

	// A URL that net/url and libpq split differently is shown only by length.
	if got := Redact("postgres://u:pa@ss@h/db"); strings.Contains(got, "pa") || !strings.HasPrefix(got, "set (") {
		t.Errorf("ambiguous URL redacted as %q", got)
	}
}

func TestWithoutPassword(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://mgm:s3cr%40t@db:5432/mgm?sslmode=require&password=x", "postgres://mgm@db:5432/mgm?sslmode=require"},
		{"postgres://db/mgm", "postgres://db/mgm"},
		{"host=db dbname=mgm user=mgm password='a b' sslmode=disable", "host=db dbname=mgm user=mgm sslmode=disable"},
	} {
		got, ok := WithoutPassword(c.in)
		if !ok || got != c.want {
			t.Errorf("WithoutPassword(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	// pgx and net/url disagree on where this password ends: refused, not guessed.
	if got, ok := WithoutPassword("postgres://u:p@ss@db/mgm"); ok {
		t.Errorf("ambiguous URL stripped to %q", got)
	}
	// The ADO.NET form, as Normalize turns it into a URL.
	n, err := Normalize("Host=db;Port=5432;Database=mgm;Username=mgm;Password=hunter22")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := WithoutPassword(n); !ok || strings.Contains(got, "hunter22") || !strings.Contains(got, "mgm@db:5432/mgm") {
		t.Errorf("WithoutPassword(%q) = %q, %v", n, got, ok)
	}
}
