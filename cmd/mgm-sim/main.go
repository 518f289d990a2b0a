// Command mgm-sim runs the stand-ins for Twitch and the WoW client that tests,
// CI and demos use instead of the real services (see the README):
//
//	mgm-sim eventsub   Twitch EventSub sender/forwarder        (:9051)
//	mgm-sim jwt        Twitch extension JWT issuer              (:9052)
//	mgm-sim helix      Twitch Helix API, id.twitch.tv OAuth,
//	                   EventSub subscriptions API and WebSocket (:9053)
//	mgm-sim desktop    synthetic Desktop (payout sequence)     (:9054)
//	mgm-sim wow        WoW 3.3.5a client simulator + addon      (:5001)
//	mgm-sim all        eventsub, jwt, helix and desktop together
//	mgm-sim load       enrollment load on an EBS, and the database baseline
//	mgm-sim verify-draw <EBS URL> <cycle id>
//	                   recompute a draw's proof (exit 0 ✓, 1 otherwise)
//	mgm-sim version    the version, Go version and source revision
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/mimirons-goldomatic/mgm/internal/buildinfo"
	"github.com/mimirons-goldomatic/mgm/internal/sim/loadgen"
	"github.com/mimirons-goldomatic/mgm/internal/sim/synthdesktop"
	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
	"github.com/mimirons-goldomatic/mgm/internal/sim/verifydraw"
	"github.com/mimirons-goldomatic/mgm/internal/sim/wowsim"
)

// version and revision are stamped at release (scripts/release):
// -ldflags "-X main.version=1.2.3 -X main.revision=<commit>".
var version, revision = "", ""

// mainFunc runs one stand-in until ctx ends.
type mainFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

func commands() map[string]mainFunc {
	return map[string]mainFunc{
		"eventsub":    twitchsim.MainEventSub,
		"jwt":         twitchsim.MainJWT,
		"helix":       twitchsim.MainHelix,
		"desktop":     synthdesktop.Main,
		"wow":         wowsim.Main,
		"all":         runAll,
		"load":        loadgen.Main,
		"verify-draw": verifydraw.Main,
		"version": func(_ context.Context, _ []string, _ func(string) string, stdout, _ io.Writer) error {
			_, err := fmt.Fprintln(stdout, "mgm-sim "+buildinfo.Read(version, revision).String())
			return err
		},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "mgm-sim: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage(cmds))
		return nil
	}
	f, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown subcommand %q\n%s", args[0], usage(cmds))
	}
	return f(ctx, args[1:], getenv, stdout, stderr)
}

func usage(cmds map[string]mainFunc) string {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	return "usage: mgm-sim <" + strings.Join(names, "|") + "> [--listen host:port] [flags]\n" +
		"Each subcommand takes --help. Settings are environment variables as in the README.\n"
}

// runAll starts the four Twitch and Desktop stand-ins on their default ports
// (each still honours its own environment settings) and stops them together.
func runAll(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return errors.New("all takes no arguments; run the subcommands separately to change ports")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmds := commands()
	// One process: /send-chat of eventsub also reaches the EventSub
	// subscriptions (webhook and WebSocket) created on helix.
	eventSub, helix := twitchsim.LinkedMains()
	cmds["eventsub"], cmds["helix"] = eventSub, helix
	names := []string{"eventsub", "jwt", "helix", "desktop"}
	errc := make(chan error, len(names))
	for _, n := range names {
		go func(n string) {
			err := cmds[n](ctx, nil, getenv, stdout, stderr)
			if err != nil {
				err = fmt.Errorf("%s: %w", n, err)
			}
			errc <- err
		}(n)
	}
	var first error
	for range names {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel() // one failed: stop the others
		}
	}
	return first
}
