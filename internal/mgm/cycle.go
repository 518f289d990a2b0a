package mgm

import "time"

// CycleStart is the start of the cycle containing t: the latest UTC multiple
// of interval at or before t.
func CycleStart(t time.Time, interval time.Duration) time.Time {
	// Align to the Unix epoch (time.Truncate aligns to year 1), so the grid
	// is the same for every interval and every replica.
	t = t.UTC()
	offset := time.Duration(t.UnixNano() % int64(interval))
	if offset < 0 {
		offset += interval
	}
	return t.Add(-offset)
}

// NextBoundary is the first cycle boundary strictly after t.
func NextBoundary(t time.Time, interval time.Duration) time.Time {
	return CycleStart(t, interval).Add(interval)
}
