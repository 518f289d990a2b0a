package option

import (
	"slices"
	"strings"
	"testing"
)

var table = Table{
	{Key: "App__Listen", Aliases: []string{"OLD_URLS"}, Default: "127.0.0.1:1", Help: "where to listen"},
	{Key: "App__Token", Secret: true, Help: "a | b <token>"},
	{Key: "App__Fast", DefaultNote: "slow in Production", DevOnly: true, Help: "short cycles"},
}

func TestParseArgs(t *testing.T) {
	flags, problems, help := ParseArgs([]string{
		"--app:listen=a:1", "/OLD_URLS", "b:2", "App__Token=", "-fast", "x",
	}, table, map[string]string{"fast": "App__Fast"})
	if help || len(problems) != 0 {
		t.Fatalf("help %v, problems %q", help, problems)
	}
	want := map[string]string{"App__Listen": "a:1", "OLD_URLS": "b:2", "App__Token": "", "App__Fast": "x"}
	if len(flags) != len(want) {
		t.Errorf("flags = %q, want %q", flags, want)
	}
	for k, v := range want {
		if got, ok := flags[k]; !ok || got != v {
			t.Errorf("flags[%s] = %q, %v; want %q", k, got, ok, v)
		}
	}
	for _, arg := range []string{"-h", "-help", "--help", "-?", "/?", "help"} {
		if _, _, help := ParseArgs([]string{"--app:listen=a:1", arg}, table, nil); !help {
			t.Errorf("%q is not help", arg)
		}
	}
	_, problems, _ = ParseArgs([]string{"s3cret", "--Nope=s3cret", "--App:Token"}, table, nil)
	if len(problems) != 3 || strings.Contains(strings.Join(problems, "\n"), "s3cret") {
		t.Errorf("problems = %q", problems)
	}
}

func TestLookup(t *testing.T) {
	env := map[string]string{"APP__LISTEN": " upper ", "OLD_URLS": "old", "App__Token": "env"}
	src := Source{Getenv: func(k string) string { return env[k] }, Flags: map[string]string{"OLD_URLS": "flag", "App__Token": ""}}
	if v, k := src.Get(table[0]); v != "flag" || k != "OLD_URLS" {
		t.Errorf("a flag for an alias beats the environment's key: got %q from %s", v, k)
	}
	if v, k := src.Get(table[1]); v != "" || k != "App__Token" {
		t.Errorf("an empty flag hides the environment: got %q from %s", v, k)
	}
	src.Flags = nil
	if v, k := src.Get(table[0]); v != "upper" || k != "App__Listen" {
		t.Errorf("all-caps environment: got %q from %s", v, k)
	}
	if v, _ := (Source{}).Lookup("App__Listen"); v != "" {
		t.Errorf("nil Getenv read %q", v)
	}
}

func TestRendering(t *testing.T) {
	u := table.Usage()
	for _, want := range []string{
		"  App__Listen  where to listen (default: 127.0.0.1:1)\n",
		"  OLD_URLS     fallback for App__Listen\n",
		"  App__Fast    Development only: short cycles (default: slow in Production)\n",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("Usage lacks %q:\n%s", want, u)
		}
	}
	md := strings.Split(strings.TrimSpace(table.Markdown()), "\n")
	want := []string{
		"| key | default | meaning |",
		"|---|---|---|",
		"| `App__Listen` (or `OLD_URLS`) | `127.0.0.1:1` | where to listen |",
		"| `App__Token` | — | a \\| b &lt;token&gt; *(secret)* |",
		"| `App__Fast` | slow in Production | **Development only:** short cycles |",
	}
	if !slices.Equal(md, want) {
		t.Errorf("Markdown =\n%s\nwant\n%s", strings.Join(md, "\n"), strings.Join(want, "\n"))
	}
}
