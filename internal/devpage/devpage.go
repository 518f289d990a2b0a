// Package devpage serves the EBS's development pages: the built Twitch
// Extension panel hosted with a stand-in for Twitch's extension helper, and
// the development viewer tokens it uses, so that the whole panel can be tried
// on a laptop without Twitch. It is mounted under /dev/ in Development only;
// in Production the routes do not exist (404).
package devpage

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/auth"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/serve"
)

const (
	// DirKey names the setting that locates the built panel.
	DirKey = "Mgm__DevPanelDir"
	// DefaultDir is the build output of extension/, relative to the working directory.
	DefaultDir = "extension/dist"
	// TokenLifetime is how long a development token lives (the fake helper refreshes it).
	TokenLifetime = time.Hour
	// DefaultChannelID is the channel_id of tokens when no broadcaster is
	// configured: the development broadcaster, so the panel's gifts join the
	// queue the Desktop reads.
	DefaultChannelID = config.DevBroadcaster

	fakeHelperName = "twitch-ext-dev.js"
)

//go:embed twitch-ext-dev.js
var fakeHelper []byte

// helperTag matches Twitch's helper script tag in the built HTML.
var helperTag = regexp.MustCompile(`<script[^>]*\bsrc="https://extension-files\.twitch\.tv/helper/[^"]*"[^>]*>\s*</script>`)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Options configure the pages.
type Options struct {
	// Dir holds the built panel (panel.html, config.html, assets/).
	Dir string
	// Key signs the viewer tokens: the EBS's extension key (development key when none is configured).
	Key []byte
	// BroadcasterUserID becomes the tokens' channel_id (DefaultChannelID when empty).
	BroadcasterUserID string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DirFromEnv returns the panel directory setting (DirKey, also in capitals), or DefaultDir.
func DirFromEnv(getenv func(string) string) string {
	for _, k := range []string{DirKey, strings.ToUpper(DirKey)} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
	}
	return DefaultDir
}

// ForConfig returns the pages for a Development configuration and nil
// otherwise, so that nothing is mounted in Production.
func ForConfig(cfg config.Config, key []byte, getenv func(string) string) http.Handler {
	if !cfg.Development() {
		return nil
	}
	return New(Options{Dir: DirFromEnv(getenv), Key: key, BroadcasterUserID: cfg.BroadcasterUserID})
}

type pages struct {
	o   Options
	mux *http.ServeMux
}

// New builds the handler for GET /dev/panel, /dev/panel/{panel,config}.html,
// /dev/panel/assets/…, /dev/panel/twitch-ext-dev.js and /dev/token.
func New(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	p := &pages{o: o, mux: http.NewServeMux()}
	p.mux.HandleFunc("GET /dev/panel", p.harness)
	p.mux.HandleFunc("GET /dev/panel/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dev/panel", http.StatusFound)
	})
	p.mux.HandleFunc("GET /dev/panel/panel.html", p.html("panel.html"))
	p.mux.HandleFunc("GET /dev/panel/config.html", p.html("config.html"))
	p.mux.HandleFunc("GET /dev/panel/"+fakeHelperName, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(fakeHelper)
	})
	p.mux.HandleFunc("GET /dev/panel/assets/{file...}", p.asset)
	p.mux.HandleFunc("GET /dev/token", p.token)
	return p
}

func (p *pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := p.mux.Handler(r); pattern == "" {
		writeError(w, http.StatusNotFound, "not_found", "No such development page; try /dev/panel.")
		return
	}
	p.mux.ServeHTTP(w, r)
}

func (p *pages) absDir() string {
	if abs, err := filepath.Abs(p.o.Dir); err == nil {
		return abs
	}
	return p.o.Dir
}

func (p *pages) built() bool { return Built(p.o.Dir) }

// viewerQuery is the viewer picked in the harness form, and how Twitch
// presents the panel to them (theme, language).
type viewerQuery struct {
	UserID      string
	DisplayName string
	Opaque      bool
	Theme       string
	Language    string
}

