// Package option is the settings machinery mgm-ebs and the stand-ins share.
// A program describes its settings once, as a Table; from it follow the
// command-line parser, the lookup in the environment, the --help text and the
// README's settings table, so none of them can drift from the others.
//
// Settings keep the names of the ASP.NET predecessor: an environment variable
// Section__Key (or its all-caps spelling), overridden on the command line as
// --Section:Key=value, --Section__Key=value, --Section:Key value or
// Section:Key=value, with keys case-insensitive there.
package option

import (
	"fmt"
	"strings"
)

// Option describes one setting.
type Option struct {
	// Key is the environment spelling, Section__Key.
	Key string
	// Aliases are older names read when Key is not set, in order of
	// preference (the ASP.NET predecessor's ASPNETCORE_* variables).
	Aliases []string
	// Default is the value used when the setting is not set. DefaultNote
	// describes a default that is not one fixed value ("generated in
	// Development"); at most one of them is set.
	Default     string
	DefaultNote string
	Help        string
	// DevOnly settings are honoured only in Development: elsewhere a value
	// other than the default is ignored or refused.
	DevOnly bool
	// Secret values never appear in logs, errors or the startup banner.
	Secret bool
}

// Names returns the key followed by its aliases, the order Lookup reads them.
func (o Option) Names() []string {
	return append([]string{o.Key}, o.Aliases...)
}

func (o Option) shownDefault() string {
	if o.Default != "" {
		return o.Default
	}
	return o.DefaultNote
}

// Table is the list of a program's settings, in the order --help and the
// README show them.
type Table []Option

// Canonical maps a command-line key (Section:Key or Section__Key, any case)
// to the environment spelling of the key or alias it names.
func (t Table) Canonical(name string) (string, bool) {
	n := strings.ReplaceAll(name, ":", "__")
	for _, o := range t {
		for _, k := range o.Names() {
			if strings.EqualFold(n, k) {
				return k, true
			}
		}
	}
	return "", false
}

// Usage renders one aligned line per setting and alias, for --help.
func (t Table) Usage() string {
	width := 0
	for _, o := range t {
		for _, k := range o.Names() {
			width = max(width, len(k))
		}
	}
	var b strings.Builder
	line := func(key, help, def string) {
		fmt.Fprintf(&b, "  %-*s  %s", width, key, help)
		if def != "" {
			fmt.Fprintf(&b, " (default: %s)", def)
		}
		b.WriteByte('\n')
	}
	for _, o := range t {
		help := o.Help
		if o.DevOnly {
			help = "Development only: " + help
		}
		line(o.Key, help, o.shownDefault())
		for _, a := range o.Aliases {
			line(a, "fallback for "+o.Key, "")
		}
	}
	return b.String()
}

// Markdown renders the table for the README: key (and aliases), default and
// meaning, with Development-only and secret settings marked.
func (t Table) Markdown() string {
	// '<' would open an HTML tag in GitHub's renderer ("Bearer <token>").
	cell := strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;")
	code := func(s string) string { return "`" + cell.Replace(s) + "`" }
	var b strings.Builder
	b.WriteString("| key | default | meaning |\n|---|---|---|\n")
	for _, o := range t {
		key := code(o.Key)
		if len(o.Aliases) > 0 {
			alts := make([]string, len(o.Aliases))
			for i, a := range o.Aliases {
				alts[i] = code(a)
			}
			key += " (or " + strings.Join(alts, ", ") + ")"
		}
		def := "—"
		switch {
		case o.Default != "":
			def = code(o.Default)
		case o.DefaultNote != "":
			def = cell.Replace(o.DefaultNote)
		}
		meaning := cell.Replace(o.Help)
		if o.DevOnly {
			meaning = "**Development only:** " + meaning
		}
		if o.Secret {
			meaning += " *(secret)*"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", key, def, meaning)
	}
	return b.String()
}

// isHelp reports whether arg asks for help, in any of the spellings people
// bring from other tools.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "-?", "/?", "help":
		return true
	}
	return false
}

// ParseArgs reads command-line settings: keys of t in any of the accepted
// spellings, and short flags (--listen, -listen=…) that short maps to a key.
// It returns the values by key, present even when empty (an explicitly empty
// value hides the environment variable), every problem found, and whether
// help was asked for. Problems never echo a value: a stray argument is often
// a secret that lost its key.
//
// It is written by hand because the flag package cannot express Section:Key
// names.
func ParseArgs(args []string, t Table, short map[string]string) (flags map[string]string, problems []string, help bool) {
	flags = map[string]string{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if isHelp(arg) {
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
			problems = append(problems, fmt.Sprintf("unexpected argument #%d; settings are given as --Section:Key=value (see --help)", i+1))
			continue
		}

		key, ok := "", false
		if dashed {
			key, ok = short[strings.ToLower(name)]
		}
		if !ok {
			key, ok = t.Canonical(name)
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

// Source layers command-line values over environment variables.
type Source struct {
	Getenv func(string) string // usually os.Getenv; nil reads nothing
	Flags  map[string]string   // from ParseArgs
}

// Lookup returns the trimmed value of the first of keys that is set, with the
// key it came from (keys[0] when none is). A command-line value beats any
// environment variable, even one of a preferred alias, because it is the most
// deliberate input. An explicitly empty command-line value hides the
// environment variable.
func (s Source) Lookup(keys ...string) (value, key string) {
	for _, k := range keys {
		if v, ok := s.Flags[k]; ok {
			if v = strings.TrimSpace(v); v != "" {
				return v, k
			}
		}
	}
	for _, k := range keys {
		if _, ok := s.Flags[k]; ok {
			continue
		}
		if v := strings.TrimSpace(s.env(k)); v != "" {
			return v, k
		}
	}
	return "", keys[0]
}

// Get looks o up under its key and then its aliases.
func (s Source) Get(o Option) (value, key string) { return s.Lookup(o.Names()...) }

// env also tries the all-caps spelling, which ASP.NET accepted (its keys are
// case-insensitive) and which container tooling often produces.
func (s Source) env(k string) string {
	if s.Getenv == nil {
		return ""
	}
	if v := s.Getenv(k); v != "" {
		return v
	}
	if up := strings.ToUpper(k); up != k {
		return s.Getenv(up)
	}
	return ""
}
