package autotls

import (
	"context"
	"errors"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/mimirons-goldomatic/mgm/internal/store"
)

// CacheStore is the database's ACME cache (store.DB).
type CacheStore interface {
	ACMECacheGet(ctx context.Context, key string) ([]byte, error)
	ACMECachePut(ctx context.Context, key string, data []byte, now time.Time) error
	ACMECacheDelete(ctx context.Context, key string) error
}

// DBCache is an autocert.Cache in the database, shared by every replica:
// one order's certificate serves them all, and whichever replica the CA
// reaches can answer a challenge another one opened.
type DBCache struct {
	Store CacheStore
	Now   func() time.Time
}

var _ autocert.Cache = DBCache{}

func (c DBCache) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := c.Store.ACMECacheGet(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, autocert.ErrCacheMiss
	}
	return b, err
}

func (c DBCache) Put(ctx context.Context, key string, data []byte) error {
	return c.Store.ACMECachePut(ctx, key, data, c.Now())
}

func (c DBCache) Delete(ctx context.Context, key string) error {
	return c.Store.ACMECacheDelete(ctx, key)
}
