package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
	"github.com/mimirons-goldomatic/mgm/internal/store"
)

func (s *Server) handlePoolMe(w http.ResponseWriter, r *http.Request) {
	v, err := s.svc.Standing(r.Context(), viewerOf(r).UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := ebsapi.PoolMembership{IsEnrolled: v.Enrolled, LifetimeGoldCommitted: v.CommittedGold, LifetimeCapGold: mgm.LifetimeCapGold}
	if v.Enrolled {
		body.CharacterName = &v.Entry.CharacterName
	}
	body.EligibleAgainAt = ebsapi.AtPtr(v.EligibleAgainAt)
	serve.JSON(w, http.StatusOK, body)
}

// handleLeavePool is DELETE /api/pool/me: the viewer leaves from the panel.
func (s *Server) handleLeavePool(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.LeavePool(r.Context(), viewerOf(r).UserID, "panel"); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMyLastPayout(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.LatestPayout(r.Context(), viewerOf(r).UserID)
	if errors.Is(err, store.ErrNotFound) {
		s.writeError(w, r, mgm.Errorf(mgm.CodeNotFound, "You have no payout yet."))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toPayoutDTO(p))
}

func (s *Server) handleClaim(w http.ResponseWriter, r *http.Request) {
	var req ebsapi.Claim
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.EnrollmentRequestID == nil || strings.TrimSpace(*req.EnrollmentRequestID) == "" {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "enrollmentRequestId is required."))
		return
	}
	name := ""
	if req.CharacterName != nil {
		name = *req.CharacterName
	}
	v := viewerOf(r)
	res, err := s.svc.Claim(r.Context(), mgm.Viewer{UserID: v.UserID, DisplayName: v.DisplayName},
		name, strings.TrimSpace(*req.EnrollmentRequestID), s.isSubscriber)
	s.metrics.Enrollment("claim", claimOutcome(res, err))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	serve.JSON(w, status, ebsapi.Enrollment{CharacterName: res.CharacterName, EnrollmentRequestID: res.EnrollmentRequestID})
}

func claimOutcome(res app.ClaimResult, err error) string {
	switch {
	case err != nil:
		return "rejected_" + string(mgm.ErrorCode(err))
	case res.Created:
		return string(app.OutcomeEnrolled)
	default:
		return "repeated"
	}
}

// isSubscriber decides the panel's subscriber check (claims and gift
// requests): the development switch, else Helix. Without Helix the answer is
// no, said plainly in the log.
func (s *Server) isSubscriber(ctx context.Context, userID string) (bool, error) {
	if s.cfg.DevSkipSubscriberCheck && s.cfg.Development() {
		return true, nil
	}
	if s.subscribers == nil {
		s.log.WarnContext(ctx, "panel request refused: the subscriber check needs Helix credentials (or Mgm__DevSkipSubscriberCheck in Development)")
		return false, nil
	}
	ok, err := s.subscribers.IsSubscriber(ctx, userID)
	if err != nil {
		// Twitch being down is not the viewer's fault, but neither can we
		// vouch for them: refuse with a clear code rather than a 500.
		s.log.WarnContext(ctx, "helix subscriber check failed", "error", err)
		return false, mgm.Errorf(mgm.CodeUnavailable, "Twitch could not confirm your subscription right now; try again shortly.")
	}
	return ok, nil
}

func (s *Server) handlePendingPayouts(w http.ResponseWriter, r *http.Request) {
	statuses := []mgm.PayoutStatus{mgm.PayoutPending}
	if qs := r.URL.Query()["status"]; len(qs) > 0 {
		statuses = statuses[:0]
		for _, part := range strings.Split(strings.Join(qs, ","), ",") {
			st, ok := mgm.ParsePayoutStatus(part)
			if !ok {
				s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "Unknown payout status %q.", strings.TrimSpace(part)))
				return
			}
			statuses = append(statuses, st)
		}
	}
	ps, err := s.svc.PayoutsByStatus(r.Context(), statuses...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]ebsapi.Payout, 0, len(ps))
	for _, p := range ps {
		out = append(out, toPayoutDTO(p))
	}
	serve.JSON(w, http.StatusOK, out)
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	v := s.cfg.Version
	version := strings.TrimSpace(v.CurrentVersion)
	if version == "" {
		version = s.version
	}
	if version == "" {
		version = "0.0.0-dev"
	}
	serve.JSON(w, http.StatusOK, ebsapi.VersionInfo{Version: version, ReleaseNotesURL: nullable(v.ReleaseNotesURL),
		MinimumDesktopVersion: nullable(v.MinimumDesktopVersion), MinimumAddonVersion: nullable(v.MinimumAddonVersion),
		MinimumExtensionVersion: nullable(v.MinimumExtensionVersion)})
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	serve.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ReadyGrace is how long database checks must keep failing before /readyz
// says so: a connection lost to a failover or a terminated backend is retried
// by the store and heals in well under a second, and a load balancer that
// saw one failed check would take every replica out at once.
const ReadyGrace = 5 * time.Second

// readiness remembers the last database check that passed.
type readiness struct {
	mu     sync.Mutex
	lastOK time.Time
}

// answer records a check made at now and reports whether to answer ready.
func (rd *readiness) answer(now time.Time, err error) bool {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if err == nil {
		rd.lastOK = now
		return true
	}
	return !rd.lastOK.IsZero() && now.Sub(rd.lastOK) < ReadyGrace
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.svc.DB().Ready(ctx)
	if !s.ready.answer(s.now(), err) {
		s.log.WarnContext(r.Context(), "not ready", "error", err)
		s.writeError(w, r, mgm.Errorf(mgm.CodeUnavailable, "The database is not reachable or not migrated yet."))
		return
	}
	body := map[string]any{"status": "ready", "store": s.svc.DB().Dialect()}
	if s.readyDetail != nil {
		for k, v := range s.readyDetail() {
			body[k] = v
		}
	}
	if s.svc.Policy().DrawOnlyWhileLive {
		// Informs only: an unknown status is a deliberate pessimism, not unreadiness.
		switch s.svc.Snapshot().Controls.Live {
		case mgm.LiveOnline:
			body["stream_live"] = "online"
		case mgm.LiveOffline:
			body["stream_live"] = "offline: no draws until stream.online (Mgm__DrawOnlyWhileLive)"
		default:
			body["stream_live"] = "unknown: no stream.online or stream.offline heard yet, treated as offline (Mgm__DrawOnlyWhileLive)"
		}
	}
	if err != nil {
		s.log.WarnContext(r.Context(), "database check failed; still ready within the grace period", "error", err)
		body["warning"] = "The last database check failed; the pool is reconnecting."
	}
	serve.JSON(w, http.StatusOK, body)
}
