// Package ebsapi is the EBS's HTTP API contract: the JSON bodies both the
// server (package httpapi) and its Go clients (package ebsclient, and through
// it the Desktop and the synthetic desktop) use. Each body is declared once,
// with the domain's types for statuses, states, phases and error codes, so
// renaming one of those is a compile error on both sides of the wire rather
// than a silent mismatch.
//
// Field order is the order the server writes; the panel (TypeScript) and the
// predecessor's clients read these bodies too, so names, order and null-ness
// never change. Fields that may be absent on the wire are pointers.
//
// Request bodies are what the clients send. The server reads some of them more
// tolerantly than declared here (numbers and booleans as strings, as the
// predecessor's hand-built JSON had them); that tolerance is the server's.
package ebsapi

import (
	"encoding/json"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// timeLayout is how the EBS writes every time: RFC 3339 in UTC with
// milliseconds and a Z, the form the predecessor's clients parse.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Time is a time on the wire. It is written in the EBS's one layout and read
// as any RFC 3339 time.
type Time struct{ time.Time }

// At wraps t.
func At(t time.Time) Time { return Time{t} }

// AtPtr wraps *t; nil stays nil (JSON null).
func AtPtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	return &Time{*t}
}

// String is the wire form, e.g. 2025-01-02T03:04:05.000Z.
func (t Time) String() string { return t.UTC().Format(timeLayout) }

func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.String() + `"`), nil
}

func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// Codes of failures the HTTP layer itself decides, before any use case runs.
// They share mgm.Code's space: clients switch on one set of codes.
const (
	CodeMethodNotAllowed     mgm.Code = "method_not_allowed"
	CodePayloadTooLarge      mgm.Code = "payload_too_large"
	CodeUnsupportedMediaType mgm.Code = "unsupported_media_type"
	CodeRateLimited          mgm.Code = "rate_limited"

	// Requests refused while net/http reads them, before any handler runs.
	CodeMalformedRequest            mgm.Code = "malformed_request"
	CodeHeadersTooLarge             mgm.Code = "headers_too_large"
	CodeExpectationFailed           mgm.Code = "expectation_failed"
	CodeUnsupportedTransferEncoding mgm.Code = "unsupported_transfer_encoding"
	CodeHTTPVersionNotSupported     mgm.Code = "http_version_not_supported"
)

