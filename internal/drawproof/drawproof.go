// Package drawproof is the commit–reveal scheme that lets anyone check a
// roulette draw after the fact, version "mgm-draw-v1". It is pure: no I/O,
// no clock, no randomness of its own (the seed is the caller's).
//
// # The scheme, mgm-draw-v1
//
// All hashes are SHA-256; "hex" is lowercase hexadecimal; strings are UTF-8.
//
//  1. Seed. When a cycle is created, ahead of its window, the EBS draws a
//     32-byte secret seed from the operating system's CSPRNG and publishes
//     only its commitment: commitment = hex(SHA-256(seed)).
//
//  2. The list. At the draw, every eligible pool member becomes an entry
//     {orderKey, characterName}, where
//     orderKey = hex(first 16 bytes of SHA-256("mgm-order-v1:" + twitchUserId)),
//     32 hex digits. The key is opaque: it names no one, but a viewer who
//     knows their own Twitch user id finds their own entry. (Whoever knows a
//     user id can do the same for that viewer; a chat enrollment already
//     printed the same link in public chat.) The canonical order is ascending
//     orderKey compared byte by byte (for lowercase hex that is the order of
//     the 16 raw bytes); two equal keys — a 128-bit collision, impossible in
//     practice — are ordered by characterName, byte by byte.
//
//  3. The list hash. listHash = SHA-256 of the concatenation, in canonical
//     order, of orderKey + "\t" + characterName + "\n" for every entry (the
//     empty list hashes the empty string). No escaping is needed: an orderKey
//     is 32 hex digits, and a character name is 2–12 Latin or Cyrillic
//     letters, so neither holds a tab or a newline.
//
//  4. The index. With n = the number of entries (n ≥ 1; an empty list has no
//     index and no candidate), for counter c = 0, 1, 2, …:
//     h = HMAC-SHA256(key = seed, message = cycleId ‖ 0x00 ‖ listHash ‖ uint32be(c)),
//     where cycleId is the cycle's id as the API writes it (36 characters,
//     lowercase, with dashes), listHash its 32 raw bytes and uint32be(c) the
//     counter as 4 bytes, big-endian; x = the first 8 bytes of h as a
//     big-endian unsigned 64-bit integer. Accept when x < 2^64 − (2^64 mod n)
//     and take index = x mod n; otherwise try the next counter. Accepting
//     only below the largest multiple of n makes every index equally likely
//     (no modulo bias). For any list a pool can hold, the first counter is
//     accepted with probability above 1 − n/2^64, so c is 0 in practice; the
//     test vectors exercise the loop with huge n (see testdata/vectors.json).
//
//  5. The candidate is the entry at that index (counting from 0) in
//     canonical order.
//
// After the draw the EBS publishes the seed, the list, its hash and the
// index; a verifier recomputes the commitment, the list hash and the index
// and compares each with what was published (Verify).
//
// What it proves: the seed was fixed before the draw (its commitment was
// public), and the candidate follows from the seed and the published list by
// the rule above, so the operator could not pick the candidate at draw time.
// What it cannot prove: that the list is exactly the eligible pool. Each
// viewer can check their own entry is present; the operator knows the seed
// before the draw and could in principle add or remove entries to steer it.
package drawproof

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Version names the scheme; a proof of another version is not checked.
const Version = "mgm-draw-v1"

// SeedSize is the seed's length in bytes.
const SeedSize = 32

// Seed is a cycle's secret, revealed after its draw.
type Seed [SeedSize]byte

// Hex is the seed as published.
func (s Seed) Hex() string { return hex.EncodeToString(s[:]) }

// ParseSeed reads a published seed: 64 hex digits.
func ParseSeed(h string) (Seed, bool) {
	var s Seed
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != SeedSize || h != strings.ToLower(h) {
		return s, false
	}
	copy(s[:], b)
	return s, true
}

