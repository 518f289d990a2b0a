package mgm

import (
	"strings"
	"time"
)

// PayoutStatus is where a payout is in its lifecycle.
type PayoutStatus string

const (
	PayoutPending    PayoutStatus = "Pending"
	PayoutInProgress PayoutStatus = "InProgress"
	PayoutSent       PayoutStatus = "Sent"
	PayoutFailed     PayoutStatus = "Failed"
	PayoutCancelled  PayoutStatus = "Cancelled"
	PayoutExpired    PayoutStatus = "Expired"
)

var payoutStatuses = []PayoutStatus{PayoutPending, PayoutInProgress, PayoutSent, PayoutFailed, PayoutCancelled, PayoutExpired}

// ParsePayoutStatus reads a status case-insensitively ("inProgress", "SENT"), as
// the predecessor's clients send them.
func ParsePayoutStatus(s string) (PayoutStatus, bool) {
	s = strings.TrimSpace(s)
	for _, st := range payoutStatuses {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

// Active reports whether the payout still owes gold (Pending or InProgress).
func (s PayoutStatus) Active() bool { return s == PayoutPending || s == PayoutInProgress }

// ActivePayoutStatuses are the statuses that count as active.
var ActivePayoutStatuses = []PayoutStatus{PayoutPending, PayoutInProgress}

// Payout is the record of gold owed to one winner.
type Payout struct {
	ID                          string
	TwitchUserID                string
	TwitchDisplayName           string
	CharacterName               string
	GoldAmount                  int64
	EnrollmentRequestID         string
	Status                      PayoutStatus
	CreatedAt                   time.Time
	UpdatedAt                   time.Time
	AcceptedAt                  *time.Time
	SpinCycleID                 string
	IsRewardSentAnnouncedToChat bool
}
