package httpapi_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// TestLeavePool: DELETE /api/pool/me takes the viewer out at once (the
// state's count follows without a tick) and says not_in_pool when there is
// nothing to leave; on both stores.
func TestLeavePool(t *testing.T) {
	t.Parallel()
	for _, st := range bothStores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServerOn(t, st.open, nil, nil)
			leave := func(userID string) response {
				t.Helper()
				return ts.do(t, http.MethodDelete, "/api/pool/me", nil, bearerHdr(ts.token(userID)))
			}
			wantStatus(t, "claim", ts.claim(t, "4001", "Norinn", "leave-a"), http.StatusCreated)
			wantStatus(t, "claim", ts.claim(t, "4002", "Jaina", "leave-b"), http.StatusCreated)
			r := leave("4001")
			wantStatus(t, "leave", r, http.StatusNoContent)
			if r.text() != "" {
				t.Fatalf("204 with a body: %q", r.text())
			}
			if got := ts.poolMe(t, "4001"); got != `{"isEnrolled":false,"characterName":null,"lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
				t.Fatalf("pool/me after leaving: %s", got)
			}
			var state struct {
				PoolParticipantCount int
				PoolCharacterNames   []string
			}
			if err := json.Unmarshal(ts.get(t, "/api/roulette/state", bearerHdr(ts.token("9999"))).body, &state); err != nil {
				t.Fatal(err)
			}
			if state.PoolParticipantCount != 1 || len(state.PoolCharacterNames) != 1 || state.PoolCharacterNames[0] != "Jaina" {
				t.Fatalf("state after leaving: %+v", state)
			}
			wantError(t, "leaving twice", leave("4001"), http.StatusNotFound, mgm.CodeNotInPool)
			wantError(t, "leaving without joining", leave("4003"), http.StatusNotFound, mgm.CodeNotInPool)
			wantError(t, "opaque viewer", ts.do(t, http.MethodDelete, "/api/pool/me", nil, bearerHdr(ts.opaqueToken("Uanon"))),
				http.StatusForbidden, mgm.CodeIdentityNotShared)
			wantError(t, "no token", ts.do(t, http.MethodDelete, "/api/pool/me", nil, nil), http.StatusUnauthorized, mgm.CodeUnauthorized)
			// The name is free again.
			wantStatus(t, "another takes the name", ts.claim(t, "4003", "Norinn", "leave-c"), http.StatusCreated)
		})
	}
}

type receipts struct {
	mu   sync.Mutex
	seqs []int64
}

func (r *receipts) ViewerConfirmed(seq int64) {
	r.mu.Lock()
	r.seqs = append(r.seqs, seq)
	r.mu.Unlock()
}

func (r *receipts) got() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.seqs...)
}

// TestPushSeqReceipts: a verified viewer's X-Mgm-Push-Seq reaches the push's
// receipts; an unverified request's, or a value that is not a positive
// number, does not.
func TestPushSeqReceipts(t *testing.T) {
	t.Parallel()
	rec := &receipts{}
	ts := newTestServerWith(t, nil, func(d *httpapi.Deps) { d.PushReceipts = rec })
	ts.get(t, "/api/roulette/state", bearerHdr(ts.opaqueToken("Uanon"), "X-Mgm-Push-Seq", "1776000000123"))
	ts.get(t, "/api/pool/me", bearerHdr(ts.token("5001"), "X-Mgm-Push-Seq", "1776000000124"))
	ts.get(t, "/api/roulette/state", hdr("X-Mgm-Push-Seq", "999999999999999")) // no token: 401
	ts.get(t, "/api/roulette/state", bearerHdr("not-a-jwt", "X-Mgm-Push-Seq", "999999999999998"))
	for _, junk := range []string{"", "-5", "0", "abc", "1e9", "99999999999999999999999"} {
		ts.get(t, "/api/roulette/state", bearerHdr(ts.token("5001"), "X-Mgm-Push-Seq", junk))
	}
	got := rec.got()
	if len(got) != 2 || got[0] != 1776000000123 || got[1] != 1776000000124 {
		t.Fatalf("receipts %v", got)
	}
}
