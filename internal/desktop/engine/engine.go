// Package engine runs the Desktop's automations: it polls the EBS (payouts,
// the /who candidate, the gift queue), types the addon's entry points into
// WoW through the injection queue, follows the chat log and turns each addon
// marker into its EBS call exactly once, and offers Sync/Inject and the
// manual payout actions to the UI.
//
// Exactly once: the tail's offset and the markers read up to it are saved
// together in one state file, so after a crash a marker is either still
// pending (and is done then) or already remembered as handled (and is not
// done again). Work that failed for a transient reason is retried with
// backoff; the EBS calls involved are idempotent, so the small window
// between a call and the save that records it cannot cause a second effect.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/bridge"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/chatlog"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/statefile"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// EBS is the part of the EBS client the engine uses; *ebsclient.Client
// implements it, tests use fakes.
type EBS interface {
	PendingPayouts(ctx context.Context, statuses ...mgm.PayoutStatus) ([]ebsapi.Payout, error)
	Payout(ctx context.Context, id string) (ebsapi.Payout, error)
	SetPayoutStatus(ctx context.Context, id string, status mgm.PayoutStatus) (ebsapi.Payout, error)
	ConfirmAcceptance(ctx context.Context, id, characterName string) (ebsapi.Payout, error)
	Candidate(ctx context.Context) (*ebsapi.Candidate, error)
	VerifyCandidate(ctx context.Context, r ebsapi.WhoReport) (ebsapi.VerifyResult, error)
	GiftRequests(ctx context.Context, streamerID string) ([]ebsapi.GiftRequest, error)
	FailGift(ctx context.Context, id, reason string) (ebsapi.GiftRequest, error)
	SelectGiftItem(ctx context.Context, id string, item ebsapi.GiftItem) (ebsapi.GiftRequest, error)
	ConfirmGift(ctx context.Context, id string, confirmed bool) (ebsapi.GiftRequest, error)
	Version(ctx context.Context) (ebsapi.VersionInfo, error)
}

var _ EBS = (*ebsclient.Client)(nil)

// Options configure an Engine. Zero durations take the defaults noted.
type Options struct {
	// DataDir holds state.json.
	DataDir string
	// Queue types lines into WoW; the caller runs it.
	Queue *inject.Queue
	// Log receives every event (the Desktop's event log).
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand picks gift items and jitters retries (default: randomly seeded).
	Rand *rand.Rand
	// TailInterval is how often the chat log is read (default 250 ms).
	TailInterval time.Duration
	// RouletteMin/Max bound the visible gift roulette (default 3–5 s).
	RouletteMin, RouletteMax time.Duration
	// RetryBase/RetryMax bound the backoff of failed marker work (default 1 s, 30 s).
	RetryBase, RetryMax time.Duration
	// GiveUpAfter drops marker work still failing after this long (default 24 h,
	// when the EBS expires payouts anyway).
	GiveUpAfter time.Duration
	// SyncTimeout bounds the wait for Sync's lines to be typed (default 10 min).
	SyncTimeout time.Duration
	// TargetInterval is how often the WoW target is looked for, so the UI
	// shows WoW appearing or closing within about a second (default 1 s).
	TargetInterval time.Duration
	// Version is the Desktop's version, for update checks.
	Version string
	// OnChange runs after anything the UI shows changed.
	OnChange func()
	// Bridge are the bridge protocol's timings (handshake, acks).
	Bridge bridge.Options
	// Screen reports the screen route's reader (nil: no screen route).
	Screen func() ScreenState
	// Idle is how long the keyboard has been idle (nil: unknown, only the
	// strip's focus flag guards typing).
	Idle func(ctx context.Context) (time.Duration, error)
	// IdleFor is the keyboard quiet needed before an automatic line (default 3 s).
	IdleFor time.Duration
	// GuardPoll is how often the typing guard looks again (default 250 ms).
	GuardPoll time.Duration
}

// Config is what the settings decide; Configure applies a new one at runtime.
type Config struct {
	// EBS is nil until an EBS URL and API key are configured.
	EBS    EBS
	EBSURL string
	// PollInterval is how often the EBS is polled (default 5 s).
	PollInterval time.Duration
	// ChatLogPath is the chat log to follow; ChatLogProblem says why there
	// is none (or what is wrong with it).
	ChatLogPath    string
	ChatLogProblem string
}

