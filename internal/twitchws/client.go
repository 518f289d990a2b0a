// Package twitchws receives EventSub over Twitch's WebSocket transport, for a
// streamer whose EBS has no public HTTPS address
// (https://dev.twitch.tv/docs/eventsub/handling-websocket-events/).
//
// One replica holds the connection (a database lease); it subscribes to the
// broadcaster's chat and live status within the welcome's 10-second window, hands every
// notification to the same ingestion as the webhook (dedupe by message id),
// reconnects when the keepalive goes silent, follows session_reconnect
// without a gap, and answers each close code as Twitch's table says.
package twitchws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/twitchsubs"
)

// Ingester processes one notification or revocation; httpapi.Server's
// IngestEventSub is the one the EBS uses, shared with the webhook.
type Ingester interface {
	IngestEventSub(ctx context.Context, messageID string, env eventsub.Envelope) error
}

// Leaser is the database lease (store.DB implements it).
type Leaser interface {
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	RenewLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// LeaseName is the lease the replicas contend for.
const LeaseName = "twitch-eventsub-websocket"

// Config is what the client needs. Zero durations take the defaults noted.
type Config struct {
	URL           string            // wss://eventsub.wss.twitch.tv/ws
	Helix         *twitchsubs.Helix // with the broadcaster's user token
	BroadcasterID string
	Ingest        Ingester

	Lease    Leaser        // nil: this process always holds the connection
	Holder   string        // this replica's name in the lease; "" = host-pid-random
	LeaseTTL time.Duration // 10 s; renewed every third of it

	WelcomeTimeout  time.Duration // 10 s for the first message after connecting
	KeepaliveMargin time.Duration // 3 s of slack past keepalive_timeout_seconds
	BackoffMin      time.Duration // 1 s
	BackoffMax      time.Duration // 2 min

	HTTP   *http.Client // for the WebSocket handshake; nil = default
	Logger *slog.Logger
	Now    func() time.Time
	// Jitter returns a number in [0, 1); nil = math/rand.
	Jitter func() float64
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.LeaseTTL, 10*time.Second)
	def(&c.WelcomeTimeout, 10*time.Second)
	def(&c.KeepaliveMargin, 3*time.Second)
	def(&c.BackoffMin, time.Second)
	def(&c.BackoffMax, 2*time.Minute)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Jitter == nil {
		c.Jitter = mrand.Float64
	}
	if c.Holder == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.Holder = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	return c
}

// Client is the EventSub WebSocket client. Run it once.
type Client struct {
	cfg Config

	mu    sync.Mutex
	state State
	// reconnects counts session ends by reason (the closed set of reasons()).
	reconnects map[string]int64
}

// New builds a client; Run starts it.
func New(cfg Config) *Client {
	cfg = cfg.withDefaults()
	return &Client{cfg: cfg, state: State{Status: "starting"}, reconnects: map[string]int64{}}
}

// Run holds the lease when it can and the connection while it holds the
// lease, until ctx ends; then it gives the lease up so that another replica
// need not wait for it to expire.
func (c *Client) Run(ctx context.Context) {
	if c.cfg.Lease == nil {
		c.setRole(true)
		c.connectLoop(ctx)
		return
	}
	poll := c.cfg.LeaseTTL / 3
	for {
		now := c.cfg.Now()
		ok, err := c.cfg.Lease.AcquireLease(ctx, LeaseName, c.cfg.Holder, now, now.Add(c.cfg.LeaseTTL))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			c.cfg.Logger.WarnContext(ctx, "could not ask the database for the EventSub WebSocket lease; retrying", "error", err)
		case ok:
			c.cfg.Logger.InfoContext(ctx, "this replica holds the EventSub WebSocket connection", "holder", c.cfg.Holder)
			c.hold(ctx, now.Add(c.cfg.LeaseTTL))
			if ctx.Err() != nil {
				return
			}
		default:
			c.setRole(false)
		}
		if !sleep(ctx, poll) {
			return
		}
	}
}

