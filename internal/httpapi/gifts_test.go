package httpapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mimirons-goldomatic/mgm/internal/app"
	"github.com/mimirons-goldomatic/mgm/internal/config"
	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
	"github.com/mimirons-goldomatic/mgm/internal/eventsub"
	"github.com/mimirons-goldomatic/mgm/internal/httpapi"
	"github.com/mimirons-goldomatic/mgm/internal/mgm"
)

const itemJSON = `{"name":"Runecloth","id":14047,"count":20,"link":"|cffffffff|Hitem:14047::::::::80:::::|h[Runecloth]|h|r","texture":"Interface\\Icons\\INV_Fabric_Purple_02","bagId":0,"slotId":3}`

func jt(t time.Time) string { return `"` + t.UTC().Format("2006-01-02T15:04:05.000Z") + `"` }

// giftDTO is the exact JSON of one request.
type giftDTO struct {
	id, viewer, display, name, state string
	item                             string // raw JSON or "" for null
	pos                              int
	created, updated                 time.Time
	timeout                          *time.Time
	reason                           string
}

func (g giftDTO) json() string {
	item, timeout, reason := "null", "null", "null"
	if g.item != "" {
		item = g.item
	}
	if g.timeout != nil {
		timeout = jt(*g.timeout)
	}
	if g.reason != "" {
		reason = `"` + g.reason + `"`
	}
	display := g.display
	if display == "" {
		display = "Disp" + g.viewer
	}
	return fmt.Sprintf(`{"id":"%s","streamerId":"%s","viewerId":"%s","viewerDisplayName":"%s","characterName":"%s","state":"%s","selectedItem":%s,"queuePosition":%d,"estimatedWaitSeconds":%d,"createdAt":%s,"updatedAt":%s,"timeoutAt":%s,"failureReason":%s}`,
		g.id, testBroadcaster, g.viewer, display, g.name, g.state, item, g.pos, max(0, g.pos-1)*65, jt(g.created), jt(g.updated), timeout, reason)
}

func giftList(gs ...giftDTO) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = g.json()
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func tp(t time.Time) *time.Time { return &t }

// askGift posts a panel gift request as userID.
func (ts *testServer) askGift(t *testing.T, userID string, body string) response {
	t.Helper()
	return ts.do(t, http.MethodPost, "/api/gift-requests", []byte(body), bearerHdr(ts.token(userID), "Content-Type", "application/json"))
}

// askGiftID posts a valid request and returns its id (status must be 201).
func (ts *testServer) askGiftID(t *testing.T, userID, name string) string {
	t.Helper()
	r := ts.askGift(t, userID, `{"streamerId":"b1","characterName":"`+name+`"}`)
	wantStatus(t, "gift request of "+userID, r, http.StatusCreated)
	var v struct{ ID string }
	if err := json.Unmarshal(r.body, &v); err != nil || v.ID == "" {
		t.Fatalf("gift response %s: %v", r.text(), err)
	}
	return v.ID
}

func (ts *testServer) desktopDo(t *testing.T, method, path, body string) response {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	h := apiKeyHdr(testAPIKeyA)
	h.Set("Content-Type", "application/json")
	return ts.do(t, method, path, b, h)
}

