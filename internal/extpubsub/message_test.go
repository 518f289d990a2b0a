package extpubsub_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/extpubsub"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

func str(s string) *string { return &s }

func sampleState(names int) ebsapi.RouletteState {
	t0 := time.Date(2026, 4, 4, 12, 4, 0, 0, time.UTC)
	st := ebsapi.RouletteState{
		NextSpinAt: ebsapi.At(t0.Add(time.Minute)), ServerNow: ebsapi.At(t0), SpinIntervalSeconds: 300,
		PoolParticipantCount: 100_000, SpinPhase: mgm.PhaseSpinning,
		CurrentSpinCycleID: str("550e8400-e29b-41d4-a716-446655440000"), CandidateCharacterName: str("Ёжиковыйлорд"),
		LastCycle: &ebsapi.LastCycle{SpinCycleID: "550e8400-e29b-41d4-a716-446655440001", Outcome: mgm.OutcomeWinner,
			WinnerCharacterName: str("Norinn"), CandidateCharacterName: str("Norinn"), DecidedAt: ebsapi.At(t0.Add(-time.Minute))},
		PoolCharacterNames: []string{},
		RecentWinners:      []ebsapi.RecentWinner{},
	}
	for range 5 {
		st.RecentWinners = append(st.RecentWinners, ebsapi.RecentWinner{CharacterName: "Ёжиковыйлорд", At: ebsapi.At(t0)})
	}
	for i := range names {
		// The longest names there are: 12 letters, two bytes each.
		st.PoolCharacterNames = append(st.PoolCharacterNames, "Жжжжжжжжжжж"+string(rune('А'+i%32)))
	}
	return st
}

// decodeMessage reads a message back as the panel would.
func decodeMessage(t *testing.T, msg string) (extpubsub.Message, map[string]any) {
	t.Helper()
	var m extpubsub.Message
	if err := json.Unmarshal([]byte(msg), &m); err != nil {
		t.Fatalf("message is not JSON: %v\n%s", err, msg)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(msg), &raw)
	return m, raw
}

func TestEncodeStateSmallIsWhole(t *testing.T) {
	st := sampleState(3)
	msg, dropped, err := extpubsub.EncodeState(42, st, extpubsub.MaxMessageBytes)
	if err != nil || dropped != 0 {
		t.Fatalf("dropped %d, err %v", dropped, err)
	}
	m, raw := decodeMessage(t, msg)
	if m.V != 1 || m.Kind != "state" || m.Seq != 42 || len(raw) != 4 {
		t.Fatalf("envelope %+v (%d keys)", m, len(raw))
	}
	// The state is byte for byte what the route answers (encoded as serve.JSON does).
	want, _ := json.Marshal(st)
	inner, _ := json.Marshal(raw["state"])
	var a, b any
	_ = json.Unmarshal(want, &a)
	_ = json.Unmarshal(inner, &b)
	if ja, jb := mustJSON(t, a), mustJSON(t, b); ja != jb {
		t.Fatalf("state differs:\n got %s\nwant %s", jb, ja)
	}
	if !strings.Contains(msg, `"candidateCharacterName":"Ёжиковыйлорд"`) {
		t.Fatalf("text escaped or missing: %s", msg)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEncodeStateTrimsNamesToFit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names int
		limit int
	}{
		{"100 longest names in 3,000 bytes", 100, 3000},
		{"a tight budget", 100, 1800},
		{"just over", 10, 0}, // limit set below from the whole message
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := sampleState(tc.names)
			whole, _, err := extpubsub.EncodeState(7, st, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			limit := tc.limit
			if limit == 0 {
				limit = len(whole) - 1
			}
			if len(whole) <= limit {
				t.Fatalf("the whole state (%d bytes) fits in %d: the case tests nothing", len(whole), limit)
			}
			msg, dropped, err := extpubsub.EncodeState(7, st, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(msg) > limit || dropped == 0 {
				t.Fatalf("%d bytes (limit %d), %d dropped", len(msg), limit, dropped)
			}
			m, _ := decodeMessage(t, msg)
			kept := m.State.PoolCharacterNames
			if len(kept)+dropped != tc.names {
				t.Fatalf("kept %d + dropped %d != %d", len(kept), dropped, tc.names)
			}
			for i, n := range kept {
				if n != st.PoolCharacterNames[i] {
					t.Fatalf("kept names are not the list's head: %v", kept)
				}
			}
			// As many as fit: one more would not.
			more := st
			more.PoolCharacterNames = st.PoolCharacterNames[:len(kept)+1]
			if b, _, _ := extpubsub.EncodeState(7, more, 1<<20); len(b) <= limit {
				t.Fatalf("%d names fit in %d bytes but only %d were kept", len(kept)+1, limit, len(kept))
			}
			if m.State.PoolParticipantCount != st.PoolParticipantCount || *m.State.CandidateCharacterName != *st.CandidateCharacterName ||
				len(m.State.RecentWinners) != 5 {
				t.Fatalf("trimming touched more than the names: %+v", m.State)
			}
		})
	}
}

// TestEncodeStateLargestFits: the largest state the EBS makes today (100
// names of 12 two-byte letters, 5 winners) fits in 5 KB whole; trimming is
// the guard for what may be added to the state later.
func TestEncodeStateLargestFits(t *testing.T) {
	msg, dropped, err := extpubsub.EncodeState(1<<52, sampleState(100), extpubsub.MaxMessageBytes)
	if err != nil || dropped != 0 {
		t.Fatalf("%d bytes, %d dropped, %v", len(msg), dropped, err)
	}
	t.Logf("largest state: %d bytes", len(msg))
}

func TestEncodeStateTooSmallFails(t *testing.T) {
	if _, _, err := extpubsub.EncodeState(1, sampleState(0), 100); err == nil {
		t.Fatal("a state larger than the limit without names was encoded")
	}
	st := sampleState(0)
	st.PoolCharacterNames = nil // the route never answers null; neither does a message
	msg, _, err := extpubsub.EncodeState(1, st, extpubsub.MaxMessageBytes)
	if err != nil || !strings.Contains(msg, `"poolCharacterNames":[]`) {
		t.Fatalf("%v %s", err, msg)
	}
}

func TestSignJWTClaims(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)
	tok, err := extpubsub.SignJWT(key, "111", "222", now)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now })).
		ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil || !parsed.Valid {
		t.Fatalf("parse: %v", err)
	}
	exp, _ := claims.GetExpirationTime()
	if claims["user_id"] != "111" || claims["role"] != "external" || claims["channel_id"] != "222" ||
		exp == nil || !exp.Time.Equal(now.Add(extpubsub.JWTLifetime)) {
		t.Fatalf("claims %v", claims)
	}
	perms, _ := claims["pubsub_perms"].(map[string]any)
	if send, _ := perms["send"].([]any); len(send) != 1 || send[0] != "broadcast" {
		t.Fatalf("pubsub_perms %v", claims["pubsub_perms"])
	}
	if _, err := jwt.NewParser(jwt.WithTimeFunc(func() time.Time { return now })).
		ParseWithClaims(tok, jwt.MapClaims{}, func(*jwt.Token) (any, error) { return []byte("another key, 32 bytes long......"), nil }); err == nil {
		t.Fatal("the token verifies with another key")
	}
}
