package devpage_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/devpage"
	"github.com/mimirons-goldomatic/mgm/internal/ebs/ebstest"
)

const builtPanel = `<!doctype html>
<html lang="en">
  <head>
    <script src="https://extension-files.twitch.tv/helper/v1/twitch-ext.min.js"></script>
    <script type="module" crossorigin src="./assets/panel-abc.js"></script>
  </head>
  <body><div id="app"></div></body>
</html>
`

// fakeDist writes a minimal built panel.
func fakeDist(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "assets"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "panel.html"), []byte(builtPanel), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "config.html"), []byte(strings.Replace(builtPanel, "panel-abc", "config-abc", 1)), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "assets", "panel-abc.js"), []byte("console.log('panel')"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("not an asset"), 0o644))
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var now = time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)

func newPages(dir string) http.Handler {
	return devpage.New(devpage.Options{Dir: dir, Key: auth.DevExtensionSecret(), BroadcasterUserID: "b-1", Now: func() time.Time { return now }})
}

func TestHarnessPage(t *testing.T) {
	h := newPages(fakeDist(t))
	res, body := get(t, h, "/dev/panel?userId=e2e-viewer-1&displayName=NorinnFan&opaque=1")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<iframe id="panel"`,
		`src="/dev/panel/panel.html?displayName=NorinnFan&amp;opaque=1&amp;userId=e2e-viewer-1"`,
		`value="e2e-viewer-1"`,
		`checked`,
		`/send-chat`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("harness page lacks %q", want)
		}
	}
	// Hostile input is escaped, never echoed raw.
	_, body = get(t, h, `/dev/panel?userId=x&displayName=%3Cscript%3Ealert(1)%3C/script%3E`)
	if strings.Contains(body, "<script>alert(1)</script>") {
		t.Error("display name echoed unescaped")
	}
	// Theme and language reach the panel's URL (the stand-in helper reports them
	// through onContext); anything else is dropped.
	_, body = get(t, h, "/dev/panel?userId=v1&theme=light&language=RU")
	if !strings.Contains(body, `src="/dev/panel/panel.html?language=ru&amp;theme=light&amp;userId=v1"`) {
		t.Errorf("theme and language not passed to the panel:\n%s", body)
	}
	_, body = get(t, h, "/dev/panel?userId=v1&theme=%22x&language=de")
	if !strings.Contains(body, `src="/dev/panel/panel.html?userId=v1"`) {
		t.Error("unknown theme or language passed to the panel")
	}
	// A bad viewer id falls back to the default.
	_, body = get(t, h, "/dev/panel?userId=%22%3E%3Cb%3E")
	if !strings.Contains(body, `value="dev-viewer-1"`) {
		t.Error("invalid userId not replaced by the default")
	}
}

func TestBuiltPanelIsServedWithTheStandInHelper(t *testing.T) {
	h := newPages(fakeDist(t))
	res, body := get(t, h, "/dev/panel/panel.html?userId=42")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if strings.Contains(body, "extension-files.twitch.tv") {
		t.Error("Twitch's helper is still referenced")
	}
	if !strings.Contains(body, `<script src="./twitch-ext-dev.js"></script>`) || !strings.Contains(body, "./assets/panel-abc.js") {
		t.Errorf("unexpected page:\n%s", body)
	}
	if _, body := get(t, h, "/dev/panel/config.html"); !strings.Contains(body, "twitch-ext-dev.js") {
		t.Error("config.html lacks the stand-in helper")
	}

	res, js := get(t, h, "/dev/panel/twitch-ext-dev.js")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("helper: status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{"window.Twitch.ext = ext", "onAuthorized", "requestIdShare", "mgmDevEbsUrl", "/token"} {
		if !strings.Contains(js, want) {
			t.Errorf("helper lacks %q", want)
		}
	}

	res, asset := get(t, h, "/dev/panel/assets/panel-abc.js")
	if res.StatusCode != 200 || asset != "console.log('panel')" || !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
		t.Errorf("asset: status %d, type %q, body %q", res.StatusCode, res.Header.Get("Content-Type"), asset)
	}
	for _, bad := range []string{"/dev/panel/assets/../secret.txt", "/dev/panel/assets/%2e%2e/secret.txt", "/dev/panel/assets/", "/dev/panel/assets/missing.js", "/dev/nope"} {
		if res, _ := get(t, h, bad); res.StatusCode == 200 {
			t.Errorf("%s: served (status %d)", bad, res.StatusCode)
		}
	}
}

func TestMissingBuildSaysHowToBuild(t *testing.T) {
	h := newPages(filepath.Join(t.TempDir(), "nowhere"))
	res, body := get(t, h, "/dev/panel")
	if res.StatusCode != 200 || !strings.Contains(body, "npm ci &amp;&amp; npm run build") || strings.Contains(body, "<iframe") {
		t.Errorf("status %d, body:\n%s", res.StatusCode, body)
	}
	res, body = get(t, h, "/dev/panel/panel.html")
	if res.StatusCode != 404 || !strings.Contains(body, "npm run build") {
		t.Errorf("panel.html without a build: status %d, body:\n%s", res.StatusCode, body)
	}
}

type tokenBody struct {
	Token            string  `json:"token"`
	UserID           *string `json:"userId"`
	OpaqueUserID     string  `json:"opaqueUserId"`
	ChannelID        string  `json:"channelId"`
	ExpiresAt        string  `json:"expiresAt"`
	ExpiresInSeconds int     `json:"expiresInSeconds"`
}

func token(t *testing.T, h http.Handler, query string) (int, tokenBody) {
	t.Helper()
	res, body := get(t, h, "/dev/token?"+query)
	var tb tokenBody
	if res.StatusCode == 200 {
		must(t, json.Unmarshal([]byte(body), &tb))
	}
	return res.StatusCode, tb
}

func TestTokenVerifiesWithTheViewerVerifier(t *testing.T) {
	h := newPages(fakeDist(t))
	v := &auth.ViewerVerifier{Key: auth.DevExtensionSecret(), BroadcasterUserID: "b-1", Now: func() time.Time { return now }}

	status, tb := token(t, h, "userId=e2e-viewer-1&displayName=NorinnFan")
	if status != 200 || tb.UserID == nil || *tb.UserID != "e2e-viewer-1" || tb.ChannelID != "b-1" || tb.ExpiresInSeconds != 3600 {
		t.Fatalf("status %d, body %+v", status, tb)
	}
	c, err := v.Verify(tb.Token)
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	if c.UserID != "e2e-viewer-1" || c.OpaqueUserID != "Ue2e-viewer-1" || c.ChannelID != "b-1" || c.Role != "viewer" || c.DisplayName != "NorinnFan" {
		t.Errorf("claims %+v", c)
	}
	if tb.ExpiresAt != "2026-04-04T13:00:00.000Z" {
		t.Errorf("expiresAt %q", tb.ExpiresAt)
	}

	status, tb = token(t, h, "userId=e2e-viewer-2&opaque=true")
	if status != 200 || tb.UserID != nil || tb.OpaqueUserID != "Ue2e-viewer-2" {
		t.Fatalf("opaque: status %d, body %+v", status, tb)
	}
	c, err = v.Verify(tb.Token)
	if err != nil || c.HasIdentity() || c.OpaqueUserID != "Ue2e-viewer-2" {
		t.Errorf("opaque claims %+v, err %v", c, err)
	}

	if _, tb = token(t, h, "userId=x&anonymous=true"); tb.OpaqueUserID != "Ax" || tb.UserID != nil {
		t.Errorf("anonymous: %+v", tb)
	}

	// Another key (a production secret) does not accept it.
	other := &auth.ViewerVerifier{Key: []byte("another key entirely, 32 bytes!"), Now: func() time.Time { return now }}
	if _, err := other.Verify(tb.Token); err == nil {
		t.Error("token verified with a different key")
	}
	for _, bad := range []string{"", "userId=", "userId=a%20b", "userId=" + strings.Repeat("x", 65)} {
		if status, _ := token(t, h, bad); status != 400 {
			t.Errorf("%q: status %d, want 400", bad, status)
		}
	}
}

func TestForConfigOnlyInDevelopment(t *testing.T) {
	env := func(string) string { return "" }
	if devpage.ForConfig(config.Config{Environment: config.Production}, auth.DevExtensionSecret(), env) != nil {
		t.Error("dev pages exist in Production")
	}
	if devpage.ForConfig(config.Config{Environment: config.Development}, auth.DevExtensionSecret(), env) == nil {
		t.Error("no dev pages in Development")
	}
	if got := devpage.DirFromEnv(func(k string) string { return map[string]string{"Mgm__DevPanelDir": " /x/dist "}[k] }); got != "/x/dist" {
		t.Errorf("DirFromEnv = %q", got)
	}
	if got := devpage.DirFromEnv(env); got != devpage.DefaultDir {
		t.Errorf("DirFromEnv default = %q", got)
	}
}

// The wiring in internal/ebs: a real EBS serves the pages in Development and
// answers 404 (standard error shape) in Production.
func TestEBSServesDevPagesOnlyInDevelopment(t *testing.T) {
	t.Setenv(devpage.DirKey, fakeDist(t))
	dev := ebstest.Start(t, ebstest.SQLite, map[string]string{"Twitch__BroadcasterUserId": "b-1"})
	if !strings.Contains(dev.Output(), "/dev/panel") {
		t.Errorf("banner does not mention the dev page:\n%s", dev.Output())
	}
	res := httpGet(t, dev.URL+"/dev/panel?userId=42")
	if res.StatusCode != 200 {
		t.Fatalf("Development /dev/panel: %d", res.StatusCode)
	}
	res = httpGet(t, dev.URL+"/dev/token?userId=42")
	var tb tokenBody
	must(t, json.NewDecoder(res.Body).Decode(&tb))
	// The minted token is accepted by the EBS's own viewer routes.
	req, _ := http.NewRequest(http.MethodGet, dev.URL+"/api/pool/me", nil)
	req.Header.Set("Authorization", "Bearer "+tb.Token)
	me, err := http.DefaultClient.Do(req)
	must(t, err)
	me.Body.Close()
	if me.StatusCode != 200 {
		t.Errorf("EBS refused the dev token: %d", me.StatusCode)
	}

	prod := ebstest.Start(t, ebstest.SQLite, map[string]string{
		"Mgm__Environment": "Production", "Twitch__ExtensionSecret": "k3J8Jf1w0H5m2Qe7sV9nXc4Lr6Tb1Ya8Zu0Pd2Og5Ei=",
		"Twitch__EventSubSecret": "eventsub-secret-1234", "Mgm__ApiKey": "a-production-api-key-of-24+chars",
	})
	for _, p := range []string{"/dev/panel", "/dev/token?userId=42", "/dev/panel/panel.html"} {
		res := httpGet(t, prod.URL+p)
		var body struct {
			Code string `json:"code"`
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		if res.StatusCode != 404 || body.Code != "not_found" {
			t.Errorf("Production %s: %d %q, want 404 not_found", p, res.StatusCode, body.Code)
		}
	}
}

func httpGet(t *testing.T, url string) *http.Response {
	t.Helper()
	res, err := http.Get(url)
	must(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}
