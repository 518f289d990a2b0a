// Package eventlog is the Desktop's live event log: what it did and what
// went wrong, newest first in the UI, bounded in memory, exportable as text,
// and echoed to the console.
//
// A Log is a slog.Handler, so the Desktop logs like the EBS does:
//
//	log := slog.New(events)
//	log.Info("payout marked Sent", "payout", id)
//
// Each entry's Message is the record's message followed by its attributes
// as key=value pairs, which is what the UI shows.
package eventlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Levels of an Entry.
const (
	Debug = "debug"
	Info  = "info"
	Warn  = "warn"
	Error = "error"
)

// Entry is one event.
type Entry struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"` // the message, then the attributes as key=value
}

// Log keeps the last max entries and is the slog.Handler that fills them.
// WithAttrs and WithGroup return Logs sharing the same entries. Safe for
// concurrent use.
type Log struct {
	b      *buffer
	attrs  string // attributes from WithAttrs, already rendered (" k=v" each)
	prefix string // the open groups, "g1.g2."
}

type buffer struct {
	max   int
	now   func() time.Time
	out   io.Writer
	onAdd func()

	mu      sync.Mutex
	entries []Entry // oldest first
	seq     int64
}

// New returns a log of at most max entries; now (optional) overrides the
// records' time (tests); out (optional) receives each entry as a line;
// onAdd (optional) runs after each entry (the UI's push).
func New(max int, now func() time.Time, out io.Writer, onAdd func()) *Log {
	return &Log{b: &buffer{max: max, now: now, out: out, onAdd: onAdd}}
}

// Enabled reports whether level is recorded: Info and above, as debug
// detail would crowd out the last max entries the streamer looks at.
func (l *Log) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelInfo }

// Handle records r.
func (l *Log) Handle(_ context.Context, r slog.Record) error {
	var sb strings.Builder
	sb.WriteString(r.Message)
	sb.WriteString(l.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&sb, l.prefix, a)
		return true
	})
	t := r.Time
	if l.b.now != nil {
		t = l.b.now()
	} else if t.IsZero() {
		t = time.Now()
	}
	return l.b.add(levelName(r.Level), t, sb.String())
}

// WithAttrs returns a handler adding attrs to every entry.
func (l *Log) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return l
	}
	var sb strings.Builder
	sb.WriteString(l.attrs)
	for _, a := range attrs {
		appendAttr(&sb, l.prefix, a)
	}
	return &Log{b: l.b, attrs: sb.String(), prefix: l.prefix}
}

// WithGroup returns a handler qualifying later attributes' keys with name.
func (l *Log) WithGroup(name string) slog.Handler {
	if name == "" {
		return l
	}
	return &Log{b: l.b, attrs: l.attrs, prefix: l.prefix + name + "."}
}

func (b *buffer) add(level string, t time.Time, msg string) error {
	b.mu.Lock()
	b.seq++
	e := Entry{Seq: b.seq, Time: t, Level: level, Message: msg}
	b.entries = append(b.entries, e)
	if len(b.entries) > b.max {
		b.entries = append([]Entry(nil), b.entries[len(b.entries)-b.max:]...)
	}
	var err error
	if b.out != nil {
		_, err = fmt.Fprintln(b.out, format1(e))
	}
	b.mu.Unlock()
	if b.onAdd != nil {
		b.onAdd()
	}
	return err
}

// Newest returns up to n entries, newest first (n <= 0: all).
func (l *Log) Newest(n int) []Entry {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	es := l.b.entries
	if n <= 0 || n > len(es) {
		n = len(es)
	}
	out := make([]Entry, 0, n)
	for i := len(es) - 1; i >= len(es)-n; i-- {
		out = append(out, es[i])
	}
	return out
}

// Clear forgets every entry.
func (l *Log) Clear() {
	l.b.mu.Lock()
	l.b.entries = nil
	l.b.mu.Unlock()
	if l.b.onAdd != nil {
		l.b.onAdd()
	}
}

// Export is the log as text, one event per line, newest first (as shown).
func (l *Log) Export() string {
	var b strings.Builder
	for _, e := range l.Newest(0) {
		b.WriteString(format1(e))
		b.WriteByte('\n')
	}
	return b.String()
}

func format1(e Entry) string {
	return e.Time.Format("2006-01-02 15:04:05") + "  " + strings.ToUpper(e.Level) + "  " + e.Message
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return Error
	case l >= slog.LevelWarn:
		return Warn
	case l >= slog.LevelInfo:
		return Info
	default:
		return Debug
	}
}

// appendAttr renders a as " key=value", groups flattened to "group.key".
func appendAttr(sb *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			appendAttr(sb, prefix, g)
		}
		return
	}
	sb.WriteByte(' ')
	sb.WriteString(prefix)
	sb.WriteString(a.Key)
	sb.WriteByte('=')
	sb.WriteString(quote(valueText(a.Value)))
}

func valueText(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return err.Error()
		}
	}
	return v.String()
}

// quote quotes s when a reader could not tell where it ends (as slog's
// text handler does).
func quote(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r == '=' || r == '"' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
