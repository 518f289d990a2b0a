package config

import (
	"os"
	"strings"
	"testing"
)

const (
	readmePath  = "../../README.md"
	readmeBegin = "<!-- settings:begin -->\n"
	readmeEnd   = "<!-- settings:end -->"
)

// TestREADMESettingsTable keeps the README's settings table what the settings
// table renders. MGM_UPDATE_README=1 rewrites it instead of failing.
func TestREADMESettingsTable(t *testing.T) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	before, rest, ok := strings.Cut(readme, readmeBegin)
	if !ok {
		t.Fatalf("%s has no %q marker", readmePath, strings.TrimSpace(readmeBegin))
	}
	current, after, ok := strings.Cut(rest, readmeEnd)
	if !ok {
		t.Fatalf("%s has no %q marker", readmePath, readmeEnd)
	}
	want := options().Markdown()
	if current == want {
		return
	}
	if os.Getenv("MGM_UPDATE_README") != "" {
		if err := os.WriteFile(readmePath, []byte(before+readmeBegin+want+readmeEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the settings table in %s", readmePath)
		return
	}
	t.Errorf("the settings table in %s is out of date; run MGM_UPDATE_README=1 go test ./internal/config -run TestREADMESettingsTable\nwant:\n%s", readmePath, want)
}
