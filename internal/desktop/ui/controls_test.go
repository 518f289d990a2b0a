package ui

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/ebsclient"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

// fakeControls stands in for the EBS client: it keeps a pause flag and a
// ban list, refuses as the EBS would, and records the calls.
type fakeControls struct {
	mu     sync.Mutex
	paused bool
	bans   []ebsapi.Ban
	calls  []string
}

func (f *fakeControls) note(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }

func (f *fakeControls) state() ebsapi.StreamerControls {
	c := ebsapi.StreamerControls{Paused: f.paused, SpinPhase: mgm.PhaseCollecting, EntryRule: mgm.EntrySubscribers}
	if f.paused {
		r := mgm.PauseStreamer
		c.SpinPhase, c.PausedReason = mgm.PhasePaused, &r
	}
	return c
}
func (f *fakeControls) StreamerControls(context.Context) (ebsapi.StreamerControls, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state(), nil
}
func (f *fakeControls) Pause(context.Context) (ebsapi.StreamerControls, error) {
	f.note("pause")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused = true
	return f.state(), nil
}
func (f *fakeControls) Resume(context.Context) (ebsapi.StreamerControls, error) {
	f.note("resume")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused = false
	return f.state(), nil
}
func (f *fakeControls) RemoveEntrant(_ context.Context, t ebsapi.StreamerTarget) (ebsapi.RemovedEntrant, error) {
	if t.CharacterName == nil || *t.CharacterName != "Norinn" {
		return ebsapi.RemovedEntrant{}, &ebsclient.Error{Status: 404, Code: mgm.CodeNotInPool, Message: "Nobody in the pool matches."}
	}
	f.note("remove Norinn")
	return ebsapi.RemovedEntrant{TwitchUserID: "u1", CharacterName: "Norinn"}, nil
}
func (f *fakeControls) Bans(context.Context) ([]ebsapi.Ban, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ebsapi.Ban(nil), f.bans...), nil
}
func (f *fakeControls) Ban(_ context.Context, t ebsapi.StreamerTarget) (ebsapi.Ban, error) {
	if t.TwitchUserID == nil {
		return ebsapi.Ban{}, &ebsclient.Error{Status: 400, Code: mgm.CodeInvalidPayload, Message: "Give exactly one of twitchUserId and characterName."}
	}
	b := ebsapi.Ban{TwitchUserID: *t.TwitchUserID, BannedBy: "desktop"}
	if t.Reason != nil {
		b.Reason = *t.Reason
	}
	f.note("ban " + b.TwitchUserID)
	f.mu.Lock()
	f.bans = append(f.bans, b)
	f.mu.Unlock()
	return b, nil
}
func (f *fakeControls) Unban(_ context.Context, id string) (ebsapi.Ban, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range f.bans {
		if b.TwitchUserID == id {
			f.bans = append(f.bans[:i], f.bans[i+1:]...)
			f.calls = append(f.calls, "unban "+id)
			return b, nil
		}
	}
	return ebsapi.Ban{}, &ebsclient.Error{Status: 404, Code: mgm.CodeNotFound, Message: "That viewer is not banned."}
}
func (f *fakeControls) History(_ context.Context, q ebsclient.HistoryQuery, open func(string, string) io.Writer) error {
	if q.From == "" {
		return &ebsclient.Error{Status: 400, Code: mgm.CodeInvalidPayload, Message: "from and to must be UTC dates, YYYY-MM-DD."}
	}
	w := open("text/csv; charset=utf-8; header=present", "mgm-"+q.Kind+"-"+q.From+"_"+q.To+"."+q.Format)
	_, err := io.WriteString(w, "id,at\r\n1,2026-04-04T12:00:00.000Z\r\n")
	return err
}