func TestGiftCreateAndQueues(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	t0 := ts.clock.Now()
	id1 := ts.askGiftID(t, "1001", " Norinn ")
	g1 := giftDTO{id: id1, viewer: "1001", name: "Norinn", state: "SelectingItem", pos: 1, created: t0, updated: t0, timeout: tp(t0.Add(time.Minute))}

	ts.clock.Advance(1500 * time.Millisecond)
	t1 := ts.clock.Now()
	r := ts.askGift(t, "1002", `{"streamerId":"b1","characterName":"Тралл","unknown":true}`)
	var v struct{ ID string }
	_ = json.Unmarshal(r.body, &v)
	g2 := giftDTO{id: v.ID, viewer: "1002", name: "Тралл", state: "Pending", pos: 2, created: t1, updated: t1}
	wantBody(t, "second request", r, http.StatusCreated, g2.json())

	// streamerId may be left out: the configured broadcaster's queue.
	r = ts.askGift(t, "1003", `{"characterName":"Jaina"}`)
	_ = json.Unmarshal(r.body, &v)
	g3 := giftDTO{id: v.ID, viewer: "1003", name: "Jaina", state: "Pending", pos: 3, created: t1, updated: t1}
	wantBody(t, "third request", r, http.StatusCreated, g3.json())

	all := giftList(g1, g2, g3)
	wantBody(t, "Desktop queue", ts.desktopDo(t, http.MethodGet, "/api/gift-requests", ""), http.StatusOK, all)
	wantBody(t, "Desktop queue of b1", ts.desktopDo(t, http.MethodGet, "/api/gift-requests?streamerId=b1", ""), http.StatusOK, all)

	// The viewer filter: own requests plus the one served, positions over the whole queue.
	viewerQueue := func(tok string) response {
		return ts.get(t, "/api/streamers/b1/gift-queue", bearerHdr(tok))
	}
	wantBody(t, "queue as 1003", viewerQueue(ts.token("1003")), http.StatusOK, giftList(g1, g3))
	wantBody(t, "queue as 1001", viewerQueue(ts.token("1001")), http.StatusOK, giftList(g1))
	wantBody(t, "queue as a stranger", viewerQueue(ts.token("9999")), http.StatusOK, giftList(g1))
	wantBody(t, "queue as an opaque viewer", viewerQueue(ts.opaqueToken("U-opaque")), http.StatusOK, giftList(g1))

	// Empty queues are empty arrays.
	ts2 := newTestServer(t, nil)
	wantBody(t, "empty Desktop queue", ts2.desktopDo(t, http.MethodGet, "/api/gift-requests", ""), http.StatusOK, `[]`)
	wantBody(t, "empty viewer queue", ts2.get(t, "/api/streamers/b1/gift-queue", bearerHdr(ts2.token("1"))), http.StatusOK, `[]`)
}

