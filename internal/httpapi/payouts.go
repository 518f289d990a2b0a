package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

func (s *Server) handlePayout(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.Payout(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toPayoutDTO(p))
}

func (s *Server) handlePayoutHistory(w http.ResponseWriter, r *http.Request) {
	evs, err := s.svc.PayoutHistory(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]ebsapi.HistoryEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, ebsapi.HistoryEvent{Type: e.Type, At: ebsapi.At(e.At), Data: e.Data})
	}
	serve.JSON(w, http.StatusOK, out)
}

func (s *Server) handlePayoutStatus(w http.ResponseWriter, r *http.Request) {
	var req ebsapi.PayoutStatusChange
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Status == nil {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "status is required (Pending, InProgress, Sent, Failed, Cancelled)."))
		return
	}
	to, ok := mgm.ParsePayoutStatus(string(*req.Status))
	if !ok {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "Unknown status %q.", *req.Status))
		return
	}
	p, err := s.svc.SetPayoutStatus(r.Context(), r.PathValue("id"), to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toPayoutDTO(p))
}

func (s *Server) handleConfirmAcceptance(w http.ResponseWriter, r *http.Request) {
	var req ebsapi.AcceptanceConfirmation
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.CharacterName == nil {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "characterName is required."))
		return
	}
	p, err := s.svc.ConfirmAcceptance(r.Context(), r.PathValue("id"), *req.CharacterName)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toPayoutDTO(p))
}

// stateBody is GET /api/roulette/state's answer, encoded, for one snapshot
// and one millisecond (the precision of serverNow on the wire).
type stateBody struct {
	snap *app.RouletteSnapshot
	ms   int64
	body []byte
}

// handleRouletteState answers from the snapshot in memory. Viewers poll it
// many times a millisecond at peak; within one millisecond and one snapshot
// the answer is the same bytes, so they are encoded once.
func (s *Server) handleRouletteState(w http.ResponseWriter, r *http.Request) {
	snap := s.svc.Snapshot()
	// The state is computed at the millisecond it shows as serverNow, so
	// every request of that millisecond gets the same, consistent answer.
	now := s.now().Truncate(time.Millisecond)
	if c := s.stateCache.Load(); c != nil && c.snap == snap && c.ms == now.UnixMilli() {
		writeJSONBytes(w, http.StatusOK, c.body)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as serve.JSON
	if err := enc.Encode(s.rouletteStateBody(snap, now)); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.stateCache.Store(&stateBody{snap: snap, ms: now.UnixMilli(), body: buf.Bytes()})
	writeJSONBytes(w, http.StatusOK, buf.Bytes())
}

// PushState is the roulette state exactly as GET /api/roulette/state answers
// at now; the Extension PubSub push sends it.
func (s *Server) PushState(now time.Time) ebsapi.RouletteState {
	return s.rouletteStateBody(s.svc.Snapshot(), now.Truncate(time.Millisecond))
}

// SnapshotChanged is closed once the roulette snapshot is replaced (see
// app.Service.SnapshotChanged).
func (s *Server) SnapshotChanged() <-chan struct{} { return s.svc.SnapshotChanged() }

// writeJSONBytes is serve.JSON for a body already encoded by it.
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) rouletteStateBody(snap *app.RouletteSnapshot, now time.Time) ebsapi.RouletteState {
	st := s.svc.StateAt(snap, now)
	body := ebsapi.RouletteState{
		NextSpinAt: ebsapi.At(st.NextSpinAt), ServerNow: ebsapi.At(st.ServerNow), SpinIntervalSeconds: st.IntervalSeconds,
		PoolParticipantCount: st.PoolCount, SpinPhase: st.Phase,
		CurrentSpinCycleID: nullable(st.CycleID), CandidateCharacterName: nullable(st.CandidateName),
		PoolCharacterNames: st.PoolNames, DrawCommitment: nullable(st.Commitment),
	}
	if body.PoolCharacterNames == nil {
		body.PoolCharacterNames = []string{}
	}
	if st.PausedReason != mgm.PauseNone {
		body.PausedReason = &st.PausedReason
	}
	body.RecentWinners = make([]ebsapi.RecentWinner, 0, len(st.RecentWinners))
	for _, w := range st.RecentWinners {
		body.RecentWinners = append(body.RecentWinners, ebsapi.RecentWinner{CharacterName: w.CharacterName, At: ebsapi.At(w.At)})
	}
	if c := st.Last; c != nil && c.DecidedAt != nil {
		lc := &ebsapi.LastCycle{SpinCycleID: c.ID, Outcome: c.Outcome, DecidedAt: ebsapi.At(*c.DecidedAt)}
		if c.Outcome == mgm.OutcomeWinner && c.Candidate != nil {
			lc.WinnerCharacterName = &c.Candidate.CharacterName
		}
		if c.Candidate != nil {
			lc.CandidateCharacterName = &c.Candidate.CharacterName
		}
		body.LastCycle = lc
	}
	return body
}

