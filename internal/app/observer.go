package app

// Observer is told about what the use cases did, for metrics. Methods must be
// cheap and must not block.
type Observer interface {
	SpinCycleDecided(outcome string)
	PayoutTransition(from, to string)
	// GiftTransition: a gift request changed state (from "" = created).
	GiftTransition(from, to string)
	HelixCall(outcome string)
	SweepRun(sweep string, changed int)
	// IngestGroup: a group commit of chat lines (see ingestBatcher) committed.
	IngestGroup(lines int)
}

type nopObserver struct{}

func (nopObserver) SpinCycleDecided(string)         {}
func (nopObserver) PayoutTransition(string, string) {}
func (nopObserver) GiftTransition(string, string)   {}
func (nopObserver) HelixCall(string)                {}
func (nopObserver) SweepRun(string, int)            {}
func (nopObserver) IngestGroup(int)                 {}
