package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
)

const usageText = `Usage:
  mgm-sim load [--ebs URL] --viewers N [--connections C] [--start N0] [--warmup W]
               [--checkpoints 1000,10000,50000,100000] [--allow-errors] [--json]
  mgm-sim load baseline --store sqlite --dir DIR | --store postgres --dsn DSN
               [--connections C] [--count N] [--json]

load enrolls N distinct subscribers through the EBS's EventSub webhook
(signed channel.chat.message notifications "!twgold <Name>"), C requests at a
time, after W refused lines from non-subscribers that warm the connections
and leave the pool as it is (default 1000), reports the enrollment rate as
the pool grows, then checks with
GET /api/pool/me that every acknowledged viewer is in the pool. It exits
non-zero when any is missing, or when any enrollment was not acknowledged
(2xx) unless --allow-errors.

baseline measures the database's own single-row INSERT rate at the same
concurrency, opened exactly as the EBS opens it.

Settings (environment, as for the EBS): Twitch__EventSubSecret (empty: the
EBS's Development default, unsigned), Twitch__ExtensionSecret (empty: the
development key), Twitch__BroadcasterUserId (empty: ` + config.DevBroadcaster + `).
`

// Main runs mgm-sim load (and load baseline).
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "baseline" {
		return mainBaseline(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("mgm-sim load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	o := Options{}
	fs.StringVar(&o.EBS, "ebs", twitchsim.DefaultBackendBaseURL, "the EBS's base URL")
	fs.IntVar(&o.Viewers, "viewers", 0, "how many viewers enroll")
	fs.IntVar(&o.Connections, "connections", 16, "requests in flight at once")
	fs.IntVar(&o.Start, "start", 0, "first viewer index (the pool already holds that many load viewers)")
	fs.IntVar(&o.Warmup, "warmup", 1000, "refused enrollments (non-subscribers; the pool is unchanged) sent before the clock starts")
	cps := fs.String("checkpoints", joinInts(DefaultCheckpoints), "pool sizes to report the rate at, comma-separated")
	allowErrors := fs.Bool("allow-errors", false, "exit 0 even when some enrollments were not acknowledged")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see mgm-sim load --help)", fs.Arg(0))
	}
	checkpoints, err := parseInts(*cps)
	if err != nil {
		return fmt.Errorf("--checkpoints: %w", err)
	}
	o.EventSubSecret = getenv(twitchsim.KeyEventSubSecret)
	o.ExtensionKey = auth.DevExtensionSecret()
	if v := strings.TrimSpace(getenv(twitchsim.KeyExtensionSecret)); v != "" {
		if o.ExtensionKey, err = twitchsim.DecodeExtensionSecret(v); err != nil {
			return err
		}
	}
	o.BroadcasterUserID = strings.TrimSpace(getenv(twitchsim.KeyBroadcasterUserID))
	if o.BroadcasterUserID == "" {
		o.BroadcasterUserID = config.DevBroadcaster
	}

	run, err := Enroll(ctx, o)
	if err != nil {
		return err
	}
	sum := Summarize(run, checkpoints)
	check, err := Check(ctx, o, run.Acknowledged())
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Load  Summary     `json:"load"`
			Check CheckResult `json:"check"`
		}{sum, check}); err != nil {
			return err
		}
	} else {
		WriteText(stdout, sum, &check)
	}
	switch {
	case !check.OK():
		return fmt.Errorf("%d of %d acknowledged enrollments are not in the pool as sent", check.Checked-check.Present, check.Checked)
	case sum.Acknowledged < sum.Viewers && !*allowErrors:
		return fmt.Errorf("%d of %d enrollments were not acknowledged (--allow-errors accepts that)", sum.Viewers-sum.Acknowledged, sum.Viewers)
	}
	return nil
}

func mainBaseline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mgm-sim load baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	o := BaselineOptions{}
	fs.StringVar(&o.Store, "store", "", "sqlite or postgres")
	fs.StringVar(&o.Dir, "dir", "", "folder for the scratch SQLite file")
	fs.StringVar(&o.DSN, "dsn", "", "PostgreSQL connection string")
	fs.IntVar(&o.Connections, "connections", 16, "concurrent workers")
	fs.IntVar(&o.Count, "count", 20000, "rows to insert")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see mgm-sim load --help)", fs.Arg(0))
	}
	r, err := Baseline(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	WriteBaselineText(stdout, r)
	if r.Failed > 0 {
		return fmt.Errorf("%d of %d inserts failed", r.Failed, r.Count)
	}
	return nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive whole number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}
