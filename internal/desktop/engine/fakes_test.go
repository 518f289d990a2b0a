package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/chatlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/eventlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// fakeEBS is an in-memory EBS that counts calls and can fail on demand.
type fakeEBS struct {
	mu        sync.Mutex
	payouts   map[string]*ebsapi.Payout
	order     []string
	cand      *ebsapi.Candidate
	gifts     []ebsapi.GiftRequest
	calls     map[string]int
	failNext  map[string][]error // per method, consumed in order
	verifies  []ebsapi.WhoReport
	selected  map[string]ebsapi.GiftItem
	confirmed map[string]bool
	failed    map[string]string
	version   string
}

func newFakeEBS() *fakeEBS {
	return &fakeEBS{payouts: map[string]*ebsapi.Payout{}, calls: map[string]int{}, failNext: map[string][]error{},
		selected: map[string]ebsapi.GiftItem{}, confirmed: map[string]bool{}, failed: map[string]string{}, version: "1.0.0"}
}

func (f *fakeEBS) hit(m string) error {
	f.calls[m]++
	if errs := f.failNext[m]; len(errs) > 0 {
		f.failNext[m] = errs[1:]
		return errs[0]
	}
	return nil
}

func (f *fakeEBS) count(m string) int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls[m] }

func (f *fakeEBS) fail(m string, errs ...error) {
	f.mu.Lock()
	f.failNext[m] = append(f.failNext[m], errs...)
	f.mu.Unlock()
}

func (f *fakeEBS) addPayout(id, name, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.payouts[id] = &ebsapi.Payout{ID: id, CharacterName: name, Status: mgm.PayoutStatus(status), GoldAmount: 1000, TwitchDisplayName: name + "Fan"}
	f.order = append(f.order, id)
}

// accept records the winners' consent, as [MGM_ACCEPT] would.
func (f *fakeEBS) accept(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		f.payouts[id].AcceptedAt = &ebsapi.Time{Time: time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)}
	}
}

func (f *fakeEBS) payout(id string) ebsapi.Payout {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.payouts[id]
}

var (
	errUnavailable = &ebsclient.Error{Status: 503, Code: mgm.CodeUnavailable}
	errConflict    = &ebsclient.Error{Status: 409, Code: mgm.CodeTerminalStatusChange}
	errNotFound    = &ebsclient.Error{Status: 404, Code: mgm.CodeNotFound}
)

func (f *fakeEBS) PendingPayouts(_ context.Context, statuses ...mgm.PayoutStatus) ([]ebsapi.Payout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("PendingPayouts"); err != nil {
		return nil, err
	}
	want := map[mgm.PayoutStatus]bool{}
	for _, s := range statuses {
		want[s] = true
	}
	var out []ebsapi.Payout
	for _, id := range f.order {
		if p := f.payouts[id]; want[p.Status] {
			out = append(out, *p)
		}
	}
	return out, nil
}

func (f *fakeEBS) Payout(_ context.Context, id string) (ebsapi.Payout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("Payout"); err != nil {
		return ebsapi.Payout{}, err
	}
	p, ok := f.payouts[id]
	if !ok {
		return ebsapi.Payout{}, errNotFound
	}
	return *p, nil
}

var transitions = map[mgm.PayoutStatus][]mgm.PayoutStatus{
	"Pending":    {"InProgress", "Cancelled", "Failed"},
	"InProgress": {"Sent", "Cancelled", "Failed", "Pending"},
}

func (f *fakeEBS) SetPayoutStatus(_ context.Context, id string, status mgm.PayoutStatus) (ebsapi.Payout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["SetPayoutStatus:"+string(status)]++
	if err := f.hit("SetPayoutStatus"); err != nil {
		return ebsapi.Payout{}, err
	}
	p, ok := f.payouts[id]
	if !ok {
		return ebsapi.Payout{}, errNotFound
	}
	if p.Status == status {
		return *p, nil
	}
	for _, to := range transitions[p.Status] {
		if to == status {
			p.Status = status
			return *p, nil
		}
	}
	return ebsapi.Payout{}, errConflict
}

func (f *fakeEBS) ConfirmAcceptance(_ context.Context, id, name string) (ebsapi.Payout, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("ConfirmAcceptance"); err != nil {
		return ebsapi.Payout{}, err
	}
	p, ok := f.payouts[id]
	if !ok {
		return ebsapi.Payout{}, errNotFound
	}
	if !strings.EqualFold(p.CharacterName, name) {
		return ebsapi.Payout{}, &ebsclient.Error{Status: 400, Code: mgm.CodeInvalidCharacterName}
	}
	p.AcceptedAt = &ebsapi.Time{Time: time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)}
	return *p, nil
}

