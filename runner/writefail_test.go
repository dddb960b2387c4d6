package runner

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

func (f *fakeServer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

func countRows(t *testing.T, db *store.DB, where string) int {
	t.Helper()
	tb, err := db.Query(context.Background(), "SELECT COUNT(*) FROM requests WHERE warmup = 0 AND "+where)
	if err != nil {
		t.Fatal(err)
	}
	return int(tb.Rows[0][0].(int64))
}

// checkStoppedAtOnce checks a run that failed on a write: failed with the reason, no request
// sent after it returned, and not many more sent than recorded (the batch that failed, the
// retry window and the requests in flight) — far fewer than the plan's.
func checkStoppedAtOnce(t *testing.T, f *fakeServer, db *store.DB, out Outcome, err error, reason string, planned, maxExtra int) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), reason) || out.Status != bench.RunFailed {
		t.Fatalf("outcome %+v, err %v: want failed with %q", out, err, reason)
	}
	if strings.Count(err.Error(), "recording requests") > 1 {
		t.Errorf("message repeats itself: %v", err)
	}
	run, gerr := db.GetRun(context.Background(), out.RunID)
	if gerr != nil || run.Status != bench.RunFailed || !strings.Contains(run.Error, reason) {
		t.Errorf("run row: %+v %v", run, gerr)
	}
	sent := f.count()
	time.Sleep(100 * time.Millisecond)
	if f.count() != sent {
		t.Errorf("requests still sent after the run returned: %d then %d", sent, f.count())
	}
	stored := countRows(t, db, "1")
	if sent-stored > maxExtra || sent > planned/2 {
		t.Errorf("%d requests sent, %d recorded, of %d planned: the run went on after the failure", sent, stored, planned)
	}
	t.Logf("%d sent, %d recorded, of %d planned", sent, stored, planned)
}

// resumeFinishes resumes the failed run with a healthy database and checks that exactly the
// requests without a stored row are sent, even if the level's status claims completion.
func resumeFinishes(t *testing.T, path string, p Plan, runID int64, planned int) {
	t.Helper()
	db := storetest.OpenAt(t, path)
	if _, err := db.Query(context.Background(), "UPDATE levels SET status = 'completed'"); err != nil {
		t.Fatal(err)
	}
	done := countRows(t, db, "final = 1 AND status <> 'canceled'")
	f := &fakeServer{ttft: time.Millisecond, tokens: words(2)}
	srv := f.start(t)
	p.Endpoints[0].BaseURL = srv.URL + "/v1"
	r := &Runner{DB: db, Tokens: tokenstest.Counter(t), Version: "test"}
	out, err := r.Resume(context.Background(), runID, p)
	if err != nil || out.Status != bench.RunCompleted {
		t.Fatalf("resume: %+v %v", out, err)
	}
	if f.count() != planned-done {
		t.Errorf("resume sent %d, want the %d without a stored row", f.count(), planned-done)
	}
	tb, _ := db.Query(context.Background(), "SELECT COUNT(*), COUNT(DISTINCT seq) FROM requests WHERE final = 1 AND warmup = 0")
	if tb.Rows[0][0].(int64) != int64(planned) || tb.Rows[0][1].(int64) != int64(planned) {
		t.Errorf("final rows %v, distinct seqs %v, want %d each", tb.Rows[0][0], tb.Rows[0][1], planned)
	}
}

// A full disk (PRAGMA max_page_count on the writer) stops the run at the first failed write.
func TestDiskFullStopsRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "full.db")
	db := storetest.OpenAt(t, path)
	tb, _ := db.Query(context.Background(), "PRAGMA page_count")
	pages := int(tb.Rows[0][0].(int64))
	db.Close()
	full, err := store.OpenWith(context.Background(), path, storetest.Schema(t), store.OpenOptions{MaxPages: pages + 12})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	f := &fakeServer{ttft: 5 * time.Millisecond, tokens: words(2)}
	srv := f.start(t)
	const planned = 3000
	p := plan(20, []int{2}, ep("a", srv.URL))
	p.Requests = planned
	r := &Runner{DB: full, Tokens: tokenstest.Counter(t), Version: "test"}
	out, err := r.Run(context.Background(), p)
	checkStoppedAtOnce(t, f, full, out, err, "full", planned, 200)
	full.Close()
	resumeFinishes(t, path, p, out.RunID, planned)
}

// A lock held by another process for longer than the retry budget stops the run as failed;
// one held for less is waited out and nothing is lost.
func TestLockedDatabase(t *testing.T) {
	for _, c := range []struct {
		name    string
		hold    time.Duration
		fails   bool
		planned int
	}{{"longer than the budget", 1500 * time.Millisecond, true, 1000}, {"shorter than the budget", 400 * time.Millisecond, false, 120}} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "locked.db")
			storetest.OpenAt(t, path).Close()
			db, err := store.OpenWith(context.Background(), path, storetest.Schema(t), store.OpenOptions{BusyTimeout: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			f := &fakeServer{ttft: 30 * time.Millisecond, tokens: words(2)}
			srv := f.start(t)
			planned := c.planned
			p := plan(20, []int{2}, ep("a", srv.URL))
			p.Requests = planned
			r := &Runner{DB: db, Tokens: tokenstest.Counter(t), Version: "test", WriteRetryBudget: 800 * time.Millisecond}
			go holdLockAfterRows(t, path, db, c.hold)
			out, err := r.Run(context.Background(), p)
			if c.fails {
				checkStoppedAtOnce(t, f, db, out, err, "locked", planned, 300)
				db.Close()
				resumeFinishes(t, path, p, out.RunID, planned)
				return
			}
			if err != nil || out.Status != bench.RunCompleted || countRows(t, db, "final = 1") != planned {
				t.Errorf("outcome %+v err %v, %d final rows: want completed with %d", out, err, countRows(t, db, "final = 1"), planned)
			}
		})
	}
}

// holdLockAfterRows takes the database's write lock from another connection once some rows
// are committed, and holds it for d.
func holdLockAfterRows(t *testing.T, path string, db *store.DB, d time.Duration) {
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Error(err)
		return
	}
	defer other.Close()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var n int
		if other.QueryRow("SELECT COUNT(*) FROM requests").Scan(&n); n >= 5 {
			break
		}
	}
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Error(err)
		return
	}
	time.Sleep(d)
	conn.ExecContext(context.Background(), "ROLLBACK")
}
