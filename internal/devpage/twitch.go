package devpage

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/serve"
	"github.com/mimirons-goldomatic/mgm/internal/twitchauth"
)

// Sign-in states of GET /dev/twitch/login/status. LoginIdle: no sign-in was
// started from the page since the EBS started and no grant is stored.
const (
	LoginIdle      = "idle"
	LoginPending   = "pending"
	LoginConnected = "connected"
	LoginDenied    = "denied"
	LoginExpired   = "expired"
	LoginError     = "error"
)

// TwitchOptions configure the Twitch sign-in page.
type TwitchOptions struct {
	// SignIn is the sign-in the page runs: the same as mgm-ebs twitch
	// login, into the server's own token source. A nil SignIn.Source means
	// the stored sign-in is not in use; Unavailable then says why.
	SignIn      twitchauth.DeviceSignIn
	Unavailable string
	// Sleep waits between polls of Twitch; nil is the wall clock.
	Sleep  twitchauth.Sleeper
	Logger *slog.Logger
	Now    func() time.Time
}

// TwitchLogin serves GET /dev/twitch (the sign-in's state and a "Connect
// Twitch" button), POST /dev/twitch/login (starts the Device Code Grant flow
// and polls Twitch in the background) and GET /dev/twitch/login/status. One
// flow runs at a time. Close stops a running flow; it belongs to the server's
// lifetime, not to the request that started it.
type TwitchLogin struct {
	o      TwitchOptions
	mux    *http.ServeMux
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// startMu serialises starting a flow, so that two clicks get one code.
	startMu sync.Mutex
	closed  bool

	mu   sync.Mutex
	flow *loginFlow // the latest flow; nil before the first
}

// loginFlow is one run of the flow. The device code itself never leaves it.
type loginFlow struct {
	dc        twitchauth.DeviceCode
	expiresAt time.Time
	state     string
	message   string
	login     string
}

// NewTwitchLogin builds the page; Close stops what it started.
func NewTwitchLogin(o TwitchOptions) *TwitchLogin {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &TwitchLogin{o: o, mux: http.NewServeMux(), ctx: ctx, cancel: cancel}
	l.mux.HandleFunc("GET /dev/twitch", l.page)
	l.mux.HandleFunc("POST /dev/twitch/login", l.start)
	l.mux.HandleFunc("GET /dev/twitch/login/status", l.status)
	return l
}

// WithTwitch serves t's routes beside the other development pages.
func WithTwitch(pages http.Handler, t *TwitchLogin) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/dev/twitch", t)
	mux.Handle("/dev/twitch/", t)
	mux.Handle("/", pages)
	return mux
}

func (l *TwitchLogin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := l.mux.Handler(r); pattern == "" {
		writeError(w, http.StatusNotFound, "not_found", "No such development page; try /dev/twitch.")
		return
	}
	l.mux.ServeHTTP(w, r)
}

// Close stops a running flow and waits for it; later POSTs are refused.
func (l *TwitchLogin) Close() {
	l.startMu.Lock()
	l.closed = true
	l.startMu.Unlock()
	l.cancel()
	l.wg.Wait()
}

// sameOrigin keeps other sites out of POST /dev/twitch/login: a browser sends
// Origin with every POST, and a JSON body cannot be sent cross-site without
// a preflight. Scripts add both headers.
func sameOrigin(r *http.Request) string {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return "Send Content-Type: application/json."
	}
	o := r.Header.Get("Origin")
	u, err := url.Parse(o)
	if o == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, r.Host) {
		return "Only this EBS's own pages may start a sign-in: send an Origin header naming this host."
	}
	return ""
}

func (l *TwitchLogin) available() bool { return l.o.SignIn.Source != nil }

// loginStatus is the answer of POST /dev/twitch/login and GET
// /dev/twitch/login/status. The link and code are there while pending.
type loginStatus struct {
	State            string `json:"state"`
	Message          string `json:"message"`
	Login            string `json:"login,omitempty"`
	VerificationURI  string `json:"verificationUri,omitempty"`
	UserCode         string `json:"userCode,omitempty"`
	ExpiresAt        string `json:"expiresAt,omitempty"`
	ExpiresInSeconds int    `json:"expiresInSeconds,omitempty"`
}

// snapshot is f's answer; the caller holds mu.
func (l *TwitchLogin) snapshot(f *loginFlow) loginStatus {
	s := loginStatus{State: f.state, Message: f.message, Login: f.login}
	if f.state == LoginPending {
		s.VerificationURI, s.UserCode = f.dc.VerificationURI, f.dc.UserCode
		s.ExpiresAt = f.expiresAt.UTC().Format(time.RFC3339)
		s.ExpiresInSeconds = max(0, int(f.expiresAt.Sub(l.o.Now())/time.Second))
	}
	return s
}

