package extpubsub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

// Source is the roulette as viewers see it.
type Source interface {
	// PushState is GET /api/roulette/state's answer at now.
	PushState(now time.Time) ebsapi.RouletteState
	// SnapshotChanged is closed once the state may have changed (every
	// tick, and at once after a local change).
	SnapshotChanged() <-chan struct{}
}

// Sender delivers one message to Twitch (Client does).
type Sender interface {
	Send(ctx context.Context, message string) error
}

// Leaser is the database lease (store.DB implements it).
type Leaser interface {
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	RenewLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Observer counts sends (metrics.Metrics implements it).
type Observer interface {
	ExtensionPubSubSent()
	ExtensionPubSubFailed(reason string)
}

// LeaseName is the lease the replicas contend for: one of them pushes.
const LeaseName = "extension-pubsub"

// Config is what a Pusher needs. Zero durations take the defaults noted.
type Config struct {
	Sender Sender
	Source Source
	// BroadcasterID is shown in the status.
	BroadcasterID string

	Lease    Leaser        // nil: this process always pushes
	Holder   string        // this replica's name in the lease; "" = host-pid-random
	LeaseTTL time.Duration // 10 s; renewed every third of it

	// Coalesce spaces messages that only change the pool's count and
	// names (10 s).
	Coalesce time.Duration
	// MinInterval spaces any two sends (1 s): Twitch refills its bucket of
	// 100 at one per second (github.com/twitchdev/issues/issues/612).
	MinInterval time.Duration

	Observer Observer
	Logger   *slog.Logger
	Now      func() time.Time
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.LeaseTTL, 10*time.Second)
	def(&c.Coalesce, 10*time.Second)
	def(&c.MinInterval, time.Second)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Holder == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.Holder = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	return c
}

type nopObserver struct{}

func (nopObserver) ExtensionPubSubSent()         {}
func (nopObserver) ExtensionPubSubFailed(string) {}

// Pusher sends the roulette state to the panel whenever it changes in a way
// viewers see. Run it once.
type Pusher struct {
	cfg   Config
	limit *rate.Limiter

	// Only Run's goroutine touches these.
	holder    bool
	expires   time.Time // when the lease held lapses unless renewed
	sent      *view     // the last view Twitch accepted while holding; nil after taking the lease
	sentAt    time.Time
	nextSeq   int64
	failures  int       // consecutive failed sends
	notBefore time.Time // a retry's backoff or a 429's reset

	// lastSeq is the seq of the last accepted message; viewers' receipts
	// above it are not believed.
	lastSeq atomic.Int64
	// confirmedSeq and confirmedAt (Unix ns) are the highest seq a viewer's
	// request reported, and when it was first reported.
	confirmedSeq atomic.Int64
	confirmedAt  atomic.Int64

	mu     sync.Mutex
	status Status
}

// New builds a pusher; Run starts it.
func New(cfg Config) *Pusher {
	cfg = cfg.withDefaults()
	p := &Pusher{cfg: cfg, limit: rate.NewLimiter(rate.Every(cfg.MinInterval), 1)}
	p.status = Status{State: StateStarting, BroadcasterID: cfg.BroadcasterID, Since: cfg.Now()}
	return p
}

// Run pushes while this replica holds the lease, until ctx ends; then it
// gives the lease up so another replica need not wait for it to expire.
func (p *Pusher) Run(ctx context.Context) {
	p.mu.Lock()
	p.status.Since = p.cfg.Now() // for "no viewer has confirmed a push since"
	p.mu.Unlock()
	leaseTick := time.NewTicker(p.cfg.LeaseTTL / 3)
	defer leaseTick.Stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	changed := p.cfg.Source.SnapshotChanged()
	p.checkLease(ctx)
	p.step(ctx, timer)
	for {
		select {
		case <-ctx.Done():
			p.release(ctx)
			return
		case <-leaseTick.C:
			p.checkLease(ctx)
		case <-changed:
			changed = p.cfg.Source.SnapshotChanged()
		case <-timer.C:
		}
		p.step(ctx, timer)
	}
}

