// Command mgm-desktop is the streamer's Desktop companion: it polls the EBS,
// types the addon's commands into WoW, follows WoWChatLog.txt and reports
// what the addon printed, and serves its UI on 127.0.0.1 (opened in the
// browser at start).
//
//	mgm-desktop [--data-dir DIR] [--listen 127.0.0.1:0] [--no-browser]
//	            [--injector auto|windows|simulator] [--wow-sim-url URL] [--log-path FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mimirons-goldomatic/mgm/internal/desktop"
)

// version is stamped at release: go build -ldflags "-X main.version=1.2.3".
var version = "0.0.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "mgm-desktop: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mgm-desktop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o desktop.Options
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.StringVar(&o.DataDir, "data-dir", "", "folder for settings.json, the API key and state.json (default: your config folder/MimironsGoldOMatic)")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:0", "address of the local UI (port 0 = a free port)")
	fs.BoolVar(&o.NoBrowser, "no-browser", false, "do not open the UI in the browser")
	fs.StringVar(&o.Injector, "injector", desktop.InjectorAuto, "how lines reach WoW: auto (Windows: WoW itself; elsewhere: the simulator), windows, simulator")
	fs.StringVar(&o.WoWSimURL, "wow-sim-url", "", "WoW client simulator (mgm-sim wow), e.g. http://127.0.0.1:5001")
	fs.StringVar(&o.LogPath, "log-path", "", "chat log to follow for this run (a file, or a folder containing WoWChatLog.txt)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mgm-desktop [flags]\n\nThe Desktop companion of Mimiron's Gold-o-Matic (version %s).\n\n", version)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	if *showVersion {
		fmt.Fprintln(stdout, version)
		return nil
	}
	o.Version, o.Out = version, stdout
	return desktop.Run(ctx, o)
}
