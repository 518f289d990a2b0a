// Package chatlog follows WoWChatLog.txt: it hands out each complete line
// once, remembers where it stopped (a Position the caller persists), starts
// at the end of the file on first use so old history is not replayed, and
// notices when the file was truncated or replaced.
//
// The WoW client writes UTF-8 lines ending in "\n" (or "\r\n"). A line still
// being written is kept as raw bytes until its newline arrives, so a
// multi-byte character split between two reads is never corrupted.
package chatlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileName is the client's chat log name inside its Logs folder.
const FileName = "WoWChatLog.txt"

// Position is where reading stopped in one file; persist it between runs.
type Position struct {
	// Path is the file this position belongs to; a different path is a
	// first use.
	Path string `json:"path"`
	// Offset is the byte offset just after the last complete line handed out.
	Offset int64 `json:"offset"`
	// Head fingerprints the first HeadLen bytes of the file (SHA-256, hex) so
	// a file replaced while the Desktop was not running is noticed.
	Head    string `json:"head,omitempty"`
	HeadLen int64  `json:"headLen,omitempty"`
}

// Line is one complete line, without its "\n"/"\r\n" (and without a BOM at
// the start of the file), decoded as UTF-8 (invalid bytes become U+FFFD).
type Line struct {
	Text string
	// Start and End are its byte offsets in the file (End is after the "\n").
	Start, End int64
}

// Result is what one Read found.
type Result struct {
	Lines []Line
	// Pos is the position after the last complete line; persist it once the
	// lines are safely recorded.
	Pos Position
	// Size is the file's size at this read.
	Size int64
	// Notes describe what happened to the file ("started at the end", "the
	// log was truncated", …) for the event log.
	Notes []string
}

// headBytes is how much of the file's start identifies it.
const headBytes = 256

// maxLine bounds a line kept in memory; longer ones are dropped (no marker
// is that long; the client itself cuts chat lines far shorter).
const maxLine = 1 << 20

// maxRead bounds one Read so a huge backlog is handed out in slices.
const maxRead = 4 << 20

// Tail follows one chat log. Not safe for concurrent use.
type Tail struct {
	pos     Position
	known   bool        // pos is valid for pos.Path
	readPos int64       // bytes consumed from the file (pos.Offset + len(carry))
	carry   []byte      // an incomplete last line
	skip    bool        // discarding until the next '\n' (overlong line, or started mid-line)
	info    fs.FileInfo // identity of the file last read, for os.SameFile
}

// New resumes from a persisted position; nil (or a zero Position) means first use.
func New(saved *Position) *Tail {
	t := &Tail{}
	if saved != nil && saved.Path != "" {
		t.pos, t.known, t.readPos = *saved, true, saved.Offset
	}
	return t
}

// Position is the current persisted-form position.
func (t *Tail) Position() Position { return t.pos }

