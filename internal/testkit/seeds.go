package testkit

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
)

// FixedSeed is a draw seed that depends only on the cycle id: tests whose
// draws need no particular candidate still get the same draws every run.
func FixedSeed(cycleID string) (drawproof.Seed, error) {
	return drawproof.Seed(sha256.Sum256([]byte("testkit fixed seed: " + cycleID))), nil
}

// DrawMember is a pool member as SeedPreferring sees them.
type DrawMember struct {
	TwitchUserID  string
	CharacterName string
}

// SeedPreferring returns the first of a fixed series of seeds under which
// the cycle's draw picks, from every subset of members that may be
// eligible at the draw, the first of prefer (character names) it holds.
// Draws are committed before anyone knows who will be eligible, so a test
// that needs a draw order must choose its seed for every case at once; the
// search grows with the product of the subsets' sizes, so keep members to a
// handful.
func SeedPreferring(cycleID string, members []DrawMember, prefer ...string) drawproof.Seed {
	if len(members) > 5 {
		panic("testkit.SeedPreferring: more than 5 members would take too long")
	}
	rank := func(name string) int {
		if i := slices.Index(prefer, name); i >= 0 {
			return i
		}
		return len(prefer)
	}
	for k := 0; ; k++ {
		seed := drawproof.Seed(sha256.Sum256([]byte("testkit seed " + strconv.Itoa(k) + ": " + cycleID)))
		if seedPrefers(seed, cycleID, members, rank, len(prefer)) {
			return seed
		}
		if k > 1_000_000 {
			panic(fmt.Sprintf("testkit.SeedPreferring: no seed for %d members", len(members)))
		}
	}
}

// seedPrefers: rank(name) == unranked for a name prefer does not hold.
func seedPrefers(seed drawproof.Seed, cycleID string, members []DrawMember, rank func(string) int, unranked int) bool {
	for set := 1; set < 1<<len(members); set++ {
		var list []drawproof.Entry
		best := -1
		for i, m := range members {
			if set&(1<<i) != 0 {
				list = append(list, drawproof.Entry{OrderKey: drawproof.OrderKey(m.TwitchUserID), CharacterName: m.CharacterName})
				if r := rank(m.CharacterName); best < 0 || r < best {
					best = r
				}
			}
		}
		drawproof.Sort(list)
		r := drawproof.Draw(seed, cycleID, list)
		if best < unranked && rank(list[r.Index].CharacterName) != best {
			return false
		}
	}
	return true
}
