package runner

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// A running run holds a lease on its row, renewed every leaseRenew for leaseTTL, so that a
// --resume from another process refuses it while it runs. A process killed without a chance
// to end its run stops renewing: its lease expires after leaseTTL, or at once when the owner
// is on this host and its process is gone.
const (
	leaseTTL   = 30 * time.Second
	leaseRenew = 5 * time.Second
)

// leaseOwner names this process: host/pid.
func leaseOwner() string {
	host, _ := os.Hostname()
	return host + "/" + strconv.Itoa(os.Getpid())
}

func newLease() bench.Lease { return bench.Lease{Owner: leaseOwner(), Until: time.Now().Add(leaseTTL)} }

// ownerDead reports whether owner is a process on this host that no longer exists.
func ownerDead(owner string) bool {
	host, pidText, ok := strings.Cut(owner, "/")
	me, _ := os.Hostname()
	pid, err := strconv.Atoi(pidText)
	if !ok || host != me || err != nil || pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	err = p.Signal(syscall.Signal(0))
	return errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH)
}

// CheckResumable refuses, before anything is sent, a run that is completed or that another
// live process is running.
func CheckResumable(ctx context.Context, db bench.Resumer, runID int64) error {
	status, lease, err := db.RunLease(ctx, runID)
	switch {
	case err != nil:
		return errors.Join(ErrResume, err)
	case status == bench.RunCompleted:
		return resumeErrorf("run %d is already completed", runID)
	case status == bench.RunRunning && lease.Held(time.Now(), leaseOwner(), ownerDead):
		return resumeErrorf("run %d is still being run by %s (lease renewed until %s); wait for it to end, or stop it first",
			runID, lease.Owner, lease.Until.Local().Format(time.TimeOnly))
	}
	return nil
}

// holdLease renews the run's lease until ctx ends; stop waits for the renewer to exit.
func (r *Runner) holdLease(ctx context.Context, runID int64) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leaseRenew)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.DB.RenewLease(context.Background(), runID, newLease()) // a missed renewal only shortens the lease
			}
		}
	}()
	return func() { cancel(); <-done }
}
