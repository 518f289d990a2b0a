package engine

import (
	"slices"
	"time"
)

// ebsHealth remembers the last EBS outage the polls saw, so that a Sync
// which failed because the EBS was down can be told apart from one that
// failed for another reason (WoW closed, an entry too long) without parsing
// its message.
type ebsHealth struct {
	down   bool
	prevOK time.Time // the last good poll before the outage began
	start  time.Time // the first failed poll of the outage
	end    time.Time // the first good poll after it; zero while it lasts
}

// observe records one poll's outcome; lastOK is the last good poll before this one.
func (h *ebsHealth) observe(now time.Time, ok bool, lastOK time.Time) {
	switch {
	case !ok && !h.down:
		*h = ebsHealth{down: true, prevOK: lastOK, start: now}
	case ok && h.down:
		h.down, h.end = false, now
	}
}

// syncFailureCleared reports whether the failed Sync r is over: the EBS was
// down when it ran (no good poll between the Sync and the outage's start),
// has answered since, and the Sync left no payout InProgress that still is
// (those keep the banner: they may need Unlock). WoW must be found again too,
// so a Sync that failed on both counts keeps saying so.
func (h ebsHealth) syncFailureCleared(r *SyncReport, wowFound bool, live []PayoutView) bool {
	if r == nil || r.OK || h.down || h.end.IsZero() || !wowFound {
		return false
	}
	if h.prevOK.After(r.At) || !h.end.After(r.At) {
		return false
	}
	for _, p := range live {
		if p.Status == "InProgress" && slices.Contains(r.InProgress, p.ID) {
			return false
		}
	}
	return true
}
