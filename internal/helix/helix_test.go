package helix

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIsSubscriber(t *testing.T) {
	var gotAuth, gotClient, gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/helix/subscriptions" {
			http.NotFound(w, r)
			return
		}
		gotAuth, gotClient, gotQuery = r.Header.Get("Authorization"), r.Header.Get("Client-Id"), r.URL.RawQuery
		switch r.URL.Query().Get("user_id") {
		case "sub":
			w.Write([]byte(`{"data":[{"broadcaster_id":"b1","user_id":"sub","tier":"1000"}]}`))
		case "boom":
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Write([]byte(`{"data":[]}`))
		}
	}))
	defer srv.Close()
	c := New(srv.URL+"/", "cid", "tok", "b1")
	ok, err := c.IsSubscriber(context.Background(), "sub")
	if err != nil || !ok {
		t.Fatalf("sub: %v %v", ok, err)
	}
	if gotAuth != "Bearer tok" || gotClient != "cid" || gotQuery != "broadcaster_id=b1&user_id=sub" {
		t.Fatalf("request: auth %q client %q query %q", gotAuth, gotClient, gotQuery)
	}
	if ok, err := c.IsSubscriber(context.Background(), "nobody"); err != nil || ok {
		t.Fatalf("nobody: %v %v", ok, err)
	}
	if _, err := c.IsSubscriber(context.Background(), "boom"); err == nil {
		t.Fatal("a 401 from Helix was not an error")
	}
	if _, err := New(srv.URL, "cid", "", "b1").IsSubscriber(context.Background(), "sub"); err != ErrNotConfigured {
		t.Fatalf("unconfigured: %v", err)
	}
}

func TestSendChatMessage(t *testing.T) {
	type captured struct {
		auth, client, ctype, path string
		body                      map[string]string
	}
	var got captured
	status, reply := http.StatusOK, `{"data":[{"message_id":"abc","is_sent":true,"drop_reason":null}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = captured{auth: r.Header.Get("Authorization"), client: r.Header.Get("Client-Id"), ctype: r.Header.Get("Content-Type"), path: r.URL.Path}
		_ = json.NewDecoder(r.Body).Decode(&got.body)
		w.WriteHeader(status)
		w.Write([]byte(reply))
	}))
	defer srv.Close()
	c := New(srv.URL, "cid", "tok", "b1")
	line := "Награда отправлена персонажу Norinn на почту, проверяй ящик!"
	if err := c.SendChatMessage(context.Background(), line); err != nil {
		t.Fatal(err)
	}
	if got.path != "/helix/chat/messages" || got.auth != "Bearer tok" || got.client != "cid" || !strings.HasPrefix(got.ctype, "application/json") {
		t.Fatalf("request %+v", got)
	}
	if got.body["broadcaster_id"] != "b1" || got.body["sender_id"] != "b1" || got.body["message"] != line {
		t.Fatalf("body %v", got.body)
	}
	status, reply = http.StatusNoContent, ""
	if err := c.SendChatMessage(context.Background(), line); err != nil {
		t.Fatalf("204: %v", err)
	}
	status, reply = http.StatusOK, `{"data":[{"message_id":"","is_sent":false,"drop_reason":{"code":"msg_duplicate","message":"dup"}}]}`
	if err := c.SendChatMessage(context.Background(), line); err == nil || !strings.Contains(err.Error(), "msg_duplicate") {
		t.Fatalf("dropped message: %v", err)
	}
	status, reply = http.StatusInternalServerError, ""
	if err := c.SendChatMessage(context.Background(), line); err == nil {
		t.Fatal("500 was a success")
	}
}
