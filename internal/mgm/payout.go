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

// Terminal reports whether no further change is possible.
func (s PayoutStatus) Terminal() bool { return !s.Active() }

// allowedTransitions is the PATCH table of rules.md. Expired is reachable only
// through the sweep, never through PATCH.
var allowedTransitions = map[PayoutStatus][]PayoutStatus{
	PayoutPending:    {PayoutInProgress, PayoutCancelled, PayoutFailed},
	PayoutInProgress: {PayoutSent, PayoutCancelled, PayoutFailed, PayoutPending},
}

// CheckTransition decides a requested status change. The same status again is
// a no-op success (log replays are harmless); anything off the table is refused.
func CheckTransition(from, to PayoutStatus) (noop bool, err error) {
	if from == to {
		return true, nil
	}
	for _, ok := range allowedTransitions[from] {
		if ok == to {
			return false, nil
		}
	}
	return false, Errorf(CodeTerminalStatusChange, "A payout cannot go from %s to %s.", from, to)
}

// RewardLine is the normative chat line announcing a sent reward.
func RewardLine(characterName string) string {
	return "Награда отправлена персонажу " + characterName + " на почту, проверяй ящик!"
}
