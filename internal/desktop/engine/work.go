package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/desktop/bridge"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/inject"
	"github.com/mimirons-goldomatic/mgm/internal/desktop/markers"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// ---- the tail ----

func (e *Engine) tailLoop(ctx context.Context) {
	t := time.NewTicker(e.o.TailInterval)
	defer t.Stop()
	for {
		e.tailTick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-e.tailWake:
		}
	}
}

func (e *Engine) tailTick(ctx context.Context) {
	e.mu.Lock()
	path, problem := e.cfg.ChatLogPath, e.cfg.ChatLogProblem
	e.mu.Unlock()
	if path != "" {
		res, err := e.tail.Read(path)
		now := e.o.Now()
		e.mu.Lock()
		for _, n := range res.Notes {
			e.log.Info("chat log", "note", n)
		}
		cl := &e.snap.ChatLog
		before := *cl
		if err != nil {
			cl.Found, cl.Problem = false, tailProblem(path, err)
		} else {
			if res.Size > cl.Size && cl.Found {
				cl.LastGrowth = now
			}
			cl.Found, cl.Size, cl.Problem = true, res.Size, ""
		}
		e.problemLocked("chat log", cl.Problem)
		for _, l := range res.Lines {
			e.acceptTextLocked(bridge.LogPrint, l.Text, l.Start, now)
		}
		if res.Pos.Path != "" && (e.st.ChatLog == nil || *e.st.ChatLog != res.Pos) {
			p := res.Pos
			e.st.ChatLog = &p
			e.dirty = true
		}
		e.saveLocked()
		statusChanged := before.Found != cl.Found || before.Problem != cl.Problem || before.LastGrowth != cl.LastGrowth
		e.mu.Unlock()
		if len(res.Lines) > 0 || len(res.Notes) > 0 || statusChanged {
			e.changed()
		}
	} else if problem != "" {
		e.mu.Lock()
		e.problemLocked("chat log", problem)
		e.mu.Unlock()
	}
	e.processPending(ctx)
	e.bridgeTick()
}

func tailProblem(path string, err error) string {
	if errors.Is(err, errNotExist) {
		return fmt.Sprintf("%s does not exist (yet): enable chat logging in WoW (/mgm log or /chatlog), or check the WoW folder in Settings", path)
	}
	return err.Error()
}

// acceptMarkerLocked records one trusted marker as pending work. seq is the
// bridge line's key ("" for a line without one); start is the chat-log
// offset of the line (-1 from the strip).
func (e *Engine) acceptMarkerLocked(m markers.Marker, text string, start int64, seq string, now time.Time) {
	if m.Kind == markers.ItemsPart {
		order := start
		if order < 0 {
			order = now.UnixNano()
		}
		payload, complete := e.st.ItemParts.Add(m, order)
		e.dirty = true
		if !complete {
			return
		}
		m = markers.Marker{Kind: markers.Items, ID: m.ID, Payload: payload, Trusted: true}
	}
	if m.Kind == markers.Confirm || m.Kind == markers.AlreadyMailed {
		// Remembered even for a repeated marker: a stale state file may
		// have lost it, and this is what stops a second mail.
		if !e.st.Mailed.Has(m.ID) {
			e.st.Mailed.Add(m.ID)
			e.dirty = true
		}
	}
	if (m.Kind == markers.GiftSent || m.Kind == markers.GiftAlreadyMailed) && !e.st.GiftsMailed.Has(m.ID) {
		e.st.GiftsMailed.Add(m.ID)
		e.st.GiftSelections = slices.DeleteFunc(e.st.GiftSelections, func(x GiftSelection) bool { return x.ID == m.ID })
		e.dirty = true
	}
	w, err := workFor(m, text, start, seq)
	if err != nil {
		e.log.Warn("ignored an unreadable marker", "error", err)
		return
	}
	if e.st.Handled.Has(w.Key) || e.pendingLocked(w.Key) != nil {
		e.log.Info("marker already handled; ignored the repeat", "work", w.Key)
		return
	}
	w.SeenAt, w.NextAt = now, now
	e.st.Pending = append(e.st.Pending, w)
	e.dirty = true
	if len(e.st.Pending) > maxPending {
		old := e.st.Pending[0]
		e.st.Pending = e.st.Pending[1:]
		e.st.Handled.Add(old.Key)
		e.log.Error("too much unfinished marker work: dropped the oldest", "work", old.Key, "lastError", old.LastError)
	}
}

