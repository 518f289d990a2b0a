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
// received it, escape sequences included.
type ChatLog struct {
	mu   sync.Mutex
	path string
}

// OpenChatLog makes sure the file and its folder exist (an existing file is
// kept, as the client appends to it).
func OpenChatLog(path string) (*ChatLog, error) {
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
	return &ChatLog{path: abs}, nil
}

// Path is the absolute path of the log file.
func (l *ChatLog) Path() string { return l.path }

// TimestampPrefix renders the client's prefix for a line logged at t.
func TimestampPrefix(t time.Time) string {
	return fmt.Sprintf("%d/%d %02d:%02d:%02d.%03d  ", int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/int(time.Millisecond))
}

// Append writes one line stamped with t (already in the client's time zone).
func (l *ChatLog) Append(t time.Time, text string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(TimestampPrefix(t) + text + "\r\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Truncate empties the file (a new session for tests and "reset").
func (l *ChatLog) Truncate() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return os.WriteFile(l.path, nil, 0o644)
}
