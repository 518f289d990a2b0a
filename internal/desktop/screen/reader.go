package screen

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/strip"
)

// DefaultInterval is how often the Reader captures: the addon shows each
// page for 0.3 s, so three samples a page.
const DefaultInterval = 100 * time.Millisecond

// HeartbeatSlack is how long the strip's heartbeat may stand still before
// the picture counts as frozen: the addon advances it at least once a
// second, and a capture may come just before the change.
const HeartbeatSlack = 2 * time.Second

// ReaderOptions configure a Reader; every field is optional.
type ReaderOptions struct {
	// Interval between captures (0: DefaultInterval).
	Interval time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Forget is how long a line must be absent from the carousel before it
	// is delivered again (0: strip.DefaultForget).
	Forget time.Duration
	// OnLine receives each complete bridge line, once per (line id,
	// content) while the addon keeps showing it. It runs on the Reader's
	// goroutine: hand work off rather than block.
	OnLine func(line string, at time.Time)
	// OnChange receives the status when it changes in a way worth telling
	// (the strip found or lost, another error, minimised or restored), not
	// on every capture.
	OnChange func(Status)
}

// Status is a snapshot of the screen route for the dashboard and the typing
// guard.
type Status struct {
	Source string `json:"source"`
	// Found: the latest capture showed the strip.
	Found bool `json:"found"`
	// Minimised: the latest capture failed because WoW is minimised.
	Minimised bool `json:"minimised"`
	// Error explains the latest failure ("" while Found); Err is the same
	// error for errors.Is (strip.ErrNotFound, strip.ErrChecksum, ErrMinimised…).
	Error string `json:"error,omitempty"`
	Err   error  `json:"-"`
	// Failures counts the captures that failed in a row.
	Failures    int       `json:"failures"`
	LastCapture time.Time `json:"lastCapture"`
	LastFound   time.Time `json:"lastFound"`
	// Flags are the addon's state bits from the latest strip (strip.Flag…),
	// seen at FlagsAt.
	Flags     uint8     `json:"flags"`
	FlagsAt   time.Time `json:"flagsAt"`
	Heartbeat uint16    `json:"heartbeat"`
	// HeartbeatAt is when the heartbeat last changed.
	HeartbeatAt time.Time `json:"heartbeatAt"`
	// Lines counts the bridge lines delivered.
	Lines int `json:"lines"`
}

// Typing tells whether the streamer is typing in WoW (an edit box has the
// keyboard focus), from a strip less than maxAge old whose heartbeat still
// moves. known is false when the strip cannot tell: no recent strip, or a
// frozen picture.
func (s Status) Typing(now time.Time, maxAge time.Duration) (typing, known bool) {
	if s.FlagsAt.IsZero() || now.Sub(s.FlagsAt) >= maxAge || now.Sub(s.HeartbeatAt) >= maxAge+HeartbeatSlack {
		return false, false
	}
	return s.Flags&strip.FlagTyping != 0, true
}

// changeKey is what OnChange reports changes of.
type changeKey struct {
	found, minimised bool
	err              string
}

func (s Status) key() changeKey { return changeKey{s.Found, s.Minimised, s.Error} }

// Reader captures WoW's window from a Source, decodes the strip and joins
// its pages into bridge lines.
type Reader struct {
	src Source
	o   ReaderOptions

	mu  sync.Mutex
	asm *strip.Assembler
	st  Status
}

// NewReader reads the strip from src.
func NewReader(src Source, o ReaderOptions) *Reader {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Reader{src: src, o: o, asm: strip.NewAssembler(o.Forget), st: Status{Source: src.Name()}}
}

// Status is the latest snapshot.
func (r *Reader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// Run captures every interval until ctx ends.
func (r *Reader) Run(ctx context.Context) {
	tick := time.NewTicker(r.o.Interval)
	defer tick.Stop()
	for {
		_ = r.Step(ctx) // the status holds the outcome
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Step captures and decodes once, delivering a line the page completed; it
// returns the capture's or the decoder's error (also in the status).
func (r *Reader) Step(ctx context.Context) error {
	img, err := r.src.Capture(ctx)
	if ctx.Err() != nil {
		// Shutting down: an aborted capture is no failure to report.
		return ctx.Err()
	}
	var page strip.Page
	if err == nil {
		page, err = strip.Decode(img)
	}
	now := r.o.Now()

	r.mu.Lock()
	before := r.st.key()
	r.st.LastCapture = now
	var line string
	var complete bool
	if err != nil {
		r.st.Found, r.st.Minimised = false, errors.Is(err, ErrMinimised)
		r.st.Err, r.st.Error = err, err.Error()
		r.st.Failures++
	} else {
		line, complete = r.asm.Add(page, now)
		a := r.asm.State()
		r.st.Found, r.st.Minimised, r.st.Err, r.st.Error, r.st.Failures = true, false, nil, "", 0
		r.st.LastFound = now
		r.st.Flags, r.st.FlagsAt, r.st.Heartbeat, r.st.HeartbeatAt = a.Flags, a.At, a.Heartbeat, a.HeartbeatAt
		if complete {
			r.st.Lines++
		}
	}
	snap := r.st
	r.mu.Unlock()

	if complete && r.o.OnLine != nil {
		r.o.OnLine(line, now)
	}
	if snap.key() != before && r.o.OnChange != nil {
		r.o.OnChange(snap)
	}
	return err
}