// ErrorBody is every failure's answer.
type ErrorBody struct {
	Code    mgm.Code       `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// Payout is the seed PayoutDto plus the additive fields.
type Payout struct {
	ID                          string           `json:"id"`
	TwitchUserID                string           `json:"twitchUserId"`
	TwitchDisplayName           string           `json:"twitchDisplayName"`
	CharacterName               string           `json:"characterName"`
	GoldAmount                  int64            `json:"goldAmount"`
	EnrollmentRequestID         string           `json:"enrollmentRequestId"`
	Status                      mgm.PayoutStatus `json:"status"`
	CreatedAt                   Time             `json:"createdAt"`
	IsRewardSentAnnouncedToChat bool             `json:"isRewardSentAnnouncedToChat"`
	UpdatedAt                   Time             `json:"updatedAt"`
	AcceptedAt                  *Time            `json:"acceptedAt"`
	SpinCycleID                 *string          `json:"spinCycleId"`
}

// HistoryEvent is one entry of a payout's audit history, oldest first.
type HistoryEvent struct {
	Type string          `json:"type"`
	At   Time            `json:"at"`
	Data json.RawMessage `json:"data"`
}

// PayoutStatusChange is PATCH /api/payouts/{id}/status.
type PayoutStatusChange struct {
	Status *mgm.PayoutStatus `json:"status"`
}

// AcceptanceConfirmation is POST /api/payouts/{id}/confirm-acceptance: the
// winner's consent, with the name they typed.
type AcceptanceConfirmation struct {
	CharacterName *string `json:"characterName"`
}

// PoolMembership is GET /api/pool/me.
type PoolMembership struct {
	IsEnrolled    bool    `json:"isEnrolled"`
	CharacterName *string `json:"characterName"`
	// LifetimeGoldCommitted (additive) is the viewer's Sent and active
	// payouts' gold, what the lifetime cap counts, enrolled or not.
	LifetimeGoldCommitted int64 `json:"lifetimeGoldCommitted"`
	// LifetimeCapGold (additive) is the cap itself (10,000).
	LifetimeCapGold int64 `json:"lifetimeCapGold"`
	// EligibleAgainAt (additive) is when a recent winner's cooldown ends:
	// draws from then on may pick them again. Null when no cooldown holds
	// them back.
	EligibleAgainAt *Time `json:"eligibleAgainAt"`
}

// Claim is POST /api/payouts/claim: a viewer enrolls from the panel.
type Claim struct {
	CharacterName       *string `json:"characterName"`
	EnrollmentRequestID *string `json:"enrollmentRequestId"`
}

// Enrollment is the answer to a claim.
type Enrollment struct {
	CharacterName       string `json:"characterName"`
	EnrollmentRequestID string `json:"enrollmentRequestId"`
}

// RouletteState is GET /api/roulette/state, the panel's view of the wheel.
type RouletteState struct {
	NextSpinAt             Time       `json:"nextSpinAt"`
	ServerNow              Time       `json:"serverNow"`
	SpinIntervalSeconds    int        `json:"spinIntervalSeconds"`
	PoolParticipantCount   int        `json:"poolParticipantCount"`
	SpinPhase              mgm.Phase  `json:"spinPhase"`
	CurrentSpinCycleID     *string    `json:"currentSpinCycleId"`
	CandidateCharacterName *string    `json:"candidateCharacterName"`
	LastCycle              *LastCycle `json:"lastCycle"`
	// DrawCommitment is additive: hex SHA-256 of the current cycle's secret
	// draw seed, published before its draw (null with currentSpinCycleId, or
	// for a cycle created before draws were committed). The seed is revealed
	// by GET /api/roulette/cycles/{id}/proof after the draw.
	DrawCommitment *string `json:"drawCommitment"`
	// PoolCharacterNames is additive: up to 100 names for the panel's wheel.
	PoolCharacterNames []string `json:"poolCharacterNames"`
	// RecentWinners is additive: the last cycles won (at most 5), newest first.
	RecentWinners []RecentWinner `json:"recentWinners"`
	// PausedReason is additive: why, exactly when spinPhase is "paused"
	// ("streamer", "budget" or "offline"); else null.
	PausedReason *mgm.PauseReason `json:"pausedReason"`
}

// RecentWinner is one won cycle: who won, and when the cycle was decided.
type RecentWinner struct {
	CharacterName string `json:"characterName"`
	At            Time   `json:"at"`
}

// LastCycle is the most recent decided spin cycle.
type LastCycle struct {
	SpinCycleID            string           `json:"spinCycleId"`
	Outcome                mgm.CycleOutcome `json:"outcome"`
	WinnerCharacterName    *string          `json:"winnerCharacterName"`
	CandidateCharacterName *string          `json:"candidateCharacterName"`
	DecidedAt              Time             `json:"decidedAt"`
}

// Candidate is the name the Desktop must /who now.
type Candidate struct {
	SpinCycleID    string    `json:"spinCycleId"`
	CharacterName  string    `json:"characterName"`
	SpinPhase      mgm.Phase `json:"spinPhase"`
	VerifyDeadline Time      `json:"verifyDeadline"`
}

// WhoReport is the addon's [MGM_WHO] result, which the Desktop forwards to
// POST /api/roulette/verify-candidate.
type WhoReport struct {
	SchemaVersion int    `json:"schemaVersion"`
	SpinCycleID   string `json:"spinCycleId"`
	CharacterName string `json:"characterName"`
	Online        bool   `json:"online"`
	CapturedAt    string `json:"capturedAt,omitempty"`
}

// VerifyResult is the EBS's answer to a /who report.
type VerifyResult struct {
	Outcome  mgm.CycleOutcome `json:"outcome"`
	PayoutID *string          `json:"payoutId"`
}

// GiftItem is an item from the streamer's bags, as the addon describes it.
type GiftItem struct {
	Name    string `json:"name"`
	ID      int    `json:"id"`
	Count   int    `json:"count"`
	Link    string `json:"link"`
	Texture string `json:"texture"`
	BagID   int    `json:"bagId"`
	SlotID  int    `json:"slotId"`
}

// GiftRequest is the seed GiftRequestDto, field for field and in order.
type GiftRequest struct {
	ID                   string        `json:"id"`
	StreamerID           string        `json:"streamerId"`
	ViewerID             string        `json:"viewerId"`
	ViewerDisplayName    string        `json:"viewerDisplayName"`
	CharacterName        string        `json:"characterName"`
	State                mgm.GiftState `json:"state"`
	SelectedItem         *GiftItem     `json:"selectedItem"`
	QueuePosition        int           `json:"queuePosition"`
	EstimatedWaitSeconds int           `json:"estimatedWaitSeconds"`
	CreatedAt            Time          `json:"createdAt"`
	UpdatedAt            Time          `json:"updatedAt"`
	TimeoutAt            *Time         `json:"timeoutAt"`
	FailureReason        *string       `json:"failureReason"`
}

// GiftCreation is POST /api/gift-requests: a viewer asks for a gift from the panel.
type GiftCreation struct {
	StreamerID    *string `json:"streamerId"`
	CharacterName *string `json:"characterName"`
}

// GiftFailure is PATCH /api/gift-requests/{id}: the Desktop ends a request
// (State Failed) with a reason.
type GiftFailure struct {
	State  *mgm.GiftState `json:"state"`
	Reason *string        `json:"reason"`
}

// ItemSelection is POST /api/gift-requests/{id}/select-item.
type ItemSelection struct {
	Item GiftItem `json:"item"`
}

// GiftConfirmation is POST /api/gift-requests/{id}/confirm: the recipient's answer.
type GiftConfirmation struct {
	Confirmed bool `json:"confirmed"`
}

// VersionInfo is GET /api/version.
type VersionInfo struct {
	Version                 string  `json:"version"`
	ReleaseNotesURL         *string `json:"releaseNotesUrl"`
	MinimumDesktopVersion   *string `json:"minimumDesktopVersion"`
	MinimumAddonVersion     *string `json:"minimumAddonVersion"`
	MinimumExtensionVersion *string `json:"minimumExtensionVersion"`
}

// HarnessPayoutRequest is POST /api/e2e/prepare-pending-payout (Development only).
type HarnessPayoutRequest struct {
	TwitchUserID *string `json:"twitchUserId"`
}

// HarnessPayout is the test harness's answer.
type HarnessPayout struct {
	PayoutID      string `json:"payoutId"`
	CharacterName string `json:"characterName"`
}

// StreamerControls is GET /api/streamer/controls and the answer to pause
// and resume: the streamer's switches, the settings in force and the
// roulette as viewers see it now.
type StreamerControls struct {
	Paused       bool             `json:"paused"`
	PausedAt     *Time            `json:"pausedAt"`
	PausedBy     *string          `json:"pausedBy"`
	ResumedAt    *Time            `json:"resumedAt"`
	SpinPhase    mgm.Phase        `json:"spinPhase"`
	PausedReason *mgm.PauseReason `json:"pausedReason"`
	NextSpinAt   Time             `json:"nextSpinAt"`
	// StreamLive is what EventSub last said (null: nothing heard yet).
	StreamLive           *bool         `json:"streamLive"`
	DrawOnlyWhileLive    bool          `json:"drawOnlyWhileLive"`
	EntryRule            mgm.EntryRule `json:"entryRule"`
	WinnerCooldownCycles int           `json:"winnerCooldownCycles"`
	WinnerCooldownHours  int           `json:"winnerCooldownHours"`
	// DailyGoldBudget is 0 for unlimited; GoldCommittedToday is what it
	// counts for the current UTC day.
	DailyGoldBudget      int64 `json:"dailyGoldBudget"`
	GoldCommittedToday   int64 `json:"goldCommittedToday"`
	PoolParticipantCount int   `json:"poolParticipantCount"`
}

// StreamerTarget names a viewer for POST /api/streamer/pool/remove and POST
// /api/streamer/bans: exactly one of the two, plus a ban's optional reason.
type StreamerTarget struct {
	TwitchUserID  *string `json:"twitchUserId,omitempty"`
	CharacterName *string `json:"characterName,omitempty"`
	Reason        *string `json:"reason,omitempty"`
}

// RemovedEntrant is the pool row a removal took out.
type RemovedEntrant struct {
	TwitchUserID      string `json:"twitchUserId"`
	TwitchDisplayName string `json:"twitchDisplayName"`
	CharacterName     string `json:"characterName"`
}

// Ban is one banned viewer. The name fields are what was known when they
// were banned ("" when banned by id while not in the pool).
type Ban struct {
	TwitchUserID      string `json:"twitchUserId"`
	TwitchDisplayName string `json:"twitchDisplayName"`
	CharacterName     string `json:"characterName"`
	Reason            string `json:"reason"`
	BannedBy          string `json:"bannedBy"`
	BannedAt          Time   `json:"bannedAt"`
}

// ExportEvent is one audit event in GET /api/streamer/history?kind=events.
type ExportEvent struct {
	ID       int64           `json:"id"`
	StreamID string          `json:"streamId"`
	Version  int             `json:"version"`
	Type     string          `json:"type"`
	At       Time            `json:"at"`
	Data     json.RawMessage `json:"data"`
}
