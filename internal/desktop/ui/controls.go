package ui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

// Controls is the part of the EBS client the Controls panel drives (issue
// 17); *ebsclient.Client implements it.
type Controls interface {
	StreamerControls(ctx context.Context) (ebsapi.StreamerControls, error)
	Pause(ctx context.Context) (ebsapi.StreamerControls, error)
	Resume(ctx context.Context) (ebsapi.StreamerControls, error)
	RemoveEntrant(ctx context.Context, t ebsapi.StreamerTarget) (ebsapi.RemovedEntrant, error)
	Bans(ctx context.Context) ([]ebsapi.Ban, error)
	Ban(ctx context.Context, t ebsapi.StreamerTarget) (ebsapi.Ban, error)
	Unban(ctx context.Context, twitchUserID string) (ebsapi.Ban, error)
	History(ctx context.Context, q ebsclient.HistoryQuery, open func(contentType, fileName string) io.Writer) error
}

var _ Controls = (*ebsclient.Client)(nil)

func (s *Server) controlRoutes() {
	s.mux.HandleFunc("GET /api/controls", s.withControls(func(w http.ResponseWriter, r *http.Request, c Controls) {
		v, err := c.StreamerControls(r.Context())
		s.relay(w, v, err)
	}))
	s.mux.HandleFunc("POST /api/controls/pause", s.withControls(func(w http.ResponseWriter, r *http.Request, c Controls) {
		v, err := c.Pause(r.Context())
		s.relay(w, v, err)
	}))
	s.mux.HandleFunc("POST /api/controls/resume", s.withControls(func(w http.ResponseWriter, r *http.Request, c Controls) {
		v, err := c.Resume(r.Context())
		s.relay(w, v, err)
	}))
	s.mux.HandleFunc("POST /api/controls/remove", s.withControls(func(w http.ResponseWriter, r *http.Request, c Controls) {
		var t ebsapi.StreamerTarget
		if !decode(w, r, &t) {
			return
		}
		v, err := c.RemoveEntrant(r.Context(), t)
		s.relay(w, v, err)
	}))
	s.mux.HandleFunc("GET /api/controls/bans", s.withControls(func(w http.ResponseWriter, r *http.Request, c Controls) {
		v, err := c.Bans(r.Context())
		s.relay(w, nonNil(v), err)
	}))
	s.mux.HandleFunc("POST /api/controls/bans", s.withControls(func(w http.ResponseWriter, r *http.Request, c Controls) {
		var t ebsapi.StreamerTarget
		if !decode(w, r, &t) {
			return
		}
		v, err := c.Ban(r.Context(), t)
		s.relay(w, v, err)
	}))
	s.mux.HandleFunc("DELETE /api/controls/bans/{twitchUserId}", s.withControls(func(w http.ResponseWriter, r *http.Request, c Controls) {
		v, err := c.Unban(r.Context(), r.PathValue("twitchUserId"))
		s.relay(w, v, err)
	}))
	s.mux.HandleFunc("GET /api/controls/history", s.withControls(s.handleHistory))
}

// withControls answers 503 until an EBS URL and API key are set.
func (s *Server) withControls(h func(http.ResponseWriter, *http.Request, Controls)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var c Controls
		if s.o.Controls != nil {
			c = s.o.Controls()
		}
		if c == nil {
			serve.JSON(w, http.StatusServiceUnavailable, errorBody{"not_configured", "set the EBS URL and API key in Settings first"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
		defer cancel()
		h(w, r.WithContext(ctx), c)
	}
}

// relay answers with v, or with the EBS's refusal as it gave it (status,
// code, message), so the page shows "not_in_pool" rather than a generic failure.
func (s *Server) relay(w http.ResponseWriter, v any, err error) {
	if err == nil {
		serve.JSON(w, http.StatusOK, v)
		return
	}
	var ee *ebsclient.Error
	if errors.As(err, &ee) && ee.Status >= 400 && ee.Status < 500 && ee.Code != "" {
		serve.JSON(w, ee.Status, errorBody{string(ee.Code), ee.Message})
		return
	}
	serve.JSON(w, http.StatusBadGateway, errorBody{"ebs_unavailable", err.Error()})
}

// handleHistory downloads an export through the EBS client, streamed.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request, c Controls) {
	q := r.URL.Query()
	hq := ebsclient.HistoryQuery{From: q.Get("from"), To: q.Get("to"), Kind: q.Get("kind"), Format: q.Get("format")}
	opened := false
	err := c.History(r.Context(), hq, func(contentType, fileName string) io.Writer {
		opened = true
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+fileName+`"`)
		w.WriteHeader(http.StatusOK)
		return w
	})
	if err != nil && !opened {
		s.relay(w, nil, err)
		return
	}
	if err != nil {
		panic(http.ErrAbortHandler) // a cut download must not look complete
	}
}
