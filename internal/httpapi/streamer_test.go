package httpapi_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

func jsonHdr(key string) http.Header {
	return hdr("X-MGM-ApiKey", key, "Content-Type", "application/json")
}

func decodeInto[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func TestStreamerRoutesNeedTheAPIKey(t *testing.T) {
	ts := newTestServer(t, nil)
	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/api/streamer/controls", ""},
		{http.MethodPost, "/api/streamer/roulette/pause", "{}"},
		{http.MethodPost, "/api/streamer/roulette/resume", "{}"},
		{http.MethodPost, "/api/streamer/pool/remove", `{"characterName":"Norinn"}`},
		{http.MethodGet, "/api/streamer/bans", ""},
		{http.MethodPost, "/api/streamer/bans", `{"twitchUserId":"u1"}`},
		{http.MethodDelete, "/api/streamer/bans/u1", ""},
		{http.MethodGet, "/api/streamer/history?from=2026-04-04&to=2026-04-04", ""},
	}
	for _, rt := range routes {
		var body []byte
		if rt.body != "" {
			body = []byte(rt.body)
		}
		wantError(t, rt.method+" "+rt.path+" without a key", ts.do(t, rt.method, rt.path, body, hdr("Content-Type", "application/json")), 401, mgm.CodeUnauthorized)
		wantError(t, rt.method+" "+rt.path+" with a wrong key", ts.do(t, rt.method, rt.path, body, jsonHdr("wrong-key-wrong-key-wrong-key")), 403, mgm.CodeForbiddenAPIKey)
		// A viewer's token is not the Desktop's key.
		wantError(t, rt.method+" "+rt.path+" with a viewer token", ts.do(t, rt.method, rt.path, body, bearerHdr(ts.token("u1"))), 401, mgm.CodeUnauthorized)
	}
	if n := len(ts.events(t, "controls")); n != 0 {
		t.Fatalf("%d control events from unauthenticated calls", n)
	}
}

func TestStreamerPauseResume(t *testing.T) {
	ts := newTestServer(t, nil)
	wantStatus(t, "claim", ts.claim(t, "u1", "Norinn", "r1"), 201)
	r := ts.do(t, http.MethodPost, "/api/streamer/roulette/pause", nil, apiKeyHdr(testAPIKeyA))
	wantStatus(t, "pause", r, 200)
	c := decodeInto[ebsapi.StreamerControls](t, r)
	if !c.Paused || c.SpinPhase != mgm.PhasePaused || c.PausedReason == nil || *c.PausedReason != mgm.PauseStreamer ||
		c.PausedBy == nil || *c.PausedBy != "desktop" || c.PausedAt == nil || c.EntryRule != mgm.EntrySubscribers || c.StreamLive != nil {
		t.Fatalf("paused controls %s", r.body)
	}
	st := ts.get(t, "/api/roulette/state", bearerHdr(ts.token("u2")))
	if !strings.Contains(string(st.body), `"spinPhase":"paused"`) || !strings.Contains(string(st.body), `"pausedReason":"streamer"`) {
		t.Fatalf("state while paused: %s", st.body)
	}
	r = ts.do(t, http.MethodPost, "/api/streamer/roulette/resume", nil, apiKeyHdr(testAPIKeyB))
	wantStatus(t, "resume", r, 200)
	c = decodeInto[ebsapi.StreamerControls](t, r)
	if c.Paused || c.ResumedAt == nil || c.SpinPhase != mgm.PhasePaused { // until the next boundary
		t.Fatalf("resumed controls %s", r.body)
	}
	ts.clock.Advance(5 * time.Minute)
	if err := ts.svc.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	st = ts.get(t, "/api/roulette/state", bearerHdr(ts.token("u2")))
	if !strings.Contains(string(st.body), `"spinPhase":"collecting"`) || !strings.Contains(string(st.body), `"pausedReason":null`) {
		t.Fatalf("state after the boundary: %s", st.body)
	}
	evs := ts.events(t, "controls")
	if len(evs) != 2 || evs[0].Type != "RoulettePaused" || evs[1].Type != "RouletteResumed" {
		t.Fatalf("events %+v", evs)
	}
}

