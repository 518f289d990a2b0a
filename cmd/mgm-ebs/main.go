// Command mgm-ebs is the Mimiron's Gold-o-Matic backend. With no
// configuration it runs in Development on 127.0.0.1:8080 with an embedded
// SQLite store under ./mgm-data; see the README for every setting.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebs"
	"github.com/mimirons-goldomatic/mgm/internal/ops"
)

// version and revision are stamped at build time (scripts/release):
// -ldflags "-X main.version=1.2.3 -X main.revision=<commit>".
var version, revision = "", ""

func main() {
	if len(os.Args) > 1 && os.Args[1] == "twitch" {
		os.Exit(twitch(os.Args[2:]))
	}
	if len(os.Args) > 1 {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		status, ok := ops.Run(ctx, os.Args[1], os.Args[2:], ops.Options{
			Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Version: version, Revision: revision,
		})
		stop()
		if ok {
			os.Exit(status)
		}
	}
	cfg, err := config.Load(os.Getenv, os.Args[1:])
	if errors.Is(err, config.ErrHelp) {
		fmt.Print(config.Usage())
		fmt.Print("\nSubcommands:\n  twitch login|status    connect the broadcaster's Twitch account; see mgm-ebs twitch --help\n" + ops.Usage())
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mgm-ebs: configuration is incomplete:\n%v\n", err)
		os.Exit(2)
	}
	setMemoryLimit()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ebs.Run(ctx, cfg, ebs.Options{Out: os.Stdout, Logger: logger, Version: version}); err != nil {
		fmt.Fprintf(os.Stderr, "mgm-ebs: %v\n", err)
		os.Exit(1)
	}
}

// defaultMemoryLimit is the Go heap's soft limit (runtime/debug
// SetMemoryLimit) unless GOMEMLIMIT sets another. Without one the heap
// grows to twice what is live before it is collected, and a draw at 100,000
// members leaves tens of megabytes behind: the EBS peaked at 120–150 MB
// resident; with this limit at 90 MB, and no slower (scripts/perf). It is
// soft: a heap that needs more gets it, the collector merely runs sooner.
const defaultMemoryLimit = 48 << 20

func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// twitch runs "mgm-ebs twitch login|status [settings]" and returns the exit code.
func twitch(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Print(ebs.TwitchUsage)
		return 2
	}
	cfg, err := config.Load(os.Getenv, args[1:])
	if errors.Is(err, config.ErrHelp) {
		fmt.Print(ebs.TwitchUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mgm-ebs: configuration is incomplete:\n%v\n", err)
		return 2
	}
	setMemoryLimit()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ebs.Twitch(ctx, cfg, args[0], ebs.TwitchOptions{Out: os.Stdout, Logger: logger}); err != nil {
		fmt.Fprintf(os.Stderr, "mgm-ebs twitch %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
