package ebsclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Payout is the EBS's PayoutDto.
type Payout struct {
	ID                          string  `json:"id"`
	TwitchUserID                string  `json:"twitchUserId"`
	TwitchDisplayName           string  `json:"twitchDisplayName"`
	CharacterName               string  `json:"characterName"`
	GoldAmount                  int64   `json:"goldAmount"`
	EnrollmentRequestID         string  `json:"enrollmentRequestId"`
	Status                      string  `json:"status"`
	CreatedAt                   string  `json:"createdAt"`
	UpdatedAt                   string  `json:"updatedAt"`
	AcceptedAt                  *string `json:"acceptedAt"`
	SpinCycleID                 *string `json:"spinCycleId"`
	IsRewardSentAnnouncedToChat bool    `json:"isRewardSentAnnouncedToChat"`
}

// Payout statuses as the EBS writes them.
const (
	StatusPending    = "Pending"
	StatusInProgress = "InProgress"
	StatusSent       = "Sent"
	StatusFailed     = "Failed"
	StatusCancelled  = "Cancelled"
)

// HistoryEvent is one entry of a payout's audit history.
type HistoryEvent struct {
	Type string          `json:"type"`
	At   string          `json:"at"`
	Data json.RawMessage `json:"data"`
}

// Candidate is the name the Desktop must /who now.
type Candidate struct {
	SpinCycleID    string `json:"spinCycleId"`
	CharacterName  string `json:"characterName"`
	SpinPhase      string `json:"spinPhase"`
	VerifyDeadline string `json:"verifyDeadline"`
}

// WhoReport is the addon's [MGM_WHO] JSON, forwarded as is.
type WhoReport struct {
	SchemaVersion int    `json:"schemaVersion"`
	SpinCycleID   string `json:"spinCycleId"`
	CharacterName string `json:"characterName"`
	Online        bool   `json:"online"`
	CapturedAt    string `json:"capturedAt,omitempty"`
}

// VerifyResult is the EBS's answer to a /who report.
type VerifyResult struct {
	Outcome  string  `json:"outcome"`
	PayoutID *string `json:"payoutId"`
}

// GiftItem is an item from the streamer's bags.
type GiftItem struct {
	Name    string `json:"name"`
	ID      int64  `json:"id"`
	Count   int    `json:"count"`
	Link    string `json:"link"`
	Texture string `json:"texture"`
	BagID   int    `json:"bagId"`
	SlotID  int    `json:"slotId"`
}

// GiftRequest is the EBS's gift request DTO.
type GiftRequest struct {
	ID                   string    `json:"id"`
	StreamerID           string    `json:"streamerId"`
	ViewerID             string    `json:"viewerId"`
	ViewerDisplayName    string    `json:"viewerDisplayName"`
	CharacterName        string    `json:"characterName"`
	State                string    `json:"state"`
	SelectedItem         *GiftItem `json:"selectedItem"`
	QueuePosition        int       `json:"queuePosition"`
	EstimatedWaitSeconds int       `json:"estimatedWaitSeconds"`
	CreatedAt            string    `json:"createdAt"`
	UpdatedAt            string    `json:"updatedAt"`
	TimeoutAt            *string   `json:"timeoutAt"`
	FailureReason        *string   `json:"failureReason"`
}

// VersionInfo is GET /api/version.
type VersionInfo struct {
	Version                 string  `json:"version"`
	ReleaseNotesURL         *string `json:"releaseNotesUrl"`
	MinimumDesktopVersion   *string `json:"minimumDesktopVersion"`
	MinimumAddonVersion     *string `json:"minimumAddonVersion"`
	MinimumExtensionVersion *string `json:"minimumExtensionVersion"`
}

func pathID(prefix, id, suffix string) string {
	return prefix + url.PathEscape(id) + suffix
}

// PendingPayouts lists payouts with the given statuses (default: Pending), oldest first.
func (c *Client) PendingPayouts(ctx context.Context, statuses ...string) ([]Payout, error) {
	var q url.Values
	if len(statuses) > 0 {
		q = url.Values{"status": {strings.Join(statuses, ",")}}
	}
	var out []Payout
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/api/payouts/pending", query: q, out: &out, idempotent: true})
	return out, err
}

// Payout returns one payout.
func (c *Client) Payout(ctx context.Context, id string) (Payout, error) {
	var out Payout
	_, err := c.do(ctx, call{method: http.MethodGet, path: pathID("/api/payouts/", id, ""), out: &out, idempotent: true})
	return out, err
}

