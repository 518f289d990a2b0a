package synthdesktop_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/sim/synthdesktop"
	"github.com/mimirons-goldomatic/mgm/internal/testkit"
)

const key = "synthetic-desktop-key-0123456789"

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	r := testkit.Do(t, nil, http.MethodPost, url, testkit.Header(map[string]string{"Content-Type": "application/json"}), body)
	return r.Status, r.Text()
}

func lastRun(t *testing.T, base string) synthdesktop.Run {
	t.Helper()
	var r synthdesktop.Run
	testkit.Do(t, nil, http.MethodGet, base+"/last-run", nil, nil).Decode(t, &r)
	return r
}

func TestHealthAndEmptyLastRun(t *testing.T) {
	srv := httptest.NewServer(synthdesktop.New(synthdesktop.Config{BackendBaseURL: "http://127.0.0.1:1", APIKey: key}))
	defer srv.Close()
	resp, _ := http.Get(srv.URL + "/health")
	b, _ := io.ReadAll(resp.Body)
	if got := strings.TrimSpace(string(b)); got != `{"status":"healthy","component":"SyntheticDesktop"}` {
		t.Fatalf("health %s", got)
	}
	resp, _ = http.Get(srv.URL + "/last-run")
	b, _ = io.ReadAll(resp.Body)
	if got := strings.TrimSpace(string(b)); got != `{"ok":false,"steps":[],"error":null,"completedAtUtc":null}` {
		t.Fatalf("last-run %s", got)
	}
}

func TestInputErrors(t *testing.T) {
	srv := httptest.NewServer(synthdesktop.New(synthdesktop.Config{BackendBaseURL: "http://127.0.0.1:1", APIKey: key}))
	defer srv.Close()
	for _, body := range []string{`{}`, `{"payoutId":"x","characterName":"A"}`, `{"payoutId":"6a9a6b0c-3a3e-4a49-9a4f-0e6a1c1d2e3f","characterName":"  "}`, `nope`} {
		if status, got := post(t, srv.URL+"/run-sequence", body); status != http.StatusBadRequest || got != "" {
			t.Errorf("%s: %d %q", body, status, got)
		}
	}
	if r := lastRun(t, srv.URL); r.OK || r.Error == nil || *r.Error != "payoutId and characterName are required." {
		t.Fatalf("last run %+v", r)
	}
	noKey := httptest.NewServer(synthdesktop.New(synthdesktop.Config{BackendBaseURL: "http://127.0.0.1:1"}))
	defer noKey.Close()
	if status, _ := post(t, noKey.URL+"/run-sequence", `{"payoutId":"6a9a6b0c-3a3e-4a49-9a4f-0e6a1c1d2e3f","characterName":"Abc"}`); status != http.StatusInternalServerError {
		t.Fatalf("no key: %d", status)
	}
	if r := lastRun(t, noKey.URL); r.Error == nil || *r.Error != "Mgm:ApiKey is not configured." {
		t.Fatalf("no key last run %+v", r)
	}
}

// The sequence against a real EBS: three steps, then Sent; a second run on
// the same payout fails at its first step with the EBS's answer.
func TestRunSequenceAgainstEBS(t *testing.T) {
	e := ebstest.Start(t, ebstest.SQLite, map[string]string{"Mgm__ApiKey": key, "Mgm__EnableE2eHarness": "true"})
	body := []byte(`{"subscription":{"type":"channel.chat.message"},"event":{"message_id":"m1","chatter_user_id":"v1",` +
		`"chatter_user_login":"x","chatter_user_name":"X","message":{"text":"!twgold Etoehero"},"badges":[{"set_id":"subscriber"}]}}`)
	resp, err := http.Post(e.URL+"/api/twitch/eventsub", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("enroll: %v %v", resp, err)
	}
	c, _ := ebsclient.New(e.URL, key)
	id, name, err := c.PreparePendingPayout(context.Background(), "v1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(synthdesktop.New(synthdesktop.Config{BackendBaseURL: e.URL, APIKey: key}))
	defer srv.Close()
	status, out := post(t, srv.URL+"/run-sequence", `{"payoutId":"`+id+`","characterName":"`+name+`"}`)
	if status != http.StatusOK {
		t.Fatalf("run-sequence %d %s", status, out)
	}
	r := lastRun(t, srv.URL)
	names := []string{"POST confirm-acceptance", "PATCH status InProgress", "PATCH status Sent"}
	if !r.OK || r.Error != nil || r.CompletedAtUTC == nil || len(r.Steps) != 3 {
		t.Fatalf("last run %+v", r)
	}
	for i, s := range r.Steps {
		if s.Name != names[i] || s.StatusCode != 200 || !strings.Contains(s.BodySnippet, `"id":"`+id+`"`) {
			t.Errorf("step %d: %+v", i, s)
		}
	}
	if !strings.Contains(r.Steps[2].BodySnippet, `"status":"Sent"`) {
		t.Fatalf("final step %s", r.Steps[2].BodySnippet)
	}
	p, _ := c.Payout(context.Background(), id)
	if p.Status != "Sent" || p.AcceptedAt == nil {
		t.Fatalf("payout %+v", p)
	}
	status, _ = post(t, srv.URL+"/run-sequence", `{"payoutId":"`+id+`","characterName":"`+name+`"}`)
	r = lastRun(t, srv.URL)
	if status != http.StatusBadGateway || r.OK || len(r.Steps) != 1 || r.Steps[0].StatusCode != http.StatusConflict ||
		!strings.Contains(r.Steps[0].BodySnippet, "terminal_status_change_not_allowed") || r.Error == nil {
		t.Fatalf("second run: %d %+v", status, r)
	}
}
