package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/trackerbench/tracker/bench"
)

// `tracker merge` copies the runs of one tracker database (the source, always an SQLite
// file, read-only) into another (the target: this DB, in whatever dialect it speaks). A run
// is known by its UUID, in every database; its id in the target may differ.
//
// Each run is copied in one transaction: the target has all of it or none of it. Merging is
// idempotent and loses nothing: a run the target already holds is compared row by row
// (merge_compare.go) and
//   - left alone when both copies are identical;
//   - replaced, in one transaction, when the source's copy holds every row of the target's
//     and more (the run was resumed in its source after an earlier merge): its requests
//     cannot be added one by one, since --resume also changes rows already copied (a canceled
//     request stops being final, the run and its levels get their final status), and a
//     request has no key of its own (a canceled request and its resent copy share level,
//     sequence number and attempt);
//   - left alone, and listed, when the target's copy holds every row of the source's (an
//     older copy of the source) or when each holds rows the other lacks (resumed in two
//     places): nothing recorded is ever deleted unless the copy replacing it holds it too.

// ErrSameDatabase is returned when a merge's source is its target.
var ErrSameDatabase = errors.New("the source is the target database itself")

// MergeAction is what a merge did with one run of a source.
type MergeAction string

// Merge actions.
const (
	MergeAdded     MergeAction = "added"     // new in the target
	MergeUpdated   MergeAction = "updated"   // the target's copy replaced by the source's, which holds it and more
	MergeUnchanged MergeAction = "unchanged" // the target already holds the same copy
	MergeKept      MergeAction = "kept"      // the target's copy holds every row of the source's and more
	MergeRunning   MergeAction = "running"   // still running in the source: skipped (MergeOptions.IncludeRunning)
	MergeBusy      MergeAction = "busy"      // the target's copy is being run (resumed) right now: skipped
	MergeConflict  MergeAction = "conflict"  // each copy has rows the other lacks: the target's copy is kept
)

// MergedRun is one run of a source and what the merge did with it.
type MergedRun struct {
	UUID     string
	SourceID int64
	TargetID int64 // 0 when the target has no copy
	Label    string
	Status   bench.RunStatus // in the source
	Action   MergeAction
	Requests int    // requests in the source's copy
	Copied   int    // requests written into the target
	Reason   string // for kept, busy and conflict
}

// MergeOptions tune MergeFrom.
type MergeOptions struct {
	// IncludeRunning copies runs that are still running in the source (as they are now;
	// merging again once they end replaces the copy).
	IncludeRunning bool
	// Progress is called with a number of the source's requests done (compared, copied or
	// skipped); over a whole merge they add up to SourceRequests.
	Progress func(requests int)
}

// sourceRun is one run of a source, as listed before merging.
type sourceRun struct {
	id          int64
	uuid, label string
	status      bench.RunStatus
	requests    int
}

// merger holds what one source's merge shares between its runs.
type merger struct {
	dst, src *DB
	cols     map[string][]string
	h        rowHasher
	opts     MergeOptions
}

// MergeFrom copies every run of src into db (module comment above) and reports what it did
// with each, in the source's order. It stops at the first error, after the runs already
// merged (each complete).
func (db *DB) MergeFrom(ctx context.Context, src *DB, opts MergeOptions) ([]MergedRun, error) {
	if sameFile(db.path, src.path) {
		return nil, fmt.Errorf("merging %s: %w", src.path, ErrSameDatabase)
	}
	cols, err := mergeColumns(ctx, src, db)
	if err != nil {
		return nil, fmt.Errorf("merging %s: %w", src.path, err)
	}
	runs, err := src.sourceRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("merging %s: %w", src.path, err)
	}
	if opts.Progress == nil {
		opts.Progress = func(int) {}
	}
	m := &merger{dst: db, src: src, cols: cols, h: rowHasher{seed: maphash.MakeSeed()}, opts: opts}
	out := make([]MergedRun, 0, len(runs))
	for _, r := range runs {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("merging %s: %w", src.path, err)
		}
		res, err := m.mergeRun(ctx, r)
		if err != nil {
			return out, fmt.Errorf("merging run %d (%s) of %s: %w", r.id, r.uuid, src.path, err)
		}
		out = append(out, res)
	}
	return out, nil
}

