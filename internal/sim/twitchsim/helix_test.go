package twitchsim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

const rewardBody = `{"broadcaster_id":"bcast-test","sender_id":"bcast-test","message":"Награда отправлена персонажу Etoehero на почту, проверяй ящик!"}`

func newHelixServer(t *testing.T, o HelixOptions) *httptest.Server {
	t.Helper()
	o.Now = fixedNow
	srv := httptest.NewServer(NewHelix(o))
	t.Cleanup(srv.Close)
	return srv
}

var helixAuth = map[string]string{
	"Authorization": "Bearer e2e-ci-broadcast-token",
	"Client-Id":     "e2e-ci-helix-client",
	"Content-Type":  "application/json; charset=utf-8",
}

func sendChatMessage(t *testing.T, srv *httptest.Server, body string, hdr map[string]string) response {
	t.Helper()
	return do(t, http.MethodPost, srv.URL+"/helix/chat/messages", body, hdr)
}

func TestHelixChatMessagesRecorded(t *testing.T) {
	srv := newHelixServer(t, HelixOptions{})

	if r := get(t, srv.URL+"/last-request"); trimNL(r.body) != `{"captured":false}` {
		t.Fatalf("empty last-request = %q", r.body)
	}
	r := sendChatMessage(t, srv, rewardBody, helixAuth)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var reply struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(r.body, &reply); err != nil || len(reply.Data) != 1 {
		t.Fatalf("reply %s: %v", r.body, err)
	}
	d := reply.Data[0]
	if id, _ := d["message_id"].(string); len(id) != 36 || d["is_sent"] != true || d["drop_reason"] != nil || len(d) != 3 {
		t.Fatalf("data = %v", d)
	}

	// last-request: exactly the predecessor's keys.
	lr := get(t, srv.URL+"/last-request")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(lr.body, &raw); err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for k := range raw {
		keys = append(keys, k)
	}
	if len(raw) != 4 || raw["captured"] == nil || raw["body"] == nil || raw["authorizationHeader"] == nil || raw["clientIdHeader"] == nil {
		t.Fatalf("last-request keys = %v", keys)
	}
	out := lr.json(t)
	wantBody := map[string]any{}
	_ = json.Unmarshal([]byte(rewardBody), &wantBody)
	if out["captured"] != true || !reflect.DeepEqual(out["body"], wantBody) ||
		out["authorizationHeader"] != "Bearer e2e-ci-broadcast-token" || out["clientIdHeader"] != "e2e-ci-helix-client" {
		t.Fatalf("last-request = %v", out)
	}

	// A second one without headers (not strict): recorded, headers null.
	sendChatMessage(t, srv, `{"message":"two"}`, nil)
	out = get(t, srv.URL+"/last-request").json(t)
	if out["authorizationHeader"] != nil || out["clientIdHeader"] != nil || out["body"].(map[string]any)["message"] != "two" {
		t.Fatalf("last-request = %v", out)
	}

	var recs []map[string]any
	if err := json.Unmarshal(get(t, srv.URL+"/requests").body, &recs); err != nil || len(recs) != 2 {
		t.Fatalf("requests: %v %v", recs, err)
	}
	first := recs[0]
	wantHeaders := map[string]any{
		"Authorization": "Bearer e2e-ci-broadcast-token", "Client-Id": "e2e-ci-helix-client", "Content-Type": "application/json; charset=utf-8",
	}
	if first["method"] != "POST" || first["path"] != "/helix/chat/messages" || !reflect.DeepEqual(first["headers"], wantHeaders) ||
		!reflect.DeepEqual(first["body"], wantBody) || first["receivedAt"] != "2026-03-01T12:00:00.123456789Z" || first["status"] != float64(200) {
		t.Fatalf("first record = %v", first)
	}
	if recs[1]["body"].(map[string]any)["message"] != "two" || len(recs[1]["headers"].(map[string]any)) != 0 {
		t.Fatalf("second record = %v", recs[1])
	}

	// Invalid JSON → 400, recorded with a null body, last-request unchanged.
	if r := sendChatMessage(t, srv, `{"message":`, helixAuth); r.status != http.StatusBadRequest {
		t.Fatalf("invalid JSON: %d %s", r.status, r.body)
	}
	_ = json.Unmarshal(get(t, srv.URL+"/requests").body, &recs)
	if len(recs) != 3 || recs[2]["body"] != nil || recs[2]["status"] != float64(400) {
		t.Fatalf("records = %v", recs)
	}
	if out := get(t, srv.URL+"/last-request").json(t); out["body"].(map[string]any)["message"] != "two" {
		t.Fatalf("last-request moved: %v", out)
	}

	// Reset clears everything.
	if r := post(t, srv.URL+"/reset", ""); r.status != http.StatusOK {
		t.Fatalf("reset: %d", r.status)
	}
	if r := get(t, srv.URL+"/last-request"); trimNL(r.body) != `{"captured":false}` {
		t.Fatalf("after reset: %q", r.body)
	}
	if r := get(t, srv.URL+"/requests"); trimNL(r.body) != `[]` {
		t.Fatalf("requests after reset: %q", r.body)
	}
}

