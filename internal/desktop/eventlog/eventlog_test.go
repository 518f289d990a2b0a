package eventlog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLog(t *testing.T) {
	var out bytes.Buffer
	adds := 0
	clock := time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)
	l := New(3, func() time.Time { return clock }, &out, func() { adds++ })
	for i := 1; i <= 5; i++ {
		l.Infof("event %d", i)
	}
	l.Errorf("bad %s", "thing")
	got := l.Newest(0)
	if len(got) != 3 || got[0].Message != "bad thing" || got[0].Level != Error || got[2].Message != "event 4" || got[0].Seq != 6 {
		t.Fatalf("%+v", got)
	}
	if n := l.Newest(1); len(n) != 1 || n[0].Seq != 6 {
		t.Fatal(n)
	}
	if adds != 6 || strings.Count(out.String(), "\n") != 6 {
		t.Fatalf("adds %d, console %q", adds, out.String())
	}
	exp := l.Export()
	if !strings.HasPrefix(exp, "2026-04-04 12:00:00  ERROR  bad thing\n") || strings.Count(exp, "\n") != 3 {
		t.Fatal(exp)
	}
	l.Clear()
	if len(l.Newest(0)) != 0 {
		t.Fatal("not cleared")
	}
}