func readViewer(q url.Values) viewerQuery {
	v := viewerQuery{UserID: strings.TrimSpace(q.Get("userId")), DisplayName: strings.TrimSpace(q.Get("displayName"))}
	if !idPattern.MatchString(v.UserID) {
		v.UserID = "dev-viewer-1"
	}
	if len(v.DisplayName) > 64 {
		v.DisplayName = v.DisplayName[:64]
	}
	v.Opaque = truthy(q.Get("opaque"))
	if q.Get("theme") == "light" {
		v.Theme = "light"
	}
	if l := strings.ToLower(strings.TrimSpace(q.Get("language"))); l == "ru" || l == "en" {
		v.Language = l
	}
	return v
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

func (v viewerQuery) panelURL() string {
	q := url.Values{"userId": {v.UserID}}
	if v.DisplayName != "" {
		q.Set("displayName", v.DisplayName)
	}
	if v.Opaque {
		q.Set("opaque", "1")
	}
	// The stand-in helper reports these through onContext; Twitch also puts
	// the language on the panel's URL.
	if v.Theme != "" {
		q.Set("theme", v.Theme)
	}
	if v.Language != "" {
		q.Set("language", v.Language)
	}
	return "/dev/panel/panel.html?" + q.Encode()
}

func (p *pages) harness(w http.ResponseWriter, r *http.Request) {
	v := readViewer(r.URL.Query())
	login := strings.ToLower(v.DisplayName)
	if login == "" {
		login = "viewer_" + strings.ToLower(v.UserID)
	}
	send := map[string]any{"userId": v.UserID, "login": login, "text": "!twgold Norinn", "subscriber": true}
	if v.DisplayName != "" {
		send["displayName"] = v.DisplayName
	}
	chat, _ := json.Marshal(send)
	data := map[string]any{
		"Viewer":    v,
		"PanelURL":  v.panelURL(),
		"Built":     p.built(),
		"Dir":       p.absDir(),
		"Channel":   p.channel(),
		"ChatJSON":  string(chat),
		"EventSub":  eventSubExample(v, login, p.o.Now()),
		"ConfigURL": "/dev/panel/config.html?" + url.Values{"userId": {v.UserID}}.Encode(),
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := harnessPage.Execute(w, data); err != nil {
		// Headers are gone; nothing more to say to the client.
		return
	}
}

// eventSubExample is an unsigned chat notification; its message id is new
// on every page load because the EBS ignores a message id it has seen.
func eventSubExample(v viewerQuery, login string, now time.Time) string {
	name := v.DisplayName
	if name == "" {
		name = login
	}
	b, _ := json.Marshal(map[string]any{
		"subscription": map[string]string{"type": "channel.chat.message"},
		"event": map[string]any{
			"message_id": fmt.Sprintf("dev-%s-%d", v.UserID, now.UnixMilli()), "chatter_user_id": v.UserID, "chatter_user_login": login,
			"chatter_user_name": name, "message": map[string]string{"text": "!twgold Norinn"},
			"badges": []map[string]string{{"set_id": "subscriber", "id": "0", "info": "1"}},
		},
	})
	return string(b)
}

func (p *pages) channel() string {
	if p.o.BroadcasterUserID != "" {
		return p.o.BroadcasterUserID
	}
	return DefaultChannelID
}

func (p *pages) notBuilt(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_ = notBuiltPage.Execute(w, map[string]string{"Dir": p.absDir()})
}

// html serves a built page with Twitch's helper replaced by the stand-in.
func (p *pages) html(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(filepath.Join(p.o.Dir, name))
		if err != nil {
			p.notBuilt(w)
			return
		}
		out := helperTag.ReplaceAll(b, []byte(`<script src="./`+fakeHelperName+`"></script>`))
		if !strings.Contains(string(out), fakeHelperName) {
			// A build without the helper tag still gets the stand-in, first thing in <head>.
			out = []byte(strings.Replace(string(out), "<head>", `<head><script src="./`+fakeHelperName+`"></script>`, 1))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(out)
	}
}

func (p *pages) asset(w http.ResponseWriter, r *http.Request) {
	rel := r.PathValue("file")
	if rel == "" || !fs.ValidPath(rel) || strings.Contains(rel, "\\") {
		writeError(w, http.StatusNotFound, "not_found", "No such asset.")
		return
	}
	full := filepath.Join(p.o.Dir, "assets", filepath.FromSlash(rel))
	st, err := os.Stat(full)
	if err != nil || !st.Mode().IsRegular() {
		writeError(w, http.StatusNotFound, "not_found", "No such asset; rebuild the panel (cd extension && npm run build).")
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	// ServeFile picks the Content-Type from the extension and handles conditional requests.
	http.ServeFile(w, r, full)
}

// tokenResponse is GET /dev/token's answer.
type tokenResponse struct {
	Token            string  `json:"token"`
	UserID           *string `json:"userId"`
	OpaqueUserID     string  `json:"opaqueUserId"`
	ChannelID        string  `json:"channelId"`
	Role             string  `json:"role"`
	ExpiresAt        string  `json:"expiresAt"`
	ExpiresInSeconds int     `json:"expiresInSeconds"`
}

// token mints a development viewer JWT: ?userId= (required), &displayName=,
// &opaque=true (identity not shared: opaque_user_id only), &anonymous=true
// (a logged-out viewer).
func (p *pages) token(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	userID := strings.TrimSpace(q.Get("userId"))
	if !idPattern.MatchString(userID) {
		writeError(w, http.StatusBadRequest, "invalid_payload", "userId is required: 1–64 letters, digits, '_' or '-'.")
		return
	}
	if len(p.o.Key) == 0 {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "No extension key to sign development tokens with.")
		return
	}
	now := p.o.Now()
	exp := now.Add(TokenLifetime)
	c := auth.TokenClaims{
		UserID: userID, ChannelID: p.channel(), Role: "viewer", Expires: exp, IssuedAt: now,
		DisplayName: strings.TrimSpace(q.Get("displayName")),
	}
	switch {
	case truthy(q.Get("anonymous")):
		c.UserID, c.DisplayName = "", ""
		c.OpaqueUserID = "A" + userID
	case truthy(q.Get("opaque")):
		c.UserID, c.DisplayName = "", ""
		c.OpaqueUserID = "U" + userID
	default:
		c.OpaqueUserID = "U" + userID
	}
	res := tokenResponse{
		Token: auth.SignViewerToken(p.o.Key, c), OpaqueUserID: c.OpaqueUserID, ChannelID: c.ChannelID, Role: c.Role,
		ExpiresAt: exp.UTC().Format("2006-01-02T15:04:05.000Z"), ExpiresInSeconds: int(TokenLifetime / time.Second),
	}
	if c.UserID != "" {
		res.UserID = &c.UserID
	}
	w.Header().Set("Cache-Control", "no-store")
	serve.JSON(w, http.StatusOK, res)
}

// writeError uses the EBS's standard error shape.
func writeError(w http.ResponseWriter, status int, code, message string) {
	serve.JSON(w, status, map[string]any{"code": code, "message": message, "details": map[string]any{}})
}

// Built reports whether dir holds a built panel (for the startup banner).
func Built(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "panel.html"))
	return err == nil && st.Mode().IsRegular()
}