func TestStreamerRemoveAndBans(t *testing.T) {
	for _, st := range bothStores {
		t.Run(st.name, func(t *testing.T) {
			ts := newTestServerOn(t, st.open, nil, nil)
			wantStatus(t, "claim u1", ts.claim(t, "u1", "Norinn", "r1"), 201)
			wantStatus(t, "claim u2", ts.claim(t, "u2", "Jaina", "r2"), 201)
			for _, bad := range []struct{ what, body string }{
				{"empty object", `{}`},
				{"both", `{"characterName":"Norinn","twitchUserId":"u1"}`},
				{"not JSON", `{`},
				{"wrong type", `{"characterName":5}`},
			} {
				wantError(t, "remove "+bad.what, ts.do(t, http.MethodPost, "/api/streamer/pool/remove", []byte(bad.body), jsonHdr(testAPIKeyA)), 400, mgm.CodeInvalidPayload)
				wantError(t, "ban "+bad.what, ts.do(t, http.MethodPost, "/api/streamer/bans", []byte(bad.body), jsonHdr(testAPIKeyA)), 400, mgm.CodeInvalidPayload)
			}
			r := ts.do(t, http.MethodPost, "/api/streamer/pool/remove", []byte(`{"characterName":"norinn"}`), jsonHdr(testAPIKeyA))
			wantBody(t, "remove", r, 200, `{"twitchUserId":"u1","twitchDisplayName":"Dispu1","characterName":"Norinn"}`)
			wantError(t, "remove again", ts.do(t, http.MethodPost, "/api/streamer/pool/remove", []byte(`{"characterName":"Norinn"}`), jsonHdr(testAPIKeyA)), 404, mgm.CodeNotInPool)

			r = ts.do(t, http.MethodPost, "/api/streamer/bans", []byte(`{"twitchUserId":"u2","reason":"alt account"}`), jsonHdr(testAPIKeyA))
			wantStatus(t, "ban", r, 201)
			b := decodeInto[ebsapi.Ban](t, r)
			if b.TwitchUserID != "u2" || b.CharacterName != "Jaina" || b.Reason != "alt account" || b.BannedBy != "desktop" {
				t.Fatalf("ban %s", r.body)
			}
			wantStatus(t, "ban again", ts.do(t, http.MethodPost, "/api/streamer/bans", []byte(`{"twitchUserId":"u2"}`), jsonHdr(testAPIKeyA)), 200)
			if ts.poolCount(t) != 0 {
				t.Fatal("the ban did not take u2 out of the pool")
			}
			wantError(t, "banned claim", ts.claim(t, "u2", "Jaina", "r3"), 403, mgm.CodeBanned)
			list := decodeInto[[]ebsapi.Ban](t, ts.get(t, "/api/streamer/bans", apiKeyHdr(testAPIKeyA)))
			if len(list) != 1 || list[0].TwitchUserID != "u2" {
				t.Fatalf("bans %+v", list)
			}
			wantStatus(t, "unban", ts.do(t, http.MethodDelete, "/api/streamer/bans/u2", nil, apiKeyHdr(testAPIKeyA)), 200)
			wantError(t, "unban again", ts.do(t, http.MethodDelete, "/api/streamer/bans/u2", nil, apiKeyHdr(testAPIKeyA)), 404, mgm.CodeNotFound)
			wantStatus(t, "claim after unban", ts.claim(t, "u2", "Jaina", "r4"), 201)
			if got := ts.get(t, "/api/streamer/bans", apiKeyHdr(testAPIKeyA)); got.text() != "[]" {
				t.Fatalf("bans after unban: %s", got.body)
			}
		})
	}
}

