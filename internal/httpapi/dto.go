package httpapi

import (
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// jsonTime writes RFC 3339 UTC with milliseconds and a Z, as every client expects.
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

func timePtr(t *time.Time) *jsonTime {
	if t == nil {
		return nil
	}
	j := jsonTime(*t)
	return &j
}

// payoutDTO is the seed PayoutDto plus the additive fields.
type payoutDTO struct {
	ID                          string    `json:"id"`
	TwitchUserID                string    `json:"twitchUserId"`
	TwitchDisplayName           string    `json:"twitchDisplayName"`
	CharacterName               string    `json:"characterName"`
	GoldAmount                  int64     `json:"goldAmount"`
	EnrollmentRequestID         string    `json:"enrollmentRequestId"`
	Status                      string    `json:"status"`
	CreatedAt                   jsonTime  `json:"createdAt"`
	IsRewardSentAnnouncedToChat bool      `json:"isRewardSentAnnouncedToChat"`
	UpdatedAt                   jsonTime  `json:"updatedAt"`
	AcceptedAt                  *jsonTime `json:"acceptedAt"`
	SpinCycleID                 *string   `json:"spinCycleId"`
}

func toPayoutDTO(p mgm.Payout) payoutDTO {
	d := payoutDTO{
		ID: p.ID, TwitchUserID: p.TwitchUserID, TwitchDisplayName: p.TwitchDisplayName, CharacterName: p.CharacterName,
		GoldAmount: p.GoldAmount, EnrollmentRequestID: p.EnrollmentRequestID, Status: string(p.Status),
		CreatedAt: jsonTime(p.CreatedAt), IsRewardSentAnnouncedToChat: p.IsRewardSentAnnouncedToChat,
		UpdatedAt: jsonTime(p.UpdatedAt), AcceptedAt: timePtr(p.AcceptedAt),
	}
	if p.SpinCycleID != "" {
		id := p.SpinCycleID
		d.SpinCycleID = &id
	}
	return d
}

type rouletteStateDTO struct {
	NextSpinAt             jsonTime      `json:"nextSpinAt"`
	ServerNow              jsonTime      `json:"serverNow"`
	SpinIntervalSeconds    int           `json:"spinIntervalSeconds"`
	PoolParticipantCount   int           `json:"poolParticipantCount"`
	SpinPhase              string        `json:"spinPhase"`
	CurrentSpinCycleID     *string       `json:"currentSpinCycleId"`
	CandidateCharacterName *string       `json:"candidateCharacterName"`
	LastCycle              *lastCycleDTO `json:"lastCycle"`
	// PoolCharacterNames is additive: up to 100 names for the panel's wheel.
	PoolCharacterNames []string `json:"poolCharacterNames"`
}

type lastCycleDTO struct {
	SpinCycleID            string   `json:"spinCycleId"`
	Outcome                string   `json:"outcome"`
	WinnerCharacterName    *string  `json:"winnerCharacterName"`
	CandidateCharacterName *string  `json:"candidateCharacterName"`
	DecidedAt              jsonTime `json:"decidedAt"`
}
