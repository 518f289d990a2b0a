// Command mgm-desktop is the streamer's Desktop companion: it polls the EBS,
// types the addon's commands into WoW, follows WoWChatLog.txt and reports
// what the addon printed, and serves its UI on 127.0.0.1 (opened in the
// browser at start).
//
//	mgm-desktop [--data-dir DIR] [--listen 127.0.0.1:0] [--no-browser]
//	            [--injector auto|windows|simulator] [--wow-sim-url URL] [--log-path FILE]
//	mgm-desktop doctor [--data-dir DIR] [--injector …] [--wow-sim-url URL] [--log-path FILE]
//
// doctor checks the bridge to the addon (a handshake on every route) and
// prints a report to paste into a bug report; it exits 1 when the addon
// did not answer.
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

	"github.com/mimirons-goldomatic/mgm/internal/buildinfo"
	"github.com/mimirons-goldomatic/mgm/internal/desktop"
)

// version and revision are stamped at release (scripts/release):
// -ldflags "-X main.version=1.2.3 -X main.revision=<commit>"; unstamped, the
// version is "dev".
var version, revision = "", ""

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

// errBridgeDown makes `mgm-desktop doctor` exit 1 after its report.
var errBridgeDown = errors.New("doctor: the addon did not answer (the report above says what to do)")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "doctor" {
		return runDoctor(ctx, args[1:], stdout, stderr)
	}
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
		fmt.Fprintf(stderr, "Usage: mgm-desktop [flags]\n       mgm-desktop doctor [flags]   (check the bridge to the addon; see doctor --help)\n\nThe Desktop companion of Mimiron's Gold-o-Matic (version %s).\n\n", buildinfo.Version(version))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	if *showVersion {
		fmt.Fprintln(stdout, "mgm-desktop "+buildinfo.Read(version, revision).String())
		return nil
	}
	o.Version, o.Out = buildinfo.Version(version), stdout
	return desktop.Run(ctx, o)
}

// runDoctor is `mgm-desktop doctor`: it asks the running Desktop (or one
// started just for the check) to run the doctor and prints the report.
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mgm-desktop doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o desktop.Options
	fs.StringVar(&o.DataDir, "data-dir", "", "the Desktop's data folder (default: your config folder/MimironsGoldOMatic)")
	fs.StringVar(&o.Injector, "injector", desktop.InjectorAuto, "when no Desktop is running: how lines reach WoW (auto, windows, simulator)")
	fs.StringVar(&o.WoWSimURL, "wow-sim-url", "", "when no Desktop is running: the WoW client simulator, e.g. http://127.0.0.1:5001")
	fs.StringVar(&o.LogPath, "log-path", "", "when no Desktop is running: the chat log (a file, or a folder containing WoWChatLog.txt)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mgm-desktop doctor [flags]\n\n"+
			"Checks the bridge to the addon: types a handshake into WoW, measures each route back\n"+
			"(screen, chat log, whisper to self) and prints a report to paste into a bug report.\n"+
			"Asks the mgm-desktop already running with this data folder, else starts one for the\n"+
			"check (then the flags below apply). Exit status 0 when the addon answered, 1 otherwise.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see doctor --help)", fs.Args())
	}
	o.Version = buildinfo.Version(version)
	res, err := desktop.Doctor(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, res.Text)
	if !res.OK {
		return errBridgeDown
	}
	return nil
}
