package store_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store/storetest"
)

func TestReportSelection(t *testing.T) { storetest.ForEach(t, testReportSelection) }

func testReportSelection(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	base := time.Date(2026, 11, 1, 9, 0, 0, 123456789, time.UTC)
	type runDef struct {
		label string
		at    time.Time
		eps   []string
	}
	defs := []runDef{
		{"hw5", base, []string{"metis", "sophia"}},
		{"hw5", base.Add(48 * time.Hour), []string{"metis"}},
		{"other", base.Add(-24 * time.Hour), []string{"sophia"}},
	}
	var ids []int64
	for _, d := range defs {
		id := storetest.Run(t, db, bench.Run{Label: d.label, StartedAt: d.at, Host: "h"})
		ids = append(ids, id)
		for _, e := range d.eps {
			epID := storetest.Endpoint(t, db, id, e)
			storetest.Level(t, db, bench.Level{RunID: id, EndpointID: epID, Concurrency: 1, StartedAt: d.at})
		}
	}
	runIDs := func(sel bench.ReportSelection) []int64 {
		t.Helper()
		runs, err := db.ReportRuns(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	for name, c := range map[string]struct {
		sel  bench.ReportSelection
		want []int64
	}{
		"all, oldest first": {bench.ReportSelection{}, []int64{ids[2], ids[0], ids[1]}},
		"by id":             {bench.ReportSelection{RunIDs: []int64{ids[1], ids[0]}}, []int64{ids[0], ids[1]}},
		"by label":          {bench.ReportSelection{Label: "hw5"}, []int64{ids[0], ids[1]}},
		// Since compares times (julianday, millisecond precision), not text: a start with
		// nanoseconds on the boundary is included.
		"since, inclusive": {bench.ReportSelection{Since: base}, []int64{ids[0], ids[1]}},
		"since, later":     {bench.ReportSelection{Since: base.Add(time.Second)}, []int64{ids[1]}},
		"by endpoint":      {bench.ReportSelection{Endpoints: []string{"sophia"}}, []int64{ids[2], ids[0]}},
		"combined":         {bench.ReportSelection{Label: "hw5", Endpoints: []string{"sophia"}}, []int64{ids[0]}},
	} {
		if got := runIDs(c.sel); !slices.Equal(got, c.want) {
			t.Errorf("%s: runs %v, want %v", name, got, c.want)
		}
	}
	lvls, err := db.ReportLevels(ctx, []int64{ids[0], ids[1]}, []string{"metis"})
	if err != nil {
		t.Fatal(err)
	}
	if len(lvls) != 2 || lvls[0].Endpoint != "metis" || lvls[1].RunID != ids[1] {
		t.Errorf("levels %+v, want metis's two levels", lvls)
	}
}

func TestEachLevelRequestExcludesWarmupsAndRetries(t *testing.T) {
	storetest.ForEach(t, testEachLevelRequestExcludesWarmupsAndRetries)
}

func testEachLevelRequestExcludesWarmupsAndRetries(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	runID := storetest.Run(t, db, bench.Run{Host: "h"})
	epID := storetest.Endpoint(t, db, runID, "a")
	lvl := storetest.Level(t, db, bench.Level{RunID: runID, EndpointID: epID, Concurrency: 1})
	e2e := 100.0
	reqs := []bench.Request{
		{Final: true, Measurement: bench.Measurement{Status: "ok", E2EMS: &e2e}},
		{Final: true, Warmup: true, Measurement: bench.Measurement{Status: "ok", E2EMS: &e2e}},
		{Final: false, Measurement: bench.Measurement{Status: "error", ErrorMessage: "retried"}},
		{Final: true, Measurement: bench.Measurement{Status: "error", ErrorMessage: "gave up"}},
	}
	for i := range reqs {
		reqs[i].RunID, reqs[i].LevelID, reqs[i].EndpointID, reqs[i].StartedAt = runID, lvl, epID, time.Now()
	}
	if err := db.InsertRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := db.EachLevelRequest(ctx, lvl, func(r *bench.ReportRequest) error {
		got = append(got, string(r.Status)+":"+r.ErrorMessage)
		if r.Status == "ok" && (r.E2EMS != 100 || !math.IsNaN(r.TTFTMS)) {
			t.Errorf("ok row: e2e %v ttft %v, want 100 and NaN (NULL)", r.E2EMS, r.TTFTMS)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"error:gave up", "ok:"}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}
