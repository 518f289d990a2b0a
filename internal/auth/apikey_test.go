package auth

import (
	"regexp"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

func TestAPIKeysCheck(t *testing.T) {
	keys := NewAPIKeys([]string{"first-key-0123456789abcdef", " second-key-0123456789abcdef ", "", "3"})
	if keys.Len() != 3 {
		t.Fatalf("Len = %d", keys.Len())
	}
	tests := []struct {
		name   string
		keys   APIKeys
		header string
		want   mgm.Code // "" = ok
	}{
		{"first key", keys, "first-key-0123456789abcdef", ""},
		{"second key (trimmed in config)", keys, "second-key-0123456789abcdef", ""},
		{"short key", keys, "3", ""},
		{"surrounding whitespace in header", keys, "  first-key-0123456789abcdef\t", ""},
		{"missing", keys, "", mgm.CodeUnauthorized},
		{"whitespace only", keys, " \t ", mgm.CodeUnauthorized},
		{"wrong", keys, "nope", mgm.CodeForbiddenAPIKey},
		{"prefix of a key", keys, "first-key", mgm.CodeForbiddenAPIKey},
		{"key plus suffix", keys, "first-key-0123456789abcdefX", mgm.CodeForbiddenAPIKey},
		{"case differs", keys, "FIRST-KEY-0123456789ABCDEF", mgm.CodeForbiddenAPIKey},
		{"two keys joined", keys, "first-key-0123456789abcdef,3", mgm.CodeForbiddenAPIKey},
		{"no keys configured", NewAPIKeys(nil), "anything", mgm.CodeForbiddenAPIKey},
		{"only empty keys configured", NewAPIKeys([]string{"", "  "}), "anything", mgm.CodeForbiddenAPIKey},
		{"zero value", APIKeys{}, "anything", mgm.CodeForbiddenAPIKey},
		{"no keys, missing header", APIKeys{}, "", mgm.CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.keys.Check(tt.header)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !mgm.IsCode(err, tt.want) {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	const key = "first-key-0123456789abcdef"
	fp := Fingerprint(key)
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(fp) {
		t.Fatalf("Fingerprint = %q", fp)
	}
	if Fingerprint(key) != fp || Fingerprint(" "+key+" ") != fp {
		t.Fatal("Fingerprint not stable")
	}
	if Fingerprint("other-key") == fp {
		t.Fatal("distinct keys share a fingerprint")
	}
	// sha256("abc") = ba7816bf8f01cfea…
	if got := Fingerprint("abc"); got != "ba7816bf8f01" {
		t.Fatalf("Fingerprint(abc) = %q", got)
	}
}