// Read returns the complete lines appended to path since the last Read.
// A missing file is an error wrapping fs.ErrNotExist; the position is kept
// (so a file that reappears is checked against it).
func (t *Tail) Read(path string) (Result, error) {
	var res Result
	if path == "" {
		return res, errors.New("no chat log configured")
	}
	if t.known && t.pos.Path != path {
		res.Notes = append(res.Notes, fmt.Sprintf("chat log path changed to %s", path))
		t.reset(Position{})
		t.known = false
	}
	f, err := os.Open(path)
	if err != nil {
		if !t.known {
			// First use and no file yet: everything it will contain is new.
			t.reset(Position{Path: path})
			t.known = true
			res.Notes = append(res.Notes, fmt.Sprintf("waiting for %s to appear; it will be read from its start", path))
		}
		res.Pos = t.pos
		return res, err
	}
	defer func() { _ = f.Close() }() // opened for reading: closing loses nothing
	fi, err := f.Stat()
	if err != nil {
		return res, err
	}
	if fi.IsDir() {
		return res, fmt.Errorf("%s is a folder, not the chat log", path)
	}
	size := fi.Size()
	res.Size = size
	switch {
	case !t.known:
		// First use: skip the history. If the file does not end with a
		// newline, the rest of that last line is not a whole line either.
		t.reset(Position{Path: path, Offset: size})
		t.known = true
		if size > 0 {
			last := make([]byte, 1)
			if _, err := f.ReadAt(last, size-1); err == nil && last[0] != '\n' {
				t.skip = true
			}
		}
		res.Notes = append(res.Notes, fmt.Sprintf("first use of %s: starting at its end (%d bytes of history skipped)", path, size))
	case t.info != nil && !os.SameFile(t.info, fi):
		res.Notes = append(res.Notes, "the chat log was replaced by a new file; reading it from the start")
		t.reset(Position{Path: path})
	case size < t.readPos:
		res.Notes = append(res.Notes, fmt.Sprintf("the chat log shrank (%d < %d bytes): it was truncated; reading it from the start", size, t.readPos))
		t.reset(Position{Path: path})
	case t.info == nil && t.pos.HeadLen > 0:
		// Resumed from disk: is this still the file we were reading?
		if h, n := fingerprint(f, t.pos.HeadLen); n != t.pos.HeadLen || h != t.pos.Head {
			res.Notes = append(res.Notes, "the chat log is not the file read last time; reading it from the start")
			t.reset(Position{Path: path})
		}
	}
	t.info = fi

	if size > t.readPos {
		n := min(size-t.readPos, maxRead)
		buf := make([]byte, n)
		got, err := f.ReadAt(buf, t.readPos)
		if err != nil && !errors.Is(err, io.EOF) {
			return res, err
		}
		buf = buf[:got]
		res.Lines = t.consume(buf)
	}
	// Identify the file by its first bytes (only bytes already consumed, so
	// the fingerprint never covers an unfinished line that may still change).
	if want := min(t.pos.Offset, headBytes); want > t.pos.HeadLen {
		if h, n := fingerprint(f, want); n == want {
			t.pos.Head, t.pos.HeadLen = h, n
		}
	}
	res.Pos = t.pos
	return res, nil
}

// consume splits freshly read bytes into complete lines.
func (t *Tail) consume(buf []byte) []Line {
	var lines []Line
	start := t.readPos - int64(len(t.carry)) // file offset where the carry begins
	t.readPos += int64(len(buf))
	data := buf
	if len(t.carry) > 0 {
		data = append(t.carry, buf...)
		t.carry = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		raw := data[:i]
		end := start + int64(i) + 1
		if t.skip {
			t.skip = false
		} else {
			lines = append(lines, Line{Text: decode(raw, start == 0), Start: start, End: end})
		}
		data = data[i+1:]
		start = end
	}
	t.pos.Offset = start
	if len(data) > maxLine {
		// Drop an endless line instead of growing without bound.
		t.skip = true
		t.pos.Offset = t.readPos
		return lines
	}
	if t.skip && len(data) > 0 {
		// Still inside a line being skipped: its bytes are consumed.
		t.pos.Offset = t.readPos
		return lines
	}
	t.carry = append([]byte(nil), data...)
	return lines
}

func (t *Tail) reset(p Position) {
	t.pos, t.readPos, t.carry, t.skip, t.info = p, p.Offset, nil, false, nil
}

var bom = []byte{0xEF, 0xBB, 0xBF}

func decode(raw []byte, atFileStart bool) string {
	if atFileStart {
		raw = bytes.TrimPrefix(raw, bom)
	}
	raw = bytes.TrimRight(raw, "\r")
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

func fingerprint(f *os.File, n int64) (string, int64) {
	buf := make([]byte, n)
	got, _ := f.ReadAt(buf, 0)
	sum := sha256.Sum256(buf[:got])
	return hex.EncodeToString(sum[:]), int64(got)
}

// Follow reads path (re-resolved each time, so settings changes apply) every
// interval until ctx ends, handing each result to handle.
func (t *Tail) Follow(ctx context.Context, path func() string, interval time.Duration, handle func(Result, error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		res, err := t.Read(path())
		handle(res, err)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Resolve finds the chat log from the settings: an override (a file, or a
// folder holding WoWChatLog.txt) wins over the WoW folder's Logs/WoWChatLog.txt.
// It does not require the file to exist (the client creates it when logging
// starts); the tail reports a missing file.
func Resolve(override, wowDir string) (string, error) {
	if o := strings.TrimSpace(override); o != "" {
		if fi, err := os.Stat(o); err == nil && fi.IsDir() {
			return filepath.Join(o, FileName), nil
		}
		return filepath.Clean(o), nil
	}
	if d := strings.TrimSpace(wowDir); d != "" {
		return filepath.Join(d, "Logs", FileName), nil
	}
	return "", errors.New("set the WoW folder (or a chat log override) in Settings")
}
