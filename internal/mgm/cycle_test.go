package mgm

import (
	"testing"
	"time"
)

func TestCycleBoundaries(t *testing.T) {
	base := time.Date(2026, 4, 5, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		at          time.Time
		interval    time.Duration
		start, next time.Time
	}{
		{base, SpinInterval, base, base.Add(5 * time.Minute)},
		{base.Add(3*time.Minute + 17*time.Second), SpinInterval, base, base.Add(5 * time.Minute)},
		{base.Add(5*time.Minute - time.Millisecond), SpinInterval, base, base.Add(5 * time.Minute)},
		{base.Add(5 * time.Minute), SpinInterval, base.Add(5 * time.Minute), base.Add(10 * time.Minute)},
		{base.Add(7 * time.Second), 10 * time.Second, base, base.Add(10 * time.Second)},
		{base.Add(13 * time.Second), 10 * time.Second, base.Add(10 * time.Second), base.Add(20 * time.Second)},
		// A non-UTC input is the same instant: the grid is UTC.
		{base.Add(time.Minute).In(time.FixedZone("X", 5*3600+1800)), SpinInterval, base, base.Add(5 * time.Minute)},
		// 7-second cycles still align to the Unix epoch.
		{time.Unix(700, 0), 7 * time.Second, time.Unix(700, 0).UTC(), time.Unix(707, 0).UTC()},
	}
	for _, c := range cases {
		if got := CycleStart(c.at, c.interval); !got.Equal(c.start) || got.Location() != time.UTC {
			t.Errorf("CycleStart(%v, %v) = %v, want %v", c.at, c.interval, got, c.start)
		}
		if got := NextBoundary(c.at, c.interval); !got.Equal(c.next) || !got.After(c.at) {
			t.Errorf("NextBoundary(%v, %v) = %v, want %v", c.at, c.interval, got, c.next)
		}
	}
}
