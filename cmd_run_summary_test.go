package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store/storetest"
)

// A run whose every request failed for want of a client resource has no summary (no
// request has an outcome), and says why rather than that nothing was recorded.
func TestNoSummaryNamesClientResourceFailures(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	runID := storetest.Run(t, db, bench.Run{Status: bench.RunCompleted, Stream: true})
	epID := storetest.Endpoint(t, db, runID, "x")
	lvID := storetest.Level(t, db, bench.Level{RunID: runID, EndpointID: epID, Concurrency: 1})
	var reqs []bench.Request
	for i := range 2 {
		reqs = append(reqs, bench.Request{RunID: runID, LevelID: lvID, EndpointID: epID, PromptIdx: i, PromptID: "p",
			Attempt: 1, Final: true, Measurement: bench.Measurement{Status: bench.StatusError,
				ErrorClass: bench.ClassClientResource, StartedAt: time.Now()}})
	}
	if err := db.InsertRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	if rows, err := db.Summary(ctx, runID); err != nil || len(rows) != 0 {
		t.Fatalf("summary %v %v: want no level (no request has an outcome)", rows, err)
	}
	var out bytes.Buffer
	if err := writeNoSummary(&out, db, runID); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 failed on this machine for want of a resource") {
		t.Errorf("no-summary message %q: want the client-resource failures named", out.String())
	}
}
