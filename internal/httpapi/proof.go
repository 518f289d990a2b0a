package httpapi

import (
	"net/http"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

// handleDrawProof serves a cycle's draw proof (internal/drawproof). It is
// public: a proof holds nothing the panel does not show, and a viewer must
// be able to check a draw without the panel, hence without a Twitch token.
func (s *Server) handleDrawProof(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.DrawProof(r.Context(), strings.ToLower(r.PathValue("id")))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, p)
}
