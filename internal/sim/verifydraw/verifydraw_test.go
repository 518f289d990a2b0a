package verifydraw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/sim/verifydraw"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

func TestMain(m *testing.M) { testkit.VerifyNoLeaks(m) }

func run(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := verifydraw.Main(context.Background(), args, nil, &out, &errOut)
	return out.String() + errOut.String(), err
}

// chat enrolls a viewer the way Twitch would (Development: unsigned EventSub).
func chat(t *testing.T, base, userID, name string) {
	t.Helper()
	body := fmt.Sprintf(`{"subscription":{"type":"channel.chat.message"},"event":{"message_id":"m-%s","chatter_user_id":%q,`+
		`"chatter_user_login":"v%s","chatter_user_name":"V%s","message":{"text":"!twgold %s"},`+
		`"badges":[{"set_id":"subscriber","id":"0","info":"1"}]}}`, userID, userID, userID, userID, name)
	resp, err := http.Post(base+"/api/twitch/eventsub", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("enroll %s: HTTP %d", name, resp.StatusCode)
	}
}

// state reads the roulette state as the panel does, with a development token.
func state(t *testing.T, base string) ebsapi.RouletteState {
	t.Helper()
	tok := auth.SignViewerToken(auth.DevExtensionSecret(), auth.TokenClaims{OpaqueUserID: "Uanon", Expires: time.Now().Add(time.Hour)})
	var st ebsapi.RouletteState
	testkit.Call(t, http.MethodGet, base+"/api/roulette/state", http.Header{"Authorization": {"Bearer " + tok}}, nil, &st)
	return st
}

// TestVerifyDrawAgainstEBS: a real EBS with 10-second cycles draws among
// three viewers; the verifier checks the draw from the public proof and the
// commitment published before it. Then a test server serves the same proof
// tampered with, and the verifier names what differs.
func TestVerifyDrawAgainstEBS(t *testing.T) {
	t.Parallel()
	e := ebstest.Start(t, ebstest.SQLite, map[string]string{"Mgm__SpinIntervalSeconds": "10"})
	for i, name := range []string{"Norinn", "Тралл", "Jaina"} {
		chat(t, e.URL, fmt.Sprint(4000+i), name)
	}
	// The commitment as the panel shows it before the draw, of a cycle
	// whose draw (at 8 s) is still ahead.
	var cycleID, commitment string
	for deadline := time.Now().Add(30 * time.Second); cycleID == ""; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no cycle in collecting with a commitment")
		}
		if st := state(t, e.URL); st.SpinPhase == "collecting" && st.CurrentSpinCycleID != nil && st.DrawCommitment != nil {
			cycleID, commitment = *st.CurrentSpinCycleID, *st.DrawCommitment
		}
	}
	out, err := run(e.URL, cycleID)
	if err == nil || !strings.Contains(out+err.Error(), "draw_not_revealed") || !strings.Contains(err.Error(), commitment) {
		t.Fatalf("before the draw: %v\n%s", err, out)
	}
	// After the draw.
	var proof drawproof.Proof
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the cycle was not drawn")
		}
		p, err := verifydraw.Fetch(context.Background(), http.DefaultClient, e.URL, cycleID)
		if err == nil {
			proof = p
			break
		}
	}
	out, err = run("--commitment", commitment, e.URL, cycleID)
	if err != nil || !strings.HasPrefix(out, "✓ cycle "+cycleID) || !strings.Contains(out, "equals the commitment you saved") ||
		!strings.Contains(out, "3 eligible members") {
		t.Fatalf("verify-draw: %v\n%s", err, out)
	}
	// A saved commitment that is not the seed's.
	other := drawproof.Commitment(drawproof.Seed{1})
	out, err = run(e.URL, cycleID, "--commitment", other)
	if !errors.Is(err, verifydraw.ErrMismatch) || !strings.Contains(out, "✗") || !strings.Contains(out, "savedCommitment:") {
		t.Fatalf("another saved commitment: %v\n%s", err, out)
	}

	// The same proof, tampered with by a server in the EBS's place.
	tampered := func(what string, change func(p *drawproof.Proof), wantField string) {
		t.Helper()
		p := proof
		p.List = slices.Clone(proof.List)
		change(&p)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/roulette/cycles/"+cycleID+"/proof" {
				http.NotFound(w, r)
				return
			}
			_ = json.NewEncoder(w).Encode(p)
		}))
		defer srv.Close()
		out, err := run(srv.URL, cycleID, "--commitment", commitment)
		if !errors.Is(err, verifydraw.ErrMismatch) || !strings.Contains(out, "✗ cycle") || !strings.Contains(out, "  "+wantField+": ") {
			t.Errorf("%s: %v, want a %s mismatch\n%s", what, err, wantField, out)
		}
	}
	tampered("another seed, committed anew", func(p *drawproof.Proof) {
		s := drawproof.Seed{2}
		p.Seed, p.Commitment = s.Hex(), drawproof.Commitment(s)
	}, "savedCommitment")
	tampered("an entry removed", func(p *drawproof.Proof) { p.List = p.List[1:] }, "listHash")
	tampered("two entries swapped", func(p *drawproof.Proof) { p.List[0], p.List[1] = p.List[1], p.List[0] }, "list")
	tampered("another index", func(p *drawproof.Proof) {
		i := (*p.Index + 1) % len(p.List)
		name := p.List[i].CharacterName
		p.Index, p.CandidateCharacterName = &i, &name
	}, "index")
	tampered("another cycle's proof", func(p *drawproof.Proof) { p.CycleID = "00000000-0000-4000-8000-000000000001" }, "cycleId")
}

func TestVerifyDrawUsage(t *testing.T) {
	t.Parallel()
	if _, err := run("http://127.0.0.1:1"); err == nil {
		t.Error("one argument accepted")
	}
	if _, err := run("ftp://x", "00000000-0000-4000-8000-000000000001"); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Errorf("ftp URL: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"code":"no_draw_proof","message":"No proof for this cycle.","details":{}}`))
	}))
	defer srv.Close()
	if _, err := run(srv.URL, "00000000-0000-4000-8000-000000000001"); err == nil || !strings.Contains(err.Error(), "no_draw_proof") {
		t.Errorf("404: %v", err)
	}
}
