package strip

import (
	"bytes"
	"slices"
	"time"
)

// DefaultForget is how long a line may be absent from the strip's carousel
// before the Assembler forgets it: a line seen again after that is delivered
// again (the Desktop then acknowledges it again, which is what a line still
// in the outbox needs).
const DefaultForget = 5 * time.Second

// maxLines bounds the Assembler's memory: the addon's outbox holds at most
// 64 lines, so this many line ids cover it several times over.
const maxLines = 256

// maxPerID bounds the lines remembered under one line id.
const maxPerID = 4

// State is the addon's live state from the latest page.
type State struct {
	// Seen: a page has been decoded at all.
	Seen      bool
	Flags     uint8
	Heartbeat uint16
	// At is when the latest page was decoded.
	At time.Time
	// HeartbeatAt is when the heartbeat last changed: the addon advances it
	// at least once a second, so an old HeartbeatAt means the picture is
	// frozen (a stale capture, a hung client) even while pages decode.
	HeartbeatAt time.Time
}

// Assembler joins decoded pages into bridge lines. Each complete line is
// returned once per (line id, content) until the line has been absent from
// the carousel for the forget time. It is not safe for concurrent use.
type Assembler struct {
	forget  time.Duration
	pending map[uint16]*partial
	// done holds the lines delivered, by line id: after a /reload the old
	// epoch's unacknowledged lines share the carousel with the new epoch's,
	// so one id may name two live lines at once.
	done  map[uint16][]*complete
	state State
}

type partial struct {
	count int
	pages [][]byte
	have  int
	seen  time.Time
}

type complete struct {
	line  string
	count int
	seen  time.Time
}

// NewAssembler returns an Assembler that forgets lines (complete or not)
// absent for forget (0: DefaultForget).
func NewAssembler(forget time.Duration) *Assembler {
	if forget <= 0 {
		forget = DefaultForget
	}
	return &Assembler{forget: forget, pending: map[uint16]*partial{}, done: map[uint16][]*complete{}}
}

// State is the addon's live state from the latest page.
func (a *Assembler) State() State { return a.state }

// Add feeds one decoded page seen at at; it returns the bridge line the page
// completed, if any.
func (a *Assembler) Add(p Page, at time.Time) (string, bool) {
	if !a.state.Seen || a.state.Heartbeat != p.Heartbeat {
		a.state.HeartbeatAt = at
	}
	a.state = State{Seen: true, Flags: p.Flags, Heartbeat: p.Heartbeat, At: at, HeartbeatAt: a.state.HeartbeatAt}
	a.expire(at)
	if !wellFormed(p) {
		return "", false
	}
	for _, d := range a.done[p.LineID] {
		if d.count == p.Count && bytes.Equal(pageOf(d.line, p.Index), p.Payload) {
			d.seen = at
			return "", false
		}
	}
	pa := a.pending[p.LineID]
	// A different page count or different bytes for a page already held
	// mean the line id now names another line (a new epoch after /reload,
	// or the id wrapped): start over with this page.
	if pa == nil || pa.count != p.Count || (pa.pages[p.Index] != nil && !bytes.Equal(pa.pages[p.Index], p.Payload)) {
		pa = &partial{count: p.Count, pages: make([][]byte, p.Count)}
		a.pending[p.LineID] = pa
		evictOldest(a.pending, func(q *partial) time.Time { return q.seen })
	}
	pa.seen = at
	if pa.pages[p.Index] == nil {
		pa.pages[p.Index] = append([]byte(nil), p.Payload...)
		pa.have++
	}
	if pa.have < pa.count {
		return "", false
	}
	delete(a.pending, p.LineID)
	line := string(bytes.Join(pa.pages, nil))
	a.done[p.LineID] = append(a.done[p.LineID], &complete{line: line, count: pa.count, seen: at})
	if len(a.done[p.LineID]) > maxPerID {
		a.done[p.LineID] = a.done[p.LineID][1:]
	}
	evictOldest(a.done, func(cs []*complete) time.Time { return cs[len(cs)-1].seen })
	return line, true
}

// wellFormed: a page of a line, full unless it is the last one.
func wellFormed(p Page) bool {
	if p.Count <= 0 || p.Index < 0 || p.Index >= p.Count {
		return false
	}
	if p.Index < p.Count-1 {
		return len(p.Payload) == PageSize
	}
	return len(p.Payload) > 0 && len(p.Payload) <= PageSize
}

func pageOf(line string, i int) []byte {
	lo := i * PageSize
	if lo >= len(line) {
		return nil
	}
	return []byte(line[lo:min(lo+PageSize, len(line))])
}

func (a *Assembler) expire(now time.Time) {
	for id, pa := range a.pending {
		if now.Sub(pa.seen) > a.forget {
			delete(a.pending, id)
		}
	}
	for id, cs := range a.done {
		cs = slices.DeleteFunc(cs, func(d *complete) bool { return now.Sub(d.seen) > a.forget })
		if len(cs) == 0 {
			delete(a.done, id)
		} else {
			a.done[id] = cs
		}
	}
}

// evictOldest keeps m within maxLines by dropping the entry seen longest ago.
func evictOldest[T any](m map[uint16]T, seen func(T) time.Time) {
	for len(m) > maxLines {
		var oldest uint16
		var at time.Time
		first := true
		for id, v := range m {
			if s := seen(v); first || s.Before(at) {
				oldest, at, first = id, s, false
			}
		}
		delete(m, oldest)
	}
}
