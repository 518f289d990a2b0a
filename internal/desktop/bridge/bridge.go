// Package bridge keeps the Desktop's side of the WoW bridge protocol
// (docs/bridge.md) honest: bridge lines are acted on once whichever route
// brought them, the addon's outbox is acknowledged, a handshake measures which
// routes work, and every command stays "typed" until the addon acknowledged
// it, is typed again when it did not, and fails loudly after the last try.
//
// Bridge holds no lock and does no I/O: the engine owns it under its mutex,
// types the lines it returns and feeds it what the routes read. Time is
// always passed in, so tests are exact.
package bridge

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/statefile"
)

// Route is how a bridge line reached the Desktop.
type Route string

// The routes of docs/bridge.md.
const (
	Screen     Route = "screen"
	LogPrint   Route = "log-print"
	LogWhisper Route = "log-whisper"
)

// Routes lists every route, in the order the dashboard shows them.
var Routes = []Route{Screen, LogPrint, LogWhisper}

// Options are the protocol's timings; zero values take the defaults noted.
type Options struct {
	// HandshakeEvery is the pause between handshakes while the bridge is up (2 min).
	HandshakeEvery time.Duration
	// HandshakeRetry is the pause while it is down (30 s).
	HandshakeRetry time.Duration
	// HandshakeTimeout is how long a pong may take (15 s). A bridge with no
	// answer by then is reported down: within one handshake period.
	HandshakeTimeout time.Duration
	// AckTimeout is how long a typed command may wait for its
	// acknowledgement before it is typed again (20 s; whispers wait for the
	// server's echo, up to 10 s in the addon).
	AckTimeout time.Duration
	// MaxTries is how many times a command is typed (3).
	MaxTries int
	// AckEvery spaces the MGM_Ack lines (2 s): each is a line typed into WoW.
	AckEvery time.Duration
	// RetryFailedAfter is how long a command that failed its last try rests
	// before the next handshake that succeeds may start it over (1 min).
	RetryFailedAfter time.Duration
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.HandshakeEvery, 2*time.Minute)
	def(&o.HandshakeRetry, 30*time.Second)
	def(&o.HandshakeTimeout, 15*time.Second)
	def(&o.AckTimeout, 20*time.Second)
	def(&o.AckEvery, 2*time.Second)
	def(&o.RetryFailedAfter, time.Minute)
	if o.MaxTries <= 0 {
		o.MaxTries = 3
	}
}

// State is what must survive a restart: the bridge lines already acted on,
// the player's character (learned from an authentic pong) and the commands
// not finished.
type State struct {
	Seen     *statefile.Set `json:"seenBridgeLines"`
	Self     string         `json:"selfCharacter,omitempty"`
	Commands []*Command     `json:"commands"`
}

const (
	maxSeen     = 5000
	maxCommands = 300
)

// NewState is an empty State.
func NewState() *State { return &State{Seen: statefile.NewSet(maxSeen)} }

// Fill repairs a State read from an older or damaged file.
func (s *State) Fill() {
	if s.Seen == nil {
		s.Seen = statefile.NewSet(maxSeen)
	}
	s.Seen.Max = maxSeen
}

// Bridge is the protocol's state machine. Not safe for concurrent use.
type Bridge struct {
	o    Options
	rand *rand.Rand
	st   *State

	hs       *handshake // the handshake in flight, if any
	last     *Handshake // the last finished one
	nextHS   time.Time  // when the next handshake is due (zero: now)
	arrivals map[Route]time.Time
	toAck    map[string]bool // strip lines acted on, to acknowledge
	ackAt    time.Time       // when the last MGM_Ack was handed out
}

// New returns a Bridge over st (kept by the caller, saved with its state).
func New(o Options, r *rand.Rand, st *State) *Bridge {
	o.defaults()
	st.Fill()
	return &Bridge{o: o, rand: r, st: st, arrivals: map[Route]time.Time{}, toAck: map[string]bool{}}
}

// Options returns the timings in use.
func (b *Bridge) Options() Options { return b.o }

// Self is the player's character, once a pong told it.
func (b *Bridge) Self() string { return b.st.Self }

// ---- bridge lines ----

