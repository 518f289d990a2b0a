package drawproof_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
)

// randomList is a canonical list of n members with distinct ids and names.
func randomList(r *rand.Rand, n int) []drawproof.Entry {
	list := make([]drawproof.Entry, n)
	for i := range list {
		list[i] = drawproof.Entry{OrderKey: drawproof.OrderKey(strconv.FormatUint(r.Uint64(), 10)),
			CharacterName: fmt.Sprintf("Name%s", strconv.Itoa(i))}
	}
	for i := range list { // names must be letters; map digits to letters
		b := []byte(list[i].CharacterName)
		for j := range b {
			if b[j] >= '0' && b[j] <= '9' {
				b[j] = 'a' + b[j] - '0'
			}
		}
		list[i].CharacterName = string(b)
	}
	drawproof.Sort(list)
	return list
}

func randomSeed(r *rand.Rand) drawproof.Seed {
	var s drawproof.Seed
	for i := 0; i < len(s); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			s[i+j] = byte(v >> (8 * j))
		}
	}
	return s
}

func fields(ms []drawproof.Mismatch) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Field)
	}
	return out
}

// TestManyDraws draws 10,000 cycles with random seeds and lists, checks that
// the verifier agrees with every draw, and that each kind of tampering is
// reported under the field it changed.
func TestManyDraws(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{'m', 'g', 'm'}))
	for k := range 10_000 {
		n := r.IntN(40) // 0 included: a cycle without participants
		if k%100 == 0 {
			n = 200 + r.IntN(800)
		}
		list := randomList(r, n)
		seed := randomSeed(r)
		cycleID := fmt.Sprintf("00000000-0000-4000-8000-%012d", k)
		p := drawproof.NewProof(seed, cycleID, list)
		if ms := drawproof.Verify(p, p.Commitment); len(ms) != 0 {
			t.Fatalf("draw %d (n=%d): %v", k, n, ms)
		}
		if (p.Index == nil) != (n == 0) || (n > 0 && (*p.Index < 0 || *p.Index >= n)) {
			t.Fatalf("draw %d: index %v of %d", k, p.Index, n)
		}
		tamper := func(what string, want []string, change func(q *drawproof.Proof)) {
			t.Helper()
			q := p
			q.List = slices.Clone(p.List)
			change(&q)
			got := fields(drawproof.Verify(q, ""))
			if !slices.Equal(got, want) {
				t.Fatalf("draw %d (n=%d), %s: mismatches %v, want %v", k, n, what, got, want)
			}
		}
		// Another seed: its hash is not the commitment.
		other := randomSeed(r)
		// (the index it gives differs too, unless by chance).
		q := p
		q.Seed = other.Hex()
		if ms := fields(drawproof.Verify(q, "")); len(ms) == 0 || ms[0] != "commitment" {
			t.Fatalf("draw %d: another seed: %v", k, ms)
		}
		if ms := drawproof.Verify(p, drawproof.Commitment(other)); !slices.Equal(fields(ms), []string{"savedCommitment"}) {
			t.Fatalf("draw %d: a saved commitment of another seed: %v", k, ms)
		}
		// Another seed, committed too (the EBS swapped both): the draw differs
		// unless the index happens to be the same.
		if n > 1 {
			q := p
			q.Seed, q.Commitment = other.Hex(), drawproof.Commitment(other)
			if ms := drawproof.Verify(q, p.Commitment); !slices.Contains(fields(ms), "savedCommitment") {
				t.Fatalf("draw %d: swapped seed and commitment not caught by the saved commitment: %v", k, ms)
			}
		}
		if n == 0 {
			tamper("an entry added", []string{"listHash", "index", "candidateCharacterName"}, func(q *drawproof.Proof) {
				q.List = randomList(r, 1)
			})
			continue
		}
		tamper("an index moved", []string{"index"}, func(q *drawproof.Proof) {
			i := (*p.Index + 1) % n
			if n == 1 {
				i = 1
			}
			q.Index = &i
		})
		tamper("the winner renamed", []string{"candidateCharacterName"}, func(q *drawproof.Proof) {
			name := *p.CandidateCharacterName + "x"
			q.CandidateCharacterName = &name
		})
		removed := slices.Delete(slices.Clone(p.List), 0, 1)
		q = p
		q.List = removed
		if ms := fields(drawproof.Verify(q, "")); len(ms) == 0 || ms[0] != "listHash" {
			t.Fatalf("draw %d: an entry removed: %v", k, ms)
		}
		added := append(slices.Clone(p.List), randomList(r, 1)...)
		drawproof.Sort(added)
		q.List = added
		if ms := fields(drawproof.Verify(q, "")); len(ms) == 0 || ms[0] != "listHash" {
			t.Fatalf("draw %d: an entry added: %v", k, ms)
		}
		if n > 1 {
			i := r.IntN(n - 1)
			swapped := slices.Clone(p.List)
			swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
			q.List = swapped
			if ms := fields(drawproof.Verify(q, "")); len(ms) < 2 || ms[0] != "list" || !slices.Contains(ms, "listHash") {
				t.Fatalf("draw %d: two entries swapped: %v", k, ms)
			}
		}
	}
}