// checkLease takes the lease when free, or renews it when held.
func (p *Pusher) checkLease(ctx context.Context) {
	if p.cfg.Lease == nil {
		p.setHolder(true)
		return
	}
	now := p.cfg.Now()
	until := now.Add(p.cfg.LeaseTTL)
	var ok bool
	var err error
	if p.holder {
		ok, err = p.cfg.Lease.RenewLease(ctx, LeaseName, p.cfg.Holder, now, until)
	} else {
		ok, err = p.cfg.Lease.AcquireLease(ctx, LeaseName, p.cfg.Holder, now, until)
	}
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		// A renewal that fails keeps pushing until the lease would have
		// expired, not after: by then another replica may hold it.
		p.cfg.Logger.WarnContext(ctx, "could not ask the database for the extension push lease; retrying", "error", err)
		if p.holder && !now.Before(p.expires) {
			p.setHolder(false)
		}
		return
	}
	if ok {
		p.expires = until
	}
	if p.holder && !ok {
		p.cfg.Logger.WarnContext(ctx, "lost the extension push lease; another replica pushes now")
	}
	if !p.holder && ok {
		p.cfg.Logger.InfoContext(ctx, "this replica pushes the panel's state through Extension PubSub", "holder", p.cfg.Holder)
	}
	p.setHolder(ok)
}

func (p *Pusher) setHolder(holder bool) {
	if holder && !p.holder {
		// A new holding: the panels may have missed anything meanwhile, so
		// the current state goes out at once, numbered above whatever any
		// replica sent before (seq follows the wall clock's milliseconds).
		p.sent = nil
		p.nextSeq = max(p.nextSeq, p.cfg.Now().UnixMilli())
	}
	p.holder = holder
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.Holder = holder
	switch {
	case !holder:
		p.status.State, p.status.Detail = StateStandby, "another replica pushes the panel's state"
	case p.status.State == StateStarting || p.status.State == StateStandby:
		p.status.State, p.status.Detail = StatePushing, ""
	}
}

