package drawproof_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
)

// update rewrites testdata/vectors.json from vectorInputs:
// go test ./internal/drawproof -run TestVectors -update
var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

const vectorsPath = "testdata/vectors.json"

// Vectors is testdata/vectors.json: what every verifier (this package, the
// panel's) must reproduce exactly.
type Vectors struct {
	Version string `json:"version"`
	About   string `json:"about"`
	// Draws are whole proofs, from the members' Twitch user ids.
	Draws []DrawVector `json:"draws"`
	// Indexes exercise the rejection loop of step 4, which real list sizes
	// never reach: n is far beyond any list (a decimal string: it does not
	// fit a JavaScript number), so the list is given by its hash alone.
	Indexes []IndexVector `json:"indexes"`
}

// Member is an input of a draw vector, in no particular order.
type Member struct {
	TwitchUserID  string `json:"twitchUserId"`
	CharacterName string `json:"characterName"`
}

// DrawVector is a draw's inputs and every value the scheme derives from them.
type DrawVector struct {
	Name                   string            `json:"name"`
	Seed                   string            `json:"seed"`
	CycleID                string            `json:"cycleId"`
	Members                []Member          `json:"members"`
	Commitment             string            `json:"commitment"`
	List                   []drawproof.Entry `json:"list"`
	ListHash               string            `json:"listHash"`
	Index                  *int              `json:"index"`
	Counter                uint32            `json:"counter"`
	CandidateCharacterName *string           `json:"candidateCharacterName"`
}

// IndexVector is step 4 alone.
type IndexVector struct {
	Name     string `json:"name"`
	Seed     string `json:"seed"`
	CycleID  string `json:"cycleId"`
	ListHash string `json:"listHash"`
	N        string `json:"n"`
	Index    string `json:"index"`
	Counter  uint32 `json:"counter"`
}

// vectorSeed derives a vector's seed from its name, so the file can be
// regenerated without stored randomness.
func vectorSeed(name string) drawproof.Seed {
	return drawproof.Seed(sha256.Sum256([]byte("mgm-draw-v1 test vector: " + name)))
}

type drawInput struct {
	name    string
	cycleID string
	members []Member
}

