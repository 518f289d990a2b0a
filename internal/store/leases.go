package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Leases name single-holder work: one replica at a time holds the Twitch
// connection or the panel push. A holder keeps its lease by renewing it before
// it expires; a holder that dies simply stops renewing, and another takes the
// lease once it has expired. Each call is one statement, so the database
// decides every race.

// AcquireLease takes the named lease for holder until `until`, if it is free,
// expired at now, or already holder's (then it is extended). It reports
// whether holder holds it afterwards.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	res, err := db.sql.ExecContext(ctx, db.d.Rebind(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`),
		name, holder, db.d.Time(until), db.d.Time(now))
	return affectedOne(res, err)
}

// RenewLease extends holder's lease to `until`; false when holder no longer
// holds it (it expired at now, or another holder took it), and must stop the work.
func (db *DB) RenewLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error) {
	res, err := db.sql.ExecContext(ctx, db.d.Rebind(`UPDATE leases SET expires_at = ?
		WHERE name = ? AND holder = ? AND expires_at > ?`),
		db.d.Time(until), name, holder, db.d.Time(now))
	return affectedOne(res, err)
}

// ReleaseLease gives holder's lease up at once, so that another replica need
// not wait for it to expire; releasing a lease one does not hold does nothing.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := db.sql.ExecContext(ctx, db.d.Rebind(`DELETE FROM leases WHERE name = ? AND holder = ?`), name, holder)
	return err
}

// LeaseHolder returns the lease's holder and expiry ("" when never taken or released).
func (db *DB) LeaseHolder(ctx context.Context, name string) (string, time.Time, error) {
	var holder string
	var at Time
	err := db.sql.QueryRowContext(ctx, db.d.Rebind(`SELECT holder, expires_at FROM leases WHERE name = ?`), name).Scan(&holder, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	return holder, at.Time, err
}
