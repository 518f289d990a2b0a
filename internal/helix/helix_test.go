package helix

import (
	"context"
	"net/http"
	"net/http/httptest"
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
