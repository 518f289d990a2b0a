// Package conformance is the test suite every store backend must pass: the
// use cases of package app and the database constraints behind them, run
// against a real database. Backends call Run from their own tests.
package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/drawproof"
	"github.com/mimirons-goldomatic/mgm/internal/jobs"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/store"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

// Opener returns a fresh, empty, migrated store for one test.
type Opener func(t *testing.T) *store.DB

// Clock is a settable test clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// T0 is the suite's starting time: a Monday at a 5-minute boundary.
var T0 = time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)

type env struct {
	db        *store.DB
	svc       *app.Service
	clock     *Clock
	ctx       context.Context
	announcer *Announcer
	jobs      *jobs.Queue
	workers   sync.Once
	rigged    atomic.Pointer[rig] // nil: testkit.FixedSeed
	opts      app.Options         // what svc was built with (usePolicy rebuilds it)
}

// rig is a draw order a test asked for (env.preferDraws).
type rig struct {
	members []testkit.DrawMember
	prefer  []string
}

// preferDraws makes the seeds of cycles created from now on draw, among
// whichever of members are eligible, the first of prefer.
func (e *env) preferDraws(members []testkit.DrawMember, prefer ...string) {
	e.rigged.Store(&rig{members: members, prefer: prefer})
}

func (e *env) seed(cycleID string) (drawproof.Seed, error) {
	if r := e.rigged.Load(); r != nil {
		return testkit.SeedPreferring(cycleID, r.members, r.prefer...), nil
	}
	return testkit.FixedSeed(cycleID)
}

func newEnv(t *testing.T, open Opener) *env {
	db := open(t)
	e := &env{db: db, clock: NewClock(T0), ctx: context.Background(), announcer: &Announcer{}}
	q, err := jobs.New(db, jobs.Config{Attempts: 3, PollInterval: 20 * time.Millisecond,
		Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	e.jobs = q
	var n atomic.Int64
	e.opts = app.Options{
		Now:           e.clock.Now,
		NewID:         func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1)) },
		Seed:          e.seed,
		BroadcasterID: "b1",
		Announcer:     e.announcer,
		Jobs:          q,
	}
	e.svc = app.New(db, e.opts)
	return e
}

// usePolicy rebuilds the service with the streamer's settings p, as a
// deployment configured with them would run; call it before anything else.
func (e *env) usePolicy(p mgm.Policy) {
	o := e.opts
	o.Policy = p
	e.svc = app.New(e.db, o)
}

// startWorkers runs the job queue's workers until the test ends; tests that
// check announcements start them when they want jobs to run.
func (e *env) startWorkers(t *testing.T) {
	e.workers.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.jobs.Run(ctx, e.svc) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("job workers: %v", err)
			}
		})
	})
}