func TestStreamerChatCommandsThroughEventSub(t *testing.T) {
	ts := newTestServer(t, nil)
	mod := []map[string]string{{"set_id": "moderator", "id": "1", "info": ""}}
	viewer := []map[string]string{{"set_id": "subscriber", "id": "12", "info": "16"}}
	wantStatus(t, "viewer", ts.deliver(t, "m1", "notification", chatEvent{chatterID: "v1", text: "!mgm pause", badges: viewer}.body()), 200)
	if c := decodeInto[ebsapi.StreamerControls](t, ts.get(t, "/api/streamer/controls", apiKeyHdr(testAPIKeyA))); c.Paused {
		t.Fatal("a viewer paused the roulette")
	}
	wantStatus(t, "moderator", ts.deliver(t, "m2", "notification", chatEvent{chatterID: "m1", messageID: "x2", text: "!mgm pause", badges: mod}.body()), 200)
	c := decodeInto[ebsapi.StreamerControls](t, ts.get(t, "/api/streamer/controls", apiKeyHdr(testAPIKeyA)))
	if !c.Paused || c.PausedBy == nil || *c.PausedBy != "chat:m1" {
		t.Fatalf("after a moderator's pause: %+v", c)
	}
	broadcaster := []map[string]string{{"set_id": "broadcaster", "id": "1", "info": ""}}
	wantStatus(t, "broadcaster", ts.deliver(t, "m3", "notification", chatEvent{chatterID: testBroadcaster, messageID: "x3", text: "!mgm resume", badges: broadcaster}.body()), 200)
	if c := decodeInto[ebsapi.StreamerControls](t, ts.get(t, "/api/streamer/controls", apiKeyHdr(testAPIKeyA))); c.Paused {
		t.Fatal("the broadcaster's resume did nothing")
	}
}

// streamNotification is a stream.online or stream.offline notification as
// the EventSub reference shows it.
func streamNotification(typ, broadcaster string) []byte {
	ev := map[string]any{"broadcaster_user_id": broadcaster, "broadcaster_user_login": "streamer", "broadcaster_user_name": "Streamer"}
	if typ == "stream.online" {
		ev["id"], ev["type"], ev["started_at"] = "9001", "live", "2026-04-04T12:00:00Z"
	}
	b, _ := json.Marshal(map[string]any{
		"subscription": map[string]any{"id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c5", "type": typ, "version": "1", "status": "enabled",
			"cost": 0, "condition": map[string]string{"broadcaster_user_id": broadcaster},
			"transport":  map[string]string{"method": "webhook", "callback": "https://example.com/api/twitch/eventsub"},
			"created_at": "2026-04-01T10:00:00Z"},
		"event": ev,
	})
	return b
}

func TestStreamerDrawOnlyWhileLive(t *testing.T) {
	ts := newTestServer(t, func(c *config.Config) { c.Controls.DrawOnlyWhileLive = true })
	if r := ts.get(t, "/readyz", nil); !strings.Contains(string(r.body), `"stream_live":"unknown`) {
		t.Fatalf("readyz %s", r.body)
	}
	if r := ts.get(t, "/api/roulette/state", bearerHdr(ts.token("u2"))); !strings.Contains(string(r.body), `"pausedReason":"offline"`) {
		t.Fatalf("state %s", r.body)
	}
	wantStatus(t, "online", ts.deliver(t, "s1", "notification", streamNotification("stream.online", testBroadcaster)), 200)
	c := decodeInto[ebsapi.StreamerControls](t, ts.get(t, "/api/streamer/controls", apiKeyHdr(testAPIKeyA)))
	if c.StreamLive == nil || !*c.StreamLive || !c.DrawOnlyWhileLive {
		t.Fatalf("after stream.online: %+v", c)
	}
	wantStatus(t, "other channel", ts.deliver(t, "s2", "notification", streamNotification("stream.offline", "someone-else")), 200)
	wantStatus(t, "offline", ts.deliver(t, "s3", "notification", streamNotification("stream.offline", testBroadcaster)), 200)
	wantStatus(t, "redelivered online", ts.deliver(t, "s1", "notification", streamNotification("stream.online", testBroadcaster)), 200)
	c = decodeInto[ebsapi.StreamerControls](t, ts.get(t, "/api/streamer/controls", apiKeyHdr(testAPIKeyA)))
	if c.StreamLive == nil || *c.StreamLive || c.PausedReason == nil || *c.PausedReason != mgm.PauseOffline {
		t.Fatalf("after stream.offline: %+v", c)
	}
	bad := []byte(`{"subscription":{"type":"stream.online"},"event":"nope"}`)
	wantError(t, "malformed", ts.deliver(t, "s4", "notification", bad), 400, mgm.CodeInvalidPayload)
}

