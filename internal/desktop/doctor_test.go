package desktop

import (
	"encoding/json"
	"strings"
	"testing"
)

// The doctor's report goes into bug reports: it names the EBS but never
// carries the API key, in the text or the JSON.
func TestDoctorReportHasNoSecrets(t *testing.T) {
	const secret = "doctor-test-api-key-0123456789abcdef"
	r := start(t, Options{DataDir: t.TempDir(), Injector: InjectorSimulator, WoWSimURL: "http://127.0.0.1:1", NoBrowser: true})
	var v map[string]any
	if code := r.api(t, "PUT", "/api/settings", map[string]any{"ebsUrl": "http://127.0.0.1:9", "apiKey": secret, "pollIntervalSeconds": 5}, &v); code != 200 {
		t.Fatalf("settings: %d %v", code, v)
	}
	var res struct {
		OK     bool           `json:"ok"`
		Text   string         `json:"text"`
		Report map[string]any `json:"report"`
	}
	if code := r.api(t, "POST", "/api/doctor", nil, &res); code != 200 {
		t.Fatalf("doctor: %d", code)
	}
	if res.OK || !strings.Contains(res.Text, "EBS: http://127.0.0.1:9") || !strings.Contains(res.Text, "FAIL  WoW not found: ") {
		t.Fatalf("report:\n%s", res.Text)
	}
	if strings.Contains(res.Text, secret) || strings.Contains(mustJSON(t, res.Report), secret) {
		t.Fatalf("the API key is in the doctor's report:\n%s", res.Text)
	}
	if !strings.Contains(r.out.String(), "doctor: the bridge does not answer") {
		t.Errorf("the event log lacks the doctor's outcome:\n%s", r.out)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
