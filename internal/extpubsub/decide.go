package extpubsub

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

// view is what of a state decides whether viewers must hear of it. The
// clock fields (serverNow, nextSpinAt) change every instant and are left
// out: the panel counts down by itself.
type view struct {
	// urgent changes are pushed at once: the phase, why it is paused, the
	// cycle, the candidate, the last outcome, the newest winner.
	urgent string
	// gradual changes (the pool's count and names) are pushed at most once
	// per coalescing interval: a raid's hundreds of enrollments are one message.
	gradual string
}

func viewOf(st ebsapi.RouletteState) view {
	var u strings.Builder
	u.WriteString(string(st.SpinPhase))
	// A paused roulette changing its reason (the streamer's pause ends
	// while the stream is offline) tells viewers something new at once.
	u.WriteByte('|')
	if st.PausedReason != nil {
		u.WriteString(string(*st.PausedReason))
	}
	for _, p := range []*string{st.CurrentSpinCycleID, st.CandidateCharacterName} {
		u.WriteByte('|')
		if p != nil {
			u.WriteString(*p)
		}
	}
	u.WriteByte('|')
	if c := st.LastCycle; c != nil {
		u.WriteString(c.SpinCycleID + "/" + string(c.Outcome))
	}
	u.WriteByte('|')
	if len(st.RecentWinners) > 0 {
		w := st.RecentWinners[0]
		u.WriteString(w.CharacterName + "/" + w.At.UTC().Format(time.RFC3339Nano))
	}
	h := fnv.New64a()
	for _, n := range st.PoolCharacterNames {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return view{urgent: u.String(), gradual: strconv.Itoa(st.PoolParticipantCount) + "|" + strconv.FormatUint(h.Sum64(), 16)}
}

// decision is when the next message is due.
type decision struct {
	send bool      // something is to be sent
	at   time.Time // not before this
}

// decide is the pushing rule. sent is the view of the last message Twitch
// accepted while holding the lease (nil: none yet, so the current state is
// due at once); sentAt when. notBefore is the earliest any send may go
// (the one-per-second pace, a retry's backoff, a 429's reset).
func decide(sent *view, cur view, sentAt, now, notBefore time.Time, coalesce time.Duration) decision {
	var at time.Time
	switch {
	case sent == nil || sent.urgent != cur.urgent:
		at = now
	case sent.gradual != cur.gradual:
		at = sentAt.Add(coalesce)
	default:
		return decision{}
	}
	if at.Before(now) {
		at = now
	}
	if at.Before(notBefore) {
		at = notBefore
	}
	return decision{send: true, at: at}
}
