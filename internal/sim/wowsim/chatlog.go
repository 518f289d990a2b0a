package wowsim

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ChatLog appends chat lines to a WoWChatLog.txt the way the client does
// while chat logging is on: "M/D HH:MM:SS.mmm  text" (month and day without
// leading zeros, two spaces before the text), UTF-8, CRLF line ends like the
// Windows client (readers strip the "\r"). Text is written as the chat frame
// received it, escape sequences included. When lines reach the file follows
// ChatLogOptions.Mode.
type ChatLog struct {
	mu      sync.Mutex
	path    string
	opts    ChatLogOptions
	pending []byte
	since   time.Time // when the oldest pending line was logged
}

// ChatLogOptions sets when logged lines reach the file.
type ChatLogOptions struct {
	// Mode is until exit (default), chunked or line by line.
	Mode LogWriteMode
	// ChunkBytes is how much LogChunked buffers before writing (default
	// 4096); ChunkDelay, when set, also writes once the oldest pending line
	// is that old on the client's clock (see Tick).
	ChunkBytes int
	ChunkDelay time.Duration
}

// OpenChatLog makes sure the file and its folder exist (an existing file is
// kept, as the client appends to it) with the default options: nothing is
// written until Close.
func OpenChatLog(path string) (*ChatLog, error) {
	return NewChatLog(path, ChatLogOptions{})
}

// NewChatLog is OpenChatLog with a write mode.
func NewChatLog(path string, opts ChatLogOptions) (*ChatLog, error) {
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = 4096
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(abs, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &ChatLog{path: abs, opts: opts}, nil
}

// Path is the absolute path of the log file.
func (l *ChatLog) Path() string { return l.path }

// TimestampPrefix renders the client's prefix for a line logged at t.
func TimestampPrefix(t time.Time) string {
	return fmt.Sprintf("%d/%d %02d:%02d:%02d.%03d  ", int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/int(time.Millisecond))
}

// Mode is the write mode.
func (l *ChatLog) Mode() LogWriteMode { return l.opts.Mode }

// Append logs one line stamped with t (already in the client's time zone);
// whether it reaches the file now depends on the mode.
func (l *ChatLog) Append(t time.Time, text string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) == 0 {
		l.since = t
	}
	l.pending = append(l.pending, TimestampPrefix(t)+text+"\r\n"...)
	switch l.opts.Mode {
	case LogLineByLine:
		return l.flushLocked()
	case LogChunked:
		if len(l.pending) >= l.opts.ChunkBytes {
			return l.flushLocked()
		}
		return l.tickLocked(t)
	}
	return nil
}

// Tick writes a chunk whose oldest line is ChunkDelay old at now (the
// client calls it as its clock moves).
func (l *ChatLog) Tick(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tickLocked(now)
}

func (l *ChatLog) tickLocked(now time.Time) error {
	if l.opts.Mode != LogChunked || l.opts.ChunkDelay <= 0 || len(l.pending) == 0 || now.Sub(l.since) < l.opts.ChunkDelay {
		return nil
	}
	return l.flushLocked()
}

// Flush writes the pending lines whatever the mode (the LoggingChat toggle
// where it works).
func (l *ChatLog) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

// Pending is how many bytes are logged but not yet in the file.
func (l *ChatLog) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// Close is the client exiting: the pending lines are written.
func (l *ChatLog) Close() error { return l.Flush() }

func (l *ChatLog) flushLocked() error {
	if len(l.pending) == 0 {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(l.pending)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		l.pending = l.pending[:0]
	}
	return err
}

// Truncate empties the file and drops the pending lines (a new session for
// tests and "reset").
func (l *ChatLog) Truncate() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = nil
	return os.WriteFile(l.path, nil, 0o644)
}