// Accept records that the bridge line key ("<epoch>:<n>") arrived by route
// at at, and reports whether it is new: only a new line is acted on. A line
// the strip shows is acknowledged (MGM_Ack) whether new or not: the strip
// shows it until it is.
func (b *Bridge) Accept(route Route, key string, at time.Time) bool {
	b.arrivals[route] = at
	if route == Screen {
		b.toAck[key] = true
	}
	if b.st.Seen.Has(key) {
		return false
	}
	b.st.Seen.Add(key)
	return true
}

// Arrived records a marker line without a sequence key (an older addon) on route.
func (b *Bridge) Arrived(route Route, at time.Time) { b.arrivals[route] = at }

// LastArrival is when route last brought a line (zero: never).
func (b *Bridge) LastArrival(route Route) time.Time { return b.arrivals[route] }

// AckLine returns the MGM_Ack line for the strip lines acted on, at most one
// every AckEvery, or "" when there is nothing to acknowledge yet. The caller
// must have saved the work of those lines first: once acknowledged, the
// addon forgets them.
func (b *Bridge) AckLine(now time.Time) string {
	if len(b.toAck) == 0 || (!b.ackAt.IsZero() && now.Sub(b.ackAt) < b.o.AckEvery) {
		return ""
	}
	keys := make([]string, 0, len(b.toAck))
	for k := range b.toAck {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	const prefix, suffix = `/run MGM_Ack("`, `")`
	budget := 254 - len(prefix) - len(suffix)
	var sb strings.Builder
	for _, k := range keys {
		if sb.Len()+len(k)+1 > budget {
			break
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(k)
		delete(b.toAck, k)
	}
	b.ackAt = now
	return prefix + sb.String() + suffix
}

// ---- handshake ----

// Handshake is the outcome of one MGM_Ping.
type Handshake struct {
	Nonce   string    `json:"nonce"`
	Started time.Time `json:"started"`
	// Typed is when the ping's keys went out (zero: not typed).
	Typed time.Time `json:"typed"`
	// TypeError is why the ping could not be typed.
	TypeError string `json:"typeError,omitempty"`
	// RTT is the round trip per route that answered.
	RTT map[Route]time.Duration `json:"rtt"`
	// Done is set once the handshake timed out or every route answered.
	Done bool `json:"done"`
}

// Up reports whether some route answered.
func (h *Handshake) Up() bool { return h != nil && len(h.RTT) > 0 }

type handshake struct{ Handshake }

// HandshakeDue reports whether a handshake should start now.
func (b *Bridge) HandshakeDue(now time.Time) bool {
	return b.hs == nil && !now.Before(b.nextHS)
}

// StartHandshake makes a fresh nonce and returns the MGM_Ping line to type.
// routes (docs/bridge.md) follow the last measurement: whisper each line to
// self only when the whisper was the one route that answered, nudge the
// chat log while a chat-log route works.
func (b *Bridge) StartHandshake(now time.Time) (nonce, line string) {
	nonce = b.token(12)
	b.hs = &handshake{Handshake{Nonce: nonce, Started: now, RTT: map[Route]time.Duration{}}}
	return nonce, fmt.Sprintf(`/run MGM_Ping("%s","%s")`, nonce, b.routeLetters())
}

// CheckNow makes the next handshake due at once (doctor, a new setting).
func (b *Bridge) CheckNow() { b.nextHS = time.Time{} }

func (b *Bridge) routeLetters() string {
	if b.last == nil || !b.last.Up() {
		return "n"
	}
	_, screen := b.last.RTT[Screen]
	_, print := b.last.RTT[LogPrint]
	_, whisper := b.last.RTT[LogWhisper]
	letters := ""
	if whisper && !screen && !print {
		letters += "w"
	}
	if print || whisper {
		letters += "n"
	}
	return letters
}

// PingTyped records the outcome of typing the ping nonce.
func (b *Bridge) PingTyped(nonce string, at time.Time, err error) {
	if b.hs == nil || b.hs.Nonce != nonce {
		return
	}
	if err != nil {
		b.hs.TypeError = err.Error()
		b.finish(at)
		return
	}
	b.hs.Typed = at
}

// Pong records a pong. It reports whether the nonce is one of ours (the
// current or the last handshake): only then is character taken as the
// player's own, the name that makes whispers to self trusted.
func (b *Bridge) Pong(nonce, character string, route Route, at time.Time) bool {
	var h *Handshake
	switch {
	case b.hs != nil && b.hs.Nonce == nonce:
		h = &b.hs.Handshake
	case b.last != nil && b.last.Nonce == nonce:
		h = b.last // a late answer still tells that the route works
	default:
		return false
	}
	if _, ok := h.RTT[route]; !ok {
		from := h.Typed
		if from.IsZero() {
			from = h.Started
		}
		h.RTT[route] = max(at.Sub(from), 0)
	}
	if character != "" {
		b.st.Self = character
	}
	if b.hs != nil && len(b.hs.RTT) == len(Routes) {
		b.finish(at)
	}
	return true
}

// Tick ends a handshake whose time is up. It returns the finished
// handshake when one ended now (to log a change of state), else nil.
func (b *Bridge) Tick(now time.Time) *Handshake {
	if b.hs == nil {
		return nil
	}
	from := b.hs.Typed
	if from.IsZero() {
		from = b.hs.Started
		// Keys wait for the typing guard: the clock starts when they go out,
		// but a ping that cannot go out for that long is a failure too.
		if now.Sub(from) < 4*b.o.HandshakeTimeout {
			return nil
		}
		b.hs.TypeError = "the ping was not typed within " + (4 * b.o.HandshakeTimeout).String() + " (the streamer kept typing, or the typing queue is stuck)"
	} else if now.Sub(from) < b.o.HandshakeTimeout {
		return nil
	}
	return b.finish(now)
}

func (b *Bridge) finish(now time.Time) *Handshake {
	h := b.hs.Handshake
	h.Done = true
	b.hs = nil
	b.last = &h
	if h.Up() {
		b.nextHS = now.Add(b.o.HandshakeEvery)
		b.revive(now)
	} else {
		b.nextHS = now.Add(b.o.HandshakeRetry)
	}
	return &h
}

// Last is the last finished handshake (nil before the first).
func (b *Bridge) Last() *Handshake {
	if b.last == nil {
		return nil
	}
	h := *b.last
	return &h
}

// InFlight is the handshake waiting for answers, or nil.
func (b *Bridge) InFlight() *Handshake {
	if b.hs == nil {
		return nil
	}
	h := b.hs.Handshake
	return &h
}

// Up reports whether the bridge works: the last handshake got an answer, or
// the one in flight already did.
func (b *Bridge) Up() bool {
	return (b.hs != nil && b.hs.Up()) || b.last.Up()
}

// ---- commands ----

// Command is one acknowledged command (docs/bridge.md, "Commands").
type Command struct {
	ID string `json:"id"`
	// Key names the work, e.g. "notify:<payoutId>": one live command per key.
	Key  string `json:"key"`
	Line string `json:"line"`
	// Tries counts the times it was handed out for typing.
	Tries int `json:"tries"`
	// State: queued (to type), typing, typed (waiting for the ack), done, failed.
	State   string    `json:"state"`
	Created time.Time `json:"created"`
	TypedAt time.Time `json:"typedAt"`
	// Result is the ack's result (done) or why it failed.
	Result string    `json:"result,omitempty"`
	EndAt  time.Time `json:"endAt"`
}

// Command states.
const (
	Queued = "queued"
	Typing = "typing"
	Typed  = "typed"
	Done   = "done"
	Failed = "failed"
)

// Live reports whether the command is not finished.
func (c *Command) Live() bool { return c.State != Done && c.State != Failed }

// Find is the newest command for key, or nil.
func (b *Bridge) Find(key string) *Command {
	for i := len(b.st.Commands) - 1; i >= 0; i-- {
		if c := b.st.Commands[i]; c.Key == key {
			return c
		}
	}
	return nil
}

// ByID is the command with that id, or nil.
func (b *Bridge) ByID(id string) *Command {
	for _, c := range b.st.Commands {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// Commands lists the commands remembered, oldest first (copies).
func (b *Bridge) Commands() []Command {
	out := make([]Command, len(b.st.Commands))
	for i, c := range b.st.Commands {
		out[i] = *c
	}
	return out
}

// NewCommand queues a command for key; build receives its id and returns
// the line. A live command for key is returned instead of a second one.
func (b *Bridge) NewCommand(key string, now time.Time, build func(id string) (string, error)) (*Command, error) {
	if c := b.Find(key); c != nil && c.Live() {
		return c, nil
	}
	id := b.token(8)
	line, err := build(id)
	if err != nil {
		return nil, err
	}
	c := &Command{ID: id, Key: key, Line: line, State: Queued, Created: now}
	b.st.Commands = append(b.st.Commands, c)
	b.prune()
	return c, nil
}

// NewTyping is NewCommand for a line the caller types itself right away
// (Sync waits for its own keys): the command starts in Typing, first try.
func (b *Bridge) NewTyping(key string, now time.Time, build func(id string) (string, error)) (*Command, error) {
	if c := b.Find(key); c != nil && c.Live() {
		return nil, fmt.Errorf("%s is already being typed", key)
	}
	c, err := b.NewCommand(key, now, build)
	if err != nil {
		return nil, err
	}
	c.State, c.Tries = Typing, 1
	return c, nil
}

// prune forgets the oldest finished commands beyond the bound (live ones stay).
func (b *Bridge) prune() {
	for over := len(b.st.Commands) - maxCommands; over > 0; over-- {
		for i, c := range b.st.Commands {
			if !c.Live() {
				b.st.Commands = append(b.st.Commands[:i:i], b.st.Commands[i+1:]...)
				break
			}
		}
	}
}

// Due hands out the commands to type now: queued ones, while the bridge is
// up. Each is marked typing; report the outcome with Typed.
func (b *Bridge) Due() []*Command {
	if !b.Up() {
		return nil
	}
	var out []*Command
	for _, c := range b.st.Commands {
		if c.State == Queued {
			c.State = Typing
			c.Tries++
			out = append(out, c)
		}
	}
	return out
}

// Typed records the outcome of typing command id: typed (the ack timeout
// starts), or back to queued after a typing error (or failed after the last try).
func (b *Bridge) Typed(id string, at time.Time, err error) {
	c := b.ByID(id)
	if c == nil || c.State != Typing {
		return
	}
	if err == nil {
		c.State, c.TypedAt = Typed, at
		return
	}
	b.retryOrFail(c, at, "typing failed: "+err.Error())
}

func (b *Bridge) retryOrFail(c *Command, at time.Time, why string) {
	if c.Tries >= b.o.MaxTries {
		c.State, c.Result, c.EndAt = Failed, why, at
		return
	}
	c.State, c.Result = Queued, why
}

// Ack records the addon's acknowledgement of command id and returns the
// command, or nil for an id the Desktop does not know (or forgot).
func (b *Bridge) Ack(id, result string, at time.Time) *Command {
	c := b.ByID(id)
	if c == nil {
		return nil
	}
	c.State, c.Result, c.EndAt = Done, result, at
	return c
}

// Expire types again the commands whose ack did not arrive in time and fails
// those past their last try; it returns the ones that failed now.
func (b *Bridge) Expire(now time.Time) []*Command {
	var failed []*Command
	for _, c := range b.st.Commands {
		if c.State != Typed || now.Sub(c.TypedAt) < b.o.AckTimeout {
			continue
		}
		b.retryOrFail(c, now, fmt.Sprintf("no acknowledgement from the addon within %s (try %d of %d)", b.o.AckTimeout, c.Tries, b.o.MaxTries))
		if c.State == Failed {
			failed = append(failed, c)
		}
	}
	return failed
}

// revive starts over the commands that failed a while ago: the bridge
// answers again, and every command is idempotent in the addon.
func (b *Bridge) revive(now time.Time) {
	for _, c := range b.st.Commands {
		if c.State == Failed && c.Line != "" && now.Sub(c.EndAt) >= b.o.RetryFailedAfter {
			c.State, c.Tries, c.Result = Queued, 0, "started over: the bridge answers again"
		}
	}
}

// token is n random characters of [0-9a-z].
func (b *Bridge) token(n int) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[b.rand.IntN(len(alphabet))]
	}
	return string(out)
}