func (e *Engine) pendingLocked(key string) *Work {
	for _, w := range e.st.Pending {
		if w.Key == key {
			return w
		}
	}
	return nil
}

// workFor turns a marker into its work item, keyed so a repeat is recognised.
func workFor(m markers.Marker, text string, start int64, seq string) (*Work, error) {
	switch m.Kind {
	case markers.Who:
		r, err := parseWho(m.Payload)
		if err != nil {
			return nil, fmt.Errorf("[MGM_WHO] JSON error: %v: %s", err, clip(m.Payload, 200))
		}
		norm, _ := json.Marshal(r)
		return &Work{Kind: kindWho, Payload: string(norm),
			Key: "who:" + strings.ToLower(r.SpinCycleID) + ":" + strings.ToLower(r.CharacterName)}, nil
	case markers.Accept:
		return &Work{Kind: kindAccept, ID: m.ID, Key: "accept:" + m.ID}, nil
	case markers.Confirm:
		return &Work{Kind: kindConfirm, ID: m.ID, Key: "confirm:" + m.ID}, nil
	case markers.AlreadyMailed:
		return &Work{Kind: kindMailed, ID: m.ID, Key: "already-mailed:" + m.ID}, nil
	case markers.Items:
		return &Work{Kind: kindItems, ID: m.ID, Payload: m.Payload, Key: "items:" + m.ID}, nil
	case markers.GiftAccept:
		return &Work{Kind: kindGiftAccept, ID: m.ID, Key: "gift-accept:" + m.ID}, nil
	case markers.GiftSent:
		return &Work{Kind: kindGiftMailed, ID: m.ID, Key: "gift-sent:" + m.ID}, nil
	case markers.GiftAlreadyMailed:
		return &Work{Kind: kindGiftMailed, ID: m.ID, Key: "gift-already-mailed:" + m.ID}, nil
	case markers.GiftMissing:
		return &Work{Kind: kindGiftGone, ID: m.ID, Key: "gift-missing:" + m.ID}, nil
	case markers.GiftNotAllowed:
		return &Work{Kind: kindGiftRefused, ID: m.ID, Key: "gift-not-allowed:" + m.ID}, nil
	case markers.UpdateCheck:
		// Every /mgm update deserves an answer: the key is this very line.
		if seq != "" {
			return &Work{Kind: kindUpdate, Key: "update:" + seq}, nil
		}
		return &Work{Kind: kindUpdate, Key: "update:" + strconv.FormatInt(start, 10) + ":" + text}, nil
	}
	return nil, fmt.Errorf("unexpected marker %s", m.Kind)
}

