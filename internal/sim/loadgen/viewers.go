// Package loadgen is mgm-sim load: it enrolls many distinct subscribers
// through the EBS's EventSub webhook, exactly as Twitch would deliver their
// chat messages, measures how the enrollment rate changes as the pool grows,
// and then checks that every enrollment the EBS acknowledged is in the pool.
// mgm-sim load baseline measures the database's own single-row insert rate
// at the same concurrency, the ceiling the EBS's rate is compared with.
package loadgen

import (
	"strconv"
)

// Viewer is one simulated subscriber: a distinct Twitch user with a
// character name no other load viewer has (names are unique case-insensitively).
type Viewer struct {
	Index     int
	UserID    string
	Login     string
	Character string
}

// userIDBase keeps load viewers' ids numeric like Twitch's and far from the
// small ids tests and demos use by hand.
const userIDBase = 900_000_000

// nameLetters is how many letters after the prefix encode the index: 26^6,
// about 308 million distinct names.
const nameLetters = 6

// MaxViewers is how many distinct viewers (indices 0..MaxViewers-1) exist.
const MaxViewers = 26 * 26 * 26 * 26 * 26 * 26

// ViewerAt is the viewer with the given index (0 <= i < MaxViewers), the
// same on every run, so that a check can name who should be in the pool.
func ViewerAt(i int) Viewer {
	return Viewer{
		Index:     i,
		UserID:    strconv.Itoa(userIDBase + i),
		Login:     "loadviewer" + strconv.Itoa(i),
		Character: characterName(i),
	}
}

// characterName is "Ld" and the index in base 26 as six lowercase letters:
// 8 letters, a capital first, valid for mgm.ValidateCharacterName and
// distinct from every other index even case-insensitively.
func characterName(i int) string {
	b := []byte("Ld")
	var digits [nameLetters]byte
	for k := nameLetters - 1; k >= 0; k-- {
		digits[k] = byte('a' + i%26)
		i /= 26
	}
	return string(append(b, digits[:]...))
}