func (f *fakeEBS) Candidate(context.Context) (*ebsapi.Candidate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("Candidate"); err != nil {
		return nil, err
	}
	if f.cand == nil {
		return nil, nil
	}
	c := *f.cand
	return &c, nil
}

func (f *fakeEBS) VerifyCandidate(_ context.Context, r ebsapi.WhoReport) (ebsapi.VerifyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("VerifyCandidate"); err != nil {
		return ebsapi.VerifyResult{}, err
	}
	f.verifies = append(f.verifies, r)
	if !r.Online {
		return ebsapi.VerifyResult{Outcome: "no_winner"}, nil
	}
	id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", len(f.order)+100)
	f.payouts[id] = &ebsapi.Payout{ID: id, CharacterName: r.CharacterName, Status: "Pending", GoldAmount: 1000}
	f.order = append(f.order, id)
	return ebsapi.VerifyResult{Outcome: "winner", PayoutID: &id}, nil
}

func (f *fakeEBS) GiftRequests(context.Context, string) ([]ebsapi.GiftRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("GiftRequests"); err != nil {
		return nil, err
	}
	var out []ebsapi.GiftRequest
	for _, g := range f.gifts {
		if g.State != "Completed" && g.State != "Failed" {
			out = append(out, g)
		}
	}
	return out, nil
}

func (f *fakeEBS) gift(id string) *ebsapi.GiftRequest {
	for i := range f.gifts {
		if f.gifts[i].ID == id {
			return &f.gifts[i]
		}
	}
	return nil
}

func (f *fakeEBS) FailGift(_ context.Context, id, reason string) (ebsapi.GiftRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("FailGift"); err != nil {
		return ebsapi.GiftRequest{}, err
	}
	g := f.gift(id)
	if g == nil {
		return ebsapi.GiftRequest{}, errNotFound
	}
	g.State = "Failed"
	f.failed[id] = reason
	return *g, nil
}

func (f *fakeEBS) SelectGiftItem(_ context.Context, id string, item ebsapi.GiftItem) (ebsapi.GiftRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("SelectGiftItem"); err != nil {
		return ebsapi.GiftRequest{}, err
	}
	g := f.gift(id)
	if g == nil || g.State != mgm.GiftSelectingItem {
		return ebsapi.GiftRequest{}, &ebsclient.Error{Status: 409, Code: mgm.CodeInvalidState}
	}
	g.State, g.SelectedItem = "WaitingConfirmation", &item
	f.selected[id] = item
	return *g, nil
}

func (f *fakeEBS) ConfirmGift(_ context.Context, id string, ok bool) (ebsapi.GiftRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("ConfirmGift"); err != nil {
		return ebsapi.GiftRequest{}, err
	}
	g := f.gift(id)
	if g == nil {
		return ebsapi.GiftRequest{}, &ebsclient.Error{Status: 404, Code: mgm.CodeNotFound}
	}
	if g.State != "WaitingConfirmation" {
		// As mgm.DecideGiftConfirm: the state in the details.
		return ebsapi.GiftRequest{}, &ebsclient.Error{Status: 409, Code: mgm.CodeInvalidState, Details: map[string]any{"state": string(g.State)}}
	}
	g.State = "Completed"
	f.confirmed[id] = ok
	return *g, nil
}

func (f *fakeEBS) Version(context.Context) (ebsapi.VersionInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.hit("Version"); err != nil {
		return ebsapi.VersionInfo{}, err
	}
	return ebsapi.VersionInfo{Version: f.version}, nil
}

// fakeInjector records typed lines. Unless silent, it also answers as the
// addon's bridge does (docs/bridge.md), in the chat log: a pong for every
// MGM_Ping and an acknowledgement for every command — the real addon's
// answers are tested on the simulated client (wowsim) and in tier C.
type fakeInjector struct {
	mu        sync.Mutex
	lines     []string
	targetErr error
	failLine  func(string) error
	log       string // the chat log the answers go to
	silent    bool
	// dropAcks, while it returns true for a command line, leaves that line
	// unacknowledged (the answer was lost).
	dropAcks func(line string) bool
	seq      int
}

var (
	pingLine    = regexp.MustCompile(`^/run MGM_Ping\("([0-9a-z]+)","[a-z]*"\)$`)
	commandLine = regexp.MustCompile(`^/run (\w+)\(.*"([0-9a-z]{8})"\)$`)
)

func (f *fakeInjector) answerLocked(l string) {
	if f.silent || f.log == "" {
		return
	}
	var answer string
	if m := pingLine.FindStringSubmatch(l); m != nil {
		answer = "[MGM_PONG:" + m[1] + ":Streamer]"
	} else if m := commandLine.FindStringSubmatch(l); m != nil && m[1] != "MGM_Ack" {
		if f.dropAcks != nil && f.dropAcks(l) {
			return
		}
		result := "ok"
		if m[1] == "NotifyWinnerWhisper" || m[1] == "MGM_RequestGiftConfirmation" {
			result = "whispered"
		}
		answer = "[MGM_ACK:" + m[2] + ":" + result + "]"
	} else {
		return
	}
	f.seq++
	file, err := os.OpenFile(f.log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return
	}
	fmt.Fprintf(file, "4/4 12:00:00.000  [MGM_SEQ:fake:%d]%s\r\n", f.seq, answer)
	file.Close()
}

