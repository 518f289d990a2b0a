package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/mimirons-goldomatic/mgm/internal/sim/twitchsim"
)

// requestTimeout bounds one request; an EBS slower than this is reported as
// a transport error rather than hanging the run.
const requestTimeout = 60 * time.Second

// Options describe a load run and its check.
type Options struct {
	// EBS is the EBS's base URL, e.g. http://127.0.0.1:8080.
	EBS string
	// Viewers is how many viewers enroll: indices Start..Start+Viewers-1.
	Viewers int
	// Start is the first viewer index. The pool is taken to hold Start load
	// viewers already (an earlier run from 0), so checkpoints count from it.
	Start int
	// Connections is how many requests are in flight at once, each worker on
	// its own keep-alive connection.
	Connections int
	// EventSubSecret signs the notifications (Twitch__EventSubSecret; empty
	// signs with an empty key, which an EBS without a secret does not check).
	EventSubSecret string
	// ExtensionKey signs the viewer tokens of the check (the decoded
	// Twitch__ExtensionSecret, or auth.DevExtensionSecret()).
	ExtensionKey []byte
	// BroadcasterUserID is the channel of the chat messages and tokens.
	BroadcasterUserID string
	// Client sends the requests; nil means one with Connections keep-alive
	// connections, closed when the phase ends.
	Client *http.Client
	// Now is the clock of timestamps and measurements; nil means time.Now.
	Now func() time.Time
	// NewID makes message ids; nil means random UUIDs, so that a rerun
	// against the same EBS is not taken for Twitch redelivering.
	NewID func() string
	// Warmup is how many "!twgold" lines from non-subscribers (refused by
	// the rules, so the pool stays as it is) Enroll sends over the same
	// connections before its clock starts: the first measured enrollments
	// then find the connections open, the EBS's and the database's
	// statements prepared, and measure the empty pool, not a cold start.
	Warmup int
}

func (o Options) validate() error {
	u, err := url.Parse(o.EBS)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("--ebs %q is not an http(s) URL", o.EBS)
	case o.Viewers < 1:
		return errors.New("--viewers must be at least 1")
	case o.Start < 0 || o.Start+o.Viewers > MaxViewers:
		return fmt.Errorf("viewer indices must lie within 0–%d", MaxViewers-1)
	case o.Connections < 1:
		return errors.New("--connections must be at least 1")
	case o.Warmup < 0 || o.Warmup > MaxViewers: // its names count down from the last viewer's
		return fmt.Errorf("--warmup must lie within 0–%d", MaxViewers)
	case len(o.ExtensionKey) == 0:
		return errors.New("no extension key to sign viewer tokens with")
	}
	return nil
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) base() string { return strings.TrimRight(o.EBS, "/") }

// client returns the client to use and what to call when the phase ends.
func (o Options) client() (*http.Client, func()) {
	if o.Client != nil {
		return o.Client, func() {}
	}
	t := &http.Transport{
		Proxy:               nil, // loopback measurements must not detour through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        o.Connections,
		MaxIdleConnsPerHost: o.Connections,
		MaxConnsPerHost:     o.Connections,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: t, Timeout: requestTimeout}, t.CloseIdleConnections
}

// Sample is one enrollment request.
type Sample struct {
	Viewer Viewer
	// Done is when the answer arrived, from the start of the run.
	Done    time.Duration
	Latency time.Duration
	// Status is the HTTP status, 0 when there was no answer (Err says why).
	Status int
	Err    string
}

// Acknowledged reports whether the EBS answered 2xx.
func (s Sample) Acknowledged() bool { return s.Status >= 200 && s.Status <= 299 }

// Run is the outcome of the enrollment phase.
type Run struct {
	Options Options
	// Started is the moment a Sample's Done counts from.
	Started time.Time
	Elapsed time.Duration
	// Samples are in viewer order.
	Samples []Sample
}

// Acknowledged lists the viewers whose enrollment the EBS answered 2xx.
func (r *Run) Acknowledged() []Viewer {
	var out []Viewer
	for _, s := range r.Samples {
		if s.Acknowledged() {
			out = append(out, s.Viewer)
		}
	}
	return out
}

