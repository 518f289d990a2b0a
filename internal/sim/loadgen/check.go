package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

// tokenLifetime is long enough for any check; the EBS allows 60 s of skew.
const tokenLifetime = time.Hour

// maxListed caps how many problem viewers a check names.
const maxListed = 20

// CheckResult is what the check found.
type CheckResult struct {
	Checked int `json:"checked"`
	Present int `json:"present"`
	// Missing are viewers the EBS says are not enrolled.
	Missing int `json:"missing"`
	// WrongName are viewers enrolled under another character name.
	WrongName int `json:"wrongName"`
	// Unreadable are viewers whose GET /api/pool/me did not answer 200 with
	// a body (status or transport error in Problems).
	Unreadable     int      `json:"unreadable"`
	Problems       []string `json:"problems,omitempty"` // the first few, one line each
	ElapsedSeconds float64  `json:"elapsedSeconds"`
}

// OK reports whether every checked viewer is in the pool with its name.
func (c CheckResult) OK() bool { return c.Present == c.Checked }

// Check asks the EBS, as each viewer's extension panel would (GET
// /api/pool/me with the viewer's token), whether they are in the pool under
// their character name, Connections at a time. One read per viewer stays far
// inside the per-viewer read limit (Mgm__RateLimits__ViewerReadsPerMinute,
// 120 by default).
func Check(ctx context.Context, o Options, viewers []Viewer) (CheckResult, error) {
	if err := o.validate(); err != nil {
		return CheckResult{}, err
	}
	client, done := o.client()
	defer done()
	target := o.base() + "/api/pool/me"
	start := o.now()

	var mu sync.Mutex
	res := CheckResult{Checked: len(viewers)}
	note := func(v Viewer, problem string, count *int) {
		mu.Lock()
		defer mu.Unlock()
		*count++
		if len(res.Problems) < maxListed {
			res.Problems = append(res.Problems, fmt.Sprintf("viewer %s (%s): %s", v.UserID, v.Character, problem))
		}
	}
	var present atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range o.Connections {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := int(next.Add(1)) - 1
				if k >= len(viewers) {
					return
				}
				v := viewers[k]
				now := o.now()
				tok := auth.SignViewerToken(o.ExtensionKey, auth.TokenClaims{
					UserID: v.UserID, ChannelID: o.BroadcasterUserID, IssuedAt: now, Expires: now.Add(tokenLifetime),
				})
				m, status, err := poolMe(ctx, client, target, tok)
				switch {
				case err != "":
					note(v, err, &res.Unreadable)
				case status != http.StatusOK:
					note(v, fmt.Sprintf("GET /api/pool/me answered %d", status), &res.Unreadable)
				case !m.IsEnrolled:
					note(v, "not in the pool", &res.Missing)
				case m.CharacterName == nil || *m.CharacterName != v.Character:
					got := "no name"
					if m.CharacterName != nil {
						got = *m.CharacterName
					}
					note(v, "in the pool as "+got, &res.WrongName)
				default:
					present.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res.Present = int(present.Load())
	res.ElapsedSeconds = o.now().Sub(start).Seconds()
	return res, ctx.Err()
}

func poolMe(ctx context.Context, client *http.Client, target, token string) (ebsapi.PoolMembership, int, string) {
	var m ebsapi.PoolMembership
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return m, 0, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "mgm-sim load")
	resp, err := client.Do(req)
	if err != nil {
		return m, 0, transportError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return m, 0, "reading the answer: " + err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return m, resp.StatusCode, ""
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, resp.StatusCode, "the answer is not a pool membership: " + err.Error()
	}
	return m, resp.StatusCode, ""
}

// WriteCheckText prints the check for people.
func WriteCheckText(w io.Writer, c CheckResult) {
	verdict := "all present"
	if !c.OK() {
		verdict = fmt.Sprintf("%d missing, %d under another name, %d unreadable", c.Missing, c.WrongName, c.Unreadable)
	}
	fmt.Fprintf(w, "check: %d of %d acknowledged viewers are in the pool with their character names (%s; %.2f s)\n",
		c.Present, c.Checked, verdict, c.ElapsedSeconds)
	for _, p := range c.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
}
