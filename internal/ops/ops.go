// Package ops holds the operator's subcommands of mgm-ebs — version,
// healthcheck, backup, restore and migrate — which read the same settings as
// the server (environment and --Section:Key=value flags) and act on its
// store without serving.
package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/buildinfo"
	"github.com/mimirons-goldomatic/mgm/internal/config"
)

// Options are the process's pieces a subcommand uses.
type Options struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Version and Revision are the binary's stamps (-ldflags -X main.…).
	Version, Revision string
}

// command runs one subcommand with its arguments and returns the exit status.
type command struct {
	usage string
	run   func(ctx context.Context, args []string, o Options) int
}

func commands() map[string]command {
	return map[string]command{
		"version":     {"version                print the version, Go version and source revision", runVersion},
		"healthcheck": {"healthcheck [--url U]  exit 0 when the EBS's /healthz answers 200 (for a container HEALTHCHECK)", runHealthcheck},
		"backup":      {"backup PATH            copy the SQLite database while the EBS runs (PostgreSQL: print the pg_dump command)", runBackup},
		"restore":     {"restore PATH [--force] put a backup in place of the data folder's database (the EBS stopped)", runRestore},
		"migrate":     {"migrate [--status]     apply the schema migrations, or list applied and pending ones", runMigrate},
	}
}

// Usage lists the subcommands, for mgm-ebs --help.
func Usage() string {
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %s\n", cmds[n].usage)
	}
	return b.String()
}

// Run runs the subcommand name and returns its exit status; ok is false
// when name is not one of these subcommands (the server's own arguments).
// "--version" is taken for "version".
func Run(ctx context.Context, name string, args []string, o Options) (status int, ok bool) {
	if name == "--version" || name == "-version" {
		name = "version"
	}
	c, ok := commands()[name]
	if !ok {
		return 0, false
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return c.run(ctx, args, o), true
}

func runVersion(_ context.Context, args []string, o Options) int {
	if len(args) > 0 {
		fmt.Fprintln(o.Stderr, "mgm-ebs version: takes no arguments")
		return 2
	}
	fmt.Fprintln(o.Stdout, "mgm-ebs "+buildinfo.Read(o.Version, o.Revision).String())
	return 0
}

// args is a subcommand's command line split into its own flags, at most one
// positional argument (first), and the settings left for config.Load.
type args struct {
	path     string
	flags    map[string]string
	settings []string
}

// splitArgs takes the subcommand's own flags (valued: "--url U" or
// "--url=U"; boolean: "--force") out of raw, and a leading positional
// argument when wantPath; the rest are settings.
func splitArgs(raw []string, wantPath bool, valued, boolean []string) (args, error) {
	a := args{flags: map[string]string{}}
	if wantPath && len(raw) > 0 && !strings.HasPrefix(raw[0], "-") {
		a.path, raw = raw[0], raw[1:]
	}
	for i := 0; i < len(raw); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(raw[i], "-"), "=")
		switch {
		case !strings.HasPrefix(raw[i], "-"):
		case contains(boolean, name) && !hasValue:
			a.flags[name] = "true"
			continue
		case contains(valued, name):
			if !hasValue {
				if i+1 >= len(raw) {
					return a, fmt.Errorf("--%s needs a value", name)
				}
				i++
				value = raw[i]
			}
			a.flags[name] = value
			continue
		}
		a.settings = append(a.settings, raw[i])
	}
	return a, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// load reads the server's settings as the server would. When ok is false
// the subcommand ends with status: help was printed (0), or the problems,
// the way the server reports them (2).
func load(name string, settings []string, o Options) (cfg config.Config, status int, ok bool) {
	cfg, err := config.Load(o.Getenv, settings)
	if errors.Is(err, config.ErrHelp) {
		fmt.Fprintf(o.Stdout, "Usage: mgm-ebs %s\n\nSettings are read as the server reads them (environment, --Section:Key=value); see mgm-ebs --help.\n",
			commands()[name].usage)
		return cfg, 0, false
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "mgm-ebs %s: configuration is incomplete:\n%v\n", name, err)
		return cfg, 2, false
	}
	return cfg, 0, true
}

// shellQuote quotes s for a POSIX shell, for commands printed to be copied.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@=,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
