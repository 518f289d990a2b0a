package chatlog

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func texts(ls []Line) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Text)
	}
	return out
}

func read(t *testing.T, tl *Tail, path string) Result {
	t.Helper()
	res, err := tl.Read(path)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return res
}

func eq(t *testing.T, got []Line, want ...string) {
	t.Helper()
	g := texts(got)
	if strings.Join(g, "|") != strings.Join(want, "|") || len(g) != len(want) {
		t.Fatalf("lines %q, want %q", g, want)
	}
}

func TestFirstUseStartsAtEnd(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	appendFile(t, p, "old 1\nold 2\n")
	tl := New(nil)
	res := read(t, tl, p)
	eq(t, res.Lines)
	if res.Pos.Offset != 12 || len(res.Notes) != 1 {
		t.Fatalf("pos %+v notes %v", res.Pos, res.Notes)
	}
	appendFile(t, p, "new\n")
	eq(t, read(t, tl, p).Lines, "new")
}

func TestFirstUseMidLineSkipsTheRestOfThatLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	appendFile(t, p, "old\nhalf of a li")
	tl := New(nil)
	eq(t, read(t, tl, p).Lines)
	appendFile(t, p, "ne\nnext\n")
	eq(t, read(t, tl, p).Lines, "next")
}

func TestFirstUseWithoutFileReadsItFromStart(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	tl := New(nil)
	if _, err := tl.Read(p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err %v", err)
	}
	appendFile(t, p, "\xEF\xBB\xBFfirst\r\nsecond\n")
	res := read(t, tl, p)
	eq(t, res.Lines, "first", "second")
	if res.Lines[0].Start != 0 || res.Lines[1].Start != 10 || res.Lines[1].End != 17 {
		t.Fatalf("offsets %+v", res.Lines)
	}
}

func TestPartialLinesAtByteLevel(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	tl := New(&Position{Path: p})
	line := "Привет [MGM_UPDATE_CHECK]\r\n"
	b := []byte(line)
	appendFile(t, p, "")
	var got []Line
	// Feed one byte at a time, splitting every multi-byte character.
	for i := range b {
		appendFile(t, p, string(b[i:i+1]))
		res := read(t, tl, p)
		got = append(got, res.Lines...)
		if i < len(b)-1 && (len(res.Lines) != 0 || res.Pos.Offset != 0) {
			t.Fatalf("byte %d: early line %+v", i, res)
		}
	}
	eq(t, got, "Привет [MGM_UPDATE_CHECK]")
	if tl.Position().Offset != int64(len(b)) {
		t.Fatalf("offset %d", tl.Position().Offset)
	}
}

func TestBOMOnlyAtFileStartAndInvalidUTF8(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	tl := New(&Position{Path: p})
	appendFile(t, p, "\xEF\xBB\xBFa\n\xEF\xBB\xBFb\nbad \xff\n\n")
	eq(t, read(t, tl, p).Lines, "a", "\uFEFFb", "bad \uFFFD", "")
}

func TestTruncationRestartsFromBeginning(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	tl := New(&Position{Path: p})
	appendFile(t, p, "one\ntwo\nthree\n")
	eq(t, read(t, tl, p).Lines, "one", "two", "three")
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, p, "\xEF\xBB\xBFfresh\n")
	res := read(t, tl, p)
	eq(t, res.Lines, "fresh")
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "truncated") {
		t.Fatalf("notes %v", res.Notes)
	}
}

func TestReplacementDetectedByIdentity(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, FileName)
	tl := New(&Position{Path: p})
	appendFile(t, p, "a\n")
	eq(t, read(t, tl, p).Lines, "a")
	// A new, longer file under the same name (the size check alone would miss it).
	np := filepath.Join(dir, "new.txt")
	appendFile(t, np, "x1\nx2\nx3\n")
	if err := os.Rename(np, p); err != nil {
		t.Fatal(err)
	}
	res := read(t, tl, p)
	eq(t, res.Lines, "x1", "x2", "x3")
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "replaced") {
		t.Fatalf("notes %v", res.Notes)
	}
}

func TestOffsetPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, FileName)
	appendFile(t, p, "history\n")
	tl := New(nil)
	read(t, tl, p)
	appendFile(t, p, "l1\nl2\npart")
	res := read(t, tl, p)
	eq(t, res.Lines, "l1", "l2")
	saved := res.Pos // what the caller persisted
	if saved.Offset != int64(len("history\nl1\nl2\n")) || saved.HeadLen == 0 {
		t.Fatalf("saved %+v", saved)
	}
	// Restart: the incomplete line is read again from the saved offset.
	appendFile(t, p, "ial\nl3\n")
	tl2 := New(&saved)
	eq(t, read(t, tl2, p).Lines, "partial", "l3")

	// Restart against a different file of the same size or more: detected by the fingerprint.
	saved2 := tl2.Position()
	os.Remove(p)
	appendFile(t, p, strings.Repeat("z", int(saved2.Offset))+"\nnew\n")
	res = read(t, New(&saved2), p)
	eq(t, res.Lines, strings.Repeat("z", int(saved2.Offset)), "new")
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "not the file") {
		t.Fatalf("notes %v", res.Notes)
	}
}

func TestPathChangeIsFirstUse(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	appendFile(t, a, "a1\n")
	appendFile(t, b, "b-history\n")
	tl := New(&Position{Path: a})
	eq(t, read(t, tl, a).Lines, "a1")
	eq(t, read(t, tl, b).Lines)
	appendFile(t, b, "b2\n")
	eq(t, read(t, tl, b).Lines, "b2")
}

func TestOverlongLineIsDropped(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	tl := New(&Position{Path: p})
	appendFile(t, p, strings.Repeat("x", maxLine+10))
	eq(t, read(t, tl, p).Lines)
	appendFile(t, p, "tail of it\nok\n")
	eq(t, read(t, tl, p).Lines, "ok")
}

func TestFollowAndResolve(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, FileName)
	appendFile(t, p, "")
	tl := New(&Position{Path: p})
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		tl.Follow(ctx, func() string { return p }, 5*time.Millisecond, func(r Result, err error) {
			mu.Lock()
			got = append(got, texts(r.Lines)...)
			mu.Unlock()
		})
	}()
	appendFile(t, p, "hello\n")
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if len(got) != 1 || got[0] != "hello" {
		t.Fatalf("followed %v", got)
	}

	if r, err := Resolve("", ""); r != "" || err == nil {
		t.Fatal("nothing configured must be an error")
	}
	if r, _ := Resolve("", "/wow"); r != filepath.Join("/wow", "Logs", FileName) {
		t.Fatal(r)
	}
	if r, _ := Resolve("  "+dir+"  ", "/wow"); r != p {
		t.Fatalf("override dir: %s", r)
	}
	if r, _ := Resolve(p, ""); r != p {
		t.Fatalf("override file: %s", r)
	}
	if r, _ := Resolve(filepath.Join(dir, "missing.txt"), "/wow"); r != filepath.Join(dir, "missing.txt") {
		t.Fatalf("a missing override must be kept (and reported by the tail), not ignored: %s", r)
	}
}
