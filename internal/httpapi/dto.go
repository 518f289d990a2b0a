package httpapi

import (
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

func toPayoutDTO(p mgm.Payout) ebsapi.Payout {
	return ebsapi.Payout{
		ID: p.ID, TwitchUserID: p.TwitchUserID, TwitchDisplayName: p.TwitchDisplayName, CharacterName: p.CharacterName,
		GoldAmount: p.GoldAmount, EnrollmentRequestID: p.EnrollmentRequestID, Status: p.Status,
		CreatedAt: ebsapi.At(p.CreatedAt), IsRewardSentAnnouncedToChat: p.IsRewardSentAnnouncedToChat,
		UpdatedAt: ebsapi.At(p.UpdatedAt), AcceptedAt: ebsapi.AtPtr(p.AcceptedAt), SpinCycleID: nullable(p.SpinCycleID),
	}
}
