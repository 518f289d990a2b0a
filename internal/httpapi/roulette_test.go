package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// The roulette and payout routes end to end: the real server, SQLite, tokens
// and API keys, with the injected clock moved by hand and Tick called where
// the background ticker would run.

// cycleC0 is the first cycle boundary after testT0 (12:01:23.456).
var cycleC0 = time.Date(2026, 4, 4, 12, 5, 0, 0, time.UTC)

// at is cycleC0 plus a number of seconds into the cycle (millisecond exact).
func at(sec float64) time.Time {
	return cycleC0.Add(time.Duration(math.Round(sec*1000)) * time.Millisecond)
}

// msTime is the wire form of a timestamp.
func msTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// jsonStr is a JSON string literal, or null for "".
func jsonStr(s string) string {
	if s == "" {
		return "null"
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimRight(b.String(), "\n")
}

// recordingAnnouncer is a Helix stand-in: it records the chat lines and can
// fail a number of calls first.
type recordingAnnouncer struct {
	mu       sync.Mutex
	messages []string
	calls    int
	failNext int
}

func (a *recordingAnnouncer) Configured() bool { return true }

func (a *recordingAnnouncer) SendChatMessage(_ context.Context, msg string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if a.failNext > 0 {
		a.failNext--
		return fmt.Errorf("helix: HTTP 503")
	}
	a.messages = append(a.messages, msg)
	return nil
}

func (a *recordingAnnouncer) callCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

func (a *recordingAnnouncer) sent() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.messages...)
}

// rouletteOptions changes the Service the test server is built on.
type rouletteOptions struct {
	// seed gives each cycle's draw seed; default testkit.FixedSeed.
	seed      func(cycleID string) (drawproof.Seed, error)
	announcer app.Announcer // nil: announcements are recorded as skipped
}

// newRouletteServer is newTestServerWith whose Service draws deterministically
// and may have an announcer; its announcement jobs retry at once.
func newRouletteServer(t *testing.T, mutateConfig func(*config.Config), o rouletteOptions) *testServer {
	t.Helper()
	seed := o.seed
	if seed == nil {
		seed = testkit.FixedSeed
	}
	var svc *app.Service
	ts := newTestServerWith(t, mutateConfig, func(d *httpapi.Deps) {
		svc = app.New(d.Service.DB(), app.Options{
			Now: d.Now, Seed: seed, BroadcasterID: d.Config.BroadcasterUserID, SpinInterval: d.Config.SpinInterval,
			Announcer: o.announcer, Jobs: newJobQueue(t, d.Service.DB()),
		})
		d.Service = svc
	})
	ts.svc = svc
	return ts
}

// harnessOn enables POST /api/e2e/prepare-pending-payout (Development is the default).
func harnessOn(c *config.Config) { c.EnableE2eHarness = true }

// clockTo moves the test clock forward to t.
func clockTo(t *testing.T, ts *testServer, to time.Time) {
	t.Helper()
	d := to.Sub(ts.clock.Now())
	if d < 0 {
		t.Fatalf("clock is at %s, cannot go back to %s", ts.clock.Now(), to)
	}
	ts.clock.Advance(d)
}

// mustTick runs the roulette clock once, as the background ticker would.
func mustTick(t *testing.T, ts *testServer) {
	t.Helper()
	if err := ts.svc.Tick(context.Background()); err != nil {
		t.Fatalf("tick at %s: %v", ts.clock.Now(), err)
	}
}

// desk sends a Desktop request with the API key; body "" sends none.
func desk(t *testing.T, ts *testServer, method, path, body string) response {
	t.Helper()
	h := apiKeyHdr(testAPIKeyA)
	var b []byte
	if body != "" {
		b = []byte(body)
		h.Set("Content-Type", "application/json")
	}
	return ts.do(t, method, path, b, h)
}

// rouletteStateBody is GET /api/roulette/state as a viewer (must be 200).
func rouletteStateBody(t *testing.T, ts *testServer) string {
	t.Helper()
	r := ts.get(t, "/api/roulette/state", bearerHdr(ts.token("9999")))
	wantStatus(t, "GET /api/roulette/state", r, http.StatusOK)
	// The wheel's names, the recent winners and the draw commitment are
	// checked on their own (TestRouletteStatePoolNames,
	// TestRouletteStateRecentWinners, drawCommitment); the exact-body
	// comparisons here are about the cycle.
	return listFields.ReplaceAllString(r.text(), "}")
}

var listFields = regexp.MustCompile(`,"drawCommitment":(null|"[0-9a-f]{64}"),"poolCharacterNames":\[[^\]]*\],"recentWinners":\[[^\]]*\],"pausedReason":(null|"[a-z]+")\}$`)

// drawCommitment is the state's drawCommitment ("" for null).
func drawCommitment(t *testing.T, ts *testServer) string {
	t.Helper()
	var st ebsapi.RouletteState
	if err := json.Unmarshal(ts.get(t, "/api/roulette/state", bearerHdr(ts.token("9999"))).body, &st); err != nil {
		t.Fatal(err)
	}
	if st.DrawCommitment == nil {
		return ""
	}
	return *st.DrawCommitment
}

// drawProof fetches a cycle's proof, with no token: the route is public.
func drawProof(t *testing.T, ts *testServer, cycleID string) (drawproof.Proof, response) {
	t.Helper()
	r := ts.get(t, "/api/roulette/cycles/"+cycleID+"/proof", nil)
	var p drawproof.Proof
	if r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatalf("proof: %v: %s", err, r.body)
		}
	}
	return p, r
}

func TestRouletteStatePoolNames(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	r := ts.get(t, "/api/roulette/state", bearerHdr(ts.token("9999")))
	if !strings.HasSuffix(r.text(), `,"poolCharacterNames":[],"recentWinners":[],"pausedReason":null}`) {
		t.Fatalf("empty pool: %s", r.text())
	}
	wantStatus(t, "claim", ts.claim(t, "2001", "Norinn", "req-a"), http.StatusCreated)
	wantStatus(t, "claim", ts.claim(t, "2002", "Тралл", "req-b"), http.StatusCreated)
	r = ts.get(t, "/api/roulette/state", bearerHdr(ts.token("9999")))
	if !strings.HasSuffix(r.text(), `,"poolCharacterNames":["Norinn","Тралл"],"recentWinners":[],"pausedReason":null}`) {
		t.Fatalf("names in enrollment order: %s", r.text())
	}
}

// stateJSON is the exact roulette state body.
func stateJSON(next, now time.Time, count int, phase, cycleID, candidate, lastCycle string) string {
	if lastCycle == "" {
		lastCycle = "null"
	}
	return fmt.Sprintf(`{"nextSpinAt":%q,"serverNow":%q,"spinIntervalSeconds":300,"poolParticipantCount":%d,`+
		`"spinPhase":%q,"currentSpinCycleId":%s,"candidateCharacterName":%s,"lastCycle":%s}`,
		msTime(next), msTime(now), count, phase, jsonStr(cycleID), jsonStr(candidate), lastCycle)
}

// lastCycleJSON is the exact lastCycle object.
func lastCycleJSON(cycleID, outcome, winner, candidate string, decidedAt time.Time) string {
	return fmt.Sprintf(`{"spinCycleId":%q,"outcome":%q,"winnerCharacterName":%s,"candidateCharacterName":%s,"decidedAt":%q}`,
		cycleID, outcome, jsonStr(winner), jsonStr(candidate), msTime(decidedAt))
}

// candidateJSON is the exact GET /api/roulette/candidate body.
func candidateJSON(cycleID, name, phase string, deadline time.Time) string {
	return fmt.Sprintf(`{"spinCycleId":%q,"characterName":%s,"spinPhase":%q,"verifyDeadline":%q}`,
		cycleID, jsonStr(name), phase, msTime(deadline))
}

// whoJSON is the addon's report as the Desktop forwards it.
func whoJSON(cycleID, name string, online bool) string {
	return fmt.Sprintf(`{"schemaVersion":1,"spinCycleId":%q,"characterName":%s,"online":%t,"capturedAt":"2026-04-04T12:04:35Z"}`,
		cycleID, jsonStr(name), online)
}

