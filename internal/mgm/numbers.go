package mgm

import "time"

// The fixed numbers of the MVP (spec README § Fixed numbers).
const (
	// PayoutGold is the gold paid to one winner.
	PayoutGold int64 = 1000
	// CopperPerGold converts gold to the copper amounts the game's mail uses.
	CopperPerGold int64 = 10000
	// LifetimeCapGold bounds what one Twitch user can ever receive (Sent + active payouts).
	LifetimeCapGold int64 = 10000

	// SpinInterval is the production cycle length; cycles start at UTC multiples of it.
	SpinInterval = 300 * time.Second

	// PayoutExpiry is how long an active payout may wait before the sweep expires it.
	PayoutExpiry = 24 * time.Hour

	// EventSubFreshness is how far an EventSub timestamp may be from now, in either direction.
	EventSubFreshness = 10 * time.Minute
)