func (p *Pusher) release(ctx context.Context) {
	if p.cfg.Lease == nil || !p.holder {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := p.cfg.Lease.ReleaseLease(rctx, LeaseName, p.cfg.Holder); err != nil {
		p.cfg.Logger.Warn("could not give the extension push lease up; another replica takes it when it expires", "error", err)
	}
}

// step sends what is due now and sets timer for what is due later.
func (p *Pusher) step(ctx context.Context, timer *time.Timer) {
	timer.Stop()
	if !p.holder || ctx.Err() != nil {
		return
	}
	now := p.cfg.Now()
	st := p.cfg.Source.PushState(now)
	cur := viewOf(st)
	d := decide(p.sent, cur, p.sentAt, now, p.earliest(now), p.cfg.Coalesce)
	if !d.send {
		return
	}
	if d.at.After(now) {
		timer.Reset(d.at.Sub(now))
		return
	}
	p.limit.AllowN(now, 1) // earliest said a token is there
	p.send(ctx, now, st, cur)
	if ctx.Err() == nil {
		// Anything that changed during the send, or a retry, is due later.
		later := p.cfg.Now()
		if d := decide(p.sent, viewOf(p.cfg.Source.PushState(later)), p.sentAt, later, p.earliest(later), p.cfg.Coalesce); d.send {
			timer.Reset(max(d.at.Sub(later), time.Millisecond))
		}
	}
}

// earliest is when the next send may go: after a failure's backoff and
// within the one-per-second pace.
func (p *Pusher) earliest(now time.Time) time.Time {
	at := p.notBefore
	r := p.limit.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 && now.Add(wait).After(at) {
		at = now.Add(wait)
	}
	r.CancelAt(now)
	return at
}

func (p *Pusher) send(ctx context.Context, now time.Time, st ebsapi.RouletteState, cur view) {
	seq := p.nextSeq
	msg, dropped, err := EncodeState(seq, st, MaxMessageBytes)
	if err == nil && dropped > 0 {
		p.cfg.Logger.DebugContext(ctx, "extension push: names cut to fit 5 KB", "dropped", dropped)
	}
	if err != nil {
		err = &SendError{Reason: ReasonTooLarge, Detail: err.Error()}
	} else {
		err = p.cfg.Sender.Send(ctx, msg)
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return
	}
	done := p.cfg.Now()
	if err == nil {
		p.sent, p.sentAt, p.failures, p.notBefore = &cur, now, 0, time.Time{}
		p.nextSeq++
		p.lastSeq.Store(seq)
		p.cfg.Observer.ExtensionPubSubSent()
		p.mu.Lock()
		p.status.State, p.status.Detail = StatePushing, ""
		p.status.LastSeq, p.status.LastAcceptedAt, p.status.Accepted = seq, done, p.status.Accepted+1
		p.status.RateLimitedUntil = time.Time{}
		p.mu.Unlock()
		return
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Reason: ReasonUnreachable, Detail: err.Error()}
	}
	p.failures++
	p.notBefore = retryAt(se, p.failures, done)
	p.cfg.Observer.ExtensionPubSubFailed(se.Reason)
	if p.failures == 1 || p.failures%20 == 0 {
		p.cfg.Logger.WarnContext(ctx, "extension push failed", "reason", se.Reason, "status", se.Status,
			"detail", se.Detail, "failures", p.failures, "retry_at", p.notBefore)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.State, p.status.Detail = StateFailing, WhatToDo(se)
	if se.Reason == ReasonRateLimited {
		p.status.State, p.status.RateLimitedUntil = StateRateLimited, p.notBefore
	}
	p.status.Failures++
	p.status.LastError = &Failure{At: done, Reason: se.Reason, HTTPStatus: se.Status, Message: se.Detail, WhatToDo: WhatToDo(se)}
}

// retryAt is when to try again after the failures-th failure in a row.
func retryAt(se *SendError, failures int, now time.Time) time.Time {
	switch se.Reason {
	case ReasonRateLimited:
		if !se.RetryAt.IsZero() {
			// Believe the reset, within reason: a wrong clock must not
			// silence the panel for long.
			wait := min(max(se.RetryAt.Sub(now), time.Second), 2*time.Minute)
			return now.Add(wait)
		}
		return now.Add(10 * time.Second)
	case ReasonUnauthorized:
		return now.Add(time.Minute) // only the operator can fix it
	case ReasonRejected, ReasonTooLarge:
		return now.Add(30 * time.Second)
	}
	backoff := time.Second << min(failures-1, 5) // 1 s, 2 s, … 32 s
	return now.Add(min(backoff, 30*time.Second))
}

// WhatToDo tells the streamer how to fix a failure.
func WhatToDo(se *SendError) string {
	switch se.Reason {
	case ReasonUnauthorized:
		return "Twitch refused the push's credentials: check Twitch__ExtensionSecret (the extension's secret from the developer console), " +
			"Twitch__ExtensionOwnerId (the Twitch user id of the extension's owner) and Twitch__ExtensionClientId"
	case ReasonRateLimited:
		return "Twitch rate-limited the pushes to this channel; panels poll slowly until it lifts"
	case ReasonRejected:
		return "Twitch refused the message (" + se.Detail + "); panels poll slowly meanwhile"
	case ReasonTooLarge:
		return "the roulette state did not fit in Extension PubSub's 5 KB; panels poll slowly meanwhile"
	case ReasonTwitchError:
		return "Twitch answered with an error; retrying, panels poll slowly meanwhile"
	default:
		return "Twitch is unreachable (check the network and Twitch__HelixApiBaseUrl); retrying, panels poll slowly meanwhile"
	}
}

// ViewerConfirmed records the seq a viewer's panel reports having received
// (header X-Mgm-Push-Seq). Only seqs this process had accepted count, so a
// made-up number proves nothing. It is called on every viewer request: a
// few atomic operations.
func (p *Pusher) ViewerConfirmed(seq int64) {
	if seq <= 0 || seq > p.lastSeq.Load() {
		return
	}
	for {
		old := p.confirmedSeq.Load()
		if seq <= old {
			return
		}
		if p.confirmedSeq.CompareAndSwap(old, seq) {
			p.confirmedAt.Store(p.cfg.Now().UnixNano())
			return
		}
	}
}

// Status returns the push's condition, for /readyz.
func (p *Pusher) Status() Status {
	p.mu.Lock()
	st := p.status
	p.mu.Unlock()
	if st.LastError != nil {
		e := *st.LastError
		st.LastError = &e
	}
	st.ViewerConfirmedSeq = p.confirmedSeq.Load()
	if st.ViewerConfirmedSeq > 0 {
		st.ViewerConfirmedAt = time.Unix(0, p.confirmedAt.Load()).UTC()
	}
	st.Delivery = delivery(st)
	return st
}