// hold runs the connection while renewing the lease; it returns when ctx
// ends or the lease is lost (another replica took it, or it could not be
// renewed before it expired).
func (c *Client) hold(ctx context.Context, expires time.Time) {
	c.setRole(true)
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.connectLoop(hctx)
	}()
	stop := func() {
		cancel()
		<-done
		c.setRole(false)
	}
	t := time.NewTicker(c.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			stop()
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer rcancel()
			if err := c.cfg.Lease.ReleaseLease(rctx, LeaseName, c.cfg.Holder); err != nil {
				c.cfg.Logger.Warn("could not give the EventSub WebSocket lease up; another replica takes it when it expires", "error", err)
			}
			return
		case <-t.C:
			now := c.cfg.Now()
			ok, err := c.cfg.Lease.RenewLease(ctx, LeaseName, c.cfg.Holder, now, now.Add(c.cfg.LeaseTTL))
			if err == nil && ok {
				expires = now.Add(c.cfg.LeaseTTL)
				continue
			}
			if err != nil && now.Before(expires) && ctx.Err() == nil {
				c.cfg.Logger.WarnContext(ctx, "could not renew the EventSub WebSocket lease; retrying before it expires", "error", err)
				continue
			}
			if ctx.Err() != nil {
				continue // the Done case stops and releases
			}
			c.cfg.Logger.WarnContext(ctx, "lost the EventSub WebSocket lease; another replica holds the connection now", "error", err)
			stop()
			return
		}
	}
}

// sessionEnd is why a session ended and how to go on.
type sessionEnd struct {
	reason      string
	err         error
	immediate   bool // reconnect without waiting (the first time)
	healthy     bool // the session was welcomed and subscribed: reset the backoff
	needsSignIn bool // only a new sign-in heals it: wait the longest
}

// connectLoop runs sessions one after another until ctx ends.
func (c *Client) connectLoop(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		end := c.session(ctx)
		if ctx.Err() != nil {
			return
		}
		c.sessionEnded(ctx, end)
		if end.healthy {
			attempt = 0
		}
		var d time.Duration
		switch {
		case end.needsSignIn:
			d = c.cfg.BackoffMax
		case end.immediate && attempt == 0:
			d = 0
		default:
			d = c.backoff(attempt)
		}
		attempt++
		if !sleep(ctx, d) {
			return
		}
	}
}

// backoff is exponential from BackoffMin to BackoffMax with jitter over the
// upper half, so that replicas and restarts do not reconnect in step.
func (c *Client) backoff(attempt int) time.Duration {
	d := float64(c.cfg.BackoffMin) * math.Pow(2, float64(min(attempt, 30)))
	d = min(d, float64(c.cfg.BackoffMax))
	return time.Duration(d/2 + d/2*c.cfg.Jitter())
}

// conn is one WebSocket connection of a session.
type conn struct {
	ws *websocket.Conn
	n  int
}

// frame is what a connection's reader hands the session: a message, the
// error that ended the connection, or (dialed) the result of dialing a
// reconnect URL.
type frame struct {
	c      *conn
	data   []byte
	err    error
	dialed bool
}

// oldConnDrain is how long a connection replaced by session_reconnect is
// still read before it is closed.
const oldConnDrain = 2 * time.Second

