package httpapi

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// The streamer's controls (issue 17), for the Desktop: every change is an
// audited event with the actor "desktop".

func (s *Server) handleStreamerControls(w http.ResponseWriter, r *http.Request) {
	v, err := s.svc.ControlsNow(r.Context())
	s.answerControls(w, r, v, err)
}

func (s *Server) handlePause(w http.ResponseWriter, r *http.Request) {
	v, err := s.svc.Pause(r.Context(), app.DesktopActor)
	s.answerControls(w, r, v, err)
}

func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) {
	v, err := s.svc.Resume(r.Context(), app.DesktopActor)
	s.answerControls(w, r, v, err)
}

func (s *Server) answerControls(w http.ResponseWriter, r *http.Request, v app.ControlsView, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, p := v.Controls, v.Policy
	body := ebsapi.StreamerControls{
		Paused: c.Paused, PausedBy: nullable(c.PausedBy), SpinPhase: v.State.Phase, NextSpinAt: ebsapi.At(v.State.NextSpinAt),
		DrawOnlyWhileLive: p.DrawOnlyWhileLive, EntryRule: p.Entry, WinnerCooldownCycles: p.Cooldown.Cycles,
		WinnerCooldownHours: int(p.Cooldown.Duration.Hours()), DailyGoldBudget: p.DailyBudgetGold,
		GoldCommittedToday: v.GoldToday, PoolParticipantCount: v.State.PoolCount,
	}
	if c.Paused {
		body.PausedAt = ebsapi.AtPtr(&c.PausedAt)
	}
	if !c.ResumedAt.IsZero() {
		body.ResumedAt = ebsapi.AtPtr(&c.ResumedAt)
	}
	if v.State.PausedReason != mgm.PauseNone {
		body.PausedReason = &v.State.PausedReason
	}
	if c.Live != mgm.LiveUnknown {
		live := c.Live == mgm.LiveOnline
		body.StreamLive = &live
	}
	serve.JSON(w, http.StatusOK, body)
}

// readTarget reads a StreamerTarget body.
func readTarget(w http.ResponseWriter, r *http.Request) (app.Target, string, error) {
	var req ebsapi.StreamerTarget
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		return app.Target{}, "", err
	}
	var t app.Target
	var reason string
	if req.TwitchUserID != nil {
		t.TwitchUserID = *req.TwitchUserID
	}
	if req.CharacterName != nil {
		t.CharacterName = *req.CharacterName
	}
	if req.Reason != nil {
		reason = *req.Reason
	}
	return t, reason, nil
}

func (s *Server) handleRemoveEntrant(w http.ResponseWriter, r *http.Request) {
	t, _, err := readTarget(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.svc.RemoveEntrant(r.Context(), app.DesktopActor, t)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, ebsapi.RemovedEntrant{TwitchUserID: e.TwitchUserID, TwitchDisplayName: e.TwitchDisplayName, CharacterName: e.CharacterName})
}

func toBanDTO(b store.Ban) ebsapi.Ban {
	return ebsapi.Ban{TwitchUserID: b.TwitchUserID, TwitchDisplayName: b.TwitchDisplayName, CharacterName: b.CharacterName,
		Reason: b.Reason, BannedBy: b.BannedBy, BannedAt: ebsapi.At(b.BannedAt)}
}

func (s *Server) handleBans(w http.ResponseWriter, r *http.Request) {
	bans, err := s.svc.Bans(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]ebsapi.Ban, 0, len(bans))
	for _, b := range bans {
		out = append(out, toBanDTO(b))
	}
	serve.JSON(w, http.StatusOK, out)
}

