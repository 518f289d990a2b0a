// Package extpubsub pushes the roulette's public state to every viewer's
// panel through Twitch Extension PubSub, so that panels need not poll.
//
// Twitch's Helix "Send Extension PubSub Message"
// (https://dev.twitch.tv/docs/api/reference/#send-extension-pubsub-message)
// is POST <Helix>/extensions/pubsub with Authorization: Bearer <JWT>,
// Client-Id: <extension client id> and a JSON body {"message",
// "broadcaster_id", "target": ["broadcast"]}; 204 No Content means Twitch
// accepted it. The JWT is signed by the EBS with the extension secret
// (https://dev.twitch.tv/docs/extensions/reference/#jwt-schema), role
// "external". One replica sends (a database lease), at most once a second
// and a few times per cycle, well inside Twitch's limit of 100 per minute
// per extension and channel.
package extpubsub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

// MaxMessageBytes is the budget of one message. Twitch documents "a maximum
// of 5 KB"; staying under 5,000 bytes holds whichever way Twitch counts a KB.
const MaxMessageBytes = 5000

// KindState is the only kind of message so far: the roulette state.
const KindState = "state"

// Message is what the panel receives from Twitch.ext.listen('broadcast').
type Message struct {
	V    int    `json:"v"`
	Kind string `json:"kind"`
	// Seq increases with every message this process has had accepted; it
	// starts above the Unix milliseconds of the moment this process began
	// to push, so a replica taking over continues above its predecessor.
	Seq int64 `json:"seq"`
	// State is exactly what GET /api/roulette/state answers at the moment
	// of sending, except that the wheel's names may be cut to fit.
	State ebsapi.RouletteState `json:"state"`
}

// EncodeState encodes a state message within limit bytes. When the whole
// state does not fit, names are dropped from the end of the wheel's list
// (the panel shows them as decoration; the count and the candidate are what
// matter) until it does; dropped says how many. It fails only when even
// the state without names does not fit.
func EncodeState(seq int64, st ebsapi.RouletteState, limit int) (msg string, dropped int, err error) {
	names := st.PoolCharacterNames
	encode := func(keep int) ([]byte, error) {
		s := st
		s.PoolCharacterNames = names[:keep]
		if s.PoolCharacterNames == nil {
			s.PoolCharacterNames = []string{} // as the route answers: a list, never null
		}
		return encodeJSON(Message{V: 1, Kind: KindState, Seq: seq, State: s})
	}
	b, err := encode(len(names))
	if err != nil {
		return "", 0, err
	}
	if len(b) <= limit {
		return string(b), 0, nil
	}
	// The largest number of names that fits: fitting is monotone in it.
	var failed error
	keep := sort.Search(len(names)+1, func(k int) bool {
		b, err := encode(k)
		if err != nil {
			failed = err
			return true
		}
		return len(b) > limit
	}) - 1
	if failed != nil {
		return "", 0, failed
	}
	if keep < 0 {
		return "", 0, fmt.Errorf("the roulette state does not fit in %d bytes even without names", limit)
	}
	b, err = encode(keep)
	return string(b), len(names) - keep, err
}

// encodeJSON encodes as the API does (serve.JSON: no HTML escaping), so the
// state in a message is byte for byte the route's answer.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
