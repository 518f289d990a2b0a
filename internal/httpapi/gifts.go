package httpapi

import (
	"net/http"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

func toGiftDTO(v app.GiftView) ebsapi.GiftRequest {
	d := ebsapi.GiftRequest{
		ID: v.ID, StreamerID: v.StreamerID, ViewerID: v.ViewerID, ViewerDisplayName: v.ViewerDisplayName,
		CharacterName: v.CharacterName, State: v.State, QueuePosition: v.QueuePosition,
		EstimatedWaitSeconds: int(v.EstimatedWait.Seconds()), CreatedAt: ebsapi.At(v.CreatedAt),
		UpdatedAt: ebsapi.At(v.UpdatedAt), TimeoutAt: ebsapi.AtPtr(v.TimeoutAt), FailureReason: nullable(v.FailureReason),
	}
	if it := v.SelectedItem; it != nil {
		d.SelectedItem = &ebsapi.GiftItem{Name: it.Name, ID: it.ID, Count: it.Count, Link: it.Link, Texture: it.Texture,
			BagID: it.BagID, SlotID: it.SlotID}
	}
	return d
}

func toGiftDTOs(vs []app.GiftView) []ebsapi.GiftRequest {
	out := make([]ebsapi.GiftRequest, 0, len(vs))
	for _, v := range vs {
		out = append(out, toGiftDTO(v))
	}
	return out
}

// handleViewerGiftQueue is the panel's queue: the caller's own requests and
// the one being served (only the latter for a viewer who has not shared
// identity), plus the caller's recent result.
func (s *Server) handleViewerGiftQueue(w http.ResponseWriter, r *http.Request) {
	vs, err := s.svc.ViewerGiftQueue(r.Context(), r.PathValue("streamerId"), viewerOf(r).UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toGiftDTOs(vs))
}

func (s *Server) handleCreateGift(w http.ResponseWriter, r *http.Request) {
	var req ebsapi.GiftCreation
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	streamer, name := "", ""
	if req.StreamerID != nil {
		streamer = *req.StreamerID
	}
	if req.CharacterName != nil {
		name = *req.CharacterName
	}
	v := viewerOf(r)
	g, err := s.svc.CreateGift(r.Context(), streamer, mgm.Viewer{UserID: v.UserID, DisplayName: v.DisplayName}, name, s.isSubscriber)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusCreated, toGiftDTO(g))
}

func (s *Server) handleGiftRequests(w http.ResponseWriter, r *http.Request) {
	vs, err := s.svc.GiftQueue(r.Context(), r.URL.Query().Get("streamerId"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toGiftDTOs(vs))
}

func (s *Server) handlePatchGift(w http.ResponseWriter, r *http.Request) {
	var req ebsapi.GiftFailure
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.State == nil {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "state is required (the Desktop may set Failed, with a reason)."))
		return
	}
	to, ok := mgm.ParseGiftState(string(*req.State))
	if !ok {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "Unknown gift state %q.", *req.State))
		return
	}
	reason := ""
	if req.Reason != nil {
		reason = *req.Reason
	}
	g, err := s.svc.FailGift(r.Context(), r.PathValue("id"), to, reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toGiftDTO(g))
}

func (s *Server) handleSelectGiftItem(w http.ResponseWriter, r *http.Request) {
	// The tolerant reading of ebsapi.ItemSelection: numbers may come as
	// strings, as the item list is built by the addon by hand.
	var req struct {
		Item *struct {
			Name    string  `json:"name"`
			ID      flexInt `json:"id"`
			Count   flexInt `json:"count"`
			Link    string  `json:"link"`
			Texture string  `json:"texture"`
			BagID   flexInt `json:"bagId"`
			SlotID  flexInt `json:"slotId"`
		} `json:"item"`
	}
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Item == nil {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "item is required: {name, id, count, link, texture, bagId, slotId}."))
		return
	}
	it := req.Item
	g, err := s.svc.SelectGiftItem(r.Context(), r.PathValue("id"), mgm.GiftItem{
		Name: it.Name, ID: it.ID.v, Count: it.Count.v, Link: it.Link, Texture: it.Texture, BagID: it.BagID.v, SlotID: it.SlotID.v,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toGiftDTO(g))
}

func (s *Server) handleConfirmGift(w http.ResponseWriter, r *http.Request) {
	// The tolerant reading of ebsapi.GiftConfirmation ("true" counts).
	var req struct {
		Confirmed flexBool `json:"confirmed"`
	}
	if err := decodeJSON(w, r, apiBodyLimit, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !req.Confirmed.set {
		s.writeError(w, r, mgm.Errorf(mgm.CodeInvalidPayload, "confirmed is required (true or false)."))
		return
	}
	g, err := s.svc.ConfirmGift(r.Context(), r.PathValue("id"), req.Confirmed.v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	serve.JSON(w, http.StatusOK, toGiftDTO(g))
}
