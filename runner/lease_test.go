package runner

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// --resume refuses a run whose lease another live process holds; an expired lease, or one
// whose owner on this host is gone, does not stand in the way.
func TestResumeRefusedWhileLeased(t *testing.T) {
	f := &fakeServer{ttft: time.Millisecond, tokens: words(2)}
	srv := f.start(t)
	r, db := newRunner(t)
	p := plan(4, []int{1}, ep("a", srv.URL))
	out, err := r.Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckResumable(context.Background(), db, out.RunID); !errors.Is(err, ErrResume) || !strings.Contains(err.Error(), "already completed") {
		t.Errorf("completed run: %v", err)
	}
	host, _ := os.Hostname()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	deadOwner := host + "/" + strconv.Itoa(gone.Process.Pid)
	for _, c := range []struct {
		owner   string
		until   time.Duration
		refused bool
	}{
		{"elsewhere/1", time.Minute, true},
		{host + "/1", time.Minute, true}, // pid 1 lives
		{"elsewhere/1", -time.Second, false},
		{deadOwner, time.Minute, false},
	} {
		if _, err := db.Query(context.Background(), `UPDATE runs SET status = 'running', lease_owner = ?, lease_until = ? WHERE id = ?`,
			c.owner, time.Now().Add(c.until).UTC().Format(time.RFC3339Nano), out.RunID); err != nil {
			t.Fatal(err)
		}
		sent := f.count()
		cerr := CheckResumable(context.Background(), db, out.RunID)
		_, rerr := r.Resume(context.Background(), out.RunID, p)
		if c.refused {
			for _, err := range []error{cerr, rerr} {
				if !errors.Is(err, ErrResume) || !strings.Contains(err.Error(), "still being run by") || !strings.Contains(err.Error(), c.owner) {
					t.Errorf("owner %s: %v, want refused", c.owner, err)
				}
			}
			if f.count() != sent {
				t.Errorf("owner %s: requests sent by a refused resume", c.owner)
			}
			continue
		}
		if cerr != nil || rerr != nil {
			t.Errorf("owner %s, lease for %s: %v / %v, want resumed", c.owner, c.until, cerr, rerr)
		}
	}
	status, lease, _ := db.RunLease(context.Background(), out.RunID)
	if status != bench.RunCompleted || !lease.Until.IsZero() {
		t.Errorf("after the resume: status %s, lease %+v (want completed, released)", status, lease)
	}
}