func (f *fakeInjector) Name() string { return "fake" }
func (f *fakeInjector) Target(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return "fake WoW", f.targetErr
}
func (f *fakeInjector) Inject(_ context.Context, l string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failLine != nil {
		if err := f.failLine(l); err != nil {
			return err
		}
	}
	f.lines = append(f.lines, l)
	f.answerLocked(l)
	return nil
}

// typed lists the lines typed, without the bridge's own (pings, acks).
func (f *fakeInjector) typed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.lines {
		if !strings.HasPrefix(l, "/run MGM_Ping(") && !strings.HasPrefix(l, "/run MGM_Ack(") {
			out = append(out, l)
		}
	}
	return out
}

func (f *fakeInjector) countPrefix(p string) int {
	n := 0
	for _, l := range f.typed() {
		if strings.HasPrefix(l, p) {
			n++
		}
	}
	return n
}

// harness runs one engine over a temp data dir and chat log.
type harness struct {
	t      *testing.T
	dir    string
	log    string
	ebs    *fakeEBS
	inj    *fakeInjector
	events *eventlog.Log
	e      *Engine
	cancel context.CancelFunc
	done   chan struct{}
	// opts adjusts the engine's options (set before start).
	opts func(*Options)
}

func newHarness(t *testing.T, ebs *fakeEBS, inj *fakeInjector) *harness {
	t.Helper()
	return newHarnessWith(t, ebs, inj, nil)
}

// newHarnessWith is newHarness with the engine's options adjusted by opts.
func newHarnessWith(t *testing.T, ebs *fakeEBS, inj *fakeInjector, opts func(*Options)) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dir: dir, log: filepath.Join(dir, "Logs", chatlog.FileName), ebs: ebs, inj: inj, opts: opts}
	os.MkdirAll(filepath.Dir(h.log), 0o755)
	os.WriteFile(h.log, []byte("1/1 00:00:00.000  history that must not be replayed [MGM_CONFIRM:99999999-9999-4999-8999-999999999999]\n"), 0o644)
	inj.mu.Lock()
	inj.log = h.log
	inj.mu.Unlock()
	h.start()
	return h
}

func (h *harness) start() {
	h.t.Helper()
	h.events = eventlog.New(1000, nil, nil, nil)
	q := inject.NewQueue(h.inj, nil)
	o := Options{DataDir: h.dir, Queue: q, Log: slog.New(h.events), Rand: rand.New(rand.NewPCG(1, 2)),
		TailInterval: 10 * time.Millisecond, RouletteMin: 20 * time.Millisecond, RouletteMax: 40 * time.Millisecond,
		RetryBase: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, Version: "1.0.0"}
	if h.opts != nil {
		h.opts(&o)
	}
	e, err := New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	h.e = e
	var cfg Config
	if h.ebs != nil {
		cfg.EBS = h.ebs
	}
	cfg.EBSURL, cfg.PollInterval, cfg.ChatLogPath = "http://fake", 20*time.Millisecond, h.log
	e.Configure(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go q.Run(ctx)
	go func() { e.Run(ctx); close(h.done) }()
	h.t.Cleanup(h.stop)
	// Lines written before the tail's first read are history, by design.
	h.eventually("the tail's first read", func() bool { return e.Snapshot().ChatLog.Found })
	h.inj.mu.Lock()
	silent := h.inj.silent || h.inj.targetErr != nil
	h.inj.mu.Unlock()
	if !silent {
		h.eventually("the bridge handshake", func() bool { return e.Snapshot().Bridge.State == "up" })
	}
}

func (h *harness) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
		h.cancel = nil
	}
}

func (h *harness) restart() {
	h.stop()
	h.start()
}

// write appends chat-log lines the way the client does (timestamp prefix).
func (h *harness) write(lines ...string) {
	h.t.Helper()
	f, err := os.OpenFile(h.log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, l := range lines {
		fmt.Fprintf(f, "4/4 12:00:00.000  %s\r\n", l)
	}
	f.Close()
}

func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s\nevents:\n%s", what, h.events.Export())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) settle() { time.Sleep(150 * time.Millisecond) }

func (h *harness) hasEvent(sub string) bool {
	for _, e := range h.events.Newest(0) {
		if strings.Contains(e.Message, sub) {
			return true
		}
	}
	return false
}

var errTyping = errors.New("typing failed")
