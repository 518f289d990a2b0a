package twitchsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
)

// Extension PubSub as Twitch runs it for an EBS: Helix "Send Extension
// PubSub Message" (https://dev.twitch.tv/docs/api/reference/#send-extension-pubsub-message)
// takes a JWT the EBS signed with the extension secret (role external,
// channel_id, pubsub_perms.send), a Client-Id, and a message of at most
// 5 KB, and answers 204. Its limit is documented as 100 a minute per
// extension and channel; observed, it is a bucket of 100 refilled at one a
// second (github.com/twitchdev/issues/issues/612), which is what this
// stand-in enforces. What Twitch would deliver to panels, test pages read
// as Server-Sent Events.

const (
	// PubSubMaxMessageBytes is Twitch's documented "5 KB" for message.
	PubSubMaxMessageBytes = 5 * 1024
	pubSubBucket          = 100
	pubSubRefill          = time.Second
	pubSubBodyLimit       = 64 << 10
	// maxPubSubMessages bounds each channel's message log.
	maxPubSubMessages = 10000
)

// PubSubModes are the pessimistic cases: what Twitch may do that the EBS
// and the panel must live with.
type PubSubModes struct {
	// DropEvery > 0 accepts every message (204) but never delivers every
	// DropEvery-th one, as PubSub's best-effort delivery may.
	DropEvery int `json:"dropEvery"`
	// DelayMs delays each delivery by this many milliseconds.
	DelayMs int `json:"delayMs"`
	// Always429 refuses every send with 429, as an exhausted bucket does.
	Always429 bool `json:"always429"`
}

// PubSubOptions configure the Extension PubSub stand-in.
type PubSubOptions struct {
	// Key is the decoded extension secret; empty means the development key,
	// as the EBS and the JWT stand-in use in Development.
	Key []byte
	// ClientID, when set, must be the request's Client-Id (the extension's).
	ClientID string
	// OwnerID, when set, must be the token's user_id (the extension's owner).
	OwnerID string
	Modes   PubSubModes
	Now     func() time.Time
	Logger  *slog.Logger
}

// PubSubMessage is one accepted message as GET /_sim/extension-pubsub/{broadcaster} lists it.
type PubSubMessage struct {
	Message    string    `json:"message"`
	ReceivedAt time.Time `json:"receivedAt"`
	// DeliverAt is when subscribers get it (later than ReceivedAt in the delay mode).
	DeliverAt time.Time `json:"deliverAt"`
	// Dropped messages were accepted but are never delivered.
	Dropped bool `json:"dropped"`
}

type pubSubChannel struct {
	log  []PubSubMessage
	base int // absolute index of log[0]: the log is trimmed from the front
	// grew is closed, and replaced, when a message is appended.
	grew     chan struct{}
	accepted int
}

// pubSub is the Extension PubSub stand-in; the Helix stand-in serves it.
type pubSub struct {
	key      []byte
	clientID string
	ownerID  string
	now      func() time.Time
	log      *slog.Logger

	mu       sync.Mutex
	modes    PubSubModes
	channels map[string]*pubSubChannel
	buckets  map[string]*rate.Limiter // per Client-Id and channel
}

func newPubSub(o PubSubOptions) *pubSub {
	key := append([]byte(nil), o.Key...)
	if len(key) == 0 {
		key = auth.DevExtensionSecret()
	}
	return &pubSub{key: key, clientID: o.ClientID, ownerID: o.OwnerID, now: nowFunc(o.Now), log: discardLogger(o.Logger),
		modes: o.Modes, channels: map[string]*pubSubChannel{}, buckets: map[string]*rate.Limiter{}}
}

func (p *pubSub) register(mux *http.ServeMux) {
	mux.HandleFunc("POST /helix/extensions/pubsub", p.handleSend)
	mux.HandleFunc("GET /_sim/extension-pubsub/{broadcaster}", p.handleList)
	mux.HandleFunc("GET /_sim/extension-pubsub/{broadcaster}/stream", p.handleStream)
	mux.HandleFunc("GET /_sim/extension-pubsub/modes", p.handleGetModes)
	mux.HandleFunc("PUT /_sim/extension-pubsub/modes", p.handlePutModes)
	mux.HandleFunc("POST /_sim/extension-pubsub/reset", p.handleReset)
}