func TestGiftDesktopFlow(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	t0 := ts.clock.Now()
	id1 := ts.askGiftID(t, "1001", "Norinn")
	id2 := ts.askGiftID(t, "1002", "Jaina")
	id3 := ts.askGiftID(t, "1003", "Thrall")

	// select-item: numbers may come as strings.
	ts.clock.Advance(10 * time.Second)
	t1 := ts.clock.Now()
	item := strings.Replace(itemJSON, `"count":20`, `"count":"20"`, 1)
	r := ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+id1+"/select-item", `{"item":`+item+`}`)
	g1 := giftDTO{id: id1, viewer: "1001", name: "Norinn", state: "WaitingConfirmation", item: itemJSON, pos: 1,
		created: t0, updated: t1, timeout: tp(t1.Add(5 * time.Minute))}
	wantBody(t, "select-item", r, http.StatusOK, g1.json())

	// confirm true: Completed, out of the queue; the next is promoted.
	ts.clock.Advance(20 * time.Second)
	t2 := ts.clock.Now()
	r = ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+id1+"/confirm", `{"confirmed":true}`)
	g1.state, g1.pos, g1.updated, g1.timeout = "Completed", 0, t2, nil
	wantBody(t, "confirm", r, http.StatusOK, g1.json())
	g2 := giftDTO{id: id2, viewer: "1002", name: "Jaina", state: "SelectingItem", pos: 1, created: t0, updated: t2, timeout: tp(t2.Add(time.Minute))}
	g3 := giftDTO{id: id3, viewer: "1003", name: "Thrall", state: "Pending", pos: 2, created: t0, updated: t0}
	wantBody(t, "queue after completion", ts.desktopDo(t, http.MethodGet, "/api/gift-requests", ""), http.StatusOK, giftList(g2, g3))
	// The viewer sees their result next to the one being served.
	wantBody(t, "1001's panel", ts.get(t, "/api/streamers/b1/gift-queue", bearerHdr(ts.token("1001"))), http.StatusOK, giftList(g1, g2))

	// The Desktop finds no items: PATCH to Failed with a reason (state in any case).
	r = ts.desktopDo(t, http.MethodPatch, "/api/gift-requests/"+id2, `{"state":"failed","reason":"no_items_available"}`)
	g2.state, g2.pos, g2.timeout, g2.reason = "Failed", 0, nil, "no_items_available"
	wantBody(t, "PATCH Failed", r, http.StatusOK, g2.json())
	// A replay is a no-op: same answer, no new event.
	ts.clock.Advance(time.Second)
	r = ts.desktopDo(t, http.MethodPatch, "/api/gift-requests/"+id2, `{"state":"Failed","reason":"other"}`)
	wantBody(t, "PATCH Failed again", r, http.StatusOK, g2.json())
	if n := len(ts.events(t, app.GiftStream(id2))); n != 3 {
		t.Fatalf("%d events after a replayed PATCH, want 3", n)
	}

	// 1003 is served; the recipient declines.
	t3 := ts.clock.Now()
	wantStatus(t, "select for 1003", ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+id3+"/select-item", `{"item":`+itemJSON+`}`), http.StatusOK)
	r = ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+id3+"/confirm", `{"confirmed":"false"}`)
	g3 = giftDTO{id: id3, viewer: "1003", name: "Thrall", state: "Failed", item: itemJSON, created: t0, updated: t3, reason: "receiver_declined"}
	wantBody(t, "declined", r, http.StatusOK, g3.json())

	// A PATCH without a reason gets the default one.
	id4 := ts.askGiftID(t, "1004", "Arthas")
	r = ts.desktopDo(t, http.MethodPatch, "/api/gift-requests/"+strings.ToUpper(id4), `{"state":"FAILED"}`)
	g4 := giftDTO{id: id4, viewer: "1004", name: "Arthas", state: "Failed", created: t3, updated: t3, reason: "failed_by_desktop"}
	wantBody(t, "PATCH without reason", r, http.StatusOK, g4.json())
	wantBody(t, "queue at the end", ts.desktopDo(t, http.MethodGet, "/api/gift-requests", ""), http.StatusOK, `[]`)

	// The history: one stream per request.
	var types []string
	for _, ev := range ts.events(t, app.GiftStream(id1)) {
		types = append(types, ev.Type)
	}
	if got := strings.Join(types, ","); got != "GiftRequestInitiated,GiftRequestStateChanged,GiftItemSelected,GiftRequestStateChanged,GiftRequestStateChanged" {
		t.Fatalf("events of the completed request: %s", got)
	}
}

func TestGiftTimeoutShownToViewer(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	t0 := ts.clock.Now()
	id1 := ts.askGiftID(t, "1001", "Norinn")
	ts.clock.Advance(60*time.Second - time.Millisecond)
	if n, err := ts.svc.SweepGiftTimeouts(t.Context()); err != nil || n != 0 {
		t.Fatalf("sweep at 59.999 s: %d %v", n, err)
	}
	ts.clock.Advance(time.Millisecond)
	t1 := ts.clock.Now()
	if n, err := ts.svc.SweepGiftTimeouts(t.Context()); err != nil || n != 1 {
		t.Fatalf("sweep at 60 s: %d %v", n, err)
	}
	g1 := giftDTO{id: id1, viewer: "1001", name: "Norinn", state: "Failed", created: t0, updated: t1, reason: "selection_timeout"}
	wantBody(t, "timed-out result", ts.get(t, "/api/streamers/b1/gift-queue", bearerHdr(ts.token("1001"))), http.StatusOK, giftList(g1))
	r := ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+id1+"/select-item", `{"item":`+itemJSON+`}`)
	wantError(t, "select after the timeout", r, http.StatusConflict, mgm.CodeInvalidState)
	ts.clock.Advance(10 * time.Minute)
	wantBody(t, "result gone after 10 minutes", ts.get(t, "/api/streamers/b1/gift-queue", bearerHdr(ts.token("1001"))), http.StatusOK, `[]`)
}

func TestGiftCreateErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config.Config) { c.RateLimits.ViewerWrites = 0 })
	cases := []struct {
		name, body string
		status     int
		code       mgm.Code
	}{
		{"bad name", `{"streamerId":"b1","characterName":"N0rinn"}`, 400, mgm.CodeInvalidCharacterName},
		{"no name", `{"streamerId":"b1"}`, 400, mgm.CodeInvalidCharacterName},
		{"name too short", `{"streamerId":"b1","characterName":"A"}`, 400, mgm.CodeInvalidCharacterName},
		{"another streamer", `{"streamerId":"b2","characterName":"Norinn"}`, 400, mgm.CodeInvalidPayload},
		{"not JSON", `{"streamerId":`, 400, mgm.CodeInvalidPayload},
		{"wrong type", `{"streamerId":1,"characterName":"Norinn"}`, 400, mgm.CodeInvalidPayload},
		{"empty body", ``, 400, mgm.CodeInvalidPayload},
	}
	for _, c := range cases {
		wantError(t, c.name, ts.askGift(t, "1001", c.body), c.status, c.code)
	}
	ts.askGiftID(t, "1001", "Norinn")
	wantError(t, "active request", ts.askGift(t, "1001", `{"streamerId":"b1","characterName":"Jaina"}`), 409, mgm.CodeGiftRequestActive)
	// Used: complete it, then ask again.
	q := ts.desktopDo(t, http.MethodGet, "/api/gift-requests", "")
	var list []struct{ ID string }
	_ = json.Unmarshal(q.body, &list)
	wantStatus(t, "select", ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+list[0].ID+"/select-item", `{"item":{}}`), 200)
	wantStatus(t, "confirm", ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+list[0].ID+"/confirm", `{"confirmed":true}`), 200)
	wantError(t, "used", ts.askGift(t, "1001", `{"streamerId":"b1","characterName":"Norinn"}`), 409, mgm.CodeGiftAlreadyUsed)

	// Authentication.
	r := ts.do(t, http.MethodPost, "/api/gift-requests", []byte(`{"characterName":"Norinn"}`), hdr("Content-Type", "application/json"))
	wantError(t, "no token", r, 401, mgm.CodeUnauthorized)
	r = ts.do(t, http.MethodPost, "/api/gift-requests", []byte(`{"characterName":"Norinn"}`), bearerHdr(ts.opaqueToken("U-x"), "Content-Type", "application/json"))
	wantError(t, "identity not shared", r, 403, mgm.CodeIdentityNotShared)
	r = ts.get(t, "/api/streamers/b1/gift-queue", nil)
	wantError(t, "queue without token", r, 401, mgm.CodeUnauthorized)
	r = ts.get(t, "/api/streamers/b2/gift-queue", bearerHdr(ts.token("1001")))
	wantError(t, "another streamer's queue", r, 400, mgm.CodeInvalidPayload)
	r = ts.desktopDo(t, http.MethodGet, "/api/gift-requests?streamerId=b2", "")
	wantError(t, "Desktop: another streamer", r, 400, mgm.CodeInvalidPayload)
	r = ts.get(t, "/api/gift-requests", bearerHdr(ts.token("1001")))
	wantError(t, "Desktop queue without key", r, 401, mgm.CodeUnauthorized)
	r = ts.get(t, "/api/gift-requests", apiKeyHdr("wrong-key-aaaaaaaaaaaaaaaaaaaaaa"))
	wantError(t, "Desktop queue with a wrong key", r, 403, mgm.CodeForbiddenAPIKey)
}

func TestGiftNoBroadcasterConfigured(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config.Config) { c.BroadcasterUserID = "" })
	wantError(t, "Desktop queue without streamerId", ts.desktopDo(t, http.MethodGet, "/api/gift-requests", ""), 400, mgm.CodeInvalidPayload)
	wantError(t, "create without streamerId", ts.askGift(t, "1001", `{"characterName":"Norinn"}`), 400, mgm.CodeInvalidPayload)
	// Any streamer then has a queue of its own.
	wantStatus(t, "create for s1", ts.askGift(t, "1001", `{"streamerId":"s1","characterName":"Norinn"}`), 201)
	wantStatus(t, "create for s2", ts.askGift(t, "1001", `{"streamerId":"s2","characterName":"Norinn"}`), 201)
	for _, s := range []string{"s1", "s2"} {
		r := ts.desktopDo(t, http.MethodGet, "/api/gift-requests?streamerId="+s, "")
		if r.status != 200 || !strings.Contains(r.text(), `"streamerId":"`+s+`"`) || !strings.Contains(r.text(), `"queuePosition":1,`) {
			t.Fatalf("queue of %s: %s", s, r)
		}
	}
}

