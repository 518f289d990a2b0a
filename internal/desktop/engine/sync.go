package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/bridge"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// SyncReport is the outcome of Sync/Inject, precise enough to recover from a
// failure half-way.
type SyncReport struct {
	OK      bool      `json:"ok"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
	// Payouts are the Pending payouts Sync took, in payout order.
	Payouts []string `json:"payouts"`
	// WaitingConsent are Pending payouts left alone because their winner has
	// not accepted yet (no !twgold reply recorded at the EBS).
	WaitingConsent []string `json:"waitingConsent"`
	// AlreadyMailed are Pending payouts left alone because the addon reported
	// them as mailed: typing them again could only pay twice.
	AlreadyMailed []string `json:"alreadyMailed"`
	// Lines is the number of ReceiveGold lines built; Injected how many were typed.
	Lines    int `json:"lines"`
	Injected int `json:"injected"`
	// InProgress are the payouts this Sync moved to InProgress.
	InProgress []string `json:"inProgress"`
	// Unlockable are InProgress payouts whose line was not typed: nothing in
	// WoW knows them, so putting them back to Pending is safe.
	Unlockable []string `json:"unlockable"`
}

// Sync moves every Pending payout whose winner accepted to InProgress and
// types the ReceiveGold lines. Payouts still waiting for consent, and those
// the addon reported as mailed, are named in the report and left Pending. All lines are built before anything changes (an entry too long
// aborts with no PATCH), nothing is PATCHed unless WoW was found, and a
// failure names exactly which payouts are InProgress and which can be
// unlocked.
func (e *Engine) Sync(ctx context.Context) SyncReport {
	if !e.syncMu.TryLock() {
		return SyncReport{Message: "Sync/Inject is already running", At: e.o.Now()}
	}
	defer e.syncMu.Unlock()
	r := e.sync(ctx)
	r.At = e.o.Now()
	if r.OK {
		e.log.Info("Sync/Inject done", "result", r.Message)
	} else {
		e.log.Error("Sync/Inject failed", "result", r.Message)
	}
	e.mu.Lock()
	e.snap.LastSync = &r
	e.mu.Unlock()
	e.changed()
	e.Refresh()
	return r
}

func (e *Engine) sync(ctx context.Context) SyncReport {
	var r SyncReport
	e.mu.Lock()
	ebs := e.cfg.EBS
	e.mu.Unlock()
	if ebs == nil {
		r.Message = ErrNotConfigured.Error()
		return r
	}
	target, err := e.queue.Injector().Target(ctx)
	if err != nil {
		r.Message = "WoW not found, nothing was changed: " + err.Error()
		return r
	}
	e.mu.Lock()
	ebsURL := e.snap.EBS.URL
	bridgeUp, bridgeProblem := e.br.Up(), e.bridgeProblemLocked()
	e.mu.Unlock()
	if !bridgeUp {
		// Lines typed now might never be acknowledged: the payouts would sit
		// InProgress with nobody knowing whether WoW has them.
		r.Message = "The bridge to WoW is not answering, so nothing was changed: " + bridgeProblem
		return r
	}
	ps, err := ebs.PendingPayouts(ctx, mgm.PayoutPending)
	if err != nil {
		r.Message = "Could not list the Pending payouts, so nothing was changed. " + ExplainEBS(ebsURL, err)
		return r
	}
	e.mu.Lock()
	take := ps[:0:0]
	for _, p := range ps {
		switch {
		case e.st.Mailed.Has(p.ID):
			r.AlreadyMailed = append(r.AlreadyMailed, p.ID)
		case p.AcceptedAt == nil:
			r.WaitingConsent = append(r.WaitingConsent, p.ID)
		default:
			take = append(take, p)
		}
	}
	e.mu.Unlock()
	ps = take
	if len(ps) == 0 {
		r.OK, r.Message = true, "no Pending payouts"+r.leftAlone()
		if len(r.WaitingConsent)+len(r.AlreadyMailed) > 0 {
			r.Message = "nothing to send" + r.leftAlone()
		}
		return r
	}
	in := make([]inject.Payout, len(ps))
	for i, p := range ps {
		in[i] = inject.Payout{ID: p.ID, CharacterName: p.CharacterName, Gold: p.GoldAmount}
		r.Payouts = append(r.Payouts, p.ID)
	}
	chunks, err := inject.ReceiveGoldChunks(in)
	if err != nil {
		r.Message = "nothing was changed: " + err.Error()
		return r
	}
	r.Lines = len(chunks)
	keys := make([]string, len(chunks))
	e.mu.Lock()
	for i, c := range chunks {
		keys[i] = "sync:" + c.IDs[0]
		if len(c.IDs) > 1 {
			keys[i] += fmt.Sprintf("+%d", len(c.IDs)-1)
		}
		if old := e.br.Find(keys[i]); old != nil && old.Live() {
			e.mu.Unlock()
			r.Message = "nothing was changed: an earlier ReceiveGold line for " + joinIDs(c.IDs) + " still waits for WoW's acknowledgement"
			return r
		}
	}
	e.mu.Unlock()
	for _, p := range ps {
		if _, err := ebs.SetPayoutStatus(ctx, p.ID, mgm.PayoutInProgress); err != nil {
			r.Unlockable = append([]string(nil), r.InProgress...)
			r.Message = fmt.Sprintf("Could not set %s InProgress: %s Nothing was typed. InProgress now: %s (Unlock puts them back to Pending)",
				p.ID, ExplainEBS(ebsURL, err), joinIDs(r.InProgress))
			if ebsclient.Transient(err) {
				r.Message += fmt.Sprintf("; %s may be InProgress too — check it after the EBS answers again", p.ID)
			}
			return r
		}
		e.log.Info("payout set InProgress", "payout", p.ID, "character", p.CharacterName)
		r.InProgress = append(r.InProgress, p.ID)
	}
	lines := make([]string, len(chunks))
	ids := make([]string, len(chunks))
	e.mu.Lock()
	for i, c := range chunks {
		cmd, err := e.br.NewTyping(keys[i], e.o.Now(), func(id string) (string, error) { return c.WithCommand(id), nil })
		if err != nil { // checked above, under syncMu: cannot happen
			cmd = &bridge.Command{Line: c.WithCommand(strings.Repeat("0", inject.CmdIDLen))}
		}
		lines[i], ids[i] = cmd.Line, cmd.ID
	}
	e.dirty = true
	e.saveLocked()
	e.mu.Unlock()
	job := e.queue.SubmitManual(func(res inject.Result) {
		e.mu.Lock()
		for i, id := range ids {
			e.br.Typed(id, e.o.Now(), res.Errs[i])
		}
		e.dirty = true
		e.mu.Unlock()
		e.changed()
	}, lines...)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.o.SyncTimeout)
	defer cancel()
	res, werr := job.Wait(wctx)
	if res.Errs == nil { // the wait itself timed out
		r.Unlockable = nil
		r.Message = fmt.Sprintf("typing into %s did not finish within %s: %v. InProgress: %s; check WoW's mail queue before unlocking",
			target, e.o.SyncTimeout, werr, joinIDs(r.InProgress))
		return r
	}
	for i, c := range chunks {
		if res.Errs[i] == nil {
			r.Injected++
			e.log.Info("ReceiveGold chunk typed", "chars", inject.Len(c.Line), "payouts", len(c.IDs))
		} else {
			r.Unlockable = append(r.Unlockable, c.IDs...)
		}
	}
	if werr != nil {
		r.Message = fmt.Sprintf("typed %d of %d lines into %s: %v. InProgress: %s. Not in WoW's mail queue (safe to Unlock): %s",
			r.Injected, r.Lines, target, werr, joinIDs(r.InProgress), joinIDs(r.Unlockable))
		return r
	}
	r.OK = true
	r.Message = fmt.Sprintf("%d payout(s) InProgress, %d ReceiveGold line(s) typed into %s; the addon's acknowledgement follows in the event log", len(r.InProgress), r.Injected, target) + r.leftAlone()
	return r
}

// leftAlone is the part of the message about the payouts Sync did not take.
func (r *SyncReport) leftAlone() string {
	var s string
	if len(r.WaitingConsent) > 0 {
		s += fmt.Sprintf(". Waiting for the winner's consent (!twgold), not sent: %s", joinIDs(r.WaitingConsent))
	}
	if len(r.AlreadyMailed) > 0 {
		s += fmt.Sprintf(". The addon reported these as already mailed, so they are not sent again: %s — if a mail really came back, send it by hand in WoW and mark the payout there", joinIDs(r.AlreadyMailed))
	}
	return s
}