// parseWho reads the addon's hand-built JSON leniently (numbers or booleans
// given as strings) into the report the EBS expects.
func parseWho(payload string) (ebsapi.WhoReport, error) {
	var raw struct {
		SchemaVersion json.RawMessage `json:"schemaVersion"`
		SpinCycleID   string          `json:"spinCycleId"`
		CharacterName string          `json:"characterName"`
		Online        json.RawMessage `json:"online"`
		CapturedAt    string          `json:"capturedAt"`
	}
	var r ebsapi.WhoReport
	if err := json.Unmarshal([]byte(payload), &raw); err != nil {
		return r, err
	}
	sv := strings.Trim(strings.TrimSpace(string(raw.SchemaVersion)), `"`)
	n, err := strconv.Atoi(sv)
	if err != nil {
		return r, fmt.Errorf("schemaVersion %s is not a number", raw.SchemaVersion)
	}
	on := strings.Trim(strings.TrimSpace(string(raw.Online)), `"`)
	online, err := strconv.ParseBool(on)
	if err != nil {
		return r, fmt.Errorf("online %s is not a boolean", raw.Online)
	}
	if !markers.IsUUID(raw.SpinCycleID) || strings.TrimSpace(raw.CharacterName) == "" {
		return r, errors.New("spinCycleId or characterName missing")
	}
	return ebsapi.WhoReport{SchemaVersion: n, SpinCycleID: strings.ToLower(raw.SpinCycleID),
		CharacterName: raw.CharacterName, Online: online, CapturedAt: raw.CapturedAt}, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ---- marker work ----

type outcome int

const (
	outDone  outcome = iota // finished: remember the key
	outDrop                 // definitive failure: remember the key, say why
	outRetry                // transient failure: back off and try again
	outWait                 // nothing to do now (no EBS yet, a line being typed)
	outNext                 // moved on to another stage
)

type stepResult struct {
	out outcome
	msg string
}

func (e *Engine) processPending(ctx context.Context) {
	e.mu.Lock()
	list := append([]*Work(nil), e.st.Pending...)
	ebs := e.cfg.EBS
	e.mu.Unlock()
	blocked := map[string]bool{}
	for _, w := range list {
		if ctx.Err() != nil {
			return
		}
		now := e.o.Now()
		subj := w.subject()
		e.mu.Lock()
		ready := !blocked[subj] && !w.NextAt.After(now) && !e.inflight[w.Key]
		cw := *w // step works on a copy; the state file may be written meanwhile
		e.mu.Unlock()
		if !ready {
			blocked[subj] = true
			continue
		}
		var r stepResult
		if now.Sub(cw.SeenAt) > e.o.GiveUpAfter {
			r = stepResult{outDrop, fmt.Sprintf("gave up after %s: %s", e.o.GiveUpAfter, cw.LastError)}
		} else {
			r = e.step(ctx, ebs, &cw)
		}
		if ctx.Err() != nil && r.out != outDone {
			return // shutting down: leave the work as it was
		}
		e.mu.Lock()
		*w = cw
		switch r.out {
		case outDone:
			e.finishLocked(w)
			e.log.Info(r.msg)
		case outDrop:
			e.finishLocked(w)
			e.log.Error("marker work dropped", "work", w.Key, "reason", r.msg)
		case outRetry:
			w.Attempts++
			w.LastError = r.msg
			w.NextAt = now.Add(e.backoff(w.Attempts))
			if w.Attempts == 1 || w.Attempts%10 == 0 {
				e.log.Warn("marker work failed, retrying", "work", w.Key, "attempt", w.Attempts, "error", r.msg)
			}
		case outNext:
			w.LastError = ""
			if r.msg != "" {
				e.log.Info(r.msg)
			}
		}
		if r.out != outDone && r.out != outDrop {
			blocked[subj] = true
		}
		if r.out != outWait {
			e.dirty = true
		}
		e.saveLocked()
		e.mu.Unlock()
		if r.out != outWait {
			e.changed()
		}
	}
}

func (e *Engine) finishLocked(w *Work) {
	for i, p := range e.st.Pending {
		if p == w {
			e.st.Pending = append(e.st.Pending[:i:i], e.st.Pending[i+1:]...)
			break
		}
	}
	e.st.Handled.Add(w.Key)
	e.dirty = true
}

// backoff is exponential with ±20 % jitter, capped.
func (e *Engine) backoff(attempt int) time.Duration {
	d := e.o.RetryBase << min(attempt-1, 20)
	if d > e.o.RetryMax || d <= 0 {
		d = e.o.RetryMax
	}
	j := 0.8 + 0.4*e.o.Rand.Float64()
	return time.Duration(float64(d) * j)
}

// classify turns an EBS error into retry (transient) or drop (definitive).
func classify(err error, what string) stepResult {
	if errors.Is(err, context.Canceled) {
		return stepResult{outWait, ""}
	}
	if ebsclient.Transient(err) {
		return stepResult{outRetry, what + ": " + err.Error()}
	}
	// 401/403 on the Desktop's routes mean the API key is missing or refused
	// (rotated at the EBS, mistyped in Settings): a fault of the Desktop's
	// configuration, not of this marker. Dropping it would lose an acceptance
	// or strand a mailed payout InProgress, so keep retrying (bounded by
	// GiveUpAfter) until the streamer fixes the key.
	if isStatus(err, http.StatusUnauthorized) || isStatus(err, http.StatusForbidden) {
		return stepResult{outRetry, what + ": " + err.Error() + " (check the API key in Settings)"}
	}
	return stepResult{outDrop, what + ": " + err.Error()}
}

func (e *Engine) step(ctx context.Context, ebs EBS, w *Work) stepResult {
	if w.Stage == stageInject {
		return e.stepInject(w)
	}
	if ebs == nil {
		return stepResult{outWait, ""}
	}
	switch w.Kind {
	case kindAccept:
		e.mu.Lock()
		name := e.names[w.ID]
		e.mu.Unlock()
		if name == "" {
			// Not in the last poll (e.g. already InProgress, or newer than
			// the poll): ask the EBS instead of losing the acceptance.
			p, err := ebs.Payout(ctx, w.ID)
			if err != nil {
				if ebsclient.ErrorCode(err) == mgm.CodeNotFound {
					return stepResult{outDrop, "[MGM_ACCEPT] unknown payout " + w.ID}
				}
				return classify(err, "[MGM_ACCEPT] looking up the payout")
			}
			name = p.CharacterName
			e.mu.Lock()
			e.rememberNameLocked(p.ID, name)
			e.mu.Unlock()
		}
		p, err := ebs.ConfirmAcceptance(ctx, w.ID, name)
		if err != nil {
			return classify(err, "[MGM_ACCEPT] confirm-acceptance")
		}
		return stepResult{outDone, fmt.Sprintf("[MGM_ACCEPT] acceptance recorded for %s (%s)", w.ID, p.CharacterName)}
	case kindConfirm:
		return e.stepMailed(ctx, ebs, w, "[MGM_CONFIRM]")
	case kindMailed:
		return e.stepMailed(ctx, ebs, w, "[MGM_ALREADY_MAILED]")
	case kindWho:
		var r ebsapi.WhoReport
		if err := json.Unmarshal([]byte(w.Payload), &r); err != nil {
			return stepResult{outDrop, "[MGM_WHO] " + err.Error()}
		}
		res, err := ebs.VerifyCandidate(ctx, r)
		if err != nil {
			return classify(err, "[MGM_WHO] verify-candidate")
		}
		msg := fmt.Sprintf("[MGM_WHO] verify-candidate OK: %s online=%v → %s", r.CharacterName, r.Online, res.Outcome)
		if res.PayoutID != nil {
			msg += " (payout " + *res.PayoutID + ")"
			e.mu.Lock()
			e.rememberNameLocked(*res.PayoutID, r.CharacterName)
			e.mu.Unlock()
		}
		e.Refresh()
		return stepResult{outDone, msg}
	case kindItems:
		return e.stepItems(ctx, ebs, w)
	case kindGiftAccept:
		g, err := ebs.ConfirmGift(ctx, w.ID, true)
		if err != nil && ebsclient.ErrorCode(err) == mgm.CodeInvalidState &&
			ebsclient.ErrorDetail(err, "state") == string(mgm.GiftCompleted) {
			// Confirmed already: by an attempt whose answer was lost, or
			// just before the Desktop stopped. Its item still goes to the
			// mail, from the selection this Desktop made.
			e.mu.Lock()
			sel, ok := e.st.selectionLocked(w.ID)
			e.mu.Unlock()
			if ok {
				return e.queueGiftMail(w, sel, "[MGM_GIFT_ACCEPT] gift %s was confirmed by an earlier attempt")
			}
		}
		if err != nil && w.Attempts > 0 && ebsclient.ErrorCode(err) == mgm.CodeInvalidState {
			// A retry refused as invalid_state: the earlier attempt whose answer
			// was lost most likely completed the gift. Not worth an error.
			// An earlier attempt whose answer was lost most likely completed
			// the gift; the EBS no longer lists it, so its item is unknown here.
			e.log.Warn("gift "+w.ID+" was confirmed by an earlier attempt whose answer was lost: make sure its item reaches the winner (queue it again from the addon or mail it by hand)", "gift", w.ID)
			return stepResult{outDone, fmt.Sprintf("[MGM_GIFT_ACCEPT] gift %s was no longer waiting for confirmation (an earlier attempt got through)", w.ID)}
		}
		if err != nil {
			return classify(err, "[MGM_GIFT_ACCEPT] confirm")
		}
		e.Refresh()
		return e.queueGiftMail(w, g, "[MGM_GIFT_ACCEPT] gift %s confirmed")
	case kindGiftMailed:
		e.Refresh()
		return stepResult{outDone, fmt.Sprintf("[MGM_GIFT_SENT] gift %s delivered: the addon mailed the item", w.ID)}
	case kindGiftGone:
		e.log.Error("gift "+w.ID+": its item is no longer in the streamer's bags, so the addon cannot mail it; send a replacement by hand in WoW", "gift", w.ID)
		return stepResult{outDone, "[MGM_GIFT_MISSING] gift " + w.ID + " reported"}
	case kindGiftRefused:
		e.log.Error("gift "+w.ID+": its item is not allowed by the addon's gift allow-list or deny-list (/mgm gift list in WoW), so the addon refused to mail it; send a replacement by hand in WoW or fail the request", "gift", w.ID)
		return stepResult{outDone, "[MGM_GIFT_NOT_ALLOWED] gift " + w.ID + " reported"}
	case kindUpdate:
		v, err := ebs.Version(ctx)
		msg := updateMessage(e.o.Version, v, err)
		w.Stage, w.Line = stageInject, inject.ChatMessage(msg)
		return stepResult{outNext, "[MGM_UPDATE_CHECK] answering: " + msg}
	}
	return stepResult{outDrop, "unknown work " + w.Kind}
}

// stepMailed records at the EBS that the addon mailed a payout. A payout put
// back to Pending meanwhile (Unlock after a Sync whose outcome was unclear)
// was mailed all the same, so it goes InProgress and then Sent: left Pending
// it would be offered for mailing again. [MGM_ALREADY_MAILED] (the addon
// refused a second ReceiveGold) is never an error: an EBS that already has
// the payout Sent, or in a final state, ends the work.
func (e *Engine) stepMailed(ctx context.Context, ebs EBS, w *Work, marker string) stepResult {
	p, err := ebs.SetPayoutStatus(ctx, w.ID, mgm.PayoutSent)
	if err == nil {
		e.Refresh()
		return stepResult{outDone, fmt.Sprintf("%s payout %s (%s) is Sent", marker, w.ID, p.CharacterName)}
	}
	if ebsclient.Transient(err) || isStatus(err, http.StatusUnauthorized) || isStatus(err, http.StatusForbidden) {
		return classify(err, marker+" PATCH Sent")
	}
	cur, lerr := ebs.Payout(ctx, w.ID)
	if lerr != nil {
		if w.Kind == kindMailed && !ebsclient.Transient(lerr) {
			return stepResult{outDone, fmt.Sprintf("%s payout %s was already mailed; the EBS does not know it (%v)", marker, w.ID, lerr)}
		}
		return classify(err, marker+" PATCH Sent")
	}
	switch cur.Status {
	case mgm.PayoutSent:
		return stepResult{outDone, fmt.Sprintf("%s payout %s (%s) was already Sent", marker, w.ID, cur.CharacterName)}
	case mgm.PayoutPending:
		if _, err := ebs.SetPayoutStatus(ctx, w.ID, mgm.PayoutInProgress); err != nil {
			return classify(err, marker+" PATCH InProgress of a mailed payout that was Pending")
		}
		if _, err := ebs.SetPayoutStatus(ctx, w.ID, mgm.PayoutSent); err != nil {
			return classify(err, marker+" PATCH Sent")
		}
		e.Refresh()
		return stepResult{outDone, fmt.Sprintf("%s payout %s (%s) was Pending but had been mailed: now Sent", marker, w.ID, cur.CharacterName)}
	}
	if w.Kind == kindMailed {
		e.log.Error("the addon mailed a payout the EBS has as "+string(cur.Status)+"; check it by hand", "payout", w.ID, "character", cur.CharacterName)
		return stepResult{outDone, fmt.Sprintf("%s payout %s (%s) was already mailed; the EBS has it %s", marker, w.ID, cur.CharacterName, cur.Status)}
	}
	return stepResult{outDrop, marker + " PATCH Sent: " + err.Error()}
}

func (e *Engine) stepItems(ctx context.Context, ebs EBS, w *Work) stepResult {
	if w.Stage == "" {
		var items []ebsapi.GiftItem
		if err := json.Unmarshal([]byte(w.Payload), &items); err != nil {
			return stepResult{outDrop, "[MGM_ITEMS] JSON error: " + err.Error()}
		}
		if len(items) == 0 {
			if _, err := ebs.FailGift(ctx, w.ID, "no_items_available"); err != nil {
				return classify(err, "[MGM_ITEMS] marking the gift Failed")
			}
			e.Refresh()
			return stepResult{outDone, "[MGM_ITEMS] no items available, marked Failed " + w.ID}
		}
		pick := items[e.o.Rand.IntN(len(items))]
		spread := e.o.RouletteMax - e.o.RouletteMin
		spin := e.o.RouletteMin
		if spread > 0 {
			spin += time.Duration(e.o.Rand.Int64N(int64(spread) + 1))
		}
		names := make([]string, len(items))
		for i, it := range items {
			names[i] = it.Name
		}
		w.Item, w.Items, w.Stage = &pick, names, stageRoulette
		w.NextAt = e.o.Now().Add(spin)
		return stepResult{outNext, fmt.Sprintf("[MGM_ITEMS] roulette spin %dms, items=%d (gift %s)", spin.Milliseconds(), len(items), w.ID)}
	}
	// stageRoulette: the wheel stopped.
	g, err := ebs.SelectGiftItem(ctx, w.ID, *w.Item)
	if err != nil {
		if ebsclient.ErrorCode(err) != mgm.CodeInvalidState && !isStatus(err, 409) {
			return classify(err, "[MGM_ITEMS] select-item")
		}
		// Refused: did an earlier attempt whose answer was lost succeed?
		gs, lerr := ebs.GiftRequests(ctx, "")
		if lerr != nil {
			return classify(lerr, "[MGM_ITEMS] checking the gift after select-item was refused")
		}
		found := false
		for _, x := range gs {
			// Only the Desktop selects items, so a selection there is ours.
			if x.ID == w.ID && x.State == mgm.GiftWaitingConfirmation {
				g, found = x, true
			}
		}
		if !found {
			return stepResult{outDrop, "[MGM_ITEMS] select-item refused (the gift is no longer selecting an item): " + err.Error()}
		}
	}
	e.mu.Lock()
	e.st.rememberSelectionLocked(g)
	e.mu.Unlock()
	if _, berr := inject.RequestGiftConfirmation(w.ID, g.CharacterName, strings.Repeat("x", inject.CmdIDLen)); berr != nil {
		return stepResult{outDrop, berr.Error()}
	}
	w.Stage, w.Fn, w.Args = stageInject, "MGM_RequestGiftConfirmation", []string{w.ID, g.CharacterName}
	e.Refresh()
	return stepResult{outNext, fmt.Sprintf("[MGM_ITEMS] selected item '%s' for %s (%s)", w.Item.Name, w.ID, g.CharacterName)}
}

// stepCommand types the work's command and finishes once the addon
// acknowledged it; while a command that failed its last try waits for the
// bridge to start it over, the work backs off.
func (e *Engine) stepCommand(w *Work) stepResult {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.br.Find(w.Key)
	switch {
	case c == nil:
		if _, err := e.br.NewCommand(w.Key, e.o.Now(), func(id string) (string, error) {
			return inject.Call(w.Fn, append(append([]string(nil), w.Args...), id)...)
		}); err != nil {
			return stepResult{outDrop, err.Error()}
		}
		e.dirty = true
		return stepResult{outWait, ""}
	case c.Live():
		return stepResult{outWait, ""}
	case c.State == bridge.Failed:
		// The bridge types it again, with the same id, once the addon
		// answers a handshake: the addon recognises a repeat by its id.
		return stepResult{outRetry, "WoW did not acknowledge " + w.Fn + ": " + c.Result}
	}
	return stepResult{outDone, fmt.Sprintf("%s: %s acknowledged by the addon (%s)", w.Key, w.Fn, c.Result)}
}

// stepInject types the work's line once; the result arrives asynchronously.
func (e *Engine) stepInject(w *Work) stepResult {
	if w.Fn != "" {
		return e.stepCommand(w)
	}
	e.mu.Lock()
	if e.inflight[w.Key] {
		e.mu.Unlock()
		return stepResult{outWait, ""}
	}
	if err, ok := e.injected[w.Key]; ok {
		delete(e.injected, w.Key)
		e.mu.Unlock()
		if err != nil {
			return stepResult{outRetry, "typing into WoW: " + err.Error()}
		}
		return stepResult{outDone, fmt.Sprintf("%s: typed %s", w.Key, clip(w.Line, 120))}
	}
	key := w.Key
	e.inflight[key] = true
	e.mu.Unlock()
	e.queue.Submit(func(r inject.Result) {
		e.mu.Lock()
		delete(e.inflight, key)
		e.injected[key] = r.Err()
		e.mu.Unlock()
		e.wakeTailLoop()
	}, w.Line)
	return stepResult{outWait, ""}
}

// queueGiftMail moves a confirmed gift on to its delivery: the addon's mail
// queue gets its item (by bag slot), unless the addon already mailed it.
func (e *Engine) queueGiftMail(w *Work, g ebsapi.GiftRequest, format string) stepResult {
	msg := fmt.Sprintf(format, w.ID) + fmt.Sprintf(" (%s): %s", g.CharacterName, g.State)
	e.mu.Lock()
	mailed := e.st.GiftsMailed.Has(w.ID)
	e.mu.Unlock()
	if g.SelectedItem == nil || mailed {
		return stepResult{outDone, msg}
	}
	it := g.SelectedItem
	if _, err := inject.QueueGift(w.ID, g.CharacterName, it.BagID, it.SlotID, it.ID, strings.Repeat("x", inject.CmdIDLen)); err != nil {
		return stepResult{outDrop, err.Error()}
	}
	w.Stage, w.Fn = stageInject, "MGM_QueueGift"
	w.Args = []string{w.ID, g.CharacterName, strconv.Itoa(it.BagID), strconv.Itoa(it.SlotID), strconv.Itoa(it.ID)}
	return stepResult{outNext, msg + "; queueing '" + it.Name + "' for mail in WoW"}
}
