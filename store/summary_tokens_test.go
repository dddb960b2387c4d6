package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/report"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// unknownTokensRun records one run with three levels of endpoint "x": every ok request
// without an output-token count (a server sending no usage, no tokenizer), the same with
// one failed request beside them, and one with counts (5 each). It returns the run id.
func unknownTokensRun(t *testing.T, ctx context.Context, db *store.DB) int64 {
	t.Helper()
	runID := storetest.Run(t, db, bench.Run{Status: bench.RunCompleted, Stream: true})
	epID := storetest.Endpoint(t, db, runID, "x")
	five := 5
	var reqs []bench.Request
	for c, level := range []struct {
		tokens *int
		failed bool
	}{{nil, false}, {nil, true}, {&five, false}} {
		lvID := storetest.Level(t, db, bench.Level{RunID: runID, EndpointID: epID, Concurrency: c + 1})
		for i := range 3 {
			seq, e2e := i, 100.0
			r := bench.Request{RunID: runID, LevelID: lvID, EndpointID: epID, PromptIdx: i, PromptID: "p", Seq: &seq,
				Attempt: 1, Final: true, StartMS: float64(10 * i),
				Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: time.Now(), ElapsedMS: e2e,
					E2EMS: &e2e, TTFTMS: &e2e, OutputTokens: level.tokens}}
			if level.failed && i == 2 {
				r.Status, r.ErrorClass, r.E2EMS, r.TTFTMS = bench.StatusError, "http_500", nil, nil
			}
			reqs = append(reqs, r)
		}
	}
	if err := db.InsertRequests(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	return runID
}

// unknownTokensSummary is the summary of unknownTokensRun's run in a fresh database of be's kind.
func unknownTokensSummary(t *testing.T, be storetest.Backend) []store.SummaryRow {
	t.Helper()
	ctx := context.Background()
	db := be.Open(t)
	rows, err := db.Summary(ctx, unknownTokensRun(t, ctx, db))
	if err != nil {
		t.Fatalf("Summary: %v", err)
	}
	return rows
}

// A level whose successful requests have no output-token count reads as unknown (NULL
// output_tokens and output_tok_s), not as a measured 0 tok/s, and does not fail the read.
func TestSummaryUnknownOutputTokens(t *testing.T) {
	storetest.ForEach(t, testSummaryUnknownOutputTokens)
}

func testSummaryUnknownOutputTokens(t *testing.T, be storetest.Backend) {
	rows := unknownTokensSummary(t, be)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for _, r := range rows[:2] {
		if r.OutputTokens != nil || r.OutputTokS != nil {
			t.Errorf("level c=%d: output_tokens %v, output_tok_s %v: want both NULL (no count known)", r.Concurrency, r.OutputTokens, r.OutputTokS)
		}
	}
	if r := rows[2]; r.OutputTokens == nil || *r.OutputTokens != 15 || r.OutputTokS == nil || *r.OutputTokS <= 0 {
		t.Errorf("level with counts: output_tokens %v, output_tok_s %v: want 15 and > 0", r.OutputTokens, r.OutputTokS)
	}
}

// The run summary printed at the end of `tracker run` shows those levels' throughput as
// unknown ("-"), and the level with counts as a number.
func TestRunSummaryUnknownOutputTokens(t *testing.T) {
	storetest.ForEach(t, testRunSummaryUnknownOutputTokens)
}

func testRunSummaryUnknownOutputTokens(t *testing.T, be storetest.Backend) {
	rows := unknownTokensSummary(t, be)
	var b strings.Builder
	if err := report.WriteRunSummary(&b, rows, nil); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
	want := map[string]string{"c=1": "-", "c=2": "-", "c=3": "125.0"} // 15 tokens over a 120 ms window
	for _, line := range strings.Split(b.String(), "\n") {
		cells := strings.FieldsFunc(line, func(r rune) bool { return r == '|' || r == '│' })
		if len(cells) < 11 || strings.TrimSpace(cells[0]) != "x" {
			continue
		}
		level, outTokS := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[10])
		if outTokS != want[level] {
			t.Errorf("level %s: out tok/s %q, want %q", level, outTokS, want[level])
		}
		delete(want, level)
	}
	if len(want) != 0 {
		t.Errorf("levels missing from the summary: %v", want)
	}
}