func postWho(t *testing.T, ts *testServer, body string) response {
	t.Helper()
	return desk(t, ts, http.MethodPost, "/api/roulette/verify-candidate", body)
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// wantWinner checks a winner answer and returns its payout id.
func wantWinner(t *testing.T, what string, r response) string {
	t.Helper()
	wantStatus(t, what, r, http.StatusOK)
	var v struct {
		Outcome  string
		PayoutID *string
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if v.Outcome != "winner" || v.PayoutID == nil || !uuidRE.MatchString(*v.PayoutID) {
		t.Fatalf("%s: %s", what, r.text())
	}
	wantBody(t, what, r, http.StatusOK, `{"outcome":"winner","payoutId":"`+*v.PayoutID+`"}`)
	return *v.PayoutID
}

// currentCycleID reads currentSpinCycleId from the state (must be set).
func currentCycleID(t *testing.T, ts *testServer) string {
	t.Helper()
	var st struct{ CurrentSpinCycleID *string }
	body := rouletteStateBody(t, ts)
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if st.CurrentSpinCycleID == nil || !uuidRE.MatchString(*st.CurrentSpinCycleID) {
		t.Fatalf("currentSpinCycleId is not a lowercase UUID: %s", body)
	}
	return *st.CurrentSpinCycleID
}

// drawnCycle enrolls one viewer (2001 "Norinn"), ticks at cycleC0 and at the
// draw, and leaves the clock at the given second of the cycle (≥ 240) with
// the candidate awaiting its report. It returns the cycle id.
func drawnCycle(t *testing.T, ts *testServer, sec float64) string {
	t.Helper()
	clockTo(t, ts, cycleC0)
	wantStatus(t, "claim", ts.claim(t, "2001", "Norinn", "req-2001"), http.StatusCreated)
	mustTick(t, ts)
	id := currentCycleID(t, ts)
	clockTo(t, ts, at(240))
	mustTick(t, ts)
	clockTo(t, ts, at(sec))
	return id
}

func TestRouletteFullCycle(t *testing.T) {
	t.Parallel()
	// Тралл is drawn whenever eligible, Norinn otherwise.
	members := []testkit.DrawMember{{TwitchUserID: "2001", CharacterName: "Norinn"}, {TwitchUserID: "2002", CharacterName: "Тралл"}}
	ts := newRouletteServer(t, nil, rouletteOptions{seed: func(id string) (drawproof.Seed, error) {
		return testkit.SeedPreferring(id, members, "Тралл", "Norinn"), nil
	}})
	candidate := func() response {
		t.Helper()
		return ts.get(t, "/api/roulette/candidate", apiKeyHdr(testAPIKeyA))
	}
	noCandidate := func(what string) {
		t.Helper()
		r := candidate()
		wantStatus(t, what, r, http.StatusNoContent)
		if len(r.body) != 0 {
			t.Fatalf("%s: 204 with a body: %q", what, r.body)
		}
	}

	clockTo(t, ts, cycleC0)
	wantStatus(t, "claim Norinn", ts.claim(t, "2001", "Norinn", "req-a"), http.StatusCreated)
	wantStatus(t, "claim Тралл", ts.claim(t, "2002", "Тралл", "req-b"), http.StatusCreated)

	// 0 s: the tick creates the window's cycle.
	mustTick(t, ts)
	id := currentCycleID(t, ts)
	if len(id) != 36 {
		t.Fatalf("cycle id %q", id)
	}
	next := at(300)
	if got, want := rouletteStateBody(t, ts), stateJSON(next, at(0), 2, "collecting", id, "", ""); got != want {
		t.Fatalf("state at 0 s\n got: %s\nwant: %s", got, want)
	}
	noCandidate("candidate while collecting")

	// 239.999 s: still collecting, nothing drawn even after a tick.
	clockTo(t, ts, at(239.999))
	mustTick(t, ts)
	if got, want := rouletteStateBody(t, ts), stateJSON(next, at(239.999), 2, "collecting", id, "", ""); got != want {
		t.Fatalf("state at 239.999 s\n got: %s\nwant: %s", got, want)
	}
	noCandidate("candidate before the draw")

	// Before the draw: the commitment is public, the proof is not.
	commitment := drawCommitment(t, ts)
	if len(commitment) != 64 {
		t.Fatalf("drawCommitment %q before the draw", commitment)
	}
	_, r := drawProof(t, ts, id)
	wantStatus(t, "proof before the draw", r, http.StatusConflict)
	if !strings.Contains(r.text(), `"code":"draw_not_revealed"`) || !strings.Contains(r.text(), commitment) {
		t.Fatalf("proof before the draw: %s", r.body)
	}

	// 240 s: the draw.
	clockTo(t, ts, at(240))
	mustTick(t, ts)
	const drawn = "Тралл"
	proof, r := drawProof(t, ts, id)
	wantStatus(t, "proof after the draw", r, http.StatusOK)
	if ms := drawproof.Verify(proof, commitment); len(ms) != 0 || len(proof.List) != 2 || *proof.CandidateCharacterName != drawn {
		t.Fatalf("proof %+v: %v", proof, ms)
	}
	// Compressed for a client that accepts it, and cacheable: a draw is fixed.
	gz := ts.get(t, "/api/roulette/cycles/"+id+"/proof", http.Header{"Accept-Encoding": {"br, gzip"}})
	wantStatus(t, "proof, gzip", gz, http.StatusOK)
	if gz.header.Get("Content-Encoding") != "gzip" || gz.header.Get("ETag") != `"`+proof.ListHash+`"` ||
		!strings.Contains(gz.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("proof headers: %v", gz.header)
	}
	if plain, err := drawproof.Gunzip(gz.body); err != nil || string(plain) != string(r.body) {
		t.Fatalf("the gzip body is not the plain one: %v", err)
	}
	if r.header.Get("Content-Encoding") != "" {
		t.Fatalf("gzip for a client that did not ask: %v", r.header)
	}
	wantStatus(t, "proof, revalidated", ts.get(t, "/api/roulette/cycles/"+id+"/proof",
		http.Header{"If-None-Match": {gz.header.Get("ETag")}}), http.StatusNotModified)
	if got, want := rouletteStateBody(t, ts), stateJSON(next, at(240), 2, "spinning", id, drawn, ""); got != want {
		t.Fatalf("state at 240 s\n got: %s\nwant: %s", got, want)
	}
	evs := ts.events(t, app.CycleStream(id))
	if len(evs) != 2 || evs[0].Type != app.EventSpinCycleStarted || evs[1].Type != app.EventCandidateDrawn ||
		!strings.Contains(string(evs[1].Data), `"characterName":"Тралл"`) {
		t.Fatalf("cycle events: %+v", evs)
	}
	wantBody(t, "candidate while spinning", candidate(), http.StatusOK, candidateJSON(id, drawn, "spinning", at(330)))
	// A second tick does not draw again.
	clockTo(t, ts, at(269.999))
	mustTick(t, ts)
	wantBody(t, "candidate at 269.999 s", candidate(), http.StatusOK, candidateJSON(id, drawn, "spinning", at(330)))
	if evs := ts.events(t, app.CycleStream(id)); len(evs) != 2 {
		t.Fatalf("cycle events after a second tick: %+v", evs)
	}

	// 270 s: verification.
	clockTo(t, ts, at(270))
	mustTick(t, ts)
	if got, want := rouletteStateBody(t, ts), stateJSON(next, at(270), 2, "verification", id, drawn, ""); got != want {
		t.Fatalf("state at 270 s\n got: %s\nwant: %s", got, want)
	}
	wantBody(t, "candidate while verifying", candidate(), http.StatusOK, candidateJSON(id, drawn, "verification", at(330)))

	// The /who report.
	clockTo(t, ts, at(275))
	r = postWho(t, ts, whoJSON(id, drawn, true))
	payoutID := wantWinner(t, "verify-candidate", r)
	first := r.text()
	clockTo(t, ts, at(276))
	wantBody(t, "repeated report", postWho(t, ts, whoJSON(id, drawn, true)), http.StatusOK, first)
	wantBody(t, "repeated report, now offline", postWho(t, ts, whoJSON(id, drawn, false)), http.StatusOK, first)

	last := lastCycleJSON(id, "winner", drawn, drawn, at(275))
	if got, want := rouletteStateBody(t, ts), stateJSON(next, at(276), 2, "completed", id, "", last); got != want {
		t.Fatalf("state after the report\n got: %s\nwant: %s", got, want)
	}
	noCandidate("candidate after the outcome")

	// The payout the report created.
	r = desk(t, ts, http.MethodGet, "/api/payouts/"+payoutID, "")
	wantBody(t, "GET payout", r, http.StatusOK, payoutJSON(payoutWant{
		id: payoutID, user: "2002", display: "Disp2002", name: drawn, status: "Pending",
		createdAt: at(275), updatedAt: at(275), cycleID: id,
	}))
	wantBody(t, "my-last", ts.get(t, "/api/payouts/my-last", bearerHdr(ts.token("2002"))), http.StatusOK, r.text())

	// The next window: the winner stays in the pool but is not eligible.
	clockTo(t, ts, at(300))
	mustTick(t, ts)
	id2 := currentCycleID(t, ts)
	if id2 == id {
		t.Fatal("the next window reuses the cycle id")
	}
	if got, want := rouletteStateBody(t, ts), stateJSON(at(600), at(300), 2, "collecting", id2, "", last); got != want {
		t.Fatalf("state at 300 s\n got: %s\nwant: %s", got, want)
	}
	noCandidate("candidate in the next window before its draw")
	clockTo(t, ts, at(540))
	mustTick(t, ts)
	// The seed prefers Тралл, who has an active payout now: not eligible,
	// so not in the list.
	firstProof := proof
	proof, r = drawProof(t, ts, id2)
	wantStatus(t, "second cycle's proof", r, http.StatusOK)
	if ms := drawproof.Verify(proof, ""); len(ms) != 0 || len(proof.List) != 1 || proof.List[0].CharacterName != "Norinn" {
		t.Fatalf("second cycle's proof, want Norinn alone in the list: %+v %v", proof, ms)
	}
	wantBody(t, "second cycle's candidate", candidate(), http.StatusOK, candidateJSON(id2, "Norinn", "spinning", at(630)))

	// Past the retention the list goes; the refusal keeps the summary.
	clockTo(t, ts, at(630).Add(app.DefaultDrawProofRetention+time.Hour))
	if n, err := ts.svc.PruneDrawProofs(context.Background()); err != nil || n != 2 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	_, r = drawProof(t, ts, id)
	wantStatus(t, "expired proof", r, http.StatusGone)
	for _, want := range []string{`"code":"draw_proof_expired"`, `"commitment":"` + commitment + `"`, `"listHash":"` + firstProof.ListHash + `"`,
		`"listSize":2`, fmt.Sprintf(`"index":%d`, *firstProof.Index)} {
		if !strings.Contains(r.text(), want) {
			t.Fatalf("expired proof without %s: %s", want, r.body)
		}
	}
}

// TestDrawProofKeptEncoded: the proof route builds a draw's proof once and
// serves the encoded body to everyone who asks within proofCacheTTL — the
// rush of viewers verifying the draw just made — then asks the store again.
func TestDrawProofKeptEncoded(t *testing.T) {
	t.Parallel()
	ts := newRouletteServer(t, nil, rouletteOptions{})
	clockTo(t, ts, cycleC0)
	wantStatus(t, "claim", ts.claim(t, "2001", "Norinn", "req-a"), http.StatusCreated)
	mustTick(t, ts)
	id := currentCycleID(t, ts)
	clockTo(t, ts, at(240))
	mustTick(t, ts)

	// Many at once: one build, the same body for all.
	bodies := make(chan response, 8)
	for range cap(bodies) {
		go func() {
			bodies <- ts.get(t, "/api/roulette/cycles/"+id+"/proof", http.Header{"Accept-Encoding": {"gzip"}})
		}()
	}
	first := <-bodies
	wantStatus(t, "proof", first, http.StatusOK)
	for range cap(bodies) - 1 {
		if r := <-bodies; r.status != http.StatusOK || string(r.body) != string(first.body) {
			t.Fatalf("concurrent proof requests disagree: %d", r.status)
		}
	}

	// The list goes from the store; within the TTL the kept proof is served,
	// compressed or not.
	if _, err := ts.svc.DB().SQL().Exec(`UPDATE draw_proofs SET list_gzip = NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.svc.DB().SQL().Exec(`DELETE FROM draw_lists`); err != nil {
		t.Fatal(err)
	}
	clockTo(t, ts, at(240).Add(time.Minute))
	proof, r := drawProof(t, ts, id)
	wantStatus(t, "kept proof", r, http.StatusOK)
	if ms := drawproof.Verify(proof, ""); len(ms) != 0 || len(proof.List) != 1 {
		t.Fatalf("kept proof %+v: %v", proof, ms)
	}
	if plain, err := drawproof.Gunzip(first.body); err != nil || string(plain) != string(r.body) {
		t.Fatalf("the uncompressed answer differs from the compressed one: %v", err)
	}
	// Past the TTL the store is asked again, and says the list is gone.
	clockTo(t, ts, at(240).Add(11*time.Minute))
	_, r = drawProof(t, ts, id)
	wantStatus(t, "proof past the cache's TTL", r, http.StatusGone)
}

func TestVerifyCandidateInputs(t *testing.T) {
	t.Parallel()
	type tc struct {
		name string
		body string // {id} is the cycle id, {name} the candidate's name
		// status 200: outcome; else: the error code. For errors, a canonical
		// report afterwards must still win.
		status  int
		outcome string
		code    mgm.Code
		headers http.Header // nil: the API key
	}
	const canonical = `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":true,"capturedAt":"2026-04-04T12:04:35Z"}`
	cases := []tc{
		{name: "canonical", body: canonical, status: 200, outcome: "winner"},
		{name: "numbers as strings", body: `{"schemaVersion":"1","spinCycleId":"{id}","characterName":"{name}","online":true,"capturedAt":"2026-04-04T12:04:35Z"}`, status: 200, outcome: "winner"},
		{name: "online as string", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":"true","capturedAt":"2026-04-04T12:04:35Z"}`, status: 200, outcome: "winner"},
		{name: "offline as string", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":"false"}`, status: 200, outcome: "no_winner"},
		{name: "fractional seconds", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":true,"capturedAt":"2026-04-04T12:04:35.123Z"}`, status: 200, outcome: "winner"},
		{name: "offset", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":true,"capturedAt":"2026-04-04T15:04:35+03:00"}`, status: 200, outcome: "winner"},
		{name: "fraction and offset", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":true,"capturedAt":"2026-04-04T07:04:35.5-05:00"}`, status: 200, outcome: "winner"},
		{name: "capturedAt absent", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":true}`, status: 200, outcome: "winner"},
		{name: "name in another case with spaces", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"  NORINN ","online":true}`, status: 200, outcome: "winner"},
		{name: "unknown fields ignored", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":true,"realm":"Gordunni","extra":{"a":[1]}}`, status: 200, outcome: "winner"},

		{name: "schemaVersion 2", body: `{"schemaVersion":2,"spinCycleId":"{id}","characterName":"{name}","online":true}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "schemaVersion \"2\"", body: `{"schemaVersion":"2","spinCycleId":"{id}","characterName":"{name}","online":true}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "schemaVersion 1.5", body: `{"schemaVersion":1.5,"spinCycleId":"{id}","characterName":"{name}","online":true}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "schemaVersion missing", body: `{"spinCycleId":"{id}","characterName":"{name}","online":true}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "schemaVersion null", body: `{"schemaVersion":null,"spinCycleId":"{id}","characterName":"{name}","online":true}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "schemaVersion 2 beats a bad name", body: `{"schemaVersion":2,"spinCycleId":"{id}","characterName":"1","online":true}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "digit name", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"1","online":true}`, status: 400, code: mgm.CodeInvalidCharacterName},
		{name: "bad name beats an unknown cycle", body: `{"schemaVersion":1,"spinCycleId":"nope","characterName":"1","online":true}`, status: 400, code: mgm.CodeInvalidCharacterName},
		{name: "characterName missing", body: `{"schemaVersion":1,"spinCycleId":"{id}","online":true}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "unknown cycle uuid", body: `{"schemaVersion":1,"spinCycleId":"00000000-0000-4000-8000-000000000001","characterName":"{name}","online":true}`, status: 400, code: mgm.CodeOutOfSequence},
		{name: "garbage cycle id", body: `{"schemaVersion":1,"spinCycleId":"garbage","characterName":"{name}","online":true}`, status: 400, code: mgm.CodeOutOfSequence},
		{name: "cycle id missing", body: `{"schemaVersion":1,"characterName":"{name}","online":true}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "cycle id in upper case", body: `{"schemaVersion":1,"spinCycleId":"{ID}","characterName":"{name}","online":true}`, status: 200, outcome: "winner"},
		{name: "wrong name online", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"Thrall","online":true}`, status: 400, code: mgm.CodeOutOfSequence},
		{name: "wrong name offline", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"Thrall","online":false}`, status: 400, code: mgm.CodeOutOfSequence},
		{name: "capturedAt yesterday", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":true,"capturedAt":"yesterday"}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "online missing", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}"}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "online null", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":null}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "online yes", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":"yes"}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "online 1", body: `{"schemaVersion":1,"spinCycleId":"{id}","characterName":"{name}","online":1}`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "not json", body: `schemaVersion=1`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "array", body: `[1]`, status: 400, code: mgm.CodeInvalidPayload},
		{name: "no api key", body: canonical, headers: hdr("Content-Type", "application/json"), status: 401, code: mgm.CodeUnauthorized},
		{name: "wrong api key", body: canonical, headers: hdr("Content-Type", "application/json", "X-MGM-ApiKey", "desktop-key-cccccccccccccccccccc"), status: 403, code: mgm.CodeForbiddenAPIKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := newRouletteServer(t, nil, rouletteOptions{})
			id := drawnCycle(t, ts, 280)
			body := strings.NewReplacer("{id}", id, "{ID}", strings.ToUpper(id), "{name}", "Norinn").Replace(c.body)
			h := c.headers
			if h == nil {
				h = apiKeyHdr(testAPIKeyA)
				h.Set("Content-Type", "application/json")
			}
			r := ts.do(t, http.MethodPost, "/api/roulette/verify-candidate", []byte(body), h)
			if c.status == http.StatusOK {
				switch c.outcome {
				case "winner":
					wantWinner(t, c.name, r)
				default:
					wantBody(t, c.name, r, http.StatusOK, `{"outcome":"no_winner","payoutId":null}`)
				}
				return
			}
			wantError(t, c.name, r, c.status, c.code)
			// The rejected report changed nothing: the cycle is open and the
			// real candidate still wins.
			wantBody(t, "candidate after a rejected report", ts.get(t, "/api/roulette/candidate", apiKeyHdr(testAPIKeyA)),
				http.StatusOK, candidateJSON(id, "Norinn", "verification", at(330)))
			wantWinner(t, "real report after "+c.name, postWho(t, ts, whoJSON(id, "Norinn", true)))
		})
	}
}

func TestVerifyCandidateOffline(t *testing.T) {
	t.Parallel()
	ts := newRouletteServer(t, nil, rouletteOptions{})
	id := drawnCycle(t, ts, 290)
	r := postWho(t, ts, whoJSON(id, "Norinn", false))
	wantBody(t, "offline report", r, http.StatusOK, `{"outcome":"no_winner","payoutId":null}`)
	// Repeats, online or not, return the decided outcome.
	clockTo(t, ts, at(291))
	wantBody(t, "repeat offline", postWho(t, ts, whoJSON(id, "Norinn", false)), http.StatusOK, `{"outcome":"no_winner","payoutId":null}`)
	wantBody(t, "repeat online", postWho(t, ts, whoJSON(id, "norinn", true)), http.StatusOK, `{"outcome":"no_winner","payoutId":null}`)

	last := lastCycleJSON(id, "no_winner", "", "Norinn", at(290))
	if got, want := rouletteStateBody(t, ts), stateJSON(at(300), at(291), 1, "completed", id, "", last); got != want {
		t.Fatalf("state after offline\n got: %s\nwant: %s", got, want)
	}
	wantStatus(t, "candidate", ts.get(t, "/api/roulette/candidate", apiKeyHdr(testAPIKeyA)), http.StatusNoContent)
	// No payout; the candidate stays in the pool.
	wantError(t, "my-last", ts.get(t, "/api/payouts/my-last", bearerHdr(ts.token("2001"))), http.StatusNotFound, mgm.CodeNotFound)
	if got := ts.poolMe(t, "2001"); got != `{"isEnrolled":true,"characterName":"Norinn","lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("pool/me: %s", got)
	}
}

func TestVerifyCandidateGrace(t *testing.T) {
	t.Parallel()
	for _, sec := range []float64{300, 315, 329.999} {
		t.Run(fmt.Sprint(sec), func(t *testing.T) {
			t.Parallel()
			ts := newRouletteServer(t, nil, rouletteOptions{})
			id := drawnCycle(t, ts, 300)
			mustTick(t, ts) // the next window starts
			id2 := currentCycleID(t, ts)
			clockTo(t, ts, at(sec))
			mustTick(t, ts) // the grace does not close the cycle
			if got, want := rouletteStateBody(t, ts), stateJSON(at(600), at(sec), 1, "collecting", id2, "", ""); got != want {
				t.Fatalf("state in grace\n got: %s\nwant: %s", got, want)
			}
			// The Desktop still sees the previous cycle's candidate.
			wantBody(t, "candidate in grace", ts.get(t, "/api/roulette/candidate", apiKeyHdr(testAPIKeyA)),
				http.StatusOK, candidateJSON(id, "Norinn", "verification", at(330)))
			pid := wantWinner(t, "late report", postWho(t, ts, whoJSON(id, "Norinn", true)))
			last := lastCycleJSON(id, "winner", "Norinn", "Norinn", at(sec))
			if got, want := rouletteStateBody(t, ts), stateJSON(at(600), at(sec), 1, "collecting", id2, "", last); got != want {
				t.Fatalf("state after a late report\n got: %s\nwant: %s", got, want)
			}
			r := desk(t, ts, http.MethodGet, "/api/payouts/"+pid, "")
			wantStatus(t, "late payout", r, http.StatusOK)
			if !strings.Contains(r.text(), `"spinCycleId":"`+id+`"`) {
				t.Fatalf("late payout belongs to the wrong cycle: %s", r.text())
			}
		})
	}

	t.Run("330 s closes the cycle", func(t *testing.T) {
		t.Parallel()
		ts := newRouletteServer(t, nil, rouletteOptions{})
		id := drawnCycle(t, ts, 300)
		mustTick(t, ts)
		id2 := currentCycleID(t, ts)
		clockTo(t, ts, at(330))
		// The deadline is exclusive: a report at 330 s is late even before a tick.
		wantError(t, "report at 330 s", postWho(t, ts, whoJSON(id, "Norinn", true)), http.StatusBadRequest, mgm.CodeOutOfSequence)
		mustTick(t, ts)
		wantError(t, "report at 330 s after the tick", postWho(t, ts, whoJSON(id, "Norinn", true)), http.StatusBadRequest, mgm.CodeOutOfSequence)
		wantError(t, "offline report at 330 s", postWho(t, ts, whoJSON(id, "Norinn", false)), http.StatusBadRequest, mgm.CodeOutOfSequence)
		last := lastCycleJSON(id, "no_winner", "", "Norinn", at(330))
		if got, want := rouletteStateBody(t, ts), stateJSON(at(600), at(330), 1, "collecting", id2, "", last); got != want {
			t.Fatalf("state after the grace\n got: %s\nwant: %s", got, want)
		}
		wantStatus(t, "candidate after the grace", ts.get(t, "/api/roulette/candidate", apiKeyHdr(testAPIKeyA)), http.StatusNoContent)
		if got := ts.poolMe(t, "2001"); got != `{"isEnrolled":true,"characterName":"Norinn","lifetimeGoldCommitted":0,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
			t.Fatalf("the unreported candidate left the pool: %s", got)
		}
		evs := ts.events(t, app.CycleStream(id))
		if n := len(evs); n == 0 || evs[n-1].Type != app.EventSpinCycleDecided ||
			!strings.Contains(string(evs[n-1].Data), `"no_winner"`) {
			t.Fatalf("cycle events: %+v", evs)
		}
	})
}

// --- payouts -----------------------------------------------------------------

// payoutWant is the expected PayoutDto.
type payoutWant struct {
	id, user, display, name, status string
	createdAt, updatedAt            time.Time
	acceptedAt                      *time.Time
	announced                       bool
	cycleID                         string
}

// payoutJSON is the exact PayoutDto body, keys in wire order.
func payoutJSON(p payoutWant) string {
	accepted := "null"
	if p.acceptedAt != nil {
		accepted = `"` + msTime(*p.acceptedAt) + `"`
	}
	return fmt.Sprintf(`{"id":%q,"twitchUserId":%q,"twitchDisplayName":%s,"characterName":%s,"goldAmount":1000,`+
		`"enrollmentRequestId":%q,"status":%q,"createdAt":%q,"isRewardSentAnnouncedToChat":%t,"updatedAt":%q,`+
		`"acceptedAt":%s,"spinCycleId":%q}`,
		p.id, p.user, jsonStr(p.display), jsonStr(p.name), "spin:"+strings.ReplaceAll(p.cycleID, "-", ""), p.status,
		msTime(p.createdAt), p.announced, msTime(p.updatedAt), accepted, p.cycleID)
}

// preparePayout enrolls userID as name and makes a Pending payout through
// the harness; it returns the payout id and the cycle id.
func preparePayout(t *testing.T, ts *testServer, userID, name string) (payoutID, cycleID string) {
	t.Helper()
	wantStatus(t, "claim "+name, ts.claim(t, userID, name, "req-"+userID), http.StatusCreated)
	r := desk(t, ts, http.MethodPost, "/api/e2e/prepare-pending-payout", `{"twitchUserId":"`+userID+`"}`)
	wantStatus(t, "prepare-pending-payout", r, http.StatusOK)
	var v struct{ PayoutID, CharacterName string }
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	if !uuidRE.MatchString(v.PayoutID) {
		t.Fatalf("payoutId %q", v.PayoutID)
	}
	wantBody(t, "prepare-pending-payout", r, http.StatusOK,
		`{"payoutId":"`+v.PayoutID+`","characterName":`+jsonStr(name)+`}`)
	p := getPayout(t, ts, v.PayoutID)
	return v.PayoutID, p.SpinCycleID
}

type payoutView struct {
	ID, Status, CharacterName, EnrollmentRequestID, SpinCycleID string
	IsRewardSentAnnouncedToChat                                 bool
	AcceptedAt                                                  *string
}

func getPayout(t *testing.T, ts *testServer, id string) payoutView {
	t.Helper()
	r := desk(t, ts, http.MethodGet, "/api/payouts/"+id, "")
	wantStatus(t, "GET payout", r, http.StatusOK)
	var p payoutView
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

type historyEvent struct {
	Type string
	At   string
	Data map[string]any
}

func getHistory(t *testing.T, ts *testServer, id string) []historyEvent {
	t.Helper()
	r := desk(t, ts, http.MethodGet, "/api/payouts/"+id+"/history", "")
	wantStatus(t, "GET history", r, http.StatusOK)
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatalf("history: %v: %s", err, r.text())
	}
	out := make([]historyEvent, 0, len(raw))
	for _, e := range raw {
		if len(e) != 3 {
			t.Fatalf("history event keys %v, want type, at, data", e)
		}
		var h historyEvent
		if err := json.Unmarshal(e["type"], &h.Type); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(e["at"], &h.At); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(e["data"], &h.Data); err != nil {
			t.Fatalf("data of %s is not an object: %s", h.Type, e["data"])
		}
		out = append(out, h)
	}
	return out
}

func historyTypes(h []historyEvent) []string {
	var out []string
	for _, e := range h {
		out = append(out, e.Type)
	}
	return out
}

func TestPayoutLifecycle(t *testing.T) {
	t.Parallel()
	ts := newRouletteServer(t, harnessOn, rouletteOptions{})
	created := ts.clock.Now()
	pid, cid := preparePayout(t, ts, "3001", "Norinn")
	if !uuidRE.MatchString(cid) {
		t.Fatalf("spinCycleId %q", cid)
	}
	want := payoutWant{id: pid, user: "3001", display: "Disp3001", name: "Norinn", status: "Pending",
		createdAt: created, updatedAt: created, cycleID: cid}
	r := desk(t, ts, http.MethodGet, "/api/payouts/"+pid, "")
	wantBody(t, "GET payout", r, http.StatusOK, payoutJSON(want))
	if !regexp.MustCompile(`"enrollmentRequestId":"spin:[0-9a-f]{32}"`).Match(r.body) {
		t.Fatalf("enrollmentRequestId: %s", r.text())
	}
	var keys map[string]any
	if err := json.Unmarshal(r.body, &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 12 {
		t.Fatalf("PayoutDto has %d keys: %s", len(keys), r.text())
	}
	wantBody(t, "pending", desk(t, ts, http.MethodGet, "/api/payouts/pending", ""), http.StatusOK, "["+payoutJSON(want)+"]")

	patch := func(status string) response {
		t.Helper()
		return desk(t, ts, http.MethodPatch, "/api/payouts/"+pid+"/status", `{"status":`+status+`}`)
	}

	// Pending → InProgress, written camelCase.
	clockTo(t, ts, created.Add(10*time.Second))
	want.status, want.updatedAt = "InProgress", ts.clock.Now()
	wantBody(t, "PATCH inProgress", patch(`"inProgress"`), http.StatusOK, payoutJSON(want))
	// Same status again: 200, the payout unchanged, no event.
	clockTo(t, ts, created.Add(11*time.Second))
	n := len(getHistory(t, ts, pid))
	wantBody(t, "PATCH InProgress again", patch(`"INPROGRESS"`), http.StatusOK, payoutJSON(want))
	if m := len(getHistory(t, ts, pid)); m != n {
		t.Fatalf("a repeated status added %d events", m-n)
	}
	// Never Expired through PATCH.
	wantError(t, "PATCH Expired", patch(`"Expired"`), http.StatusConflict, mgm.CodeTerminalStatusChange)

	// Consent while InProgress, case-insensitive after trimming.
	clockTo(t, ts, created.Add(20*time.Second))
	accepted := ts.clock.Now()
	want.acceptedAt, want.updatedAt = &accepted, accepted
	wantError(t, "confirm wrong name", desk(t, ts, http.MethodPost, "/api/payouts/"+pid+"/confirm-acceptance",
		`{"characterName":"Thrall"}`), http.StatusBadRequest, mgm.CodeInvalidCharacterName)
	wantBody(t, "confirm", desk(t, ts, http.MethodPost, "/api/payouts/"+pid+"/confirm-acceptance",
		`{"characterName":"  nORINN "}`), http.StatusOK, payoutJSON(want))
	clockTo(t, ts, created.Add(25*time.Second))
	wantBody(t, "confirm again", desk(t, ts, http.MethodPost, "/api/payouts/"+pid+"/confirm-acceptance",
		`{"characterName":"Norinn"}`), http.StatusOK, payoutJSON(want))

	// InProgress → Sent (no announcer: the job records a failure).
	clockTo(t, ts, created.Add(30*time.Second))
	sent := ts.clock.Now()
	want.status, want.updatedAt = "Sent", sent
	wantBody(t, "PATCH SENT", patch(`"SENT"`), http.StatusOK, payoutJSON(want))
	hist := awaitAnnouncement(t, ts, pid)
	clockTo(t, ts, created.Add(31*time.Second))
	wantBody(t, "PATCH Sent again", patch(`"Sent"`), http.StatusOK, payoutJSON(want))
	if h := getHistory(t, ts, pid); len(h) != len(hist) {
		t.Fatalf("a repeated Sent added events: %v", historyTypes(h))
	}
	for _, to := range []string{`"Pending"`, `"InProgress"`, `"Cancelled"`, `"Failed"`, `"Expired"`} {
		wantError(t, "PATCH Sent → "+to, patch(to), http.StatusConflict, mgm.CodeTerminalStatusChange)
	}
	wantError(t, "confirm after Sent", desk(t, ts, http.MethodPost, "/api/payouts/"+pid+"/confirm-acceptance",
		`{"characterName":"Norinn"}`), http.StatusConflict, mgm.CodeTerminalStatusChange)

	// The winner left the pool; their payout is their newest.
	if got := ts.poolMe(t, "3001"); got != `{"isEnrolled":false,"characterName":null,"lifetimeGoldCommitted":1000,"lifetimeCapGold":10000,"eligibleAgainAt":null}` {
		t.Fatalf("pool/me after Sent: %s", got)
	}
	wantBody(t, "my-last", ts.get(t, "/api/payouts/my-last", bearerHdr(ts.token("3001"))), http.StatusOK, payoutJSON(want))
	wantBody(t, "pending after Sent", desk(t, ts, http.MethodGet, "/api/payouts/pending", ""), http.StatusOK, "[]")

	// The history, oldest first.
	hist = getHistory(t, ts, pid)
	wantTypes := []string{app.EventPayoutCreated, app.EventPayoutStatusChanged, app.EventWinnerAcceptanceRecorded,
		app.EventPayoutStatusChanged, app.EventAnnouncementFailed}
	if got := historyTypes(hist); !reflect.DeepEqual(got, wantTypes) {
		t.Fatalf("history types %v, want %v", got, wantTypes)
	}
	wantAt := []time.Time{created, created.Add(10 * time.Second), accepted, sent, sent}
	for i, e := range hist {
		if e.At != msTime(wantAt[i]) {
			t.Errorf("event %d (%s) at %s, want %s", i, e.Type, e.At, msTime(wantAt[i]))
		}
	}
	if d := hist[0].Data; d["id"] != pid || d["characterName"] != "Norinn" || d["status"] != "Pending" {
		t.Errorf("PayoutCreated data %v", d)
	}
	if d := hist[1].Data; !reflect.DeepEqual(d, map[string]any{"from": "Pending", "to": "InProgress"}) {
		t.Errorf("first status change data %v", d)
	}
	if d := hist[3].Data; !reflect.DeepEqual(d, map[string]any{"from": "InProgress", "to": "Sent"}) {
		t.Errorf("second status change data %v", d)
	}
	if d := hist[4].Data; d["attempts"] != float64(1) || d["lastError"] == "" || d["lastError"] == nil {
		t.Errorf("announcement failure data %v", d)
	}
}

func TestPayoutStatusTransitions(t *testing.T) {
	t.Parallel()
	type step struct {
		status string
		code   int
	}
	cases := []struct {
		name  string
		steps []step
		final string
	}{
		{"pending to sent refused", []step{{`"Sent"`, 409}}, "Pending"},
		{"pending to expired refused", []step{{`"expired"`, 409}}, "Pending"},
		{"pending to pending is a no-op", []step{{`"pending"`, 200}}, "Pending"},
		{"pending to cancelled", []step{{`"cancelled"`, 200}, {`"Pending"`, 409}, {`"InProgress"`, 409}, {`"Cancelled"`, 200}}, "Cancelled"},
		{"pending to failed", []step{{`"FAILED"`, 200}, {`"Sent"`, 409}}, "Failed"},
		{"escape hatch", []step{{`"InProgress"`, 200}, {`"Pending"`, 200}, {`"InProgress"`, 200}}, "InProgress"},
		{"in progress to expired refused", []step{{`"InProgress"`, 200}, {`"Expired"`, 409}}, "InProgress"},
		{"in progress to cancelled", []step{{`"InProgress"`, 200}, {`"Cancelled"`, 200}, {`"Sent"`, 409}}, "Cancelled"},
		{"sent to pending refused", []step{{`"InProgress"`, 200}, {`"Sent"`, 200}, {`"Pending"`, 409}}, "Sent"},
		{"status as padded text", []step{{`" inprogress "`, 200}}, "InProgress"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := newRouletteServer(t, harnessOn, rouletteOptions{})
			pid, _ := preparePayout(t, ts, "3001", "Norinn")
			for _, s := range c.steps {
				r := desk(t, ts, http.MethodPatch, "/api/payouts/"+pid+"/status", `{"status":`+s.status+`}`)
				if s.code == http.StatusConflict {
					wantError(t, "PATCH "+s.status, r, s.code, mgm.CodeTerminalStatusChange)
				} else {
					wantStatus(t, "PATCH "+s.status, r, s.code)
				}
			}
			if p := getPayout(t, ts, pid); p.Status != c.final {
				t.Fatalf("status %s, want %s", p.Status, c.final)
			}
			// Every applied change is one event, refused and repeated ones none.
			changes := 0
			prev := "Pending"
			for _, s := range c.steps {
				to, _ := mgm.ParsePayoutStatus(strings.Trim(s.status, `"`))
				if s.code == http.StatusOK && string(to) != prev {
					changes++
					prev = string(to)
				}
			}
			got := 0
			for _, e := range getHistory(t, ts, pid) {
				if e.Type == app.EventPayoutStatusChanged {
					got++
				}
			}
			if got != changes {
				t.Fatalf("%d status events, want %d", got, changes)
			}
		})
	}
}

func TestPayoutRouteErrors(t *testing.T) {
	t.Parallel()
	ts := newRouletteServer(t, harnessOn, rouletteOptions{})
	pid, _ := preparePayout(t, ts, "3001", "Norinn")
	statusPath := "/api/payouts/" + pid + "/status"

	t.Run("invalid status bodies", func(t *testing.T) {
		for _, body := range []string{`{}`, `{"status":"Bogus"}`, `{"status":5}`, `{"status":null}`, `{"status":""}`,
			`{"status":["Sent"]}`, `"Sent"`, `status=Sent`, `{"status":"Sent"} {}`} {
			wantError(t, "PATCH "+body, desk(t, ts, http.MethodPatch, statusPath, body), http.StatusBadRequest, mgm.CodeInvalidPayload)
		}
		wantError(t, "PATCH without body", desk(t, ts, http.MethodPatch, statusPath, ""), http.StatusBadRequest, mgm.CodeInvalidPayload)
		if p := getPayout(t, ts, pid); p.Status != "Pending" {
			t.Fatalf("status %s after bad requests", p.Status)
		}
	})

	t.Run("unknown payout", func(t *testing.T) {
		unknown := "7f1c2a38-161a-49f9-a165-0f21d7a4e1c4"
		for _, c := range []struct{ method, path, body string }{
			{http.MethodGet, "/api/payouts/" + unknown, ""},
			{http.MethodGet, "/api/payouts/" + unknown + "/history", ""},
			{http.MethodPatch, "/api/payouts/" + unknown + "/status", `{"status":"InProgress"}`},
			{http.MethodPost, "/api/payouts/" + unknown + "/confirm-acceptance", `{"characterName":"Norinn"}`},
		} {
			wantError(t, c.method+" "+c.path, desk(t, ts, c.method, c.path, c.body), http.StatusNotFound, mgm.CodeNotFound)
		}
	})

	t.Run("malformed ids without a key", func(t *testing.T) {
		for _, id := range []string{"abc", "123", pid + "0", strings.ReplaceAll(pid, "-", ""), "{" + pid + "}"} {
			for _, c := range []struct{ method, path, body string }{
				{http.MethodGet, "/api/payouts/" + id, ""},
				{http.MethodGet, "/api/payouts/" + id + "/history", ""},
				{http.MethodPatch, "/api/payouts/" + id + "/status", `{"status":"InProgress"}`},
				{http.MethodPost, "/api/payouts/" + id + "/confirm-acceptance", `{"characterName":"Norinn"}`},
			} {
				r := ts.do(t, c.method, c.path, []byte(c.body), hdr("Content-Type", "application/json"))
				wantError(t, c.method+" "+c.path, r, http.StatusNotFound, mgm.CodeNotFound)
			}
		}
	})

	t.Run("desktop key required", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{http.MethodGet, "/api/payouts/" + pid, ""},
			{http.MethodGet, "/api/payouts/" + pid + "/history", ""},
			{http.MethodPatch, statusPath, `{"status":"InProgress"}`},
			{http.MethodPost, "/api/payouts/" + pid + "/confirm-acceptance", `{"characterName":"Norinn"}`},
			{http.MethodGet, "/api/roulette/candidate", ""},
		} {
			r := ts.do(t, c.method, c.path, []byte(c.body), hdr("Content-Type", "application/json"))
			wantError(t, "no key: "+c.method+" "+c.path, r, http.StatusUnauthorized, mgm.CodeUnauthorized)
			r = ts.do(t, c.method, c.path, []byte(c.body), hdr("Content-Type", "application/json", "X-MGM-ApiKey", "nope"))
			wantError(t, "wrong key: "+c.method+" "+c.path, r, http.StatusForbidden, mgm.CodeForbiddenAPIKey)
			// A viewer token is not a Desktop key.
			r = ts.do(t, c.method, c.path, []byte(c.body), bearerHdr(ts.token("3001"), "Content-Type", "application/json"))
			wantError(t, "viewer token: "+c.method+" "+c.path, r, http.StatusUnauthorized, mgm.CodeUnauthorized)
		}
		if p := getPayout(t, ts, pid); p.Status != "Pending" || p.AcceptedAt != nil {
			t.Fatalf("unauthenticated requests changed the payout: %+v", p)
		}
	})

	t.Run("confirm-acceptance bodies", func(t *testing.T) {
		path := "/api/payouts/" + pid + "/confirm-acceptance"
		for _, c := range []struct {
			body string
			code mgm.Code
		}{
			{`{}`, mgm.CodeInvalidPayload},
			{`{"characterName":5}`, mgm.CodeInvalidPayload},
			{`not json`, mgm.CodeInvalidPayload},
			{`{"characterName":"Thrall"}`, mgm.CodeInvalidCharacterName},
			{`{"characterName":"Norin"}`, mgm.CodeInvalidCharacterName},
			{`{"characterName":""}`, mgm.CodeInvalidCharacterName},
		} {
			wantError(t, "confirm "+c.body, desk(t, ts, http.MethodPost, path, c.body), http.StatusBadRequest, c.code)
		}
		if p := getPayout(t, ts, pid); p.AcceptedAt != nil {
			t.Fatalf("a refused consent was recorded: %+v", p)
		}
	})
}

func TestConfirmAcceptance(t *testing.T) {
	t.Parallel()
	ts := newRouletteServer(t, harnessOn, rouletteOptions{})
	pid, _ := preparePayout(t, ts, "3001", "Тралл")
	path := "/api/payouts/" + pid + "/confirm-acceptance"

	clockTo(t, ts, ts.clock.Now().Add(5*time.Second))
	first := ts.clock.Now()
	r := desk(t, ts, http.MethodPost, path, `{"characterName":"\t ТРАЛЛ  "}`)
	wantStatus(t, "confirm", r, http.StatusOK)
	var p payoutView
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.AcceptedAt == nil || *p.AcceptedAt != msTime(first) || p.Status != "Pending" || p.CharacterName != "Тралл" {
		t.Fatalf("confirm: %s", r.text())
	}
	clockTo(t, ts, first.Add(time.Minute))
	wantBody(t, "confirm again", desk(t, ts, http.MethodPost, path, `{"characterName":"тралл"}`), http.StatusOK, r.text())
	if got := historyTypes(getHistory(t, ts, pid)); !reflect.DeepEqual(got,
		[]string{app.EventPayoutCreated, app.EventWinnerAcceptanceRecorded}) {
		t.Fatalf("history %v", got)
	}

	// Terminal payouts take no consent; the name check still comes first.
	wantStatus(t, "cancel", desk(t, ts, http.MethodPatch, "/api/payouts/"+pid+"/status", `{"status":"Cancelled"}`), http.StatusOK)
	wantError(t, "confirm cancelled", desk(t, ts, http.MethodPost, path, `{"characterName":"Тралл"}`),
		http.StatusConflict, mgm.CodeTerminalStatusChange)
	wantError(t, "confirm cancelled, wrong name", desk(t, ts, http.MethodPost, path, `{"characterName":"Norinn"}`),
		http.StatusBadRequest, mgm.CodeInvalidCharacterName)
}

func TestRewardAnnouncement(t *testing.T) {
	t.Parallel()
	const line = "Награда отправлена персонажу Norinn на почту, проверяй ящик!"

	t.Run("once", func(t *testing.T) {
		t.Parallel()
		ann := &recordingAnnouncer{}
		ts := newRouletteServer(t, harnessOn, rouletteOptions{announcer: ann})
		pid, _ := preparePayout(t, ts, "3001", "Norinn")
		path := "/api/payouts/" + pid + "/status"
		wantStatus(t, "InProgress", desk(t, ts, http.MethodPatch, path, `{"status":"InProgress"}`), http.StatusOK)
		if got := ann.sent(); len(got) != 0 {
			t.Fatalf("announced before Sent: %q", got)
		}
		r := desk(t, ts, http.MethodPatch, path, `{"status":"Sent"}`)
		wantStatus(t, "Sent", r, http.StatusOK)
		if !strings.Contains(r.text(), `"status":"Sent"`) {
			t.Fatalf("Sent response: %s", r.text())
		}
		awaitAnnouncement(t, ts, pid)
		if got := ann.sent(); !reflect.DeepEqual(got, []string{line}) {
			t.Fatalf("chat lines %q", got)
		}
		if p := getPayout(t, ts, pid); !p.IsRewardSentAnnouncedToChat {
			t.Fatalf("payout after the job: %+v", p)
		}
		// Repeats do not post again.
		wantStatus(t, "Sent again", desk(t, ts, http.MethodPatch, path, `{"status":"sent"}`), http.StatusOK)
		hist := awaitAnnouncement(t, ts, pid)
		if got := ann.sent(); len(got) != 1 {
			t.Fatalf("chat lines after a repeat: %q", got)
		}
		wantTypes := []string{app.EventPayoutCreated, app.EventPayoutStatusChanged, app.EventPayoutStatusChanged,
			app.EventAnnouncementSucceeded}
		if got := historyTypes(hist); !reflect.DeepEqual(got, wantTypes) {
			t.Fatalf("history %v, want %v", got, wantTypes)
		}
		if d := hist[3].Data; !reflect.DeepEqual(d, map[string]any{"attempts": float64(1)}) {
			t.Fatalf("success data %v", d)
		}
	})

	t.Run("retried", func(t *testing.T) {
		t.Parallel()
		ann := &recordingAnnouncer{failNext: 2}
		ts := newRouletteServer(t, harnessOn, rouletteOptions{announcer: ann})
		pid, _ := preparePayout(t, ts, "3001", "Norinn")
		path := "/api/payouts/" + pid + "/status"
		wantStatus(t, "InProgress", desk(t, ts, http.MethodPatch, path, `{"status":"InProgress"}`), http.StatusOK)
		wantStatus(t, "Sent", desk(t, ts, http.MethodPatch, path, `{"status":"Sent"}`), http.StatusOK)
		hist := awaitAnnouncement(t, ts, pid)
		if d := hist[len(hist)-1]; d.Type != app.EventAnnouncementSucceeded || d.Data["attempts"] != float64(3) {
			t.Fatalf("last event %+v", d)
		}
	})

	t.Run("helix keeps failing", func(t *testing.T) {
		t.Parallel()
		ann := &recordingAnnouncer{failNext: 100}
		ts := newRouletteServer(t, harnessOn, rouletteOptions{announcer: ann})
		pid, _ := preparePayout(t, ts, "3001", "Norinn")
		path := "/api/payouts/" + pid + "/status"
		wantStatus(t, "InProgress", desk(t, ts, http.MethodPatch, path, `{"status":"InProgress"}`), http.StatusOK)
		r := desk(t, ts, http.MethodPatch, path, `{"status":"Sent"}`)
		wantStatus(t, "Sent despite Helix", r, http.StatusOK)
		if !strings.Contains(r.text(), `"status":"Sent"`) || !strings.Contains(r.text(), `"isRewardSentAnnouncedToChat":false`) {
			t.Fatalf("Sent response: %s", r.text())
		}
		hist := awaitAnnouncement(t, ts, pid)
		d := hist[len(hist)-1]
		if d.Type != app.EventAnnouncementFailed || d.Data["attempts"] != float64(3) || d.Data["lastError"] != "helix: HTTP 503" {
			t.Fatalf("last event %+v", d)
		}
		// Not retried by a repeated PATCH.
		wantStatus(t, "Sent again", desk(t, ts, http.MethodPatch, path, `{"status":"Sent"}`), http.StatusOK)
		if ann.callCount() != 3 || len(getHistory(t, ts, pid)) != len(hist) {
			t.Fatalf("%d Helix calls, history %v", ann.callCount(), historyTypes(getHistory(t, ts, pid)))
		}
	})

	t.Run("concurrent Sent", func(t *testing.T) {
		t.Parallel()
		ann := &recordingAnnouncer{}
		ts := newRouletteServer(t, harnessOn, rouletteOptions{announcer: ann})
		pid, _ := preparePayout(t, ts, "3001", "Norinn")
		path := "/api/payouts/" + pid + "/status"
		wantStatus(t, "InProgress", desk(t, ts, http.MethodPatch, path, `{"status":"InProgress"}`), http.StatusOK)

		const n = 10
		type result struct {
			status int
			body   string
			err    error
		}
		results := make([]result, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				req, err := http.NewRequest(http.MethodPatch, ts.url+path, strings.NewReader(`{"status":"Sent"}`))
				if err != nil {
					results[i].err = err
					return
				}
				req.Header.Set("X-MGM-ApiKey", testAPIKeyA)
				req.Header.Set("Content-Type", "application/json")
				resp, err := ts.client.Do(req)
				if err != nil {
					results[i].err = err
					return
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				results[i] = result{status: resp.StatusCode, body: string(b), err: err}
			}()
		}
		close(start)
		wg.Wait()
		awaitAnnouncement(t, ts, pid)
		for i, r := range results {
			if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"status":"Sent"`) {
				t.Errorf("request %d: %d %v %s", i, r.status, r.err, r.body)
			}
		}
		if got := ann.sent(); !reflect.DeepEqual(got, []string{line}) {
			t.Fatalf("chat lines %q, want exactly one", got)
		}
		if p := getPayout(t, ts, pid); !p.IsRewardSentAnnouncedToChat || p.Status != "Sent" {
			t.Fatalf("payout after the race: %+v", p)
		}
		counts := map[string]int{}
		for _, e := range getHistory(t, ts, pid) {
			counts[e.Type]++
		}
		if counts[app.EventPayoutStatusChanged] != 2 || counts[app.EventAnnouncementSucceeded] != 1 || counts[app.EventAnnouncementFailed] != 0 {
			t.Fatalf("history counts %v", counts)
		}
	})
}

func TestPreparePendingPayoutGuard(t *testing.T) {
	t.Parallel()
	body := `{"twitchUserId":"3001"}`
	cases := []struct {
		name   string
		config func(*config.Config)
		header http.Header
		status int
		code   mgm.Code
	}{
		{"harness off", nil, apiKeyHdr(testAPIKeyA), 404, mgm.CodeNotFound},
		{"harness off, no key", nil, nil, 404, mgm.CodeNotFound},
		{"production", func(c *config.Config) { c.EnableE2eHarness, c.Environment = true, config.Production }, apiKeyHdr(testAPIKeyA), 404, mgm.CodeNotFound},
		{"no key", harnessOn, nil, 401, mgm.CodeUnauthorized},
		{"wrong key", harnessOn, apiKeyHdr("desktop-key-cccccccccccccccccccc"), 403, mgm.CodeForbiddenAPIKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := newRouletteServer(t, c.config, rouletteOptions{})
			// Enrolled from chat: in Production the panel's claim needs a real subscriber check.
			if out, err := ts.svc.HandleChatMessage(context.Background(), app.ChatMessage{DeliveryID: "d-3001",
				Viewer: mgm.Viewer{UserID: "3001", DisplayName: "V"}, Text: "!twgold Norinn", IsSubscriber: true}); err != nil || out != app.OutcomeEnrolled {
				t.Fatalf("enroll: %v %v", out, err)
			}
			h := c.header
			if h == nil {
				h = http.Header{}
			}
			h.Set("Content-Type", "application/json")
			r := ts.do(t, http.MethodPost, "/api/e2e/prepare-pending-payout", []byte(body), h)
			wantError(t, c.name, r, c.status, c.code)
			wantBody(t, "pending", desk(t, ts, http.MethodGet, "/api/payouts/pending", ""), http.StatusOK, "[]")
		})
	}

	t.Run("bad requests", func(t *testing.T) {
		t.Parallel()
		ts := newRouletteServer(t, harnessOn, rouletteOptions{})
		wantStatus(t, "claim", ts.claim(t, "3001", "Norinn", "req-1"), http.StatusCreated)
		for _, b := range []string{`{"twitchUserId":"4004"}`, `{}`, `{"twitchUserId":""}`, `{"twitchUserId":3001}`, `nope`} {
			wantError(t, b, desk(t, ts, http.MethodPost, "/api/e2e/prepare-pending-payout", b), http.StatusBadRequest, mgm.CodeInvalidPayload)
		}
		wantBody(t, "pending", desk(t, ts, http.MethodGet, "/api/payouts/pending", ""), http.StatusOK, "[]")
	})
}

func TestPendingPayoutsStatusFilter(t *testing.T) {
	t.Parallel()
	ts := newRouletteServer(t, harnessOn, rouletteOptions{})
	a, _ := preparePayout(t, ts, "3001", "Norinn")
	wantStatus(t, "InProgress", desk(t, ts, http.MethodPatch, "/api/payouts/"+a+"/status", `{"status":"InProgress"}`), http.StatusOK)
	// The harness decides the current cycle; the next payout needs the next window.
	clockTo(t, ts, cycleC0)
	b, _ := preparePayout(t, ts, "3002", "Тралл")
	clockTo(t, ts, at(300))
	c, _ := preparePayout(t, ts, "3003", "Jaina")
	wantStatus(t, "Cancelled", desk(t, ts, http.MethodPatch, "/api/payouts/"+c+"/status", `{"status":"Cancelled"}`), http.StatusOK)

	ids := func(path string) []string {
		t.Helper()
		r := desk(t, ts, http.MethodGet, path, "")
		wantStatus(t, path, r, http.StatusOK)
		var ps []payoutView
		if err := json.Unmarshal(r.body, &ps); err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	for _, c := range []struct {
		path string
		want []string
	}{
		{"/api/payouts/pending", []string{b}},
		{"/api/payouts/pending?status=Pending", []string{b}},
		{"/api/payouts/pending?status=Pending,InProgress", []string{a, b}},
		{"/api/payouts/pending?status=inprogress", []string{a}},
		{"/api/payouts/pending?status=Pending&status=InProgress", []string{a, b}},
		{"/api/payouts/pending?status=Cancelled,Sent", []string{c}},
	} {
		if got := ids(c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.path, got, c.want)
		}
	}
	wantError(t, "unknown status", desk(t, ts, http.MethodGet, "/api/payouts/pending?status=Pending,Bogus", ""),
		http.StatusBadRequest, mgm.CodeInvalidPayload)
}
