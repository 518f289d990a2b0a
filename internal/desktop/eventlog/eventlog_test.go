package eventlog

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLog(t *testing.T) {
	var out bytes.Buffer
	adds := 0
	clock := time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)
	l := New(3, func() time.Time { return clock }, &out, func() { adds++ })
	log := slog.New(l)
	for i := 1; i <= 5; i++ {
		log.Info("event", "n", i)
	}
	log.Error("bad thing")
	got := l.Newest(0)
	if len(got) != 3 || got[0].Message != "bad thing" || got[0].Level != Error || got[2].Message != "event n=4" || got[0].Seq != 6 {
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
	log.Debug("too much detail")
	if len(l.Newest(0)) != 0 {
		t.Fatal("debug recorded")
	}
}

func TestAttrs(t *testing.T) {
	l := New(10, nil, nil, nil)
	log := slog.New(l).With("area", "EBS")
	log.Warn("request failed", "error", errors.New("dial tcp: refused"), "attempt", 2, "empty", "",
		slog.Group("payout", "id", "p1", "name", "Jaina"))
	log.WithGroup("g").Info("grouped", "k", `a"b`)
	got := l.Newest(0)
	if want := `request failed area=EBS error="dial tcp: refused" attempt=2 empty="" payout.id=p1 payout.name=Jaina`; got[1].Message != want || got[1].Level != Warn {
		t.Fatalf("%+v\nwant %s", got[1], want)
	}
	if want := `grouped area=EBS g.k="a\"b"`; got[0].Message != want {
		t.Fatalf("%q", got[0].Message)
	}
	if got[0].Time.IsZero() {
		t.Fatal("no time")
	}
}
