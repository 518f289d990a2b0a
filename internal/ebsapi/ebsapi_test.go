package ebsapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

// The EBS writes one layout; clients read any RFC 3339 time.
func TestTimeWireForm(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 890_123_456, time.FixedZone("MSK", 3*3600))
	b, err := json.Marshal(struct {
		At  ebsapi.Time  `json:"at"`
		Nil *ebsapi.Time `json:"nil"`
	}{ebsapi.At(at), ebsapi.AtPtr(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"at":"2025-03-04T02:06:07.890Z","nil":null}`; got != want {
		t.Fatalf("marshal %s, want %s", got, want)
	}
	for _, in := range []string{`"2025-03-04T02:06:07.890Z"`, `"2025-03-04T05:06:07.89+03:00"`} {
		var got ebsapi.Time
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !got.Equal(at.Truncate(time.Millisecond)) || got.String() != "2025-03-04T02:06:07.890Z" {
			t.Fatalf("%s read as %v", in, got)
		}
	}
	var p struct{ At *ebsapi.Time }
	if err := json.Unmarshal([]byte(`{"At":null}`), &p); err != nil || p.At != nil {
		t.Fatalf("null: %v %v", p.At, err)
	}
	var bad ebsapi.Time
	if err := json.Unmarshal([]byte(`"yesterday"`), &bad); err == nil {
		t.Fatal("a non-RFC 3339 time was accepted")
	}
}