// awaitAnnouncement runs the workers and waits until the payout's
// announcement outcome is recorded, returning the payout then.
func (e *env) awaitAnnouncement(t *testing.T, id string) mgm.Payout {
	t.Helper()
	e.startWorkers(t)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var outcome string
		if err := e.db.Read(e.ctx, func(tx *store.Tx) error {
			var err error
			_, outcome, err = tx.AnnouncementState(e.ctx, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if outcome != "" {
			p, err := e.svc.Payout(e.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	t.Fatalf("payout %s: no announcement outcome recorded", id)
	return mgm.Payout{}
}

// Announcer is a test Helix: it records messages and can fail on demand.
type Announcer struct {
	mu       sync.Mutex
	messages []string
	failNext int
	calls    int
	hold     chan struct{} // while set, calls block until it is closed
	entered  chan struct{} // receives once per call that blocks on hold
}

// Configured implements app.Announcer.
func (a *Announcer) Configured() bool { return true }

// SendChatMessage implements app.Announcer.
func (a *Announcer) SendChatMessage(ctx context.Context, msg string) error {
	a.mu.Lock()
	a.calls++
	hold, entered := a.hold, a.entered
	a.mu.Unlock()
	if hold != nil {
		entered <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failNext > 0 {
		a.failNext--
		return fmt.Errorf("helix: HTTP 503")
	}
	a.messages = append(a.messages, msg)
	return nil
}

// Messages returns what was announced.
func (a *Announcer) Messages() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.messages...)
}

// Hold makes calls block until release is called; entered receives once per
// blocked call, so a test knows Helix is "hanging" without timing anything.
func (a *Announcer) Hold() (entered <-chan struct{}, release func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hold, a.entered = make(chan struct{}), make(chan struct{}, 16)
	hold := a.hold
	return a.entered, sync.OnceFunc(func() { close(hold) })
}

// Calls counts SendChatMessage calls, posted or not.
func (a *Announcer) Calls() int { a.mu.Lock(); defer a.mu.Unlock(); return a.calls }

// FailNext makes the next n calls fail.
func (a *Announcer) FailNext(n int) { a.mu.Lock(); a.failNext = n; a.mu.Unlock() }

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"ChatEnrollsSubscriber", testChatEnrollsSubscriber},
		{"ChatRejections", testChatRejections},
		{"ChatDedupeByDelivery", testChatDedupe},
		{"ChatRenameAndCaseInsensitiveNames", testRename},
		{"ChatWrongChannelIgnored", testWrongChannel},
		{"ActivePayoutAndLifetimeCap", testPayoutRules},
		{"ClaimIdempotency", testClaimIdempotency},
		{"ClaimErrorsInOrder", testClaimErrors},
		{"ConcurrentSameNameOneWins", testConcurrentSameName},
		{"ConcurrentEnrollmentsSnapshotNewest", testConcurrentSnapshot},
		{"ConcurrentRedeliveryProcessedOnce", testConcurrentRedelivery},
		{"ConcurrentClaimsOneRequestID", testConcurrentClaimSameID},
		{"ConstraintsHoldWithoutChecks", testConstraints},
		{"EventsAppendOnlyAndVersioned", testEvents},
		{"TimestampsRoundTrip", testTimestamps},
		{"CycleWalkWinnersOfflineAndGrace", testCycleWalk},
		{"MissingReportClosesCycle", testMissingReport},
		{"EmptyPoolAndLateJoiners", testEmptyPoolCycles},
		{"ConcurrentTicksDrawOnce", testConcurrentTicks},
		{"ConcurrentVerifyOnePayout", testConcurrentVerify},
		{"VerifyRejections", testVerifyRejections},
		{"PayoutLifecycle", testPayoutLifecycle},
		{"ConfirmAcceptance", testConfirmAcceptance},
		{"AnnouncementRetriesAndFailure", testAnnouncementFailure},
		{"ConcurrentSentAnnouncesOnce", testConcurrentSent},
		{"SentAnswersWhileHelixHangs", testSentWhileHelixHangs},
		{"InterruptedAnnouncementRecordedOnce", testInterruptedAnnouncement},
		{"ConcurrentAnnouncementRunsPostOnce", testConcurrentAnnouncementRuns},
		{"ExpirySweep", testExpiry},
		{"HarnessPreparesPendingPayout", testHarness},
		{"LifetimeCapInDatabase", testLifetimeCapConstraint},
		{"UnstorableTextIsAClientMistake", testUnstorableText},
		{"DeliveryIDsPrunedAfterWindow", testDeliveryPrune},
	}
	tests = append(tests, giftTests...)
	tests = append(tests, proofTests...)
	tests = append(tests, leaseTests...)
	tests = append(tests, ingestTests...)
	tests = append(tests, panelTests...)
	tests = append(tests, acmeCacheTests...)
	tests = append(tests, controlTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each test has its own database and clock: they run side by
			// side, which matters on PostgreSQL where most of a test is
			// waiting for commits.
			t.Parallel()
			tc.fn(t, newEnv(t, open))
		})
	}
}

func sub(id, name string) mgm.Viewer { return mgm.Viewer{UserID: id, DisplayName: name} }

func (e *env) chat(t *testing.T, delivery, userID, text string, subscriber bool) app.Outcome {
	t.Helper()
	out, err := e.svc.HandleChatMessage(e.ctx, app.ChatMessage{
		DeliveryID: delivery, MessageID: "msg-" + delivery, BroadcasterID: "b1",
		Viewer: sub(userID, "Disp"+userID), Text: text, IsSubscriber: subscriber,
	})
	if err != nil {
		t.Fatalf("chat %q: %v", text, err)
	}
	// A chat line does not wait for the roulette snapshot; the tests read
	// state right after, so they wait for the refresh the line asked for.
	if err := e.svc.Refresh(e.ctx); err != nil {
		t.Fatalf("refresh after chat %q: %v", text, err)
	}
	return out
}

