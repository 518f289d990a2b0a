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
	"syscall"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebs"
)

// version is stamped at build time: -ldflags "-X main.version=1.2.3".
var version = ""

func main() {
	cfg, err := config.Load(os.Getenv, os.Args[1:])
	if errors.Is(err, config.ErrHelp) {
		fmt.Print(config.Usage())
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mgm-ebs: configuration is incomplete:\n%v\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ebs.Run(ctx, cfg, ebs.Options{Out: os.Stdout, Logger: logger, Version: version}); err != nil {
		fmt.Fprintf(os.Stderr, "mgm-ebs: %v\n", err)
		os.Exit(1)
	}
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}