func (l *TwitchLogin) start(w http.ResponseWriter, r *http.Request) {
	if why := sameOrigin(r); why != "" {
		writeError(w, http.StatusForbidden, "forbidden", why)
		return
	}
	if !l.available() {
		writeError(w, http.StatusServiceUnavailable, "unavailable", l.o.Unavailable)
		return
	}
	l.startMu.Lock()
	defer l.startMu.Unlock()
	if l.closed {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "The EBS is stopping; start it again and retry.")
		return
	}
	l.mu.Lock()
	if f := l.flow; f != nil && f.state == LoginPending {
		s := l.snapshot(f)
		l.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		serve.JSON(w, http.StatusOK, s)
		return
	}
	l.mu.Unlock()
	dc, err := l.o.SignIn.Start(r.Context())
	if err != nil {
		l.o.Logger.Warn("twitch sign-in from the development page could not start", "error", err)
		writeError(w, http.StatusBadGateway, "twitch_unavailable", "Twitch did not start the sign-in: "+err.Error())
		return
	}
	f := &loginFlow{dc: dc, expiresAt: l.o.Now().Add(dc.ExpiresIn), state: LoginPending,
		message: "Open the link, sign in as the broadcaster and enter the code."}
	l.mu.Lock()
	l.flow = f
	s := l.snapshot(f)
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		l.run(f)
	}()
	l.o.Logger.Info("twitch sign-in started from the development page", "expires_in", dc.ExpiresIn.String())
	w.Header().Set("Cache-Control", "no-store")
	serve.JSON(w, http.StatusAccepted, s)
}

// run polls Twitch until the streamer answers or the code expires.
func (l *TwitchLogin) run(f *loginFlow) {
	ctx := l.ctx
	if f.dc.ExpiresIn > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.dc.ExpiresIn)
		defer cancel()
	}
	st, err := l.o.SignIn.Finish(ctx, f.dc, l.o.Sleep)
	state, msg, login := LoginConnected, "", ""
	switch {
	case err == nil:
		login = st.Login
		msg = "Connected as " + st.Login + " (user id " + st.UserID + "); the token is renewed automatically."
		if p := st.Problems(); len(p) > 0 {
			msg += " Attention: " + strings.Join(p, "; ") + "."
		}
	case errors.Is(err, twitchauth.ErrAccessDenied):
		state, msg = LoginDenied, "The sign-in was declined on Twitch; press Connect Twitch to try again."
	case errors.Is(err, twitchauth.ErrDeviceExpired) || (errors.Is(err, context.DeadlineExceeded) && l.ctx.Err() == nil):
		state, msg = LoginExpired, "The code expired before it was approved; press Connect Twitch for a new one."
	case l.ctx.Err() != nil:
		state, msg = LoginError, "The EBS stopped before the sign-in finished; start it again and retry."
	default:
		state, msg = LoginError, err.Error()
	}
	l.mu.Lock()
	f.state, f.message, f.login = state, msg, login
	l.mu.Unlock()
	if state == LoginConnected {
		l.o.Logger.Info("twitch sign-in from the development page connected", "login", st.Login, "user_id", st.UserID)
	} else {
		l.o.Logger.Warn("twitch sign-in from the development page ended", "state", state, "reason", msg)
	}
}