func (s *Server) handleCandidate(w http.ResponseWriter, r *http.Request) {
	c, ok := s.svc.Candidate(s.now())
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	serve.JSON(w, http.StatusOK, ebsapi.Candidate{SpinCycleID: c.SpinCycleID, CharacterName: c.CharacterName,
		SpinPhase: c.Phase, VerifyDeadline: ebsapi.At(c.VerifyDeadline)})
}

// flexInt reads a JSON number or a numeric string (the addon's JSON is hand-built).
type flexInt struct {
	v   int
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // null is no value: the field stays unset (required → invalid_payload)
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		var s string
		if err2 := json.Unmarshal(b, &s); err2 != nil {
			return err
		}
		n = json.Number(strings.TrimSpace(s))
	}
	i, err := n.Int64()
	if err != nil {
		return err
	}
	f.v, f.set = int(i), true
	return nil
}

// flexBool reads true/false or "true"/"false".
type flexBool struct {
	v   bool
	set bool
}

func (f *flexBool) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		// json.Unmarshal of null into a bool is a silent no-op: without this,
		// "online": null would read as false and decide the cycle no_winner.
		return nil
	}
	var v bool
	if err := json.Unmarshal(b, &v); err != nil {
		var s string
		if err2 := json.Unmarshal(b, &s); err2 != nil {
			return err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			v = true
		case "false":
			v = false
		default:
			return err
		}
	}
	f.v, f.set = v, true
	return nil
}

func (s *Server) handleVerifyCandidate(w http.ResponseWriter, r *http.Request) {
	// The tolerant reading of ebsapi.WhoReport: the predecessor's Desktop
	// forwarded the addon's hand-built JSON, numbers and booleans as strings.
	var req struct {
		SchemaVersion flexInt  `json:"schemaVersion"`
		SpinCycleID   string   `json:"spinCycleId"`
		CharacterName *string  `json:"characterName"`
		Online        flexBool `json:"online"`
		CapturedAt    *string  `json:"capturedAt"`
	}
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !req.SchemaVersion.set || strings.TrimSpace(req.SpinCycleID) == "" || req.CharacterName == nil || !req.Online.set {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "schemaVersion, spinCycleId, characterName and online are required."))
		return
	}
	if req.CapturedAt != nil && *req.CapturedAt != "" {
		// Accepted with or without fractional seconds; it documents the report, it decides nothing.
		if _, err := time.Parse(time.RFC3339Nano, *req.CapturedAt); err != nil {
			if _, err := eventsub.ParseTimestamp(*req.CapturedAt); err != nil {
				s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "capturedAt must be an RFC 3339 time."))
				return
			}
		}
	}
	res, err := s.svc.VerifyCandidate(r.Context(), mgm.WhoReport{
		SchemaVersion: req.SchemaVersion.v, SpinCycleID: strings.TrimSpace(req.SpinCycleID),
		CharacterName: *req.CharacterName, Online: req.Online.v,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, ebsapi.VerifyResult{Outcome: res.Outcome, PayoutID: nullable(res.PayoutID)})
}

// handlePreparePendingPayout is the test harness; outside Development with
// the flag it does not exist (404), whoever asks.
func (s *Server) handlePreparePendingPayout(w http.ResponseWriter, r *http.Request) {
	var req ebsapi.HarnessPayoutRequest
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.TwitchUserID == nil || strings.TrimSpace(*req.TwitchUserID) == "" {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "twitchUserId is required."))
		return
	}
	p, err := s.svc.PreparePendingPayout(r.Context(), strings.TrimSpace(*req.TwitchUserID))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, ebsapi.HarnessPayout{PayoutID: p.ID, CharacterName: p.CharacterName})
}

func (s *Server) harnessEnabled(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.Development() || !s.cfg.EnableE2eHarness {
			s.writeError(w, r, mgm.Errorf(mgm.CodeNotFound, "No such route."))
			return
		}
		h(w, r)
	}
}
