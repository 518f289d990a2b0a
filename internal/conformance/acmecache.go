package conformance

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mimirons-goldomatic/mgm/internal/store"
)

var acmeCacheTests = []struct {
	name string
	fn   func(*testing.T, *env)
}{
	{"ACMECacheRoundTrip", testACMECache},
}

// The cache keeps arbitrary bytes (PEM and DER; any byte value) under a key,
// replaces them, and forgets them.
func testACMECache(t *testing.T, e *env) {
	if _, err := e.db.ACMECacheGet(e.ctx, "ebs.example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get before put: %v, want ErrNotFound", err)
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, data := range [][]byte{[]byte("-----BEGIN EC PRIVATE KEY-----\n"), all} {
		if err := e.db.ACMECachePut(e.ctx, "ebs.example.com", data, e.clock.Now()); err != nil {
			t.Fatalf("put: %v", err)
		}
		got, err := e.db.ACMECacheGet(e.ctx, "ebs.example.com")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("get after put: %q %v, want %q", got, err, data)
		}
	}
	if err := e.db.ACMECacheDelete(e.ctx, "ebs.example.com"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := e.db.ACMECacheDelete(e.ctx, "ebs.example.com"); err != nil {
		t.Fatalf("delete again: %v", err)
	}
	if _, err := e.db.ACMECacheGet(e.ctx, "ebs.example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
}