var notBuiltPage = template.Must(template.New("notbuilt").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Panel not built</title>
<style>body{font:14px/1.5 system-ui,sans-serif;background:#17141d;color:#ede9f5;padding:16px}code{color:#f4c025}</style></head>
<body><h1>The extension panel is not built</h1>
<p>Looked for <code>panel.html</code> in <code>{{.Dir}}</code>.</p>
<p>Build it with <code>cd extension &amp;&amp; npm ci &amp;&amp; npm run build</code>, or point <code>Mgm__DevPanelDir</code> at a built panel, then reload.</p>
</body></html>`))

var harnessPage = template.Must(template.New("harness").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mimiron's Gold-o-Matic — panel dev page</title>
<style>
body{margin:0;font:14px/1.5 system-ui,'Segoe UI',Roboto,sans-serif;background:#0e0c12;color:#ede9f5}
main{display:flex;flex-wrap:wrap;gap:24px;padding:16px}
h1{font-size:18px;color:#f4c025;margin:0 0 8px}
h2{font-size:14px;margin:16px 0 4px}
form{display:grid;grid-template-columns:auto 1fr;gap:6px 10px;align-items:center;max-width:420px}
input[type=text]{font:inherit;background:#221d2b;color:#ede9f5;border:1px solid #3a3249;border-radius:6px;padding:4px 8px}
button{font:inherit;font-weight:700;background:#f4c025;border:0;border-radius:6px;padding:5px 12px;cursor:pointer}
.frame{width:318px;height:500px;border:1px solid #3a3249;border-radius:4px;overflow:hidden;background:#17141d;flex:none}
iframe{width:318px;height:500px;border:0;display:block}
.side{flex:1;min-width:300px;max-width:640px}
code,pre{font:12px ui-monospace,Consolas,monospace;color:#f4c025}
pre{background:#1a1622;border:1px solid #3a3249;border-radius:6px;padding:8px;white-space:pre-wrap;word-break:break-all}
.warn{background:#331d22;border:1px solid #6b3440;border-radius:6px;padding:8px}
.muted{color:#a99fbf}
a{color:#f4c025}
</style>
</head>
<body>
<main>
<div class="frame">{{if .Built}}<iframe id="panel" title="Extension panel" src="{{.PanelURL}}"></iframe>{{else}}<div class="warn" style="margin:8px">The panel is not built yet.</div>{{end}}</div>
<div class="side">
<h1>Extension panel — development page</h1>
<p class="muted">The built panel runs at its real size (318 × 500) with a stand-in for Twitch's helper that signs a development JWT for the viewer below (channel <code>{{.Channel}}</code>).</p>
{{if not .Built}}<p class="warn">No built panel in <code>{{.Dir}}</code>. Run <code>cd extension &amp;&amp; npm ci &amp;&amp; npm run build</code> (or set <code>Mgm__DevPanelDir</code>), then reload this page.</p>{{end}}
<form method="get" action="/dev/panel">
<label for="userId">Viewer id</label><input type="text" id="userId" name="userId" value="{{.Viewer.UserID}}" pattern="[A-Za-z0-9_\-]{1,64}" required>
<label for="displayName">Display name</label><input type="text" id="displayName" name="displayName" value="{{.Viewer.DisplayName}}" maxlength="64">
<label for="opaque">Opaque viewer</label><span><input type="checkbox" id="opaque" name="opaque" value="1" {{if .Viewer.Opaque}}checked{{end}}> <span class="muted">has not shared identity (the panel offers to share it)</span></span>
<label for="theme">Light theme</label><span><input type="checkbox" id="theme" name="theme" value="light" {{if eq .Viewer.Theme "light"}}checked{{end}}></span>
<label for="language">Russian</label><span><input type="checkbox" id="language" name="language" value="ru" {{if eq .Viewer.Language "ru"}}checked{{end}}></span>
<span></span><span><button type="submit">Load panel</button> <a href="{{.ConfigURL}}" target="_blank" rel="noopener">config page</a></span>
</form>
<h2>Enroll this viewer by chat</h2>
<p class="muted">With the EventSub stand-in (<code>go run ./cmd/mgm-sim eventsub</code>):</p>
<pre>curl -s -X POST 127.0.0.1:9051/send-chat -H 'Content-Type: application/json' -d '{{.ChatJSON}}'</pre>
<p class="muted">Or straight to the EBS when <code>Twitch__EventSubSecret</code> is not set:</p>
<pre>curl -s -X POST <span class="origin">http://127.0.0.1:8080</span>/api/twitch/eventsub -H 'Content-Type: application/json' -d '{{.EventSub}}'</pre>
<p class="muted">A token for scripts: <a href="/dev/token?userId={{.Viewer.UserID}}">/dev/token?userId={{.Viewer.UserID}}</a> (add <code>&amp;opaque=true</code> for an opaque viewer).</p>
</div>
</main>
<script>document.querySelectorAll('.origin').forEach(function(e){e.textContent=location.origin})</script>
</body>
</html>`))