// Engine runs the automations. Create it with New, apply settings with
// Configure, then Run it.
type Engine struct {
	o        Options
	log      *slog.Logger
	queue    *inject.Queue
	tail     *chatlog.Tail // used only by the tail goroutine
	kick     chan struct{}
	tailWake chan struct{}
	syncMu   sync.Mutex

	mu        sync.Mutex
	cfg       Config
	st        *State
	dirty     bool
	inflight  map[string]bool  // injections submitted and not finished
	injected  map[string]error // finished injections of marker work, by key
	names     map[string]string
	nameOrder []string
	snap      Snapshot
	problems  map[string]string // last reported problem per area, to log changes only
	ebsHealth ebsHealth
	br        *bridge.Bridge
	// guardWaiting is why the typing guard holds lines back now ("" if not);
	// guardKind is its kind, logged when it changes.
	guardWaiting, guardKind string
}

// New loads the state in o.DataDir (moving a corrupt file aside) and returns
// an engine that is not configured yet.
func New(o Options) (*Engine, error) {
	if o.Queue == nil || o.Log == nil || o.DataDir == "" {
		return nil, errors.New("engine: DataDir, Queue and Log are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.TailInterval, 250*time.Millisecond)
	def(&o.RouletteMin, 3*time.Second)
	def(&o.RouletteMax, 5*time.Second)
	def(&o.RetryBase, time.Second)
	def(&o.RetryMax, 30*time.Second)
	def(&o.GiveUpAfter, 24*time.Hour)
	def(&o.SyncTimeout, 10*time.Minute)
	def(&o.TargetInterval, time.Second)
	def(&o.IdleFor, 3*time.Second)
	def(&o.GuardPoll, 250*time.Millisecond)
	if o.RouletteMax < o.RouletteMin {
		o.RouletteMax = o.RouletteMin
	}
	e := &Engine{
		o: o, log: o.Log, queue: o.Queue,
		kick: make(chan struct{}, 1), tailWake: make(chan struct{}, 1),
		inflight: map[string]bool{}, injected: map[string]error{}, names: map[string]string{},
		problems: map[string]string{},
	}
	st, existed, err := LoadState(o.DataDir)
	if err != nil {
		aside := statePath(o.DataDir) + ".corrupt-" + o.Now().UTC().Format("20060102T150405")
		if rerr := os.Rename(statePath(o.DataDir), aside); rerr != nil {
			// It will be overwritten at the next save: say so while it can still be copied by hand.
			e.log.Error("the unreadable state file could not be moved aside; copy it now if you want to keep it",
				"path", statePath(o.DataDir), "error", rerr)
		}
		e.log.Error("the state file was unreadable, so it was moved aside and the Desktop starts afresh: the chat log is read from its end, and winners still Pending may be whispered again",
			"error", err, "movedTo", aside)
	} else if existed {
		e.log.Info("resumed from the state file", "handledMarkers", st.Handled.Len(), "pending", len(st.Pending), "winnersWhispered", st.Notified.Len())
	}
	e.st = st
	e.br = bridge.New(o.Bridge, o.Rand, st.Bridge)
	e.tail = chatlog.New(st.ChatLog)
	e.snap.Version = o.Version
	e.snap.WoW.Injector = o.Queue.Injector().Name()
	return e, nil
}

// Configure applies new settings (a new EBS client, poll interval, chat log).
func (e *Engine) Configure(c Config) {
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	e.mu.Lock()
	e.cfg = c
	e.snap.Configured = c.EBS != nil
	e.snap.EBS.URL = c.EBSURL
	e.snap.ChatLog.Path = c.ChatLogPath
	e.snap.PollIntervalSeconds = int(c.PollInterval / time.Second)
	if c.ChatLogPath == "" {
		e.snap.ChatLog.Found, e.snap.ChatLog.Problem = false, c.ChatLogProblem
	}
	if c.EBS == nil {
		e.snap.EBS.Reachable, e.snap.EBS.Problem = false, "not configured: set the EBS URL and API key in Settings"
	}
	e.mu.Unlock()
	e.changed()
	e.Refresh()
	e.wakeTailLoop()
}

// Run polls and tails until ctx ends, then saves the state.
func (e *Engine) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); e.pollLoop(ctx) }()
	go func() { defer wg.Done(); e.tailLoop(ctx) }()
	go func() { defer wg.Done(); e.targetLoop(ctx) }()
	wg.Wait()
	e.mu.Lock()
	e.saveLocked()
	e.mu.Unlock()
}