func TestGiftSubscriberCheck(t *testing.T) {
	t.Parallel()
	noSkip := func(c *config.Config) { c.DevSkipSubscriberCheck = false }
	body := `{"streamerId":"b1","characterName":"Norinn"}`
	t.Run("no checker configured", func(t *testing.T) {
		t.Parallel()
		ts := newTestServer(t, noSkip)
		wantError(t, "without Helix", ts.askGift(t, "1001", body), 403, mgm.CodeNotSubscriber)
	})
	t.Run("checker says no", func(t *testing.T) {
		t.Parallel()
		f := &fakeSubscribers{ok: false}
		ts := newTestServerWith(t, noSkip, func(d *httpapi.Deps) { d.Subscribers = f })
		wantError(t, "non-subscriber", ts.askGift(t, "1001", body), 403, mgm.CodeNotSubscriber)
		// The name is checked first, without asking Twitch.
		wantError(t, "bad name", ts.askGift(t, "1001", `{"characterName":"N0rinn"}`), 400, mgm.CodeInvalidCharacterName)
		if f.calls.Load() != 1 {
			t.Fatalf("checker called %d times, want 1", f.calls.Load())
		}
	})
	t.Run("checker says yes", func(t *testing.T) {
		t.Parallel()
		f := &fakeSubscribers{ok: true}
		ts := newTestServerWith(t, noSkip, func(d *httpapi.Deps) { d.Subscribers = f })
		wantStatus(t, "subscriber", ts.askGift(t, "1001", body), 201)
	})
	t.Run("checker fails", func(t *testing.T) {
		t.Parallel()
		f := &fakeSubscribers{err: errors.New("helix: 502 bad gateway")}
		ts := newTestServerWith(t, noSkip, func(d *httpapi.Deps) { d.Subscribers = f })
		wantError(t, "Helix down", ts.askGift(t, "1001", body), 503, mgm.CodeUnavailable)
		wantBody(t, "nothing queued", ts.desktopDo(t, http.MethodGet, "/api/gift-requests", ""), 200, `[]`)
	})
	t.Run("dev skip in Development", func(t *testing.T) {
		t.Parallel()
		f := &fakeSubscribers{err: errors.New("boom")}
		ts := newTestServerWith(t, nil, func(d *httpapi.Deps) { d.Subscribers = f })
		wantStatus(t, "dev skip", ts.askGift(t, "1001", body), 201)
	})
	t.Run("dev skip does not reach Production", func(t *testing.T) {
		t.Parallel()
		f := &fakeSubscribers{ok: false}
		ts := newTestServerWith(t, func(c *config.Config) { c.Environment = config.Production }, func(d *httpapi.Deps) { d.Subscribers = f })
		wantError(t, "Production", ts.askGift(t, "1001", body), 403, mgm.CodeNotSubscriber)
	})
}

func TestGiftDesktopErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	id1 := ts.askGiftID(t, "1001", "Norinn") // SelectingItem
	id2 := ts.askGiftID(t, "1002", "Jaina")  // Pending
	unknown := "00000000-0000-4000-8000-000000000abc"
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     mgm.Code
	}{
		{"PATCH unknown id", "PATCH", "/api/gift-requests/" + unknown, `{"state":"Failed"}`, 404, mgm.CodeNotFound},
		{"PATCH malformed id", "PATCH", "/api/gift-requests/not-a-uuid", `{"state":"Failed"}`, 404, mgm.CodeNotFound},
		{"select malformed id", "POST", "/api/gift-requests/123/select-item", `{"item":{}}`, 404, mgm.CodeNotFound},
		{"confirm malformed id", "POST", "/api/gift-requests/" + id1[:35] + "/confirm", `{"confirmed":true}`, 404, mgm.CodeNotFound},
		{"confirm unknown id", "POST", "/api/gift-requests/" + unknown + "/confirm", `{"confirmed":true}`, 404, mgm.CodeNotFound},
		{"PATCH without state", "PATCH", "/api/gift-requests/" + id1, `{"reason":"x"}`, 400, mgm.CodeInvalidPayload},
		{"PATCH unknown state", "PATCH", "/api/gift-requests/" + id1, `{"state":"ItemSelected"}`, 400, mgm.CodeInvalidPayload},
		{"PATCH to SelectingItem", "PATCH", "/api/gift-requests/" + id2, `{"state":"SelectingItem"}`, 409, mgm.CodeInvalidState},
		{"PATCH to the same state", "PATCH", "/api/gift-requests/" + id1, `{"state":"SelectingItem"}`, 409, mgm.CodeInvalidState},
		{"PATCH to Completed", "PATCH", "/api/gift-requests/" + id1, `{"state":"Completed"}`, 409, mgm.CodeInvalidState},
		{"PATCH overlong reason", "PATCH", "/api/gift-requests/" + id1, `{"state":"Failed","reason":"` + strings.Repeat("x", 201) + `"}`, 400, mgm.CodeInvalidPayload},
		{"select without item", "POST", "/api/gift-requests/" + id1 + "/select-item", `{}`, 400, mgm.CodeInvalidPayload},
		{"select null item", "POST", "/api/gift-requests/" + id1 + "/select-item", `{"item":null}`, 400, mgm.CodeInvalidPayload},
		{"select in Pending", "POST", "/api/gift-requests/" + id2 + "/select-item", `{"item":{}}`, 409, mgm.CodeInvalidState},
		{"confirm without answer", "POST", "/api/gift-requests/" + id1 + "/confirm", `{}`, 400, mgm.CodeInvalidPayload},
	}
	for _, c := range cases {
		wantError(t, c.name, ts.desktopDo(t, c.method, c.path, c.body), c.status, c.code)
	}
	// A refused confirm names the state: a Desktop whose earlier confirm got
	// through without its answer learns that the gift is Completed.
	wantErrorDetails(t, "confirm in SelectingItem", ts.desktopDo(t, "POST", "/api/gift-requests/"+id1+"/confirm", `{"confirmed":true}`),
		409, mgm.CodeInvalidState, `{"state":"SelectingItem"}`)
	wantErrorDetails(t, "confirm in Pending", ts.desktopDo(t, "POST", "/api/gift-requests/"+id2+"/confirm", `{"confirmed":false}`),
		409, mgm.CodeInvalidState, `{"state":"Pending"}`)
	// Nothing changed.
	r := ts.desktopDo(t, http.MethodGet, "/api/gift-requests", "")
	if !strings.Contains(r.text(), `"state":"SelectingItem"`) || !strings.Contains(r.text(), `"state":"Pending"`) {
		t.Fatalf("queue after refusals: %s", r)
	}
	// Select twice: the second is refused.
	wantStatus(t, "select", ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+id1+"/select-item", `{"item":`+itemJSON+`}`), 200)
	wantError(t, "select again", ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+id1+"/select-item", `{"item":`+itemJSON+`}`), 409, mgm.CodeInvalidState)
	wantStatus(t, "confirm", ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+id1+"/confirm", `{"confirmed":true}`), 200)
	wantErrorDetails(t, "confirm again", ts.desktopDo(t, http.MethodPost, "/api/gift-requests/"+id1+"/confirm", `{"confirmed":true}`),
		409, mgm.CodeInvalidState, `{"state":"Completed"}`)
	wantError(t, "fail a completed request", ts.desktopDo(t, http.MethodPatch, "/api/gift-requests/"+id1, `{"state":"Failed"}`), 409, mgm.CodeInvalidState)

	// Auth comes with the Desktop routes.
	r = ts.do(t, http.MethodPatch, "/api/gift-requests/"+id2, []byte(`{"state":"Failed"}`), bearerHdr(ts.token("1002"), "Content-Type", "application/json"))
	wantError(t, "PATCH with a viewer token", r, 401, mgm.CodeUnauthorized)
	r = ts.do(t, http.MethodGet, "/api/gift-requests/"+id2, nil, apiKeyHdr(testAPIKeyA))
	wantError(t, "GET one request", r, 405, ebsapi.CodeMethodNotAllowed)
}