func TestControlsPanel(t *testing.T) {
	fc := &fakeControls{}
	f := newFixtureWith(t, func(o *Options) { o.Controls = func() Controls { return fc } })
	json := map[string]string{"Content-Type": "application/json"}

	if r, body := f.do(t, "GET", "/api/controls", "", map[string]string{HeaderName: ""}); r.StatusCode != 401 {
		t.Fatalf("without the token: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "POST", "/api/controls/pause", "", nil); r.StatusCode != 200 || !strings.Contains(body, `"spinPhase":"paused"`) || !strings.Contains(body, `"pausedReason":"streamer"`) {
		t.Fatalf("pause: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "GET", "/api/controls", "", nil); r.StatusCode != 200 || !strings.Contains(body, `"paused":true`) {
		t.Fatalf("controls: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "POST", "/api/controls/resume", "", nil); r.StatusCode != 200 || !strings.Contains(body, `"paused":false`) {
		t.Fatalf("resume: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "POST", "/api/controls/remove", `{"characterName":"Norinn"}`, json); r.StatusCode != 200 || !strings.Contains(body, `"twitchUserId":"u1"`) {
		t.Fatalf("remove: %d %s", r.StatusCode, body)
	}
	// The EBS's refusal reaches the page with its status and code.
	if r, body := f.do(t, "POST", "/api/controls/remove", `{"characterName":"Nobody"}`, json); r.StatusCode != 404 || !strings.Contains(body, `"code":"not_in_pool"`) {
		t.Fatalf("remove unknown: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "POST", "/api/controls/remove", `{"nonsense":1}`, json); r.StatusCode != 400 {
		t.Fatalf("remove junk: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "POST", "/api/controls/bans", `{"twitchUserId":"u9","reason":"spam"}`, json); r.StatusCode != 200 || !strings.Contains(body, `"reason":"spam"`) {
		t.Fatalf("ban: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "POST", "/api/controls/bans", `{"characterName":"X"}`, json); r.StatusCode != 400 || !strings.Contains(body, "invalid_payload") {
		t.Fatalf("ban refused: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "GET", "/api/controls/bans", "", nil); r.StatusCode != 200 || !strings.Contains(body, `"twitchUserId":"u9"`) {
		t.Fatalf("bans: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "DELETE", "/api/controls/bans/u9", "", nil); r.StatusCode != 200 {
		t.Fatalf("unban: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "DELETE", "/api/controls/bans/u9", "", nil); r.StatusCode != 404 {
		t.Fatalf("unban again: %d %s", r.StatusCode, body)
	}
	if r, body := f.do(t, "GET", "/api/controls/bans", "", nil); r.StatusCode != 200 || body != "[]\n" {
		t.Fatalf("no bans: %d %q", r.StatusCode, body)
	}
	r, body := f.do(t, "GET", "/api/controls/history?from=2026-04-04&to=2026-04-04&kind=payouts&format=csv", "", nil)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
		r.Header.Get("Content-Disposition") != `attachment; filename="mgm-payouts-2026-04-04_2026-04-04.csv"` || !strings.HasPrefix(body, "id,at\r\n") {
		t.Fatalf("history: %d %v %q", r.StatusCode, r.Header, body)
	}
	if r, body := f.do(t, "GET", "/api/controls/history", "", nil); r.StatusCode != 400 || !strings.Contains(body, "invalid_payload") {
		t.Fatalf("history without dates: %d %s", r.StatusCode, body)
	}
	if got := strings.Join(fc.calls, ","); got != "pause,resume,remove Norinn,ban u9,unban u9" {
		t.Fatalf("calls %s", got)
	}
	// The page carries the panel.
	if _, page := f.do(t, "GET", "/", "", nil); !strings.Contains(page, `id="controls"`) || !strings.Contains(page, `action="/api/controls/history"`) {
		t.Fatal("the page has no Controls panel")
	}
	if _, js := f.do(t, "GET", "/static/app.js", "", nil); !strings.Contains(js, "/api/controls/pause") {
		t.Fatal("app.js does not drive the Controls panel")
	}
}

func TestControlsNeedTheEBS(t *testing.T) {
	for _, o := range []func(*Options){nil, func(o *Options) { o.Controls = func() Controls { return nil } }} {
		f := newFixtureWith(t, o)
		if r, body := f.do(t, "POST", "/api/controls/pause", "", nil); r.StatusCode != 503 || !strings.Contains(body, "not_configured") {
			t.Fatalf("unconfigured: %d %s", r.StatusCode, body)
		}
	}
}