// PayoutHistory returns a payout's events, oldest first.
func (c *Client) PayoutHistory(ctx context.Context, id string) ([]HistoryEvent, error) {
	var out []HistoryEvent
	_, err := c.do(ctx, call{method: http.MethodGet, path: pathID("/api/payouts/", id, "/history"), out: &out, idempotent: true})
	return out, err
}

// SetPayoutStatus moves a payout to a status. Repeating it is harmless (the
// EBS answers a same-status change as a no-op), so it is retried.
func (c *Client) SetPayoutStatus(ctx context.Context, id, status string) (Payout, error) {
	var out Payout
	_, err := c.do(ctx, call{method: http.MethodPatch, path: pathID("/api/payouts/", id, "/status"),
		body: map[string]string{"status": status}, out: &out, idempotent: true})
	return out, err
}

// ConfirmAcceptance records the winner's consent (idempotent at the EBS).
func (c *Client) ConfirmAcceptance(ctx context.Context, id, characterName string) (Payout, error) {
	var out Payout
	_, err := c.do(ctx, call{method: http.MethodPost, path: pathID("/api/payouts/", id, "/confirm-acceptance"),
		body: map[string]string{"characterName": characterName}, out: &out, idempotent: true})
	return out, err
}

// Candidate returns the candidate awaiting /who, or nil when there is none.
func (c *Client) Candidate(ctx context.Context) (*Candidate, error) {
	var out Candidate
	status, err := c.do(ctx, call{method: http.MethodGet, path: "/api/roulette/candidate", out: &out,
		idempotent: true, okStatuses: []int{http.StatusNoContent}})
	if err != nil || status == http.StatusNoContent {
		return nil, err
	}
	return &out, nil
}

// VerifyCandidate forwards a /who report (repeats return the same outcome).
func (c *Client) VerifyCandidate(ctx context.Context, r WhoReport) (VerifyResult, error) {
	var out VerifyResult
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/api/roulette/verify-candidate", body: r, out: &out, idempotent: true})
	return out, err
}

// GiftRequests lists the non-terminal gift requests ("" = the EBS's broadcaster).
func (c *Client) GiftRequests(ctx context.Context, streamerID string) ([]GiftRequest, error) {
	var q url.Values
	if streamerID != "" {
		q = url.Values{"streamerId": {streamerID}}
	}
	var out []GiftRequest
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/api/gift-requests", query: q, out: &out, idempotent: true})
	return out, err
}

// FailGift ends a gift request as Failed with a reason (a repeat is a no-op).
func (c *Client) FailGift(ctx context.Context, id, reason string) (GiftRequest, error) {
	var out GiftRequest
	_, err := c.do(ctx, call{method: http.MethodPatch, path: pathID("/api/gift-requests/", id, ""),
		body: map[string]string{"state": "Failed", "reason": reason}, out: &out, idempotent: true})
	return out, err
}

// SelectGiftItem reports the item picked for a request. Not retried: a
// second attempt after a lost answer would be refused as invalid_state.
func (c *Client) SelectGiftItem(ctx context.Context, id string, item GiftItem) (GiftRequest, error) {
	var out GiftRequest
	_, err := c.do(ctx, call{method: http.MethodPost, path: pathID("/api/gift-requests/", id, "/select-item"),
		body: map[string]any{"item": item}, out: &out})
	return out, err
}

// ConfirmGift reports the recipient's answer. Not retried (see SelectGiftItem).
func (c *Client) ConfirmGift(ctx context.Context, id string, confirmed bool) (GiftRequest, error) {
	var out GiftRequest
	_, err := c.do(ctx, call{method: http.MethodPost, path: pathID("/api/gift-requests/", id, "/confirm"),
		body: map[string]bool{"confirmed": confirmed}, out: &out})
	return out, err
}

// Version returns the EBS's version information.
func (c *Client) Version(ctx context.Context) (VersionInfo, error) {
	var out VersionInfo
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/api/version", out: &out, idempotent: true})
	return out, err
}

// PreparePendingPayout calls the EBS's end-to-end test harness.
func (c *Client) PreparePendingPayout(ctx context.Context, twitchUserID string) (payoutID, characterName string, err error) {
	var out struct {
		PayoutID      string `json:"payoutId"`
		CharacterName string `json:"characterName"`
	}
	_, err = c.do(ctx, call{method: http.MethodPost, path: "/api/e2e/prepare-pending-payout",
		body: map[string]string{"twitchUserId": twitchUserID}, out: &out})
	return out.PayoutID, out.CharacterName, err
}
