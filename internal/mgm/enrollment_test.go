package mgm

import "testing"

func TestDecideEnrollmentOrder(t *testing.T) {
	ok := EnrollmentFacts{IsSubscriber: true}
	with := func(f func(*EnrollmentFacts)) EnrollmentFacts { x := ok; f(&x); return x }
	cases := []struct {
		name       string
		viewer     string
		raw        string
		facts      EnrollmentFacts
		wantCode   Code
		wantName   string
		wantAction EnrollmentAction
	}{
		{"new member", "u1", "Norinn", ok, "", "Norinn", EnrollNew},
		{"trimmed", "u1", "  Norinn\t", ok, "", "Norinn", EnrollNew},
		{"Cyrillic", "u1", "Тралл", ok, "", "Тралл", EnrollNew},
		// Each check wins over every later one.
		{"not subscriber beats everything", "u1", "1bad", EnrollmentFacts{HasActivePayout: true, CommittedGold: 10000, NameHolderID: "u2"}, CodeNotSubscriber, "", 0},
		{"bad name beats active payout", "u1", "1bad", with(func(f *EnrollmentFacts) { f.HasActivePayout = true }), CodeInvalidCharacterName, "", 0},
		{"too short", "u1", "A", ok, CodeInvalidCharacterName, "", 0},
		{"digits", "u1", "Ab12", ok, CodeInvalidCharacterName, "", 0},
		{"empty", "u1", "   ", ok, CodeInvalidCharacterName, "", 0},
		{"active payout beats cap", "u1", "Norinn", with(func(f *EnrollmentFacts) { f.HasActivePayout = true; f.CommittedGold = 10000 }), CodeActivePayoutExists, "", 0},
		{"cap beats taken name", "u1", "Norinn", with(func(f *EnrollmentFacts) { f.CommittedGold = 9001; f.NameHolderID = "u2" }), CodeLifetimeCapReached, "", 0},
		{"exactly at the cap after this win is allowed", "u1", "Norinn", with(func(f *EnrollmentFacts) { f.CommittedGold = 9000 }), "", "Norinn", EnrollNew},
		{"cap reached", "u1", "Norinn", with(func(f *EnrollmentFacts) { f.CommittedGold = 10000 }), CodeLifetimeCapReached, "", 0},
		{"name held by another viewer", "u1", "Norinn", with(func(f *EnrollmentFacts) { f.NameHolderID = "u2" }), CodeCharacterNameTakenInPool, "", 0},
		{"name held by the viewer", "u1", "Norinn", with(func(f *EnrollmentFacts) { f.NameHolderID = "u1"; f.CurrentName = "Norinn" }), "", "Norinn", EnrollUnchanged},
		{"case change is a rename", "u1", "NORINN", with(func(f *EnrollmentFacts) { f.NameHolderID = "u1"; f.CurrentName = "Norinn" }), "", "NORINN", EnrollRename},
		{"new name replaces the old", "u1", "Jaina", with(func(f *EnrollmentFacts) { f.CurrentName = "Norinn" }), "", "Jaina", EnrollRename},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name, action, err := DecideEnrollment(c.viewer, c.raw, c.facts)
			if c.wantCode != "" {
				if ErrorCode(err) != c.wantCode {
					t.Fatalf("error %v, want code %s", err, c.wantCode)
				}
				return
			}
			if err != nil || name != c.wantName || action != c.wantAction {
				t.Fatalf("got (%q, %v, %v), want (%q, %v)", name, action, err, c.wantName, c.wantAction)
			}
		})
	}
}

func TestParsePayoutStatus(t *testing.T) {
	for in, want := range map[string]PayoutStatus{
		"Pending": PayoutPending, "inProgress": PayoutInProgress, "SENT": PayoutSent, " failed ": PayoutFailed,
		"cancelled": PayoutCancelled, "Expired": PayoutExpired,
	} {
		if got, ok := ParsePayoutStatus(in); !ok || got != want {
			t.Errorf("ParsePayoutStatus(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "0", "Done", "In Progress"} {
		if _, ok := ParsePayoutStatus(in); ok {
			t.Errorf("ParsePayoutStatus(%q) accepted", in)
		}
	}
}
