package ebs_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/ebs"
)

// A newcomer trying the gift queue in Development needs no broadcaster id:
// chat's !twgift and the Desktop's queue meet at the development one, which
// the banner names, and nothing switches the EBS to Production.
func TestDevelopmentGiftQueueWithoutBroadcaster(t *testing.T) {
	dir := t.TempDir()
	r := start(t, map[string]string{"Mgm__DataDir": dir})
	out := r.out.String()
	for _, want := range []string{"— Development mode (no Production setting is set)", `Gift queue: development broadcaster id "dev-channel"`} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	body := `{"subscription": {"type": "channel.chat.message"},
	  "event": {"message_id": "gift-1", "chatter_user_id": "42", "chatter_user_login": "norinnfan", "chatter_user_name": "NorinnFan",
	            "message": {"text": "!twgift Norinn"}, "badges": [{"set_id": "subscriber", "id": "0", "info": "1"}]}}`
	resp, err := http.Post(r.base+"/api/twitch/eventsub", "application/json", bytes.NewReader([]byte(body)))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("eventsub: %v %v", resp, err)
	}
	resp.Body.Close()
	key, err := os.ReadFile(filepath.Join(dir, ebs.APIKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, r.base+"/api/gift-requests", nil)
	req.Header.Set("X-MGM-ApiKey", strings.TrimSpace(string(key)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(b.String(), "Norinn") || !strings.Contains(b.String(), "dev-channel") {
		t.Fatalf("gift queue: %d %s", resp.StatusCode, b.String())
	}
}
