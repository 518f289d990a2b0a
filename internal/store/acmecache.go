package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The ACME cache holds what built-in HTTPS keeps between runs (the CA
// account key, certificates with their private keys, open challenge answers)
// where every replica sees it. Each call is one statement.

// ACMECacheGet returns the data stored under key; ErrNotFound when there is none.
func (db *DB) ACMECacheGet(ctx context.Context, key string) ([]byte, error) {
	var data []byte
	err := db.sql.QueryRowContext(ctx, db.d.Rebind(`SELECT data FROM acme_cache WHERE key = ?`), key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return data, err
}

// ACMECachePut stores data under key, replacing what was there.
func (db *DB) ACMECachePut(ctx context.Context, key string, data []byte, now time.Time) error {
	_, err := db.sql.ExecContext(ctx, db.d.Rebind(`INSERT INTO acme_cache (key, data, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`),
		key, data, db.d.Time(now))
	return err
}

// ACMECacheDelete removes key; deleting a key that is not there does nothing.
func (db *DB) ACMECacheDelete(ctx context.Context, key string) error {
	_, err := db.sql.ExecContext(ctx, db.d.Rebind(`DELETE FROM acme_cache WHERE key = ?`), key)
	return err
}