func (e *env) member(t *testing.T, userID string) (string, bool) {
	t.Helper()
	p, ok, err := e.svc.PoolMembership(e.ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	return p.CharacterName, ok
}

func (e *env) poolCount(t *testing.T) int {
	t.Helper()
	n, err := e.svc.PoolCount(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) events(t *testing.T, stream string) []store.Event {
	t.Helper()
	var evs []store.Event
	if err := e.db.Read(e.ctx, func(tx *store.Tx) error {
		var err error
		evs, err = tx.Events(e.ctx, stream)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

func (e *env) insertPayout(t *testing.T, id, userID string, status mgm.PayoutStatus) error {
	t.Helper()
	return e.db.InTx(e.ctx, func(tx *store.Tx) error {
		return tx.InsertPayout(e.ctx, mgm.Payout{
			ID: id, TwitchUserID: userID, TwitchDisplayName: "D", CharacterName: "Someone", GoldAmount: mgm.PayoutGold,
			EnrollmentRequestID: "seed:" + id, Status: status, CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
		})
	})
}

func payoutID(n int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", n) }

func testChatEnrollsSubscriber(t *testing.T, e *env) {
	if got := e.chat(t, "d1", "u1", "!twgold Norinn", true); got != app.OutcomeEnrolled {
		t.Fatalf("outcome = %q", got)
	}
	name, ok := e.member(t, "u1")
	if !ok || name != "Norinn" {
		t.Fatalf("pool/me = %q,%v; want Norinn,true", name, ok)
	}
	evs := e.events(t, app.PoolStream("u1"))
	if len(evs) != 1 || evs[0].Type != app.EventPoolEntered || evs[0].Version != 1 {
		t.Fatalf("events = %+v", evs)
	}
	var data map[string]any
	if err := json.Unmarshal(evs[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if data["characterName"] != "Norinn" || data["source"] != "chat" || data["messageId"] != "msg-d1" {
		t.Fatalf("event data = %v", data)
	}
	if !evs[0].At.Equal(T0) {
		t.Fatalf("event at %v, want %v", evs[0].At, T0)
	}
}

func testChatRejections(t *testing.T, e *env) {
	cases := []struct {
		text string
		sub  bool
		want app.Outcome
	}{
		{"!twgold Norinn", false, app.Rejected(mgm.CodeNotSubscriber)},
		{"!twgold N0rinn", true, app.Rejected(mgm.CodeInvalidCharacterName)},
		{"!twgold A", true, app.Rejected(mgm.CodeInvalidCharacterName)},
		{"!twgold", true, app.OutcomeIgnored},
		{"hello !twgold Norinn", true, app.OutcomeIgnored},
		{"!twgold Nor inn", true, app.OutcomeIgnored},
		{"!twgift Norinn", false, app.GiftRejected(mgm.CodeNotSubscriber)},
		{"!twgift N0rinn", true, app.GiftRejected(mgm.CodeInvalidCharacterName)},
	}
	for i, c := range cases {
		if got := e.chat(t, fmt.Sprintf("r%d", i), "u1", c.text, c.sub); got != c.want {
			t.Errorf("%q sub=%v: outcome %q, want %q", c.text, c.sub, got, c.want)
		}
	}
	if n := e.poolCount(t); n != 0 {
		t.Fatalf("pool has %d members after rejections", n)
	}
	// A rejected delivery is consumed: redelivering it does nothing even if
	// it would now be accepted.
	if got := e.chat(t, "r0", "u1", "!twgold Norinn", true); got != app.OutcomeDuplicate {
		t.Fatalf("redelivery outcome %q", got)
	}
	if len(e.events(t, app.PoolStream("u1"))) != 0 {
		t.Fatal("a rejected enrollment wrote an event")
	}
}

func testChatDedupe(t *testing.T, e *env) {
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	if got := e.chat(t, "d1", "u1", "!twgold Other", true); got != app.OutcomeDuplicate {
		t.Fatalf("outcome %q, want duplicate", got)
	}
	if name, _ := e.member(t, "u1"); name != "Norinn" {
		t.Fatalf("a redelivery changed the name to %q", name)
	}
	// Without a delivery id the chat message id dedupes.
	out, err := e.svc.HandleChatMessage(e.ctx, app.ChatMessage{MessageID: "m-x", Viewer: sub("u2", "x"), Text: "!twgold Thrall", IsSubscriber: true})
	if err != nil || out != app.OutcomeEnrolled {
		t.Fatalf("first: %q %v", out, err)
	}
	out, err = e.svc.HandleChatMessage(e.ctx, app.ChatMessage{MessageID: "m-x", Viewer: sub("u2", "x"), Text: "!twgold Jaina", IsSubscriber: true})
	if err != nil || out != app.OutcomeDuplicate {
		t.Fatalf("second: %q %v", out, err)
	}
	// Other EventSub deliveries share the same record.
	fresh, err := e.svc.RecordDelivery(e.ctx, "v1", "webhook_callback_verification")
	if err != nil || !fresh {
		t.Fatalf("first verification: %v %v", fresh, err)
	}
	if fresh, _ := e.svc.RecordDelivery(e.ctx, "v1", "webhook_callback_verification"); fresh {
		t.Fatal("a redelivered verification counted as fresh")
	}
}

func testRename(t *testing.T, e *env) {
	e.chat(t, "d1", "u1", "!twgold Norinn", true)
	if got := e.chat(t, "d2", "u2", "!twgold NORINN", true); got != app.Rejected(mgm.CodeCharacterNameTakenInPool) {
		t.Fatalf("case-insensitive clash: %q", got)
	}
	if got := e.chat(t, "d3", "u1", "!twgold Тралл", true); got != app.OutcomeEnrolled {
		t.Fatalf("rename: %q", got)
	}
	// The old name is free again.
	if got := e.chat(t, "d4", "u2", "!twgold norinn", true); got != app.OutcomeEnrolled {
		t.Fatalf("freed name: %q", got)
	}
	if got := e.chat(t, "d5", "u3", "!twgold ТРАЛЛ", true); got != app.Rejected(mgm.CodeCharacterNameTakenInPool) {
		t.Fatalf("Cyrillic clash: %q", got)
	}
	// The same viewer repeating the same name changes nothing.
	if got := e.chat(t, "d6", "u1", "!twgold Тралл", true); got != app.OutcomeEnrolled {
		t.Fatalf("repeat: %q", got)
	}
	evs := e.events(t, app.PoolStream("u1"))
	if len(evs) != 2 || evs[1].Type != app.EventPoolNameChanged || evs[1].Version != 2 {
		t.Fatalf("events = %+v", evs)
	}
	if d := decode(t, evs[1].Data); d["previousName"] != "Norinn" || d["characterName"] != "Тралл" {
		t.Fatalf("rename event data %s", evs[1].Data)
	}
	if n := e.poolCount(t); n != 2 {
		t.Fatalf("pool count %d, want 2", n)
	}
}

func testWrongChannel(t *testing.T, e *env) {
	out, err := e.svc.HandleChatMessage(e.ctx, app.ChatMessage{DeliveryID: "w1", BroadcasterID: "other", Viewer: sub("u1", "x"), Text: "!twgold Norinn", IsSubscriber: true})
	if err != nil || out != app.OutcomeWrongChannel {
		t.Fatalf("outcome %q %v", out, err)
	}
	if e.poolCount(t) != 0 {
		t.Fatal("another channel's message enrolled a viewer")
	}
}

func testPayoutRules(t *testing.T, e *env) {
	if err := e.insertPayout(t, payoutID(1), "u1", mgm.PayoutPending); err != nil {
		t.Fatal(err)
	}
	if got := e.chat(t, "d1", "u1", "!twgold Norinn", true); got != app.Rejected(mgm.CodeActivePayoutExists) {
		t.Fatalf("active payout: %q", got)
	}
	// 9 Sent payouts = 9,000 g: one more 1,000 g fits exactly under the cap.
	for i := 0; i < 9; i++ {
		if err := e.insertPayout(t, payoutID(100+i), "u2", mgm.PayoutSent); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.chat(t, "d2", "u2", "!twgold Jaina", true); got != app.OutcomeEnrolled {
		t.Fatalf("9,000 g sent: %q", got)
	}
	if err := e.insertPayout(t, payoutID(200), "u2", mgm.PayoutSent); err != nil {
		t.Fatal(err)
	}
	if got := e.chat(t, "d3", "u2", "!twgold Thrall", true); got != app.Rejected(mgm.CodeLifetimeCapReached) {
		t.Fatalf("10,000 g sent: %q", got)
	}
	// Failed, Cancelled and Expired payouts do not count.
	for i, st := range []mgm.PayoutStatus{mgm.PayoutFailed, mgm.PayoutCancelled, mgm.PayoutExpired} {
		if err := e.insertPayout(t, payoutID(300+i), "u3", st); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.chat(t, "d4", "u3", "!twgold Arthas", true); got != app.OutcomeEnrolled {
		t.Fatalf("terminal payouts only: %q", got)
	}
}

func alwaysSub(context.Context, string) (bool, error) { return true, nil }
func neverSub(context.Context, string) (bool, error)  { return false, nil }

func testClaimIdempotency(t *testing.T, e *env) {
	r, err := e.svc.Claim(e.ctx, sub("u1", "One"), "  Norinn ", "req-1", alwaysSub)
	if err != nil || !r.Created || r.CharacterName != "Norinn" || r.EnrollmentRequestID != "req-1" {
		t.Fatalf("first claim: %+v %v", r, err)
	}
	// The same viewer repeating the id gets the stored result, even after renaming.
	e.chat(t, "d1", "u1", "!twgold Jaina", true)
	r, err = e.svc.Claim(e.ctx, sub("u1", "One"), "Whatever", "req-1", neverSub)
	if err != nil || r.Created || r.CharacterName != "Norinn" {
		t.Fatalf("repeat: %+v %v", r, err)
	}
	if name, _ := e.member(t, "u1"); name != "Jaina" {
		t.Fatalf("a repeated claim changed the pool: %q", name)
	}
	_, err = e.svc.Claim(e.ctx, sub("u2", "Two"), "Thrall", "req-1", alwaysSub)
	if mgm.ErrorCode(err) != mgm.CodeDuplicateEnrollment {
		t.Fatalf("other viewer, same id: %v", err)
	}
	// A rejected claim does not keep its id: a corrected retry is evaluated afresh.
	if _, err := e.svc.Claim(e.ctx, sub("u2", "Two"), "Jaina", "req-2", alwaysSub); mgm.ErrorCode(err) != mgm.CodeCharacterNameTakenInPool {
		t.Fatalf("taken: %v", err)
	}
	r, err = e.svc.Claim(e.ctx, sub("u2", "Two"), "Thrall", "req-2", alwaysSub)
	if err != nil || !r.Created {
		t.Fatalf("retry after rejection: %+v %v", r, err)
	}
	evs := e.events(t, app.PoolStream("u2"))
	if len(evs) != 1 || decode(t, evs[0].Data)["enrollmentRequestId"] != "req-2" {
		t.Fatalf("claim events %+v", evs)
	}
}

func testClaimErrors(t *testing.T, e *env) {
	e.chat(t, "d1", "owner", "!twgold Taken", true)
	if err := e.insertPayout(t, payoutID(1), "busy", mgm.PayoutInProgress); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		user, name, id string
		subCheck       app.SubscriberCheck
		want           mgm.Code
	}{
		{"u1", "Norinn", "", alwaysSub, mgm.CodeInvalidPayload},
		{"u1", "Norinn", "a1", neverSub, mgm.CodeNotSubscriber},
		{"u1", "1bad", "a2", neverSub, mgm.CodeNotSubscriber}, // subscriber is checked before the name
		{"u1", "1bad", "a3", alwaysSub, mgm.CodeInvalidCharacterName},
		{"busy", "Busy", "a4", alwaysSub, mgm.CodeActivePayoutExists},
		{"u1", "taken", "a5", alwaysSub, mgm.CodeCharacterNameTakenInPool},
	}
	for _, c := range cases {
		_, err := e.svc.Claim(e.ctx, sub(c.user, c.user), c.name, c.id, c.subCheck)
		if got := mgm.ErrorCode(err); got != c.want {
			t.Errorf("claim(%s,%q,%q): %v, want %s", c.user, c.name, c.id, err, c.want)
		}
	}
}

func testConcurrentSameName(t *testing.T, e *env) {
	const n = 50
	var wg sync.WaitGroup
	outcomes := make([]app.Outcome, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			// Half by chat, half by the panel, in varying letter case.
			name := "Norinn"
			if i%3 == 0 {
				name = "NORINN"
			}
			user := sub(fmt.Sprintf("racer-%d", i), "R")
			if i%2 == 0 {
				outcomes[i], errs[i] = e.svc.HandleChatMessage(e.ctx, app.ChatMessage{
					DeliveryID: fmt.Sprintf("race-%d", i), Viewer: user, Text: "!twgold " + name, IsSubscriber: true})
				return
			}
			_, errs[i] = e.svc.Claim(e.ctx, user, name, fmt.Sprintf("claim-%d", i), alwaysSub)
			if errs[i] == nil {
				outcomes[i] = app.OutcomeEnrolled
			} else if code := mgm.ErrorCode(errs[i]); code != mgm.CodeInternal {
				outcomes[i], errs[i] = app.Rejected(code), nil
			}
		}(i)
	}
	close(start)
	wg.Wait()
	wins := 0
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("racer %d: unexpected error %v", i, errs[i])
		}
		switch outcomes[i] {
		case app.OutcomeEnrolled:
			wins++
		case app.Rejected(mgm.CodeCharacterNameTakenInPool):
		default:
			t.Fatalf("racer %d: outcome %q", i, outcomes[i])
		}
	}
	if wins != 1 || e.poolCount(t) != 1 {
		t.Fatalf("%d winners, pool %d; want exactly 1", wins, e.poolCount(t))
	}
}

// Every enrollment asks for a roulette snapshot refresh; when they overlap,
// a slow refresh that started earlier must not replace a newer one, so the
// refresh that Refresh waits for counts every member.
func testConcurrentSnapshot(t *testing.T, e *env) {
	const n = 30
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			e.chat(t, fmt.Sprintf("snap-%d", i), fmt.Sprintf("snapper-%d", i), fmt.Sprintf("!twgold Snapper%c%c", 'a'+i/26, 'a'+i%26), true)
		}(i)
	}
	close(start)
	wg.Wait()
	if err := e.svc.Refresh(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.svc.Snapshot().PoolCount; got != n || e.poolCount(t) != n {
		t.Fatalf("snapshot counts %d members, the pool holds %d; want %d", got, e.poolCount(t), n)
	}
}

func testConcurrentRedelivery(t *testing.T, e *env) {
	const n = 20
	var wg sync.WaitGroup
	var enrolled, dup atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.svc.HandleChatMessage(e.ctx, app.ChatMessage{
				DeliveryID: "same-delivery", Viewer: sub("u1", "x"), Text: "!twgold Norinn", IsSubscriber: true})
			if err != nil {
				t.Errorf("redelivery: %v", err)
			}
			switch out {
			case app.OutcomeEnrolled:
				enrolled.Add(1)
			case app.OutcomeDuplicate:
				dup.Add(1)
			}
		}()
	}
	wg.Wait()
	if enrolled.Load() != 1 || dup.Load() != n-1 {
		t.Fatalf("enrolled %d, duplicate %d", enrolled.Load(), dup.Load())
	}
	if evs := e.events(t, app.PoolStream("u1")); len(evs) != 1 {
		t.Fatalf("%d pool events, want 1", len(evs))
	}
}

func testConcurrentClaimSameID(t *testing.T, e *env) {
	const n = 10
	var wg sync.WaitGroup
	codes := make([]mgm.Code, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := e.svc.Claim(e.ctx, sub(fmt.Sprintf("v%d", i), "x"), fmt.Sprintf("Name%c", 'a'+i), "shared-id", alwaysSub)
			if err == nil {
				codes[i] = "ok"
			} else {
				codes[i] = mgm.ErrorCode(err)
			}
		}(i)
	}
	wg.Wait()
	ok := 0
	for i, c := range codes {
		switch c {
		case "ok":
			ok++
		case mgm.CodeDuplicateEnrollment:
		default:
			t.Fatalf("claimer %d: %s", i, c)
		}
	}
	if ok != 1 || e.poolCount(t) != 1 {
		t.Fatalf("%d claims succeeded, pool %d; want 1", ok, e.poolCount(t))
	}
}

func testConstraints(t *testing.T, e *env) {
	// Writes below bypass the rules on purpose: the database must refuse them anyway.
	if err := e.insertPayout(t, payoutID(1), "u1", mgm.PayoutPending); err != nil {
		t.Fatal(err)
	}
	err := e.insertPayout(t, payoutID(2), "u1", mgm.PayoutInProgress)
	if name, ok := e.db.UniqueViolation(err); !ok || name != store.UniqueActivePayout {
		t.Fatalf("second active payout: %v (%q)", err, name)
	}
	if err := e.insertPayout(t, payoutID(3), "u1", mgm.PayoutSent); err != nil {
		t.Fatalf("a terminal payout beside an active one: %v", err)
	}
	err = e.db.InTx(e.ctx, func(tx *store.Tx) error {
		for i, u := range []string{"a", "b"} {
			if err := tx.InsertPayout(e.ctx, mgm.Payout{ID: payoutID(10 + i), TwitchUserID: u, TwitchDisplayName: u,
				CharacterName: "X", GoldAmount: 1000, EnrollmentRequestID: "spin:" + u, Status: mgm.PayoutPending,
				CreatedAt: T0, UpdatedAt: T0, SpinCycleID: "20000000-0000-4000-8000-000000000001"}); err != nil {
				return err
			}
		}
		return nil
	})
	if name, ok := e.db.UniqueViolation(err); !ok || name != store.UniquePayoutSpinCycle {
		t.Fatalf("two payouts for one cycle: %v (%q)", err, name)
	}
	err = e.db.InTx(e.ctx, func(tx *store.Tx) error {
		if err := tx.PutPoolEntry(e.ctx, mgm.PoolEntry{TwitchUserID: "p1", TwitchDisplayName: "p", CharacterName: "Norinn", EnrolledAt: T0}); err != nil {
			return err
		}
		return tx.PutPoolEntry(e.ctx, mgm.PoolEntry{TwitchUserID: "p2", TwitchDisplayName: "p", CharacterName: "nORINN", EnrolledAt: T0})
	})
	if name, ok := e.db.UniqueViolation(err); !ok || name != store.UniquePoolName {
		t.Fatalf("one name twice in the pool: %v (%q)", err, name)
	}
	err = e.insertPayout(t, payoutID(20), "u9", mgm.PayoutStatus("Bogus"))
	if err == nil {
		t.Fatal("an unknown payout status was stored")
	}
}

func testEvents(t *testing.T, e *env) {
	err := e.db.InTx(e.ctx, func(tx *store.Tx) error {
		for i := 0; i < 3; i++ {
			if err := tx.AppendEvent(e.ctx, "s1", "Thing", map[string]any{"n": i, "name": "Тралл"}, T0.Add(time.Duration(i)*time.Second)); err != nil {
				return err
			}
		}
		return tx.AppendEvent(e.ctx, "s2", "Other", nil, T0)
	})
	if err != nil {
		t.Fatal(err)
	}
	evs := e.events(t, "s1")
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	for i, ev := range evs {
		var d struct {
			N    int    `json:"n"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil || ev.Version != i+1 || d.N != i || d.Name != "Тралл" {
			t.Fatalf("event %d: %+v %s %v", i, ev, ev.Data, err)
		}
	}
	if evs := e.events(t, "s2"); len(evs) != 1 || string(compact(evs[0].Data)) != "{}" {
		t.Fatalf("nil data event: %+v", evs)
	}
	for _, q := range []string{`UPDATE events SET type = 'X'`, `DELETE FROM events`} {
		_, err := e.db.SQL().ExecContext(e.ctx, q)
		if err == nil || !contains(err.Error(), "append-only") {
			t.Fatalf("%s: %v, want an append-only refusal", q, err)
		}
	}
}

func testTimestamps(t *testing.T, e *env) {
	at := time.Date(2026, 4, 6, 12, 1, 23, 456_789_000, time.FixedZone("X", 3*3600))
	accepted := at.Add(time.Minute)
	err := e.db.InTx(e.ctx, func(tx *store.Tx) error {
		return tx.InsertPayout(e.ctx, mgm.Payout{ID: payoutID(1), TwitchUserID: "u", TwitchDisplayName: "Дисплей",
			CharacterName: "Ёжик", GoldAmount: 1000, EnrollmentRequestID: "e", Status: mgm.PayoutPending,
			CreatedAt: at, UpdatedAt: at, AcceptedAt: &accepted})
	})
	if err != nil {
		t.Fatal(err)
	}
	var p mgm.Payout
	_ = e.db.Read(e.ctx, func(tx *store.Tx) error { p, err = tx.Payout(e.ctx, payoutID(1)); return err })
	if err != nil {
		t.Fatal(err)
	}
	want := store.Truncate(at)
	if !p.CreatedAt.Equal(want) || p.CreatedAt.Location() != time.UTC || p.AcceptedAt == nil || !p.AcceptedAt.Equal(store.Truncate(accepted)) {
		t.Fatalf("times: created %v accepted %v, want %v", p.CreatedAt, p.AcceptedAt, want)
	}
	if p.CharacterName != "Ёжик" || p.TwitchDisplayName != "Дисплей" || p.Status != mgm.PayoutPending || p.SpinCycleID != "" {
		t.Fatalf("payout %+v", p)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("event data %s: %v", b, err)
	}
	return m
}

func compact(b []byte) []byte {
	var m any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	out, _ := json.Marshal(m)
	return out
}

// testUnstorableText: PostgreSQL text cannot hold NUL or invalid UTF-8
// (SQLite can), so free-form strings from clients carrying them must be
// refused as the client's mistake on both stores, never a 500.
func testUnstorableText(t *testing.T, e *env) {
	e.chat(t, "d0", "u1", "!twgold Norinn", true)
	for _, id := range []string{"a\x00b", "a\xffb"} {
		_, err := e.svc.Claim(e.ctx, sub("u2", "Two"), "Thrall", id, alwaysSub)
		if got := mgm.ErrorCode(err); got != mgm.CodeInvalidPayload {
			t.Errorf("claim with enrollmentRequestId %q: %v, want invalid_payload", id, err)
		}
	}
	if _, err := e.svc.PreparePendingPayout(e.ctx, "u\x00"); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Errorf("harness with a NUL user id: %v, want invalid_payload", err)
	}
	for _, m := range []app.ChatMessage{
		{DeliveryID: "d\x00", Viewer: sub("u3", "Three"), Text: "!twgold Jaina", IsSubscriber: true},
		{DeliveryID: "d\xff", Viewer: sub("u3", "Three"), Text: "!twgold Jaina", IsSubscriber: true},
		{DeliveryID: "d2", MessageID: "m\x00", Viewer: sub("u3", "Three"), Text: "!twgold Jaina", IsSubscriber: true},
		{DeliveryID: "d3", Viewer: sub("u\x00", "Three"), Text: "!twgold Jaina", IsSubscriber: true},
		{DeliveryID: "d4", Viewer: sub("u3", "Th\x00ree"), Text: "!twgold Jaina", IsSubscriber: true},
		{DeliveryID: "d5", Viewer: sub("u3", "Three"), Text: "!twgift Jaina", IsSubscriber: true, BroadcasterID: "b\x00"},
	} {
		if _, err := e.svc.HandleChatMessage(e.ctx, m); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
			t.Errorf("chat %+v: %v, want invalid_payload", m, err)
		}
	}
	if _, ok := e.member(t, "u3"); ok {
		t.Error("a refused chat message enrolled its sender")
	}

	multi := e.multiStreamer()
	if _, err := multi.CreateGift(e.ctx, "s\x00", sub("u4", "Four"), "Jaina", alwaysSub); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Errorf("gift for a NUL streamer id: %v, want invalid_payload", err)
	}
	g := e.giftAt(t, "u5", "Sylvanas")
	if _, err := e.svc.SelectGiftItem(e.ctx, g.ID, mgm.GiftItem{Name: "Rune\x00cloth", ID: 1, Count: 1}); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Errorf("select an item with a NUL name: %v, want invalid_payload", err)
	}
	if _, err := e.svc.FailGift(e.ctx, g.ID, mgm.GiftFailed, "no\x00items"); mgm.ErrorCode(err) != mgm.CodeInvalidPayload {
		t.Errorf("fail with a NUL reason: %v, want invalid_payload", err)
	}
	if got := e.giftRequest(t, g.ID); got.State != mgm.GiftSelectingItem {
		t.Errorf("refused changes moved the request to %s", got.State)
	}
}

// testDeliveryPrune: every chat line of the channel records its delivery id,
// so the hourly sweep forgets old ones — but only well past Twitch's 24 h
// redelivery window, so a redelivery inside it is still a duplicate.
func testDeliveryPrune(t *testing.T, e *env) {
	if got := e.chat(t, "old", "u1", "hello chat", true); got != app.OutcomeIgnored {
		t.Fatalf("first delivery: %q", got)
	}
	e.clock.Advance(25 * time.Hour)
	e.chat(t, "recent", "u2", "hello again", true)
	if n, err := e.svc.PruneDeliveries(e.ctx); err != nil || n != 0 {
		t.Fatalf("prune at 25 h: %d, %v; want nothing pruned inside the dedupe window", n, err)
	}
	if got := e.chat(t, "old", "u1", "hello chat", true); got != app.OutcomeDuplicate {
		t.Fatalf("redelivery after 25 h: %q, want duplicate", got)
	}
	e.clock.Advance(24 * time.Hour) // "old" is 49 h old, "recent" 24 h
	if n, err := e.svc.PruneDeliveries(e.ctx); err != nil || n != 1 {
		t.Fatalf("prune at 49 h: %d, %v; want the one old delivery pruned", n, err)
	}
	if got := e.chat(t, "recent", "u2", "hello again", true); got != app.OutcomeDuplicate {
		t.Fatalf("recent delivery was pruned too: %q", got)
	}
}