func (p *pubSub) channel(id string) *pubSubChannel {
	c := p.channels[id]
	if c == nil {
		c = &pubSubChannel{grew: make(chan struct{})}
		p.channels[id] = c
	}
	return c
}

type pubSubSend struct {
	Message       *string  `json:"message"`
	BroadcasterID string   `json:"broadcaster_id"`
	Target        []string `json:"target"`
}

// verify checks the request as Twitch would; it returns the status and
// message of the refusal, or 0.
func (p *pubSub) verify(r *http.Request, body pubSubSend) (int, string) {
	tok, ok := bearer(r, "Bearer")
	if !ok {
		return http.StatusUnauthorized, "OAuth token is missing"
	}
	cid := strings.TrimSpace(r.Header.Get("Client-Id"))
	switch {
	case cid == "":
		return http.StatusUnauthorized, "Client-Id header required"
	case p.clientID != "" && cid != p.clientID:
		return http.StatusUnauthorized, "Client ID does not match the extension the token was signed for"
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(p.now)).
		ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return p.key, nil })
	if err != nil {
		return http.StatusUnauthorized, "Invalid JWT: " + err.Error()
	}
	str := func(name string) string { s, _ := claims[name].(string); return s }
	switch {
	case str("role") != "external":
		return http.StatusUnauthorized, `JWT role must be "external"`
	case str("user_id") == "":
		return http.StatusUnauthorized, "JWT user_id (the extension owner) is missing"
	case p.ownerID != "" && str("user_id") != p.ownerID:
		return http.StatusUnauthorized, "JWT user_id is not the extension's owner"
	case str("channel_id") == "" || str("channel_id") != body.BroadcasterID:
		return http.StatusUnauthorized, "JWT channel_id does not match broadcaster_id"
	case !permsSend(claims, "broadcast"):
		return http.StatusUnauthorized, `JWT pubsub_perms.send does not allow "broadcast"`
	}
	return 0, ""
}

func permsSend(claims jwt.MapClaims, target string) bool {
	perms, _ := claims["pubsub_perms"].(map[string]any)
	send, _ := perms["send"].([]any)
	for _, s := range send {
		if s == target || s == "*" {
			return true
		}
	}
	return false
}