// Enroll sends one signed channel.chat.message notification "!twgold <name>"
// per viewer, from a subscriber, to <EBS>/api/twitch/eventsub, Connections at
// a time. It stops early only when ctx ends (the samples then say how far it
// got); answers other than 2xx and transport errors are recorded, not fatal.
func Enroll(ctx context.Context, o Options) (*Run, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	newID := o.NewID
	if newID == nil {
		newID = uuid.NewString
	}
	// The stand-in's builder and signer, so that the load is byte for byte
	// what mgm-sim eventsub sends (and Twitch, which it imitates).
	es := twitchsim.NewEventSub(twitchsim.EventSubOptions{
		Secret: o.EventSubSecret, BackendBaseURL: o.base(), BroadcasterUserID: o.BroadcasterUserID, Now: o.Now,
	})
	client, done := o.client()
	defer done()
	target := o.base() + twitchsim.EventSubPath

	run := &Run{Options: o, Samples: make([]Sample, o.Viewers)}
	if err := warmUp(ctx, o, es, client, target, newID); err != nil {
		return nil, err
	}
	start := o.now()
	run.Started = start
	var next atomic.Int64
	var wg sync.WaitGroup
	for range o.Connections {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := int(next.Add(1)) - 1
				if k >= o.Viewers {
					return
				}
				v := ViewerAt(o.Start + k)
				s := Sample{Viewer: v}
				body, h, err := es.SignedChatNotification(twitchsim.SendChatRequest{
					UserID: v.UserID, Login: v.Login, DisplayName: v.Login,
					Text: "!twgold " + v.Character, Subscriber: true,
				}, newID())
				if err != nil {
					s.Err = err.Error()
				} else {
					t0 := o.now()
					s.Status, s.Err = post(ctx, client, target, h, body)
					t1 := o.now()
					s.Latency, s.Done = t1.Sub(t0), t1.Sub(start)
				}
				run.Samples[k] = s
			}
		})
	}
	wg.Wait()
	run.Elapsed = o.now().Sub(start)
	if n := int(next.Load()); n < o.Viewers {
		run.Samples = run.Samples[:n]
	}
	return run, ctx.Err()
}

// warmUp sends o.Warmup refused enrollments ("!twgold" from users who are
// not subscribers, with user ids below every load viewer's) Connections at
// a time. A warm-up line the EBS did not answer 2xx means the run would
// measure a broken EBS: that ends it.
func warmUp(ctx context.Context, o Options, es *twitchsim.EventSub, client *http.Client, target string, newID func() string) error {
	var next atomic.Int64
	var failed atomic.Pointer[string]
	var wg sync.WaitGroup
	for range min(o.Connections, o.Warmup) {
		wg.Go(func() {
			for ctx.Err() == nil && failed.Load() == nil {
				k := int(next.Add(1))
				if k > o.Warmup {
					return
				}
				login := "warmupviewer" + strconv.Itoa(k)
				body, h, err := es.SignedChatNotification(twitchsim.SendChatRequest{
					UserID: strconv.Itoa(userIDBase - k), Login: login, DisplayName: login,
					Text: "!twgold " + characterName(MaxViewers-k), Subscriber: false,
				}, newID())
				status := 0
				if err == nil {
					var msg string
					if status, msg = post(ctx, client, target, h, body); msg != "" {
						err = errors.New(msg)
					}
				}
				if err == nil && (status < 200 || status > 299) {
					err = fmt.Errorf("answered %d", status)
				}
				if err != nil {
					m := fmt.Sprintf("warm-up line %d: %v", k, err)
					failed.CompareAndSwap(nil, &m)
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if m := failed.Load(); m != nil {
		return errors.New(*m)
	}
	return nil
}

// post sends one request and drains the answer, so that the connection is
// reused.
func post(ctx context.Context, client *http.Client, target string, h http.Header, body []byte) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", "mgm-sim load")
	resp, err := client.Do(req)
	if err != nil {
		return 0, transportError(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close() // drained; nothing left to report
	return resp.StatusCode, ""
}

func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