// session connects to the configured URL and runs until the connection is
// lost; a session_reconnect moves it to the new URL without ending it.
func (c *Client) session(ctx context.Context) sessionEnd {
	sctx, cancel := context.WithCancel(ctx)
	frames := make(chan frame, 256)
	var wg sync.WaitGroup
	var open []*conn
	defer func() {
		for _, oc := range open {
			_ = oc.ws.CloseNow() // the session is over; nothing more to hear
		}
		cancel()
		wg.Wait()
		c.setDisconnected()
	}()
	serial := 0
	read := func(oc *conn) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, data, err := oc.ws.Read(sctx)
				select {
				case frames <- frame{c: oc, data: data, err: err}:
				case <-sctx.Done():
					return
				}
				if err != nil {
					return
				}
			}
		}()
	}
	dial := func(url string) (*conn, error) {
		dctx, dcancel := context.WithTimeout(sctx, c.cfg.WelcomeTimeout)
		defer dcancel()
		ws, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPClient: c.cfg.HTTP})
		if err != nil {
			return nil, err
		}
		ws.SetReadLimit(1 << 20)
		serial++
		return &conn{ws: ws, n: serial}, nil
	}

	cur, err := dial(c.cfg.URL)
	if err != nil {
		return sessionEnd{reason: reasonError, err: fmt.Errorf("could not connect to Twitch's EventSub WebSocket at %s: %w", c.cfg.URL, err)}
	}
	open = append(open, cur)
	read(cur)
	var next *conn
	dialing := false // a reconnect URL is being dialed
	welcomed, subscribed := false, false
	var keepalive time.Duration
	sessionID := ""
	watchdog := time.NewTimer(c.cfg.WelcomeTimeout)
	defer watchdog.Stop()
	quiet := func(d time.Duration) { watchdog.Reset(d) }

	for {
		select {
		case <-ctx.Done():
			return sessionEnd{err: ctx.Err()}
		case <-watchdog.C:
			if !welcomed {
				return sessionEnd{reason: reasonKeepalive, err: fmt.Errorf("Twitch sent no welcome within %s of connecting", c.cfg.WelcomeTimeout)}
			}
			return sessionEnd{reason: reasonKeepalive, healthy: subscribed, immediate: true,
				err: fmt.Errorf("Twitch was silent for longer than the %s keepalive; reconnecting", keepalive)}
		case f := <-frames:
			if f.dialed {
				dialing = false
				if f.err != nil {
					return sessionEnd{reason: reasonReconnect, healthy: subscribed, immediate: true,
						err: fmt.Errorf("could not connect to the reconnect URL Twitch gave: %w", f.err)}
				}
				next = f.c
				open = append(open, next)
				continue
			}
			if f.err != nil {
				if f.c == next {
					// The move failed before the new server welcomed us (4007 is
					// an invalid reconnect URL): start afresh at the configured URL.
					end := c.closed(f.err)
					end.healthy, end.immediate = subscribed, true
					return end
				}
				if f.c != cur {
					continue // a replaced connection closing: the current one decides
				}
				end := c.closed(f.err)
				end.healthy = subscribed
				return end
			}
			var m Message
			if err := json.Unmarshal(f.data, &m); err != nil {
				c.cfg.Logger.WarnContext(ctx, "Twitch sent a WebSocket message that is not JSON; ignored", "conn", f.c.n)
				continue
			}
			if f.c == cur && welcomed {
				quiet(keepalive + c.cfg.KeepaliveMargin)
			}
			c.touch()
			switch m.Metadata.MessageType {
			case TypeWelcome:
				s, err := parseSession(m.Payload)
				if err != nil || s.ID == "" {
					return sessionEnd{reason: reasonError, err: fmt.Errorf("Twitch's welcome carried no session id: %v", err)}
				}
				keepalive = c.cfg.WelcomeTimeout
				if s.KeepaliveTimeoutSeconds != nil {
					keepalive = time.Duration(*s.KeepaliveTimeoutSeconds) * time.Second
				}
				quiet(keepalive + c.cfg.KeepaliveMargin)
				if f.c == next {
					// The new connection carries the subscriptions over: no new
					// subscription. Only now is the old one closed, so every
					// message it still delivered was read.
					old := cur
					cur, next = next, nil
					sessionID = s.ID
					c.setSession(s.ID, true)
					c.count(reasonReconnect)
					c.cfg.Logger.InfoContext(ctx, "moved to Twitch's new EventSub server", "session_id", s.ID)
					wg.Add(1)
					go func() {
						defer wg.Done()
						// Messages Twitch queued on the old connection before
						// the move may still be on their way: its reader keeps
						// delivering them for a moment. Closing at once would
						// drop them, as Close discards the data frames it reads
						// while it waits for the close handshake.
						t := time.NewTimer(oldConnDrain)
						defer t.Stop()
						select {
						case <-t.C:
						case <-sctx.Done():
							return
						}
						_ = old.ws.Close(websocket.StatusNormalClosure, "reconnected")
					}()
					continue
				}
				if f.c != cur || welcomed {
					continue
				}
				welcomed, sessionID = true, s.ID
				c.setSession(s.ID, false)
				if end, ok := c.subscribe(sctx, sessionID, twitchsubs.Wanted(c.cfg.BroadcasterID)...); !ok {
					return end
				}
				subscribed = true
				c.setSubscribed()
			case TypeKeepalive:
			case TypeNotification:
				c.ingest(sctx, eventsub.TypeNotification, m)
			case TypeReconnect:
				if f.c != cur || next != nil || dialing {
					continue
				}
				s, err := parseSession(m.Payload)
				if err != nil || s.ReconnectURL == nil || *s.ReconnectURL == "" {
					return sessionEnd{reason: reasonReconnect, immediate: true, healthy: subscribed,
						err: errors.New("Twitch asked to reconnect without a reconnect URL; connecting afresh")}
				}
				// The old connection stays open (and is read) until the new
				// one's welcome; Twitch gives 30 s for the move.
				quiet(max(keepalive+c.cfg.KeepaliveMargin, 30*time.Second))
				url := *s.ReconnectURL
				dialing = true
				wg.Add(1)
				go func() {
					defer wg.Done()
					nc, err := dial(url)
					select {
					case frames <- frame{c: nc, err: err, dialed: true}:
						if err == nil {
							read(nc)
						}
					case <-sctx.Done():
						if nc != nil {
							_ = nc.ws.CloseNow()
						}
					}
				}()
			case TypeRevocation:
				c.ingest(sctx, eventsub.TypeRevocation, m)
				env, err := eventsub.ParseEnvelope(eventsub.TypeRevocation, m.Payload)
				if err != nil || env.Subscription == nil || !twitchsubs.IsWanted(env.Subscription.Type) {
					continue
				}
				v := twitchsubs.Judge(env.Subscription.Status)
				c.revoked(env.Subscription.Status, v)
				c.cfg.Logger.WarnContext(ctx, "Twitch revoked an EventSub subscription", "type", env.Subscription.Type,
					"reason", env.Subscription.Status, "next", v.Explain)
				switch {
				case v.NeedsSignIn:
					return sessionEnd{reason: reasonRevoked, needsSignIn: true, err: errors.New(v.Explain)}
				case v.Recreate:
					subscribed = false
					// Only the revoked one: the others still deliver on this session.
					want := slices.DeleteFunc(twitchsubs.Wanted(c.cfg.BroadcasterID), func(w twitchsubs.Want) bool {
						return w.Type != env.Subscription.Type
					})
					if end, ok := c.subscribe(sctx, sessionID, want...); !ok {
						return end
					}
					subscribed = true
					c.setSubscribed()
				}
			default:
				c.cfg.Logger.DebugContext(ctx, "unknown EventSub WebSocket message type; ignored", "type", m.Metadata.MessageType)
			}
		}
	}
}

