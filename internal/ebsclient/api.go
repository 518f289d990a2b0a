package ebsclient

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

func pathID(prefix, id, suffix string) string {
	return prefix + url.PathEscape(id) + suffix
}

// PendingPayouts lists payouts with the given statuses (default: Pending), oldest first.
func (c *Client) PendingPayouts(ctx context.Context, statuses ...mgm.PayoutStatus) ([]ebsapi.Payout, error) {
	var q url.Values
	if len(statuses) > 0 {
		names := make([]string, len(statuses))
		for i, st := range statuses {
			names[i] = string(st)
		}
		q = url.Values{"status": {strings.Join(names, ",")}}
	}
	var out []ebsapi.Payout
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/api/payouts/pending", query: q, out: &out, idempotent: true})
	return out, err
}

// Payout returns one payout.
func (c *Client) Payout(ctx context.Context, id string) (ebsapi.Payout, error) {
	var out ebsapi.Payout
	_, err := c.do(ctx, call{method: http.MethodGet, path: pathID("/api/payouts/", id, ""), out: &out, idempotent: true})
	return out, err
}

// PayoutHistory returns a payout's events, oldest first.
func (c *Client) PayoutHistory(ctx context.Context, id string) ([]ebsapi.HistoryEvent, error) {
	var out []ebsapi.HistoryEvent
	_, err := c.do(ctx, call{method: http.MethodGet, path: pathID("/api/payouts/", id, "/history"), out: &out, idempotent: true})
	return out, err
}

// SetPayoutStatus moves a payout to a status. Repeating it is harmless (the
// EBS answers a same-status change as a no-op), so it is retried.
func (c *Client) SetPayoutStatus(ctx context.Context, id string, status mgm.PayoutStatus) (ebsapi.Payout, error) {
	var out ebsapi.Payout
	_, err := c.do(ctx, call{method: http.MethodPatch, path: pathID("/api/payouts/", id, "/status"),
		body: ebsapi.PayoutStatusChange{Status: &status}, out: &out, idempotent: true})
	return out, err
}

// ConfirmAcceptance records the winner's consent (idempotent at the EBS).
func (c *Client) ConfirmAcceptance(ctx context.Context, id, characterName string) (ebsapi.Payout, error) {
	var out ebsapi.Payout
	_, err := c.do(ctx, call{method: http.MethodPost, path: pathID("/api/payouts/", id, "/confirm-acceptance"),
		body: ebsapi.AcceptanceConfirmation{CharacterName: &characterName}, out: &out, idempotent: true})
	return out, err
}

// Candidate returns the candidate awaiting /who, or nil when there is none.
func (c *Client) Candidate(ctx context.Context) (*ebsapi.Candidate, error) {
	var out ebsapi.Candidate
	status, err := c.do(ctx, call{method: http.MethodGet, path: "/api/roulette/candidate", out: &out,
		idempotent: true, okStatuses: []int{http.StatusNoContent}})
	if err != nil || status == http.StatusNoContent {
		return nil, err
	}
	return &out, nil
}

// VerifyCandidate forwards a /who report (repeats return the same outcome).
func (c *Client) VerifyCandidate(ctx context.Context, r ebsapi.WhoReport) (ebsapi.VerifyResult, error) {
	var out ebsapi.VerifyResult
	_, err := c.do(ctx, call{method: http.MethodPost, path: "/api/roulette/verify-candidate", body: r, out: &out, idempotent: true})
	return out, err
}

// GiftRequests lists the non-terminal gift requests ("" = the EBS's broadcaster).
func (c *Client) GiftRequests(ctx context.Context, streamerID string) ([]ebsapi.GiftRequest, error) {
	var q url.Values
	if streamerID != "" {
		q = url.Values{"streamerId": {streamerID}}
	}
	var out []ebsapi.GiftRequest
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/api/gift-requests", query: q, out: &out, idempotent: true})
	return out, err
}

// FailGift ends a gift request as Failed with a reason (a repeat is a no-op).
func (c *Client) FailGift(ctx context.Context, id, reason string) (ebsapi.GiftRequest, error) {
	var out ebsapi.GiftRequest
	failed := mgm.GiftFailed
	_, err := c.do(ctx, call{method: http.MethodPatch, path: pathID("/api/gift-requests/", id, ""),
		body: ebsapi.GiftFailure{State: &failed, Reason: &reason}, out: &out, idempotent: true})
	return out, err
}

// SelectGiftItem reports the item picked for a request. Not retried: a
// second attempt after a lost answer would be refused (mgm.CodeInvalidState).
func (c *Client) SelectGiftItem(ctx context.Context, id string, item ebsapi.GiftItem) (ebsapi.GiftRequest, error) {
	var out ebsapi.GiftRequest
	_, err := c.do(ctx, call{method: http.MethodPost, path: pathID("/api/gift-requests/", id, "/select-item"),
		body: ebsapi.ItemSelection{Item: item}, out: &out})
	return out, err
}

// ConfirmGift reports the recipient's answer. Not retried (see SelectGiftItem).
func (c *Client) ConfirmGift(ctx context.Context, id string, confirmed bool) (ebsapi.GiftRequest, error) {
	var out ebsapi.GiftRequest
	_, err := c.do(ctx, call{method: http.MethodPost, path: pathID("/api/gift-requests/", id, "/confirm"),
		body: ebsapi.GiftConfirmation{Confirmed: confirmed}, out: &out})
	return out, err
}

// Version returns the EBS's version information.
func (c *Client) Version(ctx context.Context) (ebsapi.VersionInfo, error) {
	var out ebsapi.VersionInfo
	_, err := c.do(ctx, call{method: http.MethodGet, path: "/api/version", out: &out, idempotent: true})
	return out, err
}

// PreparePendingPayout calls the EBS's end-to-end test harness.
func (c *Client) PreparePendingPayout(ctx context.Context, twitchUserID string) (payoutID, characterName string, err error) {
	var out ebsapi.HarnessPayout
	_, err = c.do(ctx, call{method: http.MethodPost, path: "/api/e2e/prepare-pending-payout",
		body: ebsapi.HarnessPayoutRequest{TwitchUserID: &twitchUserID}, out: &out})
	return out.PayoutID, out.CharacterName, err
}
