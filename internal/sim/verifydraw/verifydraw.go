// Package verifydraw is mgm-sim verify-draw: it fetches a cycle's draw
// proof from an EBS and recomputes it with internal/drawproof, trusting
// nothing the EBS says. Anyone can run it; the proof route needs no token.
package verifydraw

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

// maxProofBytes bounds the answer: a proof of 100,000 members is about 6 MB.
const maxProofBytes = 256 << 20

// ErrMismatch is returned when the proof does not check out.
var ErrMismatch = errors.New("the draw does not verify")

// Main runs the subcommand: verify-draw [--commitment HEX] <EBS URL> <cycle id>.
// It prints ✓ and returns nil when every value checks out, or prints what
// differs and returns an error (mgm-sim exits 1).
func Main(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify-draw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	saved := fs.String("commitment", "", "the commitment you saved from the panel before the draw (hex); it must match the revealed seed as well")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the EBS")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mgm-sim verify-draw [--commitment HEX] <EBS URL> <cycle id>")
		fs.PrintDefaults()
	}
	// Flags may come before or after the two arguments.
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) != 2 {
		fs.Usage()
		return errors.New("verify-draw needs the EBS URL and a cycle id")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	p, err := Fetch(ctx, http.DefaultClient, pos[0], pos[1])
	if err != nil {
		return err
	}
	ms := Check(p, pos[1], *saved)
	Report(stdout, p, ms, *saved != "")
	if len(ms) > 0 {
		return ErrMismatch
	}
	return nil
}

// Fetch reads a cycle's proof from the EBS at base.
func Fetch(ctx context.Context, c *http.Client, base, cycleID string) (drawproof.Proof, error) {
	u, err := url.Parse(strings.TrimRight(base, "/") + "/api/roulette/cycles/" + url.PathEscape(cycleID) + "/proof")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return drawproof.Proof{}, fmt.Errorf("%q is not an http(s) URL of an EBS", base)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return drawproof.Proof{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return drawproof.Proof{}, fmt.Errorf("fetch the proof: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // the body is read in full below
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProofBytes+1))
	if err != nil {
		return drawproof.Proof{}, fmt.Errorf("read the proof: %w", err)
	}
	if len(body) > maxProofBytes {
		return drawproof.Proof{}, fmt.Errorf("the proof is larger than %d bytes", maxProofBytes)
	}
	if resp.StatusCode != http.StatusOK {
		var e ebsapi.ErrorBody
		if json.Unmarshal(body, &e) == nil && e.Code != "" {
			return drawproof.Proof{}, fmt.Errorf("no proof to check (HTTP %d, %s): %s", resp.StatusCode, e.Code, e.Message)
		}
		return drawproof.Proof{}, fmt.Errorf("no proof to check: HTTP %d from %s", resp.StatusCode, u)
	}
	var p drawproof.Proof
	if err := json.Unmarshal(body, &p); err != nil {
		return drawproof.Proof{}, fmt.Errorf("the proof is not the expected JSON: %w", err)
	}
	return p, nil
}

// Check recomputes a proof (drawproof.Verify) and also checks that it is
// the proof of the cycle that was asked for: a proof of another cycle would
// verify on its own.
func Check(p drawproof.Proof, cycleID, saved string) []drawproof.Mismatch {
	var ms []drawproof.Mismatch
	if !strings.EqualFold(p.CycleID, cycleID) {
		ms = append(ms, drawproof.Mismatch{Field: "cycleId", Published: p.CycleID, Recomputed: cycleID,
			Detail: "the proof is of another cycle than the one asked for"})
	}
	return append(ms, drawproof.Verify(p, saved)...)
}

// Report prints the outcome for a person.
func Report(w io.Writer, p drawproof.Proof, ms []drawproof.Mismatch, savedChecked bool) {
	if len(ms) > 0 {
		fmt.Fprintf(w, "✗ cycle %s: the draw does not verify (%s):\n", p.CycleID, p.Version)
		for _, m := range ms {
			fmt.Fprintf(w, "  %s\n", m)
		}
		return
	}
	fmt.Fprintf(w, "✓ cycle %s: the draw verifies (%s)\n", p.CycleID, p.Version)
	also := ""
	if savedChecked {
		also = ", and equals the commitment you saved"
	}
	fmt.Fprintf(w, "  commitment  %s = SHA-256(seed)%s\n", p.Commitment, also)
	fmt.Fprintf(w, "  seed        %s\n", p.Seed)
	fmt.Fprintf(w, "  list        %d eligible members in canonical order, SHA-256 %s\n", len(p.List), p.ListHash)
	if p.Index == nil {
		fmt.Fprintln(w, "  index       none: nobody was eligible")
		return
	}
	fmt.Fprintf(w, "  index       %d → %s\n", *p.Index, *p.CandidateCharacterName)
}