func TestStreamerHistoryExport(t *testing.T) {
	ts := newTestServer(t, nil)
	wantStatus(t, "claim", ts.claim(t, "u1", "Norinn", "r1"), 201)
	ts.insertPayout(t, mgm.Payout{ID: "10000000-0000-4000-8000-000000000001", TwitchUserID: "u1", TwitchDisplayName: `Quote"Comma,`,
		CharacterName: "Norinn", GoldAmount: 1000, EnrollmentRequestID: "seed:1", Status: mgm.PayoutPending, CreatedAt: ts.clock.Now(), UpdatedAt: ts.clock.Now()})
	day := ts.clock.Now().Format(time.DateOnly)
	for _, bad := range []string{"", "?from=2026-04-04", "?from=2026-04-05&to=2026-04-04", "?from=2026-01-01&to=2026-04-04",
		"?from=" + day + "&to=" + day + "&format=xml", "?from=" + day + "&to=" + day + "&kind=secrets"} {
		wantError(t, "history"+bad, ts.get(t, "/api/streamer/history"+bad, apiKeyHdr(testAPIKeyA)), 400, mgm.CodeInvalidPayload)
	}
	r := ts.get(t, "/api/streamer/history?from="+day+"&to="+day+"&format=csv", apiKeyHdr(testAPIKeyA))
	wantStatus(t, "csv", r, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("headers %v", r.header)
	}
	if !strings.Contains(string(r.body), "\r\n") || !strings.Contains(string(r.body), `"Quote""Comma,"`) {
		t.Fatalf("not RFC 4180: %q", r.body)
	}
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil || len(rows) != 2 || rows[0][0] != "id" || rows[1][5] != `Quote"Comma,` || rows[1][3] != "Pending" {
		t.Fatalf("rows %q %v", rows, err)
	}
	r = ts.get(t, "/api/streamer/history?from="+day+"&to="+day+"&kind=events&format=json", apiKeyHdr(testAPIKeyA))
	evs := decodeInto[[]ebsapi.ExportEvent](t, r)
	if len(evs) != 1 || evs[0].Type != "PoolEntered" || evs[0].StreamID != "pool:u1" {
		t.Fatalf("events %s", r.body)
	}
	r = ts.get(t, "/api/streamer/history?from=2020-01-01&to=2020-01-01&format=csv&kind=events", apiKeyHdr(testAPIKeyA))
	if string(r.body) != "id,at,streamId,version,type,data\r\n" {
		t.Fatalf("empty csv %q", r.body)
	}
	if r := ts.get(t, "/api/streamer/history?from=2020-01-01&to=2020-01-01", apiKeyHdr(testAPIKeyA)); r.text() != "[]" {
		t.Fatalf("empty json %q", r.body)
	}
}

func TestPoolMeEligibleAgainAt(t *testing.T) {
	ts := newTestServer(t, func(c *config.Config) { c.Controls.WinnerCooldownHours = 2 })
	wantStatus(t, "claim", ts.claim(t, "u1", "Norinn", "r1"), 201)
	if body := ts.poolMe(t, "u1"); !strings.Contains(body, `"eligibleAgainAt":null`) {
		t.Fatalf("pool/me %s", body)
	}
	p, err := ts.svc.PreparePendingPayout(t.Context(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	want := ebsapi.At(p.CreatedAt.Add(2 * time.Hour)).String()
	if body := ts.poolMe(t, "u1"); !strings.Contains(body, `"eligibleAgainAt":"`+want+`"`) {
		t.Fatalf("pool/me after a win %s, want %s", body, want)
	}
}