// TestChiSquared draws a fixed list of 7 members 70,000 times with fixed
// seeds and checks the counts against the uniform distribution: χ² with 6
// degrees of freedom exceeds 22.458 with probability 0.001.
func TestChiSquared(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{'c', 'h', 'i'}))
	list := randomList(r, 7)
	const draws = 70_000
	var counts [7]int
	for k := range draws {
		seed := randomSeed(r)
		res := drawproof.Draw(seed, fmt.Sprintf("00000000-0000-4000-8000-%012d", k), list)
		counts[res.Index]++
	}
	expected := float64(draws) / 7
	var chi2 float64
	for _, c := range counts {
		d := float64(c) - expected
		chi2 += d * d / expected
	}
	t.Logf("counts %v, χ² = %.2f", counts, chi2)
	if chi2 > 22.458 {
		t.Fatalf("χ² = %.2f > 22.458 (p < 0.001): counts %v are not uniform", chi2, counts)
	}
}

// TestChiSquaredCatchesBias shows the test above has teeth: the same draws
// with plain modulo over 3 bits (a biased rule) fail it.
func TestChiSquaredCatchesBias(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{'c', 'h', 'i'}))
	var counts [7]int
	for range 70_000 {
		counts[(r.Uint64()&7)%7]++ // 0 gets twice the share
	}
	var chi2 float64
	for _, c := range counts {
		d := float64(c) - 10_000
		chi2 += d * d / 10_000
	}
	if chi2 <= 22.458 {
		t.Fatalf("a biased draw passed: χ² = %.2f", chi2)
	}
}

func TestIndexWithoutBias(t *testing.T) {
	// Powers of two divide 2^64: nothing is ever rejected.
	seed := drawproof.Seed{1}
	for _, n := range []uint64{1, 2, 4, 1 << 40, 1 << 63} {
		if _, c := drawproof.Index(seed, "c", [32]byte{}, n); c != 0 {
			t.Errorf("n=%d: counter %d", n, c)
		}
	}
	// n = 2^63 + 1 accepts x < n only: about half the counters are rejected.
	rejected := 0
	for k := range 2000 {
		i, c := drawproof.Index(drawproof.Seed{byte(k), byte(k >> 8)}, "c", [32]byte{}, 1<<63+1)
		if i > 1<<63 {
			t.Fatalf("index %d out of range", i)
		}
		if c > 0 {
			rejected++
		}
	}
	if rejected < 800 || rejected > 1200 {
		t.Errorf("%d of 2000 draws needed a second counter, want about 1000", rejected)
	}
}

func TestVerifyReports(t *testing.T) {
	seed := drawproof.Seed{7}
	list := randomList(rand.New(rand.NewPCG(1, 2)), 5)
	p := drawproof.NewProof(seed, "00000000-0000-4000-8000-000000000001", list)
	cases := []struct {
		name   string
		change func(q *drawproof.Proof)
		want   []string
	}{
		{"version", func(q *drawproof.Proof) { q.Version = "mgm-draw-v2" }, []string{"version"}},
		{"malformed seed", func(q *drawproof.Proof) { q.Seed = "zz" }, []string{"seed"}},
		{"uppercase seed", func(q *drawproof.Proof) { q.Seed = "AB" + q.Seed[2:] }, []string{"seed"}},
		{"commitment", func(q *drawproof.Proof) { q.Commitment = drawproof.Commitment(drawproof.Seed{8}) }, []string{"commitment"}},
		{"list hash", func(q *drawproof.Proof) { q.ListHash = q.Commitment }, []string{"listHash"}},
		{"index null", func(q *drawproof.Proof) { q.Index = nil }, []string{"index"}},
		{"bad order key", func(q *drawproof.Proof) {
			q.List = slices.Clone(q.List)
			q.List[0].OrderKey = "00"
		}, []string{"list", "listHash", "index", "candidateCharacterName"}},
		{"cycle id", func(q *drawproof.Proof) { q.CycleID = "00000000-0000-4000-8000-000000000002" }, nil}, // see below
	}
	for _, tc := range cases {
		q := p
		tc.change(&q)
		got := fields(drawproof.Verify(q, ""))
		if tc.name == "cycle id" {
			// Another cycle id changes the index unless by chance (1 in 5)
			// it is the same; the name follows the index.
			if len(got) != 0 && !slices.Equal(got, []string{"index", "candidateCharacterName"}) {
				t.Errorf("%s: %v", tc.name, got)
			}
			continue
		}
		if tc.name == "bad order key" {
			// The hash changes, and with it maybe the index.
			if len(got) < 2 || got[0] != "list" || got[1] != "listHash" {
				t.Errorf("%s: %v", tc.name, got)
			}
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	ms := drawproof.Verify(drawproof.Proof{Version: drawproof.Version, Seed: "zz"}, "")
	if len(ms) != 1 || ms[0].String() == "" {
		t.Fatalf("%v", ms)
	}
}

func TestEncodeDecode(t *testing.T) {
	list := randomList(rand.New(rand.NewPCG(3, 4)), 20)
	list = append(list, drawproof.Entry{OrderKey: drawproof.OrderKey("x"), CharacterName: "Тралл"})
	drawproof.Sort(list)
	got, ok := drawproof.Decode(drawproof.Encode(list))
	if !ok || !slices.Equal(got, list) {
		t.Fatalf("round trip: %v %v", ok, got)
	}
	if l, ok := drawproof.Decode(nil); !ok || len(l) != 0 || l == nil {
		t.Fatalf("empty: %v %v", l, ok)
	}
	for _, bad := range []string{"abc", "abc\n", "k\tname"} {
		if _, ok := drawproof.Decode([]byte(bad)); ok {
			t.Errorf("%q decoded", bad)
		}
	}
	if drawproof.ListHash(list) != [32]byte(sha256Of(drawproof.Encode(list))) {
		t.Fatal("the list hash is not SHA-256 of the encoding")
	}
}

func sha256Of(b []byte) [32]byte { return sha256.Sum256(b) }
