package store

import (
	"context"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// DefaultRetryBudget is how long a write keeps being retried while another process holds
// the database's lock (each attempt also waits up to the busy timeout inside SQLite).
const DefaultRetryBudget = 60 * time.Second

// IsBusy reports whether err is SQLite's "database is busy/locked", or PostgreSQL's
// serialization failure, deadlock or lock not available: another connection holds the lock,
// and the same write may succeed later.
func IsBusy(err error) bool {
	switch pgCode(err) {
	case pgSerialization, pgDeadlock, pgLockNotAvailable:
		return true
	}
	return hasCode(err, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
}

// retryBusy runs write until it succeeds, fails with an error that is not busy/locked, or
// budget has passed; it waits between attempts with a doubling backoff (25 ms to 1 s).
func retryBusy(ctx context.Context, budget time.Duration, write func() error) error {
	deadline := time.Now().Add(budget)
	wait := 25 * time.Millisecond
	for {
		err := write()
		if err == nil || !IsBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		wait = min(2*wait, time.Second)
	}
}