// Commitment is what is published before the draw: hex(SHA-256(seed)).
func Commitment(s Seed) string {
	sum := sha256.Sum256(s[:])
	return hex.EncodeToString(sum[:])
}

// orderKeyPrefix domain-separates the order key from any other hash of a user id.
const orderKeyPrefix = "mgm-order-v1:"

// OrderKeyLen is an order key's length in hex digits.
const OrderKeyLen = 32

// OrderKey is the opaque key that places a viewer in the canonical order.
func OrderKey(twitchUserID string) string {
	sum := sha256.Sum256([]byte(orderKeyPrefix + twitchUserID))
	return hex.EncodeToString(sum[:OrderKeyLen/2])
}

// ValidOrderKey reports whether k has the form of an order key.
func ValidOrderKey(k string) bool {
	if len(k) != OrderKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Entry is one eligible member as the proof shows them.
type Entry struct {
	OrderKey      string `json:"orderKey"`
	CharacterName string `json:"characterName"`
}

// Compare orders entries canonically: by order key, then by name, byte by byte.
func Compare(a, b Entry) int {
	if c := strings.Compare(a.OrderKey, b.OrderKey); c != 0 {
		return c
	}
	return strings.Compare(a.CharacterName, b.CharacterName)
}

// Sort puts a list in canonical order.
func Sort(list []Entry) { slices.SortFunc(list, Compare) }

// AppendEncoding appends the entry's line of the list hash's input.
func AppendEncoding(b []byte, e Entry) []byte {
	b = append(b, e.OrderKey...)
	b = append(b, '\t')
	b = append(b, e.CharacterName...)
	return append(b, '\n')
}

// ListHash hashes a list in the order given (canonical order is the caller's).
func ListHash(list []Entry) [32]byte {
	h := sha256.New()
	var line []byte
	for _, e := range list {
		line = AppendEncoding(line[:0], e)
		h.Write(line)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Index derives the winning index in [0, n) from the seed, the cycle and
// the list hash, and returns the counter that was accepted. n must be at
// least 1.
func Index(seed Seed, cycleID string, listHash [32]byte, n uint64) (index uint64, counter uint32) {
	if n == 0 {
		panic("drawproof: Index of an empty list")
	}
	// 2^64 mod n, computed in 64 bits: (2^64 − n) mod n.
	rem := -n % n
	msg := make([]byte, 0, len(cycleID)+1+len(listHash)+4)
	msg = append(msg, cycleID...)
	msg = append(msg, 0)
	msg = append(msg, listHash[:]...)
	prefix := len(msg)
	mac := hmac.New(sha256.New, seed[:])
	var sum []byte
	for c := uint32(0); ; c++ {
		msg = binary.BigEndian.AppendUint32(msg[:prefix], c)
		mac.Reset()
		mac.Write(msg)
		sum = mac.Sum(sum[:0])
		x := binary.BigEndian.Uint64(sum[:8])
		// Accept x < 2^64 − rem; with rem = 0 every x is accepted.
		if rem == 0 || x <= math.MaxUint64-rem {
			return x % n, c
		}
		if c == math.MaxUint32 {
			// Each try is accepted with probability above 1/2: 2^32 misses
			// in a row do not happen.
			panic("drawproof: no counter accepted")
		}
	}
}

// Result is a draw: the list hash, and the candidate's index and the
// counter that gave it (both -1 and 0 for an empty list).
type Result struct {
	ListHash [32]byte
	Index    int
	Counter  uint32
}

// Draw runs the scheme over a list already in canonical order.
func Draw(seed Seed, cycleID string, list []Entry) Result {
	r := Result{ListHash: ListHash(list), Index: -1}
	if len(list) > 0 {
		i, c := Index(seed, cycleID, r.ListHash, uint64(len(list)))
		r.Index, r.Counter = int(i), c
	}
	return r
}

// Proof is a revealed draw as GET /api/roulette/cycles/{id}/proof serves it.
type Proof struct {
	Version    string `json:"version"`
	CycleID    string `json:"cycleId"`
	Commitment string `json:"commitment"`
	Seed       string `json:"seed"`
	// List is in canonical order.
	List     []Entry `json:"list"`
	ListHash string  `json:"listHash"`
	// Index is null for an empty list.
	Index *int `json:"index"`
	// CandidateCharacterName is the drawn entry's name (null for an empty
	// list): the cycle's candidate, who wins if the /who check finds them online.
	CandidateCharacterName *string `json:"candidateCharacterName"`
}

// NewProof builds the proof of a draw over a list in canonical order.
func NewProof(seed Seed, cycleID string, list []Entry) Proof {
	r := Draw(seed, cycleID, list)
	p := Proof{Version: Version, CycleID: cycleID, Commitment: Commitment(seed), Seed: seed.Hex(),
		List: list, ListHash: hex.EncodeToString(r.ListHash[:])}
	if p.List == nil {
		p.List = []Entry{}
	}
	if r.Index >= 0 {
		i, name := r.Index, list[r.Index].CharacterName
		p.Index, p.CandidateCharacterName = &i, &name
	}
	return p
}

// Mismatch is one thing in a proof that does not hold.
type Mismatch struct {
	// Field is the proof's field at fault: version, seed, commitment,
	// savedCommitment, list, listHash, index or candidateCharacterName.
	Field string `json:"field"`
	// Published is what the proof (or the saved commitment) says; Recomputed
	// is what follows from the rest; either is "" when it does not apply.
	Published  string `json:"published"`
	Recomputed string `json:"recomputed"`
	Detail     string `json:"detail"`
}

func (m Mismatch) String() string {
	s := m.Field + ": " + m.Detail
	if m.Published != "" || m.Recomputed != "" {
		s += " (published " + orNone(m.Published) + ", recomputed " + orNone(m.Recomputed) + ")"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Verify recomputes everything a proof claims and returns what differs;
// none means the draw checks out. saved is a commitment the viewer kept from
// before the draw ("" if none): it must match the seed as well.
func Verify(p Proof, saved string) []Mismatch {
	var out []Mismatch
	if p.Version != Version {
		return append(out, Mismatch{Field: "version", Published: p.Version, Recomputed: Version,
			Detail: "this verifier checks " + Version + " proofs only"})
	}
	seed, ok := ParseSeed(p.Seed)
	if !ok {
		return append(out, Mismatch{Field: "seed", Published: p.Seed, Detail: "the seed is not 64 lowercase hex digits"})
	}
	commitment := Commitment(seed)
	if p.Commitment != commitment {
		out = append(out, Mismatch{Field: "commitment", Published: p.Commitment, Recomputed: commitment,
			Detail: "SHA-256 of the revealed seed is not the published commitment"})
	}
	if saved != "" && strings.ToLower(saved) != commitment {
		out = append(out, Mismatch{Field: "savedCommitment", Published: saved, Recomputed: commitment,
			Detail: "SHA-256 of the revealed seed is not the commitment saved before the draw"})
	}
	for i, e := range p.List {
		if !ValidOrderKey(e.OrderKey) {
			out = append(out, Mismatch{Field: "list", Published: e.OrderKey,
				Detail: "entry " + strconv.Itoa(i) + " has an order key that is not 32 lowercase hex digits"})
		}
		if strings.ContainsAny(e.CharacterName, "\t\n") || e.CharacterName == "" {
			out = append(out, Mismatch{Field: "list", Published: e.CharacterName,
				Detail: "entry " + strconv.Itoa(i) + " has an empty name or one holding a tab or newline"})
		}
		if i > 0 && Compare(p.List[i-1], e) >= 0 {
			out = append(out, Mismatch{Field: "list",
				Detail: "entries " + strconv.Itoa(i-1) + " and " + strconv.Itoa(i) + " are not in canonical order (ascending orderKey, then name)"})
		}
	}
	r := Draw(seed, p.CycleID, p.List)
	if listHash := hex.EncodeToString(r.ListHash[:]); p.ListHash != listHash {
		out = append(out, Mismatch{Field: "listHash", Published: p.ListHash, Recomputed: listHash,
			Detail: "SHA-256 of the published list is not the published list hash"})
	}
	published, recomputed := "", ""
	if p.Index != nil {
		published = strconv.Itoa(*p.Index)
	}
	if r.Index >= 0 {
		recomputed = strconv.Itoa(r.Index)
	}
	if published != recomputed {
		out = append(out, Mismatch{Field: "index", Published: published, Recomputed: recomputed,
			Detail: "the seed, cycle id and list give another index"})
	}
	name := ""
	if p.CandidateCharacterName != nil {
		name = *p.CandidateCharacterName
	}
	if want := entryName(p.List, r.Index); name != want {
		out = append(out, Mismatch{Field: "candidateCharacterName", Published: name, Recomputed: want,
			Detail: "the drawn entry has another name"})
	}
	return out
}

func entryName(list []Entry, i int) string {
	if i < 0 || i >= len(list) {
		return ""
	}
	return list[i].CharacterName
}

// Encode is the list hash's input for a list: what the EBS stores to serve
// the proof later, since the pool changes right after the draw.
func Encode(list []Entry) []byte {
	b := make([]byte, 0, len(list)*(OrderKeyLen+16))
	for _, e := range list {
		b = AppendEncoding(b, e)
	}
	return b
}

// Decode reads what Encode wrote.
func Decode(b []byte) ([]Entry, bool) {
	list := []Entry{}
	for len(b) > 0 {
		line, rest, ok := bytes.Cut(b, []byte{'\n'})
		if !ok {
			return nil, false
		}
		key, name, ok := bytes.Cut(line, []byte{'\t'})
		if !ok {
			return nil, false
		}
		list = append(list, Entry{OrderKey: string(key), CharacterName: string(name)})
		b = rest
	}
	return list, true
}

// CheckEncoding reports how many entries an encoding (Encode) holds and
// whether it is well formed and in canonical order, without decoding it:
// the draw hashes the text the database built and must not trust its
// order blindly (a collation other than byte order would give another list).
func CheckEncoding(b []byte) (n int, canonical bool) {
	var prev []byte
	for len(b) > 0 {
		line, rest, ok := bytes.Cut(b, []byte{'\n'})
		if !ok {
			return n, false
		}
		// Whole lines compare as their entries do: the keys have one
		// length, and the tab sorts below every letter of a name.
		if prev != nil && bytes.Compare(prev, line) >= 0 || bytes.IndexByte(line, '\t') != OrderKeyLen {
			return n, false
		}
		prev, b = line, rest
		n++
	}
	return n, true
}

// EntryAt returns the i-th entry of a well-formed encoding.
func EntryAt(b []byte, i int) (Entry, bool) {
	for ; i > 0; i-- {
		j := bytes.IndexByte(b, '\n')
		if j < 0 {
			return Entry{}, false
		}
		b = b[j+1:]
	}
	line, _, ok := bytes.Cut(b, []byte{'\n'})
	key, name, ok2 := bytes.Cut(line, []byte{'\t'})
	if !ok || !ok2 {
		return Entry{}, false
	}
	return Entry{OrderKey: string(key), CharacterName: string(name)}, true
}

// ListHashEncoded is the list hash of an encoding (Encode).
func ListHashEncoded(encoded []byte) [32]byte { return sha256.Sum256(encoded) }

// DrawHashed runs the scheme for a list of n entries whose hash is
// listHash (ListHashEncoded): the list was hashed ahead of the draw.
func DrawHashed(seed Seed, cycleID string, listHash [32]byte, n int) Result {
	r := Result{ListHash: listHash, Index: -1}
	if n > 0 {
		i, c := Index(seed, cycleID, r.ListHash, uint64(n))
		r.Index, r.Counter = int(i), c
	}
	return r
}
