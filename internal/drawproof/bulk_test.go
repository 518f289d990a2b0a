package drawproof_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
)

// The bulk check: 10,000 draws from a generator simple enough to write in
// any language, summed up in one digest (testdata/bulk.json) that every
// verifier must reproduce — the panel's (extension/src/drawverify.bulk.test.ts)
// runs the same generator through WebCrypto. One different index or list
// hash among the 10,000 changes the digest.
//
// Draw i (0 ≤ i < 10,000):
//   - seed = SHA-256("mgm-draw-v1 bulk seed " + i in decimal)
//   - cycleId = the first 16 bytes of SHA-256("mgm-draw-v1 bulk cycle " + i),
//     as lowercase hex grouped 8-4-4-4-12
//   - n = 1 + i mod 40 members; member j has Twitch user id 100000 + 40·i + j
//     (decimal) and character name "Bulk" + ('a' + j/26) + ('a' + j mod 26)
//   - the list is the members' entries in canonical order
//
// digest = SHA-256 of, for every draw in order, hex(listHash) ":" index "\n".
const bulkDraws = 10_000

func bulkDraw(i int) (drawproof.Seed, string, []drawproof.Entry) {
	seed := drawproof.Seed(sha256.Sum256(fmt.Appendf(nil, "mgm-draw-v1 bulk seed %d", i)))
	c := sha256.Sum256(fmt.Appendf(nil, "mgm-draw-v1 bulk cycle %d", i))
	h := hex.EncodeToString(c[:16])
	cycleID := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	n := 1 + i%40
	list := make([]drawproof.Entry, n)
	for j := range n {
		list[j] = drawproof.Entry{
			OrderKey:      drawproof.OrderKey(fmt.Sprint(100000 + 40*i + j)),
			CharacterName: "Bulk" + string(rune('a'+j/26)) + string(rune('a'+j%26)),
		}
	}
	drawproof.Sort(list)
	return seed, cycleID, list
}

func bulkDigest(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for i := range bulkDraws {
		seed, cycleID, list := bulkDraw(i)
		r := drawproof.Draw(seed, cycleID, list)
		// What the EBS publishes must verify, draw by draw.
		if ms := drawproof.Verify(drawproof.NewProof(seed, cycleID, list), drawproof.Commitment(seed)); len(ms) != 0 {
			t.Fatalf("bulk draw %d does not verify: %+v", i, ms)
		}
		fmt.Fprintf(&b, "%s:%d\n", hex.EncodeToString(r.ListHash[:]), r.Index)
	}
	d := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(d[:])
}

type bulkFile struct {
	About  string `json:"about"`
	Count  int    `json:"count"`
	Digest string `json:"digest"`
}

func TestBulkDigest(t *testing.T) {
	path := filepath.Join("testdata", "bulk.json")
	got := bulkDigest(t)
	if *update {
		b, err := json.MarshalIndent(bulkFile{
			About: "10,000 mgm-draw-v1 draws from the generator in internal/drawproof/bulk_test.go, summed up: " +
				"SHA-256 of hex(listHash) \":\" index \"\\n\" for each. Regenerate: go test ./internal/drawproof -run TestBulkDigest -update",
			Count: bulkDraws, Digest: got,
		}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bulkFile
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if want.Count != bulkDraws || got != want.Digest {
		t.Errorf("bulk digest of %d draws = %s, testdata/bulk.json says %d draws → %s", bulkDraws, got, want.Count, want.Digest)
	}
}