// Refresh polls the EBS now (the Refresh button, and after every action).
func (e *Engine) Refresh() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

func (e *Engine) wakeTailLoop() {
	select {
	case e.tailWake <- struct{}{}:
	default:
	}
}

func (e *Engine) changed() {
	if e.o.OnChange != nil {
		e.o.OnChange()
	}
}

func (e *Engine) saveLocked() {
	if !e.dirty {
		return
	}
	if err := statefile.WriteJSON(statePath(e.o.DataDir), e.st, 0o600); err != nil {
		e.problemLocked("state", fmt.Sprintf("could not save %s: %v", statePath(e.o.DataDir), err))
		return
	}
	e.problemLocked("state", "")
	e.dirty = false
}

// problemLocked logs a problem of an area when it changes (and its end), so
// a condition that lasts (EBS down, WoW closed) is one line, not one per poll.
func (e *Engine) problemLocked(area, problem string) {
	prev, had := e.problems[area]
	if problem == prev {
		return
	}
	e.problems[area] = problem
	switch {
	case problem != "":
		e.log.Warn(area+" has a problem", "detail", problem)
	case had:
		e.log.Info(area + " works again")
	}
}

func (e *Engine) rememberNameLocked(id, name string) {
	if id == "" || name == "" {
		return
	}
	if _, ok := e.names[id]; !ok {
		e.nameOrder = append(e.nameOrder, id)
		if len(e.nameOrder) > 2000 {
			delete(e.names, e.nameOrder[0])
			e.nameOrder = e.nameOrder[1:]
		}
	}
	e.names[id] = name
}

// ---- polling ----

func (e *Engine) pollLoop(ctx context.Context) {
	for {
		e.poll(ctx)
		e.mu.Lock()
		d := e.cfg.PollInterval
		e.mu.Unlock()
		if d <= 0 {
			d = 5 * time.Second
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-e.kick:
			t.Stop()
		}
	}
}

// targetLoop keeps the WoW status current between polls.
func (e *Engine) targetLoop(ctx context.Context) {
	t := time.NewTicker(e.o.TargetInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if e.checkTarget(ctx) != nil {
				return // only ctx's end is reported
			}
		}
	}
}

