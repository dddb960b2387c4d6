package report

import (
	"context"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/bench"
)

// Requests that failed for want of a client resource (EMFILE...) are not an outcome of the
// endpoint: the report leaves them out of n, the success rate, the window and every
// statistic, counts them in their own column, and still agrees with v_summary.
func TestClientResourceFailuresNotInLevelFigures(t *testing.T) {
	ctx := context.Background()
	db := buildFixtureSQL(t)
	before := generate(t, db, Options{})
	l0 := before.Levels[0]
	tb, err := db.Query(ctx, "SELECT endpoint_id FROM levels WHERE id = ?", l0.LevelID)
	if err != nil || len(tb.Rows) != 1 {
		t.Fatalf("endpoint of level %d: %v", l0.LevelID, err)
	}
	epID := tb.Rows[0][0].(int64)
	var reqs []bench.Request
	for i := range 3 { // late, so that counting them would stretch the window
		reqs = append(reqs, bench.Request{RunID: l0.RunID, LevelID: l0.LevelID, EndpointID: epID, PromptIdx: i,
			PromptID: "p0", Final: true, StartMS: 1e7, Measurement: bench.Measurement{Status: bench.StatusError,
				ErrorClass: bench.ClassClientResource, StartedAt: day(1), ElapsedMS: 1,
				ErrorMessage: "dial tcp: socket: too many open files (the client's limit, not the endpoint)"}})
	}
	if err := db.InsertRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	// The level ends again with them (its stored summary is computed from its rows at its end).
	if err := db.FinishLevel(ctx, bench.Level{ID: l0.LevelID, Status: bench.LevelCompleted, EndedAt: day(1)}); err != nil {
		t.Fatal(err)
	}
	after := generate(t, db, Options{})
	var l *LevelStats
	for i, x := range after.Levels {
		if x.LevelID == l0.LevelID {
			l = &after.Levels[i]
		}
	}
	if l == nil {
		t.Fatalf("level %d missing", l0.LevelID)
	}
	if l.N != l0.N || l.OK != l0.OK || l.SuccessRate != l0.SuccessRate || l.DurationS != l0.DurationS || l.ClientRes != 3 {
		t.Errorf("with 3 client_resource failures: n %d ok %d success %v duration %v client_resource %d; before: n %d ok %d success %v duration %v",
			l.N, l.OK, l.SuccessRate, l.DurationS, l.ClientRes, l0.N, l0.OK, l0.SuccessRate, l0.DurationS)
	}
	view, err := db.LevelSummaries(ctx, []int64{l0.RunID})
	if err != nil {
		t.Fatal(err)
	}
	v := view[l0.LevelID]
	if v.N != l.N || v.OK != l.OK || v.ClientRes != 3 || v.Canceled != 0 || v.SuccessRate != float64(l.SuccessRate) ||
		v.DurationS == nil || *v.DurationS != float64(l.DurationS) {
		t.Errorf("v_summary: n %d ok %d client_resource %d canceled %d success %v duration %v; report: n %d ok %d success %v duration %v",
			v.N, v.OK, v.ClientRes, v.Canceled, v.SuccessRate, v.DurationS, l.N, l.OK, l.SuccessRate, l.DurationS)
	}
	rows, err := db.Summary(ctx, l0.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteRunSummary(&b, rows, nil); err != nil || !strings.Contains(b.String(), "client resource") {
		t.Errorf("run summary without a client resource column (%v):\n%s", err, b.String())
	}
}
