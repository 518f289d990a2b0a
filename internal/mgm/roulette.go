package mgm

import (
	"strings"
	"time"
)

// Phase is what the roulette is doing, as the panel shows it.
type Phase string

const (
	PhaseIdle         Phase = "idle"
	PhaseCollecting   Phase = "collecting"
	PhaseSpinning     Phase = "spinning"
	PhaseVerification Phase = "verification"
	PhaseCompleted    Phase = "completed"
)

// CycleOutcome is how a spin cycle ended.
type CycleOutcome string

const (
	OutcomeUndecided      CycleOutcome = ""
	OutcomeWinner         CycleOutcome = "winner"
	OutcomeNoWinner       CycleOutcome = "no_winner"
	OutcomeNoParticipants CycleOutcome = "no_participants"
)

// Schedule places the moments of a cycle. Production uses 300 s; a shorter
// development interval scales every phase with it (80 % collecting, 10 %
// spinning, 10 % verification, then 10 % grace for a late report).
type Schedule struct{ Interval time.Duration }

func (s Schedule) part(tenths int64) time.Duration {
	return time.Duration(int64(s.Interval) * tenths / 10)
}

// Start is the start of the cycle containing t.
func (s Schedule) Start(t time.Time) time.Time { return CycleStart(t, s.Interval) }

// DrawAt is when the candidate is drawn (240 s).
func (s Schedule) DrawAt(start time.Time) time.Time { return start.Add(s.part(8)) }

// VerifyAt is when spinning ends and verification begins (270 s).
func (s Schedule) VerifyAt(start time.Time) time.Time { return start.Add(s.part(9)) }

// End is the next cycle's start (300 s).
func (s Schedule) End(start time.Time) time.Time { return start.Add(s.Interval) }

// ReportDeadline is the end of the grace for a late /who report (330 s),
// exclusive: a report at exactly this instant is too late.
func (s Schedule) ReportDeadline(start time.Time) time.Time { return start.Add(s.ReportWindow()) }

// ReportWindow is how long after its start a cycle accepts its report.
func (s Schedule) ReportWindow() time.Duration { return s.part(11) }

// Candidate is the pool member drawn in a cycle.
type Candidate struct {
	TwitchUserID      string
	TwitchDisplayName string
	CharacterName     string
}

// SpinCycle is one window of the roulette.
type SpinCycle struct {
	ID        string
	Start     time.Time
	Candidate *Candidate
	DrawnAt   *time.Time
	Outcome   CycleOutcome
	PayoutID  string
	DecidedAt *time.Time
	// Commitment is the hex SHA-256 of the cycle's secret draw seed,
	// published before the draw ("" for cycles created before draws were
	// committed). The seed itself is never part of the cycle.
	Commitment string
}

// Decided reports whether the cycle's outcome is known.
func (c *SpinCycle) Decided() bool { return c != nil && c.Outcome != OutcomeUndecided }

// Phase computes what the panel shows at now, from the cycle of the current
// window (nil if none exists yet) and the pool size.
func (s Schedule) Phase(now time.Time, current *SpinCycle, poolCount int) Phase {
	if current == nil || !current.Start.Equal(s.Start(now)) {
		if poolCount == 0 {
			return PhaseIdle
		}
		return PhaseCollecting // the window's cycle is about to be created
	}
	switch {
	case current.Candidate != nil && current.Decided():
		return PhaseCompleted
	case current.Candidate != nil && now.Before(s.VerifyAt(current.Start)):
		return PhaseSpinning
	case current.Candidate != nil:
		return PhaseVerification
	case current.Outcome == OutcomeNoParticipants && poolCount > 0:
		return PhaseCompleted
	case poolCount == 0:
		return PhaseIdle
	default:
		// Before the draw, or in the instant between the draw moment and the tick that performs it.
		return PhaseCollecting
	}
}

// Eligible reports whether a pool member may be drawn: no active payout and
// room under the lifetime cap for one more win.
func Eligible(hasActivePayout bool, committedGold int64) bool {
	return !hasActivePayout && committedGold+PayoutGold <= LifetimeCapGold
}

// WhoReport is the addon's /who result as the Desktop forwards it.
type WhoReport struct {
	SchemaVersion int
	SpinCycleID   string
	CharacterName string
	Online        bool
}

// VerifyAction is what a valid report does.
type VerifyAction int

const (
	// VerifyRepeat: the outcome is already decided; answer it again.
	VerifyRepeat VerifyAction = iota + 1
	// VerifyNoWinner: the candidate is offline.
	VerifyNoWinner
	// VerifyWinner: the candidate is online; create the payout.
	VerifyWinner
)

// DecideVerify applies the verify-candidate checks of rules.md in order. c is
// the cycle the report names (nil when unknown).
func (s Schedule) DecideVerify(now time.Time, r WhoReport, c *SpinCycle) (VerifyAction, error) {
	if r.SchemaVersion != 1 {
		return 0, Errorf(CodeInvalidPayload, "schemaVersion must be 1.")
	}
	if _, err := ValidateCharacterName(r.CharacterName); err != nil {
		return 0, err
	}
	if c == nil || now.Before(c.Start) || !now.Before(s.ReportDeadline(c.Start)) {
		return 0, Errorf(CodeOutOfSequence, "spinCycleId is not the current cycle or its report window has closed.")
	}
	if c.Candidate == nil || !SameCharacterName(c.Candidate.CharacterName, r.CharacterName) {
		return 0, Errorf(CodeOutOfSequence, "characterName is not this cycle's candidate.")
	}
	if c.Decided() {
		return VerifyRepeat, nil
	}
	if !r.Online {
		return VerifyNoWinner, nil
	}
	return VerifyWinner, nil
}

// SpinEnrollmentID is the enrollmentRequestId of a payout won in a cycle.
func SpinEnrollmentID(cycleID string) string {
	return "spin:" + strings.ToLower(strings.ReplaceAll(cycleID, "-", ""))
}