func TestHelixStrictAuth(t *testing.T) {
	srv := newHelixServer(t, HelixOptions{StrictAuth: true, Subscribers: []string{"v1"}})
	without := func(name string) map[string]string {
		m := map[string]string{}
		for k, v := range helixAuth {
			if k != name {
				m[k] = v
			}
		}
		return m
	}
	basic := without("Authorization")
	basic["Authorization"] = "Basic abc"
	for name, hdr := range map[string]map[string]string{
		"no auth": without("Authorization"), "no client id": without("Client-Id"), "not bearer": basic, "nothing": nil,
	} {
		r := sendChatMessage(t, srv, rewardBody, hdr)
		out := r.json(t)
		if r.status != http.StatusUnauthorized || out["error"] != "Unauthorized" || out["status"] != float64(401) || out["message"] == "" || len(out) != 3 {
			t.Errorf("%s: %d %v", name, r.status, out)
		}
		r = do(t, http.MethodGet, srv.URL+"/helix/subscriptions?broadcaster_id=b&user_id=v1", "", hdr)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s subscriptions: %d", name, r.status)
		}
	}
	if r := get(t, srv.URL+"/last-request"); trimNL(r.body) != `{"captured":false}` {
		t.Fatalf("a refused request was captured: %q", r.body)
	}
	if r := sendChatMessage(t, srv, rewardBody, helixAuth); r.status != http.StatusOK {
		t.Fatalf("authorised: %d %s", r.status, r.body)
	}
	if r := do(t, http.MethodGet, srv.URL+"/helix/subscriptions?broadcaster_id=b&user_id=v1", "", helixAuth); r.status != http.StatusOK {
		t.Fatalf("authorised subscriptions: %d", r.status)
	}
}