func (p *pubSub) handleSend(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, pubSubBodyLimit+1))
	var body pubSubSend
	if err != nil || len(raw) > pubSubBodyLimit || json.Unmarshal(raw, &body) != nil {
		helixError(w, http.StatusBadRequest, "The request body is not valid JSON.")
		return
	}
	if status, msg := p.verify(r, body); status != 0 {
		p.log.Info("extension pubsub refused", "status", status, "reason", msg)
		helixError(w, status, msg)
		return
	}
	switch {
	case body.Message == nil:
		helixError(w, http.StatusBadRequest, `Missing required parameter "message"`)
		return
	case len(*body.Message) > PubSubMaxMessageBytes:
		helixError(w, http.StatusBadRequest, fmt.Sprintf("message is %d bytes; the maximum is 5 KB", len(*body.Message)))
		return
	case !slices.Equal(body.Target, []string{"broadcast"}):
		// Twitch also knows "global" and "whisper-<user id>"; the EBS sends
		// only to the channel's broadcast topic, and so may this stand-in.
		helixError(w, http.StatusBadRequest, `target must be ["broadcast"]`)
		return
	}
	now := p.now()
	p.mu.Lock()
	modes := p.modes
	key := r.Header.Get("Client-Id") + "/" + body.BroadcasterID
	b := p.buckets[key]
	if b == nil {
		b = rate.NewLimiter(rate.Every(pubSubRefill), pubSubBucket)
		p.buckets[key] = b
	}
	limited := modes.Always429 || !b.AllowN(now, 1)
	var reset time.Time
	if limited {
		// When the next token is there (Helix sends Unix seconds).
		missing := 1 - b.TokensAt(now)
		reset = now.Add(time.Duration(math.Max(missing, 0) * float64(pubSubRefill)))
		if modes.Always429 {
			reset = now.Add(5 * time.Second)
		}
	} else {
		c := p.channel(body.BroadcasterID)
		c.accepted++
		m := PubSubMessage{Message: *body.Message, ReceivedAt: now, DeliverAt: now.Add(time.Duration(modes.DelayMs) * time.Millisecond),
			Dropped: modes.DropEvery > 0 && c.accepted%modes.DropEvery == 0}
		c.log = append(c.log, m)
		if n := len(c.log) - maxPubSubMessages; n > 0 {
			c.log, c.base = append([]PubSubMessage(nil), c.log[n:]...), c.base+n
		}
		close(c.grew)
		c.grew = make(chan struct{})
	}
	tokens := b.TokensAt(now)
	p.mu.Unlock()

	w.Header().Set("Ratelimit-Limit", strconv.Itoa(pubSubBucket))
	w.Header().Set("Ratelimit-Remaining", strconv.Itoa(int(math.Max(tokens, 0))))
	if limited {
		w.Header().Set("Ratelimit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
		p.log.Info("extension pubsub rate limited", "broadcaster", body.BroadcasterID)
		helixError(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

func (p *pubSub) handleList(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	var out []PubSubMessage
	if c := p.channels[r.PathValue("broadcaster")]; c != nil {
		out = append(out, c.log...)
	}
	p.mu.Unlock()
	if out == nil {
		out = []PubSubMessage{}
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, out)
}

// handleStream delivers the channel's messages from now on as Server-Sent
// Events ("event: broadcast"), each when its DeliverAt has come, dropped
// ones never: what a panel's Twitch.ext.listen('broadcast', …) would get.
func (p *pubSub) handleStream(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("broadcaster")
	rc := http.NewResponseController(w)
	// A stream outlives the server's write timeout.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(http.StatusOK)
	p.mu.Lock()
	c := p.channel(id)
	next := c.base + len(c.log) // only what is sent from now on, as PubSub
	p.mu.Unlock()
	if _, err := io.WriteString(w, "retry: 1000\n: subscribed\n\n"); err != nil {
		return
	}
	_ = rc.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		p.mu.Lock()
		c := p.channel(id)
		if next < c.base {
			next = c.base // trimmed past us: skip what is gone
		}
		var m *PubSubMessage
		if next < c.base+len(c.log) {
			m = &c.log[next-c.base]
		}
		grew := c.grew
		p.mu.Unlock()
		if m == nil {
			select {
			case <-r.Context().Done():
				return
			case <-grew:
			case <-ping.C:
				if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
					return
				}
				_ = rc.Flush()
			}
			continue
		}
		next++
		msg := *m
		if msg.Dropped {
			continue
		}
		if wait := msg.DeliverAt.Sub(p.now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		var b strings.Builder
		b.WriteString("event: broadcast\n")
		for _, line := range strings.Split(msg.Message, "\n") {
			b.WriteString("data: " + line + "\n")
		}
		b.WriteString("\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return
		}
		_ = rc.Flush()
	}
}

func (p *pubSub) handleGetModes(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	m := p.modes
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, m)
}

func (p *pubSub) handlePutModes(w http.ResponseWriter, r *http.Request) {
	var m PubSubModes
	if err := decodeBody(r, controlBodyLimit, &m, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if m.DropEvery < 0 || m.DelayMs < 0 || m.DelayMs > 600_000 {
		writeError(w, http.StatusBadRequest, "dropEvery must be >= 0 and delayMs between 0 and 600000.")
		return
	}
	p.mu.Lock()
	p.modes = m
	for _, c := range p.channels {
		c.accepted = 0 // "every Nth" counts from the change
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, m)
}

// handleReset forgets the messages and refills the buckets; the modes stay.
func (p *pubSub) handleReset(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	for _, c := range p.channels {
		c.base += len(c.log)
		c.log, c.accepted = nil, 0
	}
	p.buckets = map[string]*rate.Limiter{}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}