// checkTarget looks for WoW and publishes the result when it changed.
func (e *Engine) checkTarget(ctx context.Context) error {
	desc, terr := e.queue.Injector().Target(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	e.mu.Lock()
	w := &e.snap.WoW
	changed := w.Found != (terr == nil) || w.Target != desc || w.Problem != errText(terr) || w.Injector != e.queue.Injector().Name()
	w.Found, w.Target, w.Problem, w.Injector = terr == nil, desc, errText(terr), e.queue.Injector().Name()
	e.problemLocked("WoW", errText(terr))
	e.mu.Unlock()
	if changed {
		e.changed()
	}
	return terr
}

func (e *Engine) poll(ctx context.Context) {
	terr := e.checkTarget(ctx)
	e.mu.Lock()
	ebs := e.cfg.EBS
	e.mu.Unlock()
	if ebs == nil || ctx.Err() != nil {
		e.changed()
		return
	}
	payouts, perr := ebs.PendingPayouts(ctx, mgm.PayoutPending, mgm.PayoutInProgress)
	cand, cerr := ebs.Candidate(ctx)
	gifts, gerr := ebs.GiftRequests(ctx, "")
	if ctx.Err() != nil {
		return
	}
	now := e.o.Now()
	e.mu.Lock()
	if perr == nil {
		e.snap.Payouts = e.payoutViewsLocked(payouts)
		for _, p := range payouts {
			e.rememberNameLocked(p.ID, p.CharacterName)
		}
	}
	if cerr == nil {
		e.snap.Spin = nil
		if cand != nil {
			e.snap.Spin = &SpinView{SpinCycleID: cand.SpinCycleID, CharacterName: cand.CharacterName,
				Phase: string(cand.SpinPhase), VerifyDeadline: cand.VerifyDeadline.String(), WhoSent: e.st.WhoRuns.Has(cand.SpinCycleID)}
		}
	}
	giftsOK := gerr == nil
	switch {
	case gerr == nil:
		e.snap.Gifts, e.snap.GiftProblem = giftViews(gifts), ""
		e.problemLocked("gift queue", "")
	case !ebsclient.Transient(gerr):
		// A definitive refusal (no gift queue on this EBS, no broadcaster
		// configured) is the gift queue's problem, not the EBS being down.
		e.snap.Gifts, e.snap.GiftProblem = nil, "Gift queue unavailable: "+ExplainEBS(e.snap.EBS.URL, gerr)
		e.problemLocked("gift queue", e.snap.GiftProblem)
		gerr = nil
	default:
		e.snap.GiftProblem = ExplainEBS(e.snap.EBS.URL, gerr)
	}
	ebsErr := errors.Join(perr, cerr, gerr)
	e.snap.EBS.Reachable = perr == nil && cerr == nil
	e.snap.EBS.Problem = ExplainEBS(e.snap.EBS.URL, ebsErr)
	e.ebsHealth.observe(now, e.snap.EBS.Reachable, e.snap.EBS.LastOK)
	if perr == nil {
		e.snap.EBS.LastOK = now
	}
	e.problemLocked("EBS", e.snap.EBS.Problem)
	e.snap.Queue = e.queue.Len()
	e.mu.Unlock()
	e.changed()

	if terr != nil {
		return // nothing can be typed; the WoW problem is shown and logged once
	}
	e.mu.Lock()
	if perr == nil {
		for _, p := range payouts {
			if p.Status != mgm.PayoutPending || e.st.Notified.Has(p.ID) || e.recentlyFailedLocked("notify:"+p.ID) {
				continue
			}
			e.commandLocked("notify:"+p.ID, func(cmd string) (string, error) {
				return inject.NotifyWinnerWhisper(p.ID, p.CharacterName, cmd)
			})
		}
	}
	if cerr == nil && cand != nil && !e.st.WhoRuns.Has(cand.SpinCycleID) && !e.recentlyFailedLocked("who:"+cand.SpinCycleID) {
		e.commandLocked("who:"+cand.SpinCycleID, func(cmd string) (string, error) {
			return inject.RunWhoForSpin(cand.SpinCycleID, cand.CharacterName, cmd)
		})
	}
	if giftsOK {
		// The EBS serves one request at a time: the oldest in SelectingItem.
		for _, g := range gifts {
			if g.State != mgm.GiftSelectingItem {
				continue
			}
			if !e.st.GiftItemsRequested.Has(g.ID) && !e.recentlyFailedLocked("gift-items:"+g.ID) {
				e.commandLocked("gift-items:"+g.ID, func(cmd string) (string, error) {
					return inject.RequestGiftItems(g.ID, cmd)
				})
			}
			break
		}
	}
	e.saveLocked()
	e.mu.Unlock()
	e.wakeTailLoop()
}

// recentlyFailedLocked reports whether key must not get a new command now:
// one that failed its last try is started over by the bridge with the SAME
// id once the addon answers again (a new id would defeat the addon's
// "never twice" memory, so a whisper whose acknowledgement was lost would
// be sent again); one the addon answered without doing the work (a whisper
// to an offline player) is tried anew only two minutes later.
func (e *Engine) recentlyFailedLocked(key string) bool {
	c := e.br.Find(key)
	if c == nil || c.Live() {
		return false // none yet, or commandLocked keeps the live one
	}
	if c.State == bridge.Failed {
		return true
	}
	return c.Result != "whispered" && c.Result != "ok" && c.Result != "dup" &&
		e.o.Now().Sub(c.EndAt) < 2*time.Minute
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func isStatus(err error, status int) bool {
	var ee *ebsclient.Error
	return errors.As(err, &ee) && ee.Status == status
}

func (e *Engine) payoutViewsLocked(ps []ebsapi.Payout) []PayoutView {
	out := make([]PayoutView, 0, len(ps))
	for _, p := range ps {
		v := PayoutView{ID: p.ID, CharacterName: p.CharacterName, TwitchDisplayName: p.TwitchDisplayName,
			Gold: p.GoldAmount, Status: string(p.Status), CreatedAt: p.CreatedAt.String(), Notified: e.st.Notified.Has(p.ID)}
		if p.AcceptedAt != nil {
			v.Accepted, v.AcceptedAt = true, p.AcceptedAt.String()
		}
		out = append(out, v)
	}
	return out
}

func giftViews(gs []ebsapi.GiftRequest) []GiftView {
	out := make([]GiftView, 0, len(gs))
	for _, g := range gs {
		v := GiftView{ID: g.ID, ViewerDisplayName: g.ViewerDisplayName, CharacterName: g.CharacterName, State: string(g.State),
			QueuePosition: g.QueuePosition, CreatedAt: g.CreatedAt.String()}
		if g.SelectedItem != nil {
			v.SelectedItem = g.SelectedItem.Name
		}
		if g.FailureReason != nil {
			v.FailureReason = *g.FailureReason
		}
		out = append(out, v)
	}
	return out
}

// ---- snapshot ----

// Snapshot is what the UI shows.
type Snapshot struct {
	Version             string `json:"version"`
	Configured          bool   `json:"configured"`
	PollIntervalSeconds int    `json:"pollIntervalSeconds"`
	EBS                 struct {
		URL       string    `json:"url"`
		Reachable bool      `json:"reachable"`
		Problem   string    `json:"problem,omitempty"`
		LastOK    time.Time `json:"lastOk"`
	} `json:"ebs"`
	WoW struct {
		Injector string `json:"injector"`
		Found    bool   `json:"found"`
		Target   string `json:"target,omitempty"`
		Problem  string `json:"problem,omitempty"`
	} `json:"wow"`
	ChatLog struct {
		Path       string    `json:"path"`
		Found      bool      `json:"found"`
		Growing    bool      `json:"growing"`
		Size       int64     `json:"size"`
		LastGrowth time.Time `json:"lastGrowth"`
		Problem    string    `json:"problem,omitempty"`
	} `json:"chatLog"`
	Spin           *SpinView      `json:"spin"`
	Payouts        []PayoutView   `json:"payouts"`
	Gifts          []GiftView     `json:"gifts"`
	GiftProblem    string         `json:"giftProblem,omitempty"`
	Roulettes      []RouletteView `json:"roulettes"`
	Queue          int            `json:"queue"`
	PendingMarkers []MarkerView   `json:"pendingMarkers"`
	LastSync       *SyncReport    `json:"lastSync"`
	Bridge         BridgeView     `json:"bridge"`
}

// SpinView is the current /who candidate.
type SpinView struct {
	SpinCycleID    string `json:"spinCycleId"`
	CharacterName  string `json:"characterName"`
	Phase          string `json:"phase"`
	VerifyDeadline string `json:"verifyDeadline"`
	WhoSent        bool   `json:"whoSent"`
}

// PayoutView is one row of the payout table.
type PayoutView struct {
	ID                string `json:"id"`
	CharacterName     string `json:"characterName"`
	TwitchDisplayName string `json:"twitchDisplayName"`
	Gold              int64  `json:"gold"`
	Status            string `json:"status"`
	CreatedAt         string `json:"createdAt"`
	Accepted          bool   `json:"accepted"`
	AcceptedAt        string `json:"acceptedAt,omitempty"`
	Notified          bool   `json:"notified"`
}

// GiftView is one row of the gift queue.
type GiftView struct {
	ID                string `json:"id"`
	ViewerDisplayName string `json:"viewerDisplayName"`
	CharacterName     string `json:"characterName"`
	State             string `json:"state"`
	QueuePosition     int    `json:"queuePosition"`
	SelectedItem      string `json:"selectedItem,omitempty"`
	FailureReason     string `json:"failureReason,omitempty"`
	CreatedAt         string `json:"createdAt"`
}

// RouletteView is a gift roulette being shown before an item is selected.
type RouletteView struct {
	GiftID string    `json:"giftId"`
	Items  []string  `json:"items"`
	Chosen string    `json:"chosen"`
	Until  time.Time `json:"until"`
}

// MarkerView is marker work not finished yet.
type MarkerView struct {
	Key       string    `json:"key"`
	Stage     string    `json:"stage,omitempty"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"nextAt"`
	LastError string    `json:"lastError,omitempty"`
}

// Snapshot returns a copy of what the UI shows.
func (e *Engine) Snapshot() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.snap
	s.Payouts = append([]PayoutView(nil), s.Payouts...)
	for i := range s.Payouts {
		s.Payouts[i].Notified = e.st.Notified.Has(s.Payouts[i].ID)
	}
	s.Gifts = append([]GiftView(nil), s.Gifts...)
	if s.Spin != nil {
		sp := *s.Spin
		sp.WhoSent = e.st.WhoRuns.Has(sp.SpinCycleID)
		s.Spin = &sp
	}
	s.Queue = e.queue.Len()
	s.Roulettes, s.PendingMarkers = nil, nil
	for _, w := range e.st.Pending {
		if w.Stage == stageRoulette && w.Item != nil {
			s.Roulettes = append(s.Roulettes, RouletteView{GiftID: w.ID, Items: w.Items, Chosen: w.Item.Name, Until: w.NextAt})
		}
		s.PendingMarkers = append(s.PendingMarkers, MarkerView{Key: w.Key, Stage: w.Stage, Attempts: w.Attempts, NextAt: w.NextAt, LastError: w.LastError})
	}
	s.Bridge.Commands = append([]CommandView(nil), s.Bridge.Commands...)
	s.Bridge.Advice = append([]string(nil), s.Bridge.Advice...)
	if s.LastSync != nil {
		ls := *s.LastSync
		s.LastSync = &ls
	}
	if e.ebsHealth.syncFailureCleared(s.LastSync, s.WoW.Found, s.Payouts) {
		// The banner of a Sync the EBS made fail goes once the EBS answers
		// again (the event log keeps the failure); Sync can simply be pressed again.
		s.LastSync = nil
	}
	s.ChatLog.Growing = !s.ChatLog.LastGrowth.IsZero() && e.o.Now().Sub(s.ChatLog.LastGrowth) < time.Minute
	return s
}

// ---- manual actions ----

// Actions on one payout and the status each sets.
var actionStatus = map[string]mgm.PayoutStatus{
	"mark-sent":   mgm.PayoutSent,
	"mark-failed": mgm.PayoutFailed,
	"cancel":      mgm.PayoutCancelled,
	"unlock":      mgm.PayoutPending,
}

// ErrNotConfigured is returned while no EBS is configured.
var ErrNotConfigured = errors.New("the EBS is not configured: set its URL and the API key in Settings")

// ErrAlreadyMailed refuses to unlock a payout the addon reported as mailed.
var ErrAlreadyMailed = errors.New("already mailed")

// Action applies a manual action (mark-sent, mark-failed, cancel, unlock) to a payout.
func (e *Engine) Action(ctx context.Context, id, action string) error {
	status, ok := actionStatus[action]
	if !ok {
		return fmt.Errorf("unknown action %q", action)
	}
	e.mu.Lock()
	ebs := e.cfg.EBS
	mailed := e.st.Mailed.Has(strings.ToLower(id))
	e.mu.Unlock()
	if ebs == nil {
		return ErrNotConfigured
	}
	if status == mgm.PayoutPending && mailed {
		// Unlock exists to send a payout again; this one left WoW already.
		e.log.Error("unlock refused: the payout was already mailed", "payout", id)
		return fmt.Errorf("payout %s was %w according to the addon, so it is not unlocked: unlocking would send the gold a second time. If the mail really came back, send it by hand in WoW; if the EBS still shows it InProgress, use Mark Sent", id, ErrAlreadyMailed)
	}
	p, err := ebs.SetPayoutStatus(ctx, id, status)
	if err != nil {
		e.log.Error("manual payout action failed", "action", action, "payout", id, "error", err)
		return err
	}
	e.log.Info(actionDone(action), "payout", id, "character", p.CharacterName, "status", p.Status)
	e.Refresh()
	return nil
}

// actionDone is the event logged once a manual action succeeded.
func actionDone(a string) string {
	switch a {
	case "mark-sent":
		return "payout marked Sent by hand"
	case "mark-failed":
		return "payout marked Failed by hand"
	case "cancel":
		return "payout cancelled by hand"
	default:
		return "payout unlocked (InProgress → Pending)"
	}
}

// Unlock puts several InProgress payouts back to Pending (after a failed Sync).
func (e *Engine) Unlock(ctx context.Context, ids []string) error {
	var errs []error
	for _, id := range ids {
		if err := e.Action(ctx, id, "unlock"); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func joinIDs(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