func (l *TwitchLogin) status(w http.ResponseWriter, _ *http.Request) {
	var s loginStatus
	l.mu.Lock()
	if l.flow != nil {
		s = l.snapshot(l.flow)
	}
	l.mu.Unlock()
	if s.State == "" {
		s = loginStatus{State: LoginIdle, Message: "No sign-in started; press Connect Twitch."}
		if !l.available() {
			s.Message = l.o.Unavailable
		} else if st := l.o.SignIn.Source.Status(); st.State == twitchauth.StateValid {
			s = loginStatus{State: LoginConnected, Message: "Connected as " + st.Login + " (user id " + st.UserID + ").", Login: st.Login}
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	serve.JSON(w, http.StatusOK, s)
}

// twitchView is what GET /dev/twitch shows of the stored sign-in: never a token.
type twitchView struct {
	Available   bool
	Unavailable string
	ReadError   string
	State       string
	Reason      string
	Login       string
	UserID      string
	Scopes      string
	Missing     string
	ExpiresAt   string
	ValidatedAt string
	Refresh     bool
	Encrypted   bool
	Problems    []string
	Asked       string
}

func (l *TwitchLogin) page(w http.ResponseWriter, r *http.Request) {
	v := twitchView{Available: l.available(), Unavailable: l.o.Unavailable, Asked: strings.Join(twitchauth.Scopes, " ")}
	if v.Available {
		src := l.o.SignIn.Source
		// Re-read: a sign-in made by mgm-ebs twitch login meanwhile shows.
		if err := src.Load(r.Context()); err != nil {
			v.ReadError = err.Error()
		}
		st := src.Status()
		v.State, v.Reason, v.Login, v.UserID = string(st.State), st.Reason, st.Login, st.UserID
		v.Scopes, v.Missing = strings.Join(st.Scopes, " "), strings.Join(st.MissingScopes, " ")
		if !st.ExpiresAt.IsZero() {
			v.ExpiresAt = st.ExpiresAt.UTC().Format(time.RFC3339)
		}
		if st.ValidatedAt != nil {
			v.ValidatedAt = st.ValidatedAt.UTC().Format(time.RFC3339)
		}
		v.Refresh, v.Encrypted, v.Problems = st.HasRefreshToken, st.Encrypted, st.Problems()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = twitchPage.Execute(w, v) // headers are gone on failure; nothing more to say
}

var twitchPage = template.Must(template.New("twitch").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mimiron's Gold-o-Matic — Twitch sign-in</title>
<style>
body{margin:0;font:14px/1.5 system-ui,'Segoe UI',Roboto,sans-serif;background:#0e0c12;color:#ede9f5}
main{max-width:640px;padding:16px}
h1{font-size:18px;color:#f4c025;margin:0 0 8px}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px}
dt{color:#a99fbf}
dd{margin:0}
button{font:inherit;font-weight:700;background:#f4c025;border:0;border-radius:6px;padding:5px 12px;cursor:pointer}
button:disabled{opacity:.5;cursor:default}
code{font:13px ui-monospace,Consolas,monospace;color:#f4c025}
.code{font-size:24px;letter-spacing:.1em}
.warn{background:#331d22;border:1px solid #6b3440;border-radius:6px;padding:8px}
.ok{background:#1d3322;border:1px solid #346b40;border-radius:6px;padding:8px}
.muted{color:#a99fbf}
a{color:#f4c025}
</style>
</head>
<body>
<main>
<h1>Twitch sign-in — development page</h1>
<p class="muted">The broadcaster's sign-in (Device Code Grant flow), the same as <code>mgm-ebs twitch login</code>. Scopes asked for: <code>{{.Asked}}</code>.</p>
{{if not .Available}}<p class="warn" id="unavailable">{{.Unavailable}}</p>{{else}}
<dl id="signin">
<dt>State</dt><dd id="state">{{.State}}{{if .Reason}} ({{.Reason}}){{end}}</dd>
{{if .Login}}<dt>Connected as</dt><dd id="login">{{.Login}} (user id {{.UserID}})</dd>
<dt>Scopes</dt><dd><code>{{.Scopes}}</code></dd>
{{if .Missing}}<dt>Missing scopes</dt><dd><code>{{.Missing}}</code></dd>{{end}}
<dt>Expires</dt><dd class="time">{{.ExpiresAt}}</dd>
<dt>Validated</dt><dd class="time">{{if .ValidatedAt}}{{.ValidatedAt}}{{else}}never{{end}}</dd>
<dt>Refresh</dt><dd>{{if .Refresh}}yes{{else}}no refresh token{{end}}</dd>
<dt>Stored</dt><dd>{{if .Encrypted}}encrypted{{else}}unencrypted (set Twitch__TokenEncryptionKey to encrypt it){{end}}</dd>{{end}}
</dl>
{{if .ReadError}}<p class="warn">Could not read the stored sign-in: {{.ReadError}}</p>{{end}}
{{range .Problems}}<p class="warn problem">{{.}}</p>{{end}}
{{end}}
<p><button id="connect" type="button" {{if not .Available}}disabled{{end}}>Connect Twitch</button></p>
<div id="flow"></div>
</main>
<script>
(function(){
  var flow = document.getElementById('flow'), button = document.getElementById('connect'), timer = null;
  document.querySelectorAll('.time').forEach(function(e){ var d = new Date(e.textContent); if (!isNaN(d)) e.textContent = d.toLocaleString(); });
  function text(tag, cls, s){ var e = document.createElement(tag); if (cls) e.className = cls; e.textContent = s; return e; }
  function show(s){
    flow.replaceChildren();
    if (s.state === 'pending') {
      var p = text('p', '', 'Open ');
      var a = text('a', '', s.verificationUri); a.href = s.verificationUri; a.target = '_blank'; a.rel = 'noopener';
      p.append(a, document.createTextNode(', sign in as the broadcaster and enter the code'));
      flow.append(p, text('p', 'code', s.userCode), text('p', 'muted', 'Waiting for approval…'));
      button.disabled = true;
      return;
    }
    if (s.state === 'idle') return;
    flow.append(text('p', s.state === 'connected' ? 'ok' : 'warn', s.message));
    button.disabled = false;
  }
  function poll(){
    fetch('/dev/twitch/login/status', {cache: 'no-store'}).then(function(r){ return r.json(); }).then(function(s){
      show(s);
      if (s.state === 'pending') { timer = setTimeout(poll, 2000); return; }
      if (s.state === 'connected' && timer !== null) { location.reload(); }
      timer = null;
    }).catch(function(){ timer = setTimeout(poll, 5000); });
  }
  button.addEventListener('click', function(){
    button.disabled = true;
    fetch('/dev/twitch/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'})
      .then(function(r){ return r.json(); }).then(function(s){
        if (!s.state) { show({state: 'error', message: s.message}); return; }
        show(s); if (s.state === 'pending' && timer === null) timer = setTimeout(poll, 2000);
      }).catch(function(e){ show({state: 'error', message: 'The EBS did not answer: ' + e}); });
  });
  poll();
})();
</script>
</body>
</html>`))