var drawInputs = []drawInput{
	{"empty list", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0001", []Member{}},
	{"one member", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0002", []Member{{"141981764", "Norinn"}}},
	{"two members", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0003", []Member{{"141981764", "Norinn"}, {"12826", "Thrall"}}},
	{"three members", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0004", []Member{{"1001", "Voljin"}, {"1002", "Jaina"}, {"1003", "Thrall"}}},
	{"four members (a power of two)", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0005",
		[]Member{{"1", "Anduin"}, {"2", "Sylvanas"}, {"3", "Garrosh"}, {"4", "Tyrande"}}},
	{"cyrillic names", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0006",
		[]Member{{"500100", "Тралл"}, {"500101", "Джайна"}, {"500102", "Norinn"}, {"500103", "Ёжик"}}},
	{"seven members", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0007", []Member{
		{"77001", "Alpha"}, {"77002", "Bravo"}, {"77003", "Charlie"}, {"77004", "Delta"},
		{"77005", "Echo"}, {"77006", "Foxtrot"}, {"77007", "Golf"}}},
	{"same seed, another cycle", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0008", []Member{
		{"77001", "Alpha"}, {"77002", "Bravo"}, {"77003", "Charlie"}, {"77004", "Delta"},
		{"77005", "Echo"}, {"77006", "Foxtrot"}, {"77007", "Golf"}}},
}

type indexInput struct {
	name    string
	cycleID string
	n       uint64
	// counter: the seed is the first of the name's seeds whose accepted
	// counter is exactly this.
	counter uint32
}

var indexInputs = []indexInput{
	// 2^64 mod n = 2^63 − 1: about half of all x are rejected.
	{"n = 2^63 + 1, rejected twice", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0101", 1<<63 + 1, 2},
	// 2^64 mod n = 2^62: a quarter rejected.
	{"n = 3 * 2^62, rejected once", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0102", 3 << 62, 1},
	// 2^64 mod n = 1: only x = 2^64 − 1 is rejected.
	{"n = 2^64 - 1", "0d9a5a1e-6a0e-4c36-9a51-0c2a4b1f0103", 1<<64 - 1, 0},
}

func buildDraw(in drawInput) DrawVector {
	seed := vectorSSeed(in)
	list := make([]drawproof.Entry, 0, len(in.members))
	for _, m := range in.members {
		list = append(list, drawproof.Entry{OrderKey: drawproof.OrderKey(m.TwitchUserID), CharacterName: m.CharacterName})
	}
	drawproof.Sort(list)
	p := drawproof.NewProof(seed, in.cycleID, list)
	r := drawproof.Draw(seed, in.cycleID, list)
	return DrawVector{Name: in.name, Seed: p.Seed, CycleID: in.cycleID, Members: in.members, Commitment: p.Commitment,
		List: p.List, ListHash: p.ListHash, Index: p.Index, Counter: r.Counter, CandidateCharacterName: p.CandidateCharacterName}
}

// vectorSSeed gives the two "same seed" vectors one seed, to show that the
// cycle id alone changes the draw.
func vectorSSeed(in drawInput) drawproof.Seed {
	if in.name == "same seed, another cycle" {
		return vectorSeed("seven members")
	}
	return vectorSeed(in.name)
}

func buildIndex(in indexInput) IndexVector {
	listHash := sha256.Sum256([]byte(in.name))
	for k := 0; ; k++ {
		seed := vectorSeed(in.name + " #" + strconv.Itoa(k))
		i, c := drawproof.Index(seed, in.cycleID, listHash, in.n)
		if c == in.counter {
			return IndexVector{Name: in.name, Seed: seed.Hex(), CycleID: in.cycleID, ListHash: hex.EncodeToString(listHash[:]),
				N: strconv.FormatUint(in.n, 10), Index: strconv.FormatUint(i, 10), Counter: c}
		}
	}
}

func buildVectors() Vectors {
	v := Vectors{Version: drawproof.Version,
		About: "Test vectors of the mgm-draw-v1 draw proof (internal/drawproof). " +
			"Regenerate: go test ./internal/drawproof -run TestVectors -update"}
	for _, in := range drawInputs {
		v.Draws = append(v.Draws, buildDraw(in))
	}
	for _, in := range indexInputs {
		v.Indexes = append(v.Indexes, buildIndex(in))
	}
	return v
}

func TestVectors(t *testing.T) {
	built := buildVectors()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(built); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("%v (regenerate with -update)", err)
	}
	var file Vectors
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	// Every stored vector is recomputed from its inputs alone.
	if file.Version != drawproof.Version || len(file.Draws) < 8 || len(file.Indexes) < 3 {
		t.Fatalf("vectors file: version %q, %d draws, %d indexes", file.Version, len(file.Draws), len(file.Indexes))
	}
	for _, v := range file.Draws {
		t.Run(v.Name, func(t *testing.T) { checkDrawVector(t, v) })
	}
	for _, v := range file.Indexes {
		t.Run(v.Name, func(t *testing.T) { checkIndexVector(t, v) })
	}
	if !bytes.Equal(raw, buf.Bytes()) {
		t.Errorf("%s differs from what the inputs in this test give; if the inputs changed on purpose, run with -update", vectorsPath)
	}
	// The file covers what it promises to.
	cover := map[string]bool{}
	for _, v := range file.Draws {
		cover[fmt.Sprintf("n=%d", len(v.List))] = true
		for _, e := range v.List {
			for _, r := range e.CharacterName {
				if r >= 0x400 && r <= 0x4ff {
					cover["cyrillic"] = true
				}
			}
		}
	}
	for _, v := range file.Indexes {
		if v.Counter > 0 {
			cover["rejection"] = true
		}
	}
	for _, want := range []string{"n=0", "n=1", "n=2", "cyrillic", "rejection"} {
		if !cover[want] {
			t.Errorf("no vector with %s", want)
		}
	}
}

func checkDrawVector(t *testing.T, v DrawVector) {
	seed, ok := drawproof.ParseSeed(v.Seed)
	if !ok {
		t.Fatalf("seed %q", v.Seed)
	}
	if got := drawproof.Commitment(seed); got != v.Commitment {
		t.Errorf("commitment %s, want %s", got, v.Commitment)
	}
	list := make([]drawproof.Entry, 0, len(v.Members))
	for _, m := range v.Members {
		list = append(list, drawproof.Entry{OrderKey: drawproof.OrderKey(m.TwitchUserID), CharacterName: m.CharacterName})
	}
	drawproof.Sort(list)
	if fmt.Sprint(list) != fmt.Sprint(v.List) {
		t.Errorf("list %v, want %v", list, v.List)
	}
	r := drawproof.Draw(seed, v.CycleID, list)
	if got := hex.EncodeToString(r.ListHash[:]); got != v.ListHash {
		t.Errorf("list hash %s, want %s", got, v.ListHash)
	}
	if (v.Index == nil) != (r.Index < 0) || (v.Index != nil && *v.Index != r.Index) || r.Counter != v.Counter {
		t.Errorf("index %d counter %d, want %v counter %d", r.Index, r.Counter, v.Index, v.Counter)
	}
	p := drawproof.Proof{Version: drawproof.Version, CycleID: v.CycleID, Commitment: v.Commitment, Seed: v.Seed,
		List: v.List, ListHash: v.ListHash, Index: v.Index, CandidateCharacterName: v.CandidateCharacterName}
	if ms := drawproof.Verify(p, v.Commitment); len(ms) != 0 {
		t.Errorf("the vector as a proof does not verify: %v", ms)
	}
}

func checkIndexVector(t *testing.T, v IndexVector) {
	seed, ok := drawproof.ParseSeed(v.Seed)
	n, err := strconv.ParseUint(v.N, 10, 64)
	lh, herr := hex.DecodeString(v.ListHash)
	if !ok || err != nil || herr != nil || len(lh) != 32 {
		t.Fatalf("vector inputs: %+v", v)
	}
	i, c := drawproof.Index(seed, v.CycleID, [32]byte(lh), n)
	if strconv.FormatUint(i, 10) != v.Index || c != v.Counter {
		t.Errorf("index %d counter %d, want %s counter %d", i, c, v.Index, v.Counter)
	}
}
