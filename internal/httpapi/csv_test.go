package httpapi

import "testing"

// A spreadsheet must not run an exported cell as a formula.
func TestDefuseFormula(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+1":                "'+1",
		"-2":                "'-2",
		"@SUM(A1)":          "'@SUM(A1)",
		"\tx":               "'\tx",
		"Norinn":            "Norinn",
		`{"reason":"=1"}`:   `{"reason":"=1"}`,
		"":                  "",
	} {
		if got := defuseFormula(in); got != want {
			t.Errorf("defuseFormula(%q) = %q, want %q", in, got, want)
		}
	}
}