// subscribe creates the subscriptions on the session, chat first. Helix
// retries once with a fresh token after a 401. Any failure ends the
// session: a new one subscribes to everything again, and with
// Mgm__DrawOnlyWhileLive a missed stream.online would hold the draws back
// as surely as missed chat would empty the pool.
func (c *Client) subscribe(ctx context.Context, sessionID string, want ...twitchsubs.Want) (sessionEnd, bool) {
	for _, w := range want {
		_, err := c.cfg.Helix.Create(ctx, w.Type, w.Version, w.Condition, twitchsubs.Transport{Method: "websocket", SessionID: sessionID})
		switch status := twitchsubs.StatusOf(err); {
		case err == nil, status == http.StatusConflict:
			continue
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			msg := "Twitch refused the broadcaster's token for the " + w.Type + " subscription: " + twitchsubs.NeedsSignIn
			if status == http.StatusForbidden && w.Type == twitchsubs.ChatMessageType {
				msg = "the broadcaster's token lacks user:read:chat: " + twitchsubs.NeedsSignIn
			}
			c.setProblem("needs_sign_in", msg)
			return sessionEnd{reason: reasonSubscribe, needsSignIn: true, err: fmt.Errorf("%s (%w)", msg, err)}, false
		default:
			return sessionEnd{reason: reasonSubscribe, err: fmt.Errorf("could not subscribe to %s: %w", w.Type, err)}, false
		}
	}
	return sessionEnd{}, true
}

// ingest hands a message to the shared ingestion. Over WebSocket Twitch does
// not redeliver what we fail to process, so a database hiccup is retried a
// few times here before the message is given up (and logged).
func (c *Client) ingest(ctx context.Context, msgType string, m Message) {
	env, err := eventsub.ParseEnvelope(msgType, m.Payload)
	if err != nil {
		c.cfg.Logger.WarnContext(ctx, "Twitch sent an EventSub payload that is not the documented JSON; ignored",
			"message_id", m.Metadata.MessageID, "error", err)
		return
	}
	for attempt, wait := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 0} {
		err = c.cfg.Ingest.IngestEventSub(ctx, m.Metadata.MessageID, env)
		if err == nil || mgm.ErrorCode(err) != mgm.CodeInternal || wait == 0 || !sleep(ctx, wait) {
			break
		}
		c.cfg.Logger.WarnContext(ctx, "retrying an EventSub message", "message_id", m.Metadata.MessageID, "attempt", attempt+1)
	}
	if err != nil {
		c.cfg.Logger.ErrorContext(ctx, "an EventSub message was not processed", "message_id", m.Metadata.MessageID, "error", err)
	}
}

// closed turns the error that ended the current connection into a session end.
func (c *Client) closed(err error) sessionEnd {
	code := int(websocket.CloseStatus(err))
	if rule, ok := closeRules[code]; ok {
		return sessionEnd{reason: rule.reason, immediate: rule.immediate, err: fmt.Errorf("Twitch closed the connection (%d): %s", code, rule.explain)}
	}
	if code >= 0 {
		return sessionEnd{reason: reasonClosed, err: fmt.Errorf("Twitch closed the connection (%d)", code)}
	}
	return sessionEnd{reason: reasonClosed, err: fmt.Errorf("the connection to Twitch was lost: %w", err)}
}

// sessionEnded records the end of a session.
func (c *Client) sessionEnded(ctx context.Context, end sessionEnd) {
	c.count(end.reason)
	if end.err != nil {
		c.cfg.Logger.WarnContext(ctx, "EventSub WebSocket session ended; reconnecting", "reason", end.reason, "error", end.err)
		if !end.needsSignIn {
			c.setProblem("reconnecting", end.err.Error())
		}
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