// handleBan answers 201 with a new ban, 200 with the existing one.
func (s *Server) handleBan(w http.ResponseWriter, r *http.Request) {
	t, reason, err := readTarget(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.svc.Ban(r.Context(), app.DesktopActor, t, reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	serve.JSON(w, status, toBanDTO(res.Ban))
}

func (s *Server) handleUnban(w http.ResponseWriter, r *http.Request) {
	b, err := s.svc.Unban(r.Context(), app.DesktopActor, app.Target{TwitchUserID: r.PathValue("twitchUserId")})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toBanDTO(b))
}

// handleHistory streams the payouts created, or the events appended, in a
// range of UTC days: ?from=YYYY-MM-DD&to=YYYY-MM-DD (inclusive, at most
// app.MaxHistoryDays), &kind=payouts|events (default payouts),
// &format=csv|json (default json). The size is checked before the first
// byte; after it, a failure can only cut the download short, which the
// client sees as an incomplete transfer rather than a shorter history.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rng, err := app.NewHistoryRange(q.Get("from"), q.Get("to"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	kind, format := q.Get("kind"), q.Get("format")
	if kind == "" {
		kind = "payouts"
	}
	if format == "" {
		format = "json"
	}
	if (kind != "payouts" && kind != "events") || (format != "csv" && format != "json") {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "kind is payouts or events; format is csv or json."))
		return
	}
	if err := s.svc.CheckHistorySize(r.Context(), rng); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := "mgm-" + kind + "-" + q.Get("from") + "_" + q.Get("to") + "." + format
	ct := "application/json; charset=utf-8"
	if format == "csv" {
		ct = "text/csv; charset=utf-8; header=present"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	var out rowWriter
	if format == "csv" {
		out = newCSVRows(bw, kind)
	} else {
		out = &jsonRows{w: bw}
	}
	if kind == "payouts" {
		err = s.svc.EachPayout(r.Context(), rng, func(p mgm.Payout) error { return out.payout(p) })
	} else {
		err = s.svc.EachEvent(r.Context(), rng, func(e store.HistoryEvent) error { return out.event(e) })
	}
	if err == nil {
		err = out.close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		s.log.WarnContext(r.Context(), "history export cut short", "request_id", requestID(r), "error", err)
		panic(http.ErrAbortHandler) // the client must not take a cut file for the whole history
	}
}

type rowWriter interface {
	payout(mgm.Payout) error
	event(store.HistoryEvent) error
	close() error
}

// payoutHeader and eventHeader are the CSV columns.
var (
	payoutHeader = []string{"id", "createdAt", "updatedAt", "status", "twitchUserId", "twitchDisplayName", "characterName",
		"goldAmount", "spinCycleId", "acceptedAt", "isRewardSentAnnouncedToChat"}
	eventHeader = []string{"id", "at", "streamId", "version", "type", "data"}
)

// csvRows writes RFC 4180 CSV (CRLF line ends, fields quoted as needed)
// with a header row.
type csvRows struct {
	w      *csv.Writer
	header []string
	wrote  bool
}

func newCSVRows(w *bufio.Writer, kind string) *csvRows {
	c := &csvRows{w: csv.NewWriter(w), header: payoutHeader}
	c.w.UseCRLF = true
	if kind == "events" {
		c.header = eventHeader
	}
	return c
}

func (c *csvRows) row(fields []string) error {
	if !c.wrote {
		c.wrote = true
		if err := c.w.Write(c.header); err != nil {
			return err
		}
	}
	for i, f := range fields {
		fields[i] = defuseFormula(f)
	}
	return c.w.Write(fields)
}

// defuseFormula keeps a spreadsheet from running a cell as a formula (CSV
// injection, OWASP): a cell starting with = + - @ or a tab or carriage
// return gets a leading apostrophe. Nothing the export writes starts that
// way on its own (ids, times, statuses, Twitch names, JSON objects); a
// viewer-chosen text could.
func defuseFormula(f string) string {
	if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
		return "'" + f
	}
	return f
}

func (c *csvRows) payout(p mgm.Payout) error {
	accepted := ""
	if p.AcceptedAt != nil {
		accepted = ebsapi.At(*p.AcceptedAt).String()
	}
	return c.row([]string{p.ID, ebsapi.At(p.CreatedAt).String(), ebsapi.At(p.UpdatedAt).String(), string(p.Status),
		p.TwitchUserID, p.TwitchDisplayName, p.CharacterName, strconv.FormatInt(p.GoldAmount, 10), p.SpinCycleID, accepted,
		strconv.FormatBool(p.IsRewardSentAnnouncedToChat)})
}

func (c *csvRows) event(e store.HistoryEvent) error {
	return c.row([]string{strconv.FormatInt(e.ID, 10), ebsapi.At(e.At).String(), e.StreamID, strconv.Itoa(e.Version), e.Type, string(e.Data)})
}

func (c *csvRows) close() error {
	if !c.wrote { // an empty range still has its header
		if err := c.w.Write(c.header); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

// jsonRows writes one JSON array, an element at a time.
type jsonRows struct {
	w     *bufio.Writer
	wrote bool
}

func (j *jsonRows) elem(v any) error {
	sep := ","
	if !j.wrote {
		sep, j.wrote = "[", true
	}
	if _, err := j.w.WriteString(sep); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = j.w.Write(b)
	return err
}

func (j *jsonRows) payout(p mgm.Payout) error { return j.elem(toPayoutDTO(p)) }

func (j *jsonRows) event(e store.HistoryEvent) error {
	return j.elem(ebsapi.ExportEvent{ID: e.ID, StreamID: e.StreamID, Version: e.Version, Type: e.Type, At: ebsapi.At(e.At), Data: e.Data})
}

func (j *jsonRows) close() error {
	end := "]\n"
	if !j.wrote {
		end = "[]\n"
	}
	_, err := j.w.WriteString(end)
	return err
}
