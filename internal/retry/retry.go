// Package retry holds what the project's retry loops share: waiting between
// attempts without outliving the caller's context.
package retry

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx ends, whichever comes first. It returns
// ctx.Err() when the wait was cut short, so a retry loop stops at once
// instead of trying again after its caller has gone.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
