// Package eventlog is the Desktop's live event log: what it did and what
// went wrong, newest first in the UI, bounded in memory, exportable as text,
// and echoed to the console.
package eventlog

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Levels.
const (
	Info  = "info"
	Warn  = "warn"
	Error = "error"
)

// Entry is one event.
type Entry struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// Log keeps the last Max entries. Safe for concurrent use.
type Log struct {
	max     int
	now     func() time.Time
	out     io.Writer
	onAdd   func()
	mu      sync.Mutex
	entries []Entry // oldest first
	seq     int64
}

// New returns a log of at most max entries; out (optional) receives each
// entry as a line; onAdd (optional) runs after each entry (the UI's push).
func New(max int, now func() time.Time, out io.Writer, onAdd func()) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{max: max, now: now, out: out, onAdd: onAdd}
}

// Add records an event.
func (l *Log) Add(level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	l.seq++
	e := Entry{Seq: l.seq, Time: l.now(), Level: level, Message: msg}
	l.entries = append(l.entries, e)
	if len(l.entries) > l.max {
		l.entries = append([]Entry(nil), l.entries[len(l.entries)-l.max:]...)
	}
	if l.out != nil {
		fmt.Fprintln(l.out, format1(e))
	}
	l.mu.Unlock()
	if l.onAdd != nil {
		l.onAdd()
	}
}

// Infof records an informational event.
func (l *Log) Infof(format string, args ...any) { l.Add(Info, format, args...) }

// Warnf records a problem the Desktop works around or retries.
func (l *Log) Warnf(format string, args ...any) { l.Add(Warn, format, args...) }

// Errorf records a failure that needs the streamer.
func (l *Log) Errorf(format string, args ...any) { l.Add(Error, format, args...) }

// Newest returns up to n entries, newest first (n <= 0: all).
func (l *Log) Newest(n int) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n <= 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	out := make([]Entry, 0, n)
	for i := len(l.entries) - 1; i >= len(l.entries)-n; i-- {
		out = append(out, l.entries[i])
	}
	return out
}

// Clear forgets every entry.
func (l *Log) Clear() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
	if l.onAdd != nil {
		l.onAdd()
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