func TestGiftViaEventSub(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	deliver := func(delivery string, e chatEvent) {
		t.Helper()
		wantStatus(t, "delivery "+delivery, ts.deliver(t, delivery, eventsub.TypeNotification, e.body()), http.StatusOK)
	}
	queue := func() string {
		t.Helper()
		r := ts.desktopDo(t, http.MethodGet, "/api/gift-requests", "")
		wantStatus(t, "Desktop queue", r, 200)
		var list []struct{ ViewerID, ViewerDisplayName, CharacterName, State string }
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Fatal(err)
		}
		s := ""
		for _, g := range list {
			s += fmt.Sprintf("%s/%s/%s/%s ", g.ViewerID, g.ViewerDisplayName, g.CharacterName, g.State)
		}
		return s
	}
	deliver("d-1", chatEvent{chatterID: "1001", display: "Норинн", text: "!twgift Norinn"})
	if got := queue(); got != "1001/Норинн/Norinn/SelectingItem " {
		t.Fatalf("after a subscriber's !twgift: %s", got)
	}
	// Prime Gaming is not a subscription to this channel.
	deliver("d-2", chatEvent{chatterID: "1002", text: "!twgift Jaina", badges: []map[string]string{{"set_id": "premium", "id": "1", "info": ""}}})
	// A redelivery of the first message, even with other words, does nothing.
	deliver("d-1", chatEvent{chatterID: "1003", text: "!twgift Thrall"})
	// A founder badge counts; another channel's message does not.
	deliver("d-3", chatEvent{chatterID: "1004", messageID: "m-4", text: "!TwGift  Тралл", badges: []map[string]string{{"set_id": "founder", "id": "0", "info": "3"}}})
	deliver("d-4", chatEvent{chatterID: "1005", broadcaster: "b2", text: "!twgift Arthas"})
	if got := queue(); got != "1001/Норинн/Norinn/SelectingItem 1004/Viewer1004/Тралл/Pending " {
		t.Fatalf("queue: %s", got)
	}
	// Rejections are silent 200s; the viewer's panel reflects the state.
	deliver("d-5", chatEvent{chatterID: "1001", messageID: "m-5", text: "!twgift Norinn"})
	if got := queue(); !strings.HasPrefix(got, "1001/") || strings.Count(got, "1001/") != 1 {
		t.Fatalf("a second request of 1001: %s", got)
	}
	r := ts.get(t, "/api/streamers/b1/gift-queue", bearerHdr(ts.token("1004")))
	if r.status != 200 || !strings.Contains(r.text(), `"queuePosition":2,"estimatedWaitSeconds":65`) {
		t.Fatalf("1004's panel: %s", r)
	}
	var list []struct{ ID string }
	_ = json.Unmarshal(r.body, &list)
	d := ts.events(t, app.GiftStream(list[1].ID))
	if len(d) != 1 || !strings.Contains(string(d[0].Data), `"source":"chat"`) || !strings.Contains(string(d[0].Data), `"messageId":"m-4"`) {
		t.Fatalf("GiftRequestInitiated %+v", d)
	}
	if n := ts.poolCount(t); n != 0 {
		t.Fatalf("!twgift enrolled %d viewers in the pool", n)
	}
}

func TestGiftWriteRateLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil) // ViewerWrites = 5
	for i := 0; i < 5; i++ {
		r := ts.askGift(t, "1001", `{"characterName":"Norinn"}`)
		if r.status == http.StatusTooManyRequests {
			t.Fatalf("request %d throttled", i+1)
		}
	}
	wantRateLimited(t, "6th gift request within a minute", ts.askGift(t, "1001", `{"characterName":"Norinn"}`))
	// Reads are another class.
	wantStatus(t, "queue read", ts.get(t, "/api/streamers/b1/gift-queue", bearerHdr(ts.token("1001"))), 200)
}
