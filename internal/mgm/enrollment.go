package mgm

// EnrollmentFacts is what storage knew about a viewer, inside the enrolling
// transaction, when an enrollment is decided.
type EnrollmentFacts struct {
	IsSubscriber bool
	// HasActivePayout: the viewer has a Pending or InProgress payout.
	HasActivePayout bool
	// CommittedGold is the viewer's Sent plus active payout gold.
	CommittedGold int64
	// NameHolderID is the Twitch user id whose pool row holds the requested name
	// (compared case-insensitively), or "" when nobody holds it.
	NameHolderID string
	// CurrentName is the viewer's own pool name, or "" when not enrolled.
	CurrentName string
	// Banned: the streamer banned the viewer (the bans table).
	Banned bool
	// Entry is the channel's rule for who may enter; the zero rule is
	// subscribers only. It is the caller's to fill in, like IsSubscriber.
	Entry EntryRule
}

// EnrollmentAction says what an accepted enrollment does to the pool.
type EnrollmentAction int

const (
	// EnrollNew adds a pool row for a viewer who had none.
	EnrollNew EnrollmentAction = iota + 1
	// EnrollRename replaces the viewer's name (freeing the old one).
	EnrollRename
	// EnrollUnchanged: the viewer is already in the pool under exactly this name.
	EnrollUnchanged
)

// DecideEnrollment applies the enrollment checks of rules.md in their order
// (after deduplication, which storage does): entry rule (subscriber), name,
// ban, active payout, lifetime cap, name held by another viewer. The ban
// comes after the checks that need no stored facts, so that a group commit
// can refuse those lines before it reads anything (app's writeBatch). It returns the trimmed name to
// store and what to do with it, or the domain error of the first failed check.
func DecideEnrollment(viewerID, rawName string, f EnrollmentFacts) (string, EnrollmentAction, error) {
	if !f.Entry.Admits(f.IsSubscriber) {
		return "", 0, Errorf(CodeNotSubscriber, "Only subscribers can join the pool.")
	}
	name, err := ValidateCharacterName(rawName)
	if err != nil {
		return "", 0, err
	}
	if f.Banned {
		return "", 0, Errorf(CodeBanned, "The streamer has banned you from the giveaway.")
	}
	if f.HasActivePayout {
		return "", 0, Errorf(CodeActivePayoutExists, "You already have a payout in progress.")
	}
	if f.CommittedGold+PayoutGold > LifetimeCapGold {
		return "", 0, Errorf(CodeLifetimeCapReached, "Lifetime cap of %d gold reached.", LifetimeCapGold)
	}
	if f.NameHolderID != "" && f.NameHolderID != viewerID {
		return "", 0, Errorf(CodeCharacterNameTakenInPool, "Character name is taken by another viewer.")
	}
	switch {
	case f.CurrentName == "":
		return name, EnrollNew, nil
	case f.CurrentName == name:
		return name, EnrollUnchanged, nil
	default:
		return name, EnrollRename, nil
	}
}