func TestHelixFailNext(t *testing.T) {
	srv := newHelixServer(t, HelixOptions{})
	r := post(t, srv.URL+"/fail-next", `{"count":2,"status":503}`)
	if out := r.json(t); r.status != http.StatusOK || out["count"] != float64(2) || out["status"] != float64(503) {
		t.Fatalf("fail-next: %d %s", r.status, r.body)
	}
	statuses := []int{}
	for range 3 {
		statuses = append(statuses, sendChatMessage(t, srv, rewardBody, helixAuth).status)
	}
	if !reflect.DeepEqual(statuses, []int{503, 503, 200}) {
		t.Fatalf("statuses = %v", statuses)
	}
	var recs []map[string]any
	_ = json.Unmarshal(get(t, srv.URL+"/requests").body, &recs)
	if len(recs) != 3 || recs[0]["status"] != float64(503) || recs[2]["status"] != float64(200) {
		t.Fatalf("records = %v", recs)
	}

	// Default status 503; reset clears pending failures.
	post(t, srv.URL+"/fail-next", `{"count":1}`)
	if r := sendChatMessage(t, srv, rewardBody, helixAuth); r.status != http.StatusServiceUnavailable || r.json(t)["status"] != float64(503) {
		t.Fatalf("default status: %d %s", r.status, r.body)
	}
	post(t, srv.URL+"/fail-next", `{"count":5,"status":500}`)
	post(t, srv.URL+"/reset", "")
	if r := sendChatMessage(t, srv, rewardBody, helixAuth); r.status != http.StatusOK {
		t.Fatalf("after reset: %d", r.status)
	}

	for _, bad := range []string{``, `{"count":-1}`, `{"count":1,"status":200}`, `{"count":"x"}`} {
		if r := post(t, srv.URL+"/fail-next", bad); r.status != http.StatusBadRequest {
			t.Errorf("%q: %d", bad, r.status)
		}
	}
}

func TestHelixSubscriptions(t *testing.T) {
	srv := newHelixServer(t, HelixOptions{Subscribers: splitList(" v1, v2 ,,v1")})
	q := func(query string) map[string]any {
		t.Helper()
		r := get(t, srv.URL+"/helix/subscriptions?"+query)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		return r.json(t)
	}
	empty := map[string]any{"data": []any{}, "total": float64(0), "points": float64(0), "pagination": map[string]any{}}

	got := q("broadcaster_id=bcast&user_id=v1")
	want := map[string]any{
		"data": []any{map[string]any{
			"broadcaster_id": "bcast", "broadcaster_login": "bcast", "broadcaster_name": "bcast",
			"gifter_id": "", "gifter_login": "", "gifter_name": "", "is_gift": false,
			"tier": "1000", "plan_name": "Tier 1", "user_id": "v1", "user_name": "v1", "user_login": "v1",
		}},
		"total": float64(1), "points": float64(1), "pagination": map[string]any{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("subscriber =\n%v\nwant\n%v", got, want)
	}
	if got := q("broadcaster_id=bcast&user_id=nobody"); !reflect.DeepEqual(got, empty) {
		t.Fatalf("non-subscriber = %v", got)
	}
	if got := q("broadcaster_id=bcast"); got["total"] != float64(2) {
		t.Fatalf("all = %v", got)
	}
	if r := get(t, srv.URL+"/helix/subscriptions?user_id=v1"); r.status != http.StatusBadRequest {
		t.Fatalf("missing broadcaster_id: %d", r.status)
	}

	// PUT /subscribers replaces the list.
	r := do(t, http.MethodPut, srv.URL+"/subscribers", `{"userIds":["v3"," v3 ",""]}`, nil)
	if r.status != http.StatusOK || trimNL(r.body) != `{"userIds":["v3"]}` {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	if got := q("broadcaster_id=bcast&user_id=v1"); !reflect.DeepEqual(got, empty) {
		t.Fatalf("v1 after PUT = %v", got)
	}
	if got := q("broadcaster_id=bcast&user_id=v3"); got["total"] != float64(1) {
		t.Fatalf("v3 after PUT = %v", got)
	}
	if r := get(t, srv.URL+"/subscribers"); trimNL(r.body) != `{"userIds":["v3"]}` {
		t.Fatalf("GET subscribers: %s", r.body)
	}
	for _, bad := range []string{``, `{}`, `{"userIds":"v1"}`} {
		if r := do(t, http.MethodPut, srv.URL+"/subscribers", bad, nil); r.status != http.StatusBadRequest {
			t.Errorf("PUT %q: %d", bad, r.status)
		}
	}
	// Reset does not forget subscribers.
	post(t, srv.URL+"/reset", "")
	if got := q("broadcaster_id=bcast&user_id=v3"); got["total"] != float64(1) {
		t.Fatalf("v3 after reset = %v", got)
	}
}
