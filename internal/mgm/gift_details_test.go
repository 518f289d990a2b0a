package mgm

import "testing"

// TestGiftConfirmRefusalNamesTheState: a Desktop whose confirm got through
// without its answer learns from the refusal that the gift is Completed.
func TestGiftConfirmRefusalNamesTheState(t *testing.T) {
	_, _, err := DecideGiftConfirm(GiftCompleted, true)
	e, ok := err.(*Error)
	if !ok || e.Code != CodeInvalidState || e.Details["state"] != string(GiftCompleted) {
		t.Fatalf("refusal %#v", err)
	}
}