// SourceRequests is how many requests (of every kind) the database holds: a merge's total.
func (db *DB) SourceRequests(ctx context.Context) (int, error) {
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM requests`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the requests of %s: %w", db.path, err)
	}
	return n, nil
}

// CheckIntegrity runs SQLite's quick check over the whole file: a merge reads every page.
func (db *DB) CheckIntegrity(ctx context.Context) error {
	var problems []string
	err := eachRow(ctx, db.sql, "checking "+db.path, func(rows *sql.Rows) error {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" && len(problems) < 5 {
			problems = append(problems, line)
		}
		return nil
	}, `PRAGMA quick_check`)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s is damaged: %s", db.path, strings.Join(problems, "; "))
	}
	return nil
}

func (db *DB) sourceRuns(ctx context.Context) ([]sourceRun, error) {
	return queryAll(ctx, db.sql, "listing runs", func(rows *sql.Rows) (sourceRun, error) {
		var r sourceRun
		err := rows.Scan(&r.id, &r.uuid, &r.label, &r.status, &r.requests)
		return r, err
	}, `SELECT id, coalesce(uuid, ''), label, status,
		(SELECT COUNT(*) FROM requests WHERE run_id = runs.id) FROM runs ORDER BY id`)
}

func (m *merger) mergeRun(ctx context.Context, r sourceRun) (MergedRun, error) {
	res := MergedRun{UUID: r.uuid, SourceID: r.id, Label: r.label, Status: r.status, Requests: r.requests}
	defer func() { m.opts.Progress(r.requests - res.Copied) }()
	if r.status == bench.RunRunning && !m.opts.IncludeRunning {
		res.Action, res.Reason = MergeRunning, "still running in the source (--include-running copies it as it is)"
		return res, nil
	}
	if u, err := uuid.Parse(r.uuid); err != nil || u.String() != r.uuid {
		return res, fmt.Errorf("%w: the run's uuid %q is not a UUID in canonical form", ErrNotTracker, r.uuid)
	}
	targetID, err := m.dst.runByUUID(ctx, r.uuid)
	if err != nil {
		return res, err
	}
	res.TargetID = targetID
	if targetID == 0 {
		res.Action = MergeAdded
		res.TargetID, res.Copied, err = m.copyRun(ctx, r, nil, 0)
		return res, err
	}
	return m.mergeExisting(ctx, r, res)
}

// mergeExisting compares the source's copy of a run with the target's and acts on it.
func (m *merger) mergeExisting(ctx context.Context, r sourceRun, res MergedRun) (MergedRun, error) {
	dst, err := newRunCopy(m.dst, res.TargetID, m.cols, m.h).digest(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("reading the target's copy: %w", err)
	}
	src, err := newRunCopy(m.src, r.id, m.cols, m.h).digest(ctx, dst)
	if err != nil {
		return res, fmt.Errorf("reading the source's copy: %w", err)
	}
	c := compare(src, dst)
	switch {
	case !c.sameRun:
		res.Action, res.Reason = MergeConflict, fmt.Sprintf("run %d of the target has this UUID but is another run (different settings); neither is changed", res.TargetID)
	case c.identical:
		res.Action = MergeUnchanged
	case c.targetInSource && (!c.sourceInTarget || endsLater(src, dst)):
		return m.replace(ctx, r, res, dst)
	case c.sourceInTarget:
		res.Action, res.Reason = MergeKept, fmt.Sprintf("run %d of the target holds every row of this copy and more (an older copy of the source?)", res.TargetID)
	default:
		res.Action, res.Reason = MergeConflict, fmt.Sprintf("run %d of the target and this copy each hold rows the other lacks (resumed in two places?); the target's copy is kept", res.TargetID)
	}
	return res, nil
}

// replace swaps the target's copy of a run for the source's, unless the target's is being
// run right now (its lease is held).
func (m *merger) replace(ctx context.Context, r sourceRun, res MergedRun, dst *runDigest) (MergedRun, error) {
	status, lease, err := m.dst.RunLease(ctx, res.TargetID)
	if err != nil {
		return res, err
	}
	if status == bench.RunRunning && lease.Held(time.Now(), "", nil) {
		res.Action, res.Reason = MergeBusy, fmt.Sprintf("run %d of the target is being run by %s: merge again once it ends", res.TargetID, lease.Owner)
		return res, nil
	}
	res.Action = MergeUpdated
	_, res.Copied, err = m.copyRun(ctx, r, dst, res.TargetID)
	return res, err
}

// endsLater reports whether the source's copy of a run ended after the target's (both copies
// hold the same rows, and only the run's and its levels' statuses differ).
func endsLater(src, dst *runDigest) bool {
	if dst.status == bench.RunRunning && src.status != bench.RunRunning {
		return true
	}
	s, errS := time.Parse(time.RFC3339Nano, src.endedAt)
	d, errD := time.Parse(time.RFC3339Nano, dst.endedAt)
	return errS == nil && (errD != nil || s.After(d))
}

// copyRun writes the source's copy of a run into the target in one transaction: a new run
// (replaceID 0), or in place of the target's run replaceID, whose copy must still be the one
// compared (was: its status and request count then). It returns the target's run id and how
// many requests it wrote.
func (m *merger) copyRun(ctx context.Context, r sourceRun, was *runDigest, replaceID int64) (int64, int, error) {
	var targetID int64
	var copied int
	err := retryBusy(ctx, DefaultRetryBudget, func() error {
		var err error
		targetID, copied, err = m.copyRunTx(ctx, r, was, replaceID)
		return err
	})
	return targetID, copied, err
}

func (m *merger) copyRunTx(ctx context.Context, r sourceRun, was *runDigest, replaceID int64) (int64, int, error) {
	runCols := m.cols[tableRuns]
	vals, err := m.src.runRow(ctx, runCols, r.id)
	if err != nil {
		return 0, 0, err
	}
	tx, err := m.dst.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("starting the run's transaction: %w", err)
	}
	defer tx.Rollback()
	targetID := replaceID
	if replaceID == 0 {
		if targetID, err = insertRunRow(ctx, tx, runCols, vals); err != nil {
			return 0, 0, err
		}
	} else {
		if err := stillAsCompared(ctx, tx, replaceID, was); err != nil {
			return 0, 0, err
		}
		if err := replaceRunRows(ctx, tx, runCols, vals, replaceID); err != nil {
			return 0, 0, err
		}
	}
	w := &runWriter{tx: tx, cols: m.cols, ids: map[string]map[int64]int64{tableRuns: {r.id: targetID}}, progress: m.opts.Progress}
	copied := 0
	for _, t := range mergeTables {
		n, err := w.copyTable(ctx, m.src, t, r.id)
		if err != nil {
			return 0, 0, err
		}
		if t.name == tableRequests {
			copied = n
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("committing the run: %w", err)
	}
	return targetID, copied, nil
}

// stillAsCompared checks, inside the replacing transaction, that the target's copy of the run
// is the one compared: another process may have written to it since.
func stillAsCompared(ctx context.Context, tx *sql.Tx, id int64, was *runDigest) error {
	var status bench.RunStatus
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT status, (SELECT COUNT(*) FROM requests WHERE run_id = ?) FROM runs WHERE id = ?`, id, id).Scan(&status, &n); err != nil {
		return fmt.Errorf("reading run %d of the target: %w", id, err)
	}
	if status != was.status || n != was.tables[requestsTable()].n {
		return fmt.Errorf("run %d of the target changed while it was compared: merge again", id)
	}
	return nil
}

func requestsTable() int {
	for i, t := range mergeTables {
		if t.name == tableRequests {
			return i
		}
	}
	panic("store: requests is not in mergeTables")
}

// runRow reads a runs row's values in cols' order.
func (db *DB) runRow(ctx context.Context, cols []string, id int64) ([]any, error) {
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := db.sql.QueryRowContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM runs WHERE id = ?`, id).Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("reading run %d: %w", id, err)
	}
	return vals, nil
}

// runByUUID is the id of the run with this UUID, 0 when there is none.
func (db *DB) runByUUID(ctx context.Context, u string) (int64, error) {
	var id int64
	err := db.sql.QueryRowContext(ctx, `SELECT id FROM runs WHERE uuid = ?`, u).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("finding run %s in the target: %w", u, err)
	}
	return id, nil
}

// sameFile reports whether two paths name one existing file.
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}
