package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// The Writer's multi-row INSERTs (prepared once, several row counts per batch) record
// exactly the rows that one-row INSERTs record: every column, in Add order, NULLs kept.
func TestWriterMultiRowSameRows(t *testing.T) { storetest.ForEach(t, testWriterMultiRowSameRows) }

func testWriterMultiRowSameRows(t *testing.T, b storetest.Backend) {
	ctx := context.Background()
	db := b.Open(t)
	// 1,000 rows (a full batch: 256 × 3 + 128 + 64 + 32 + 8), then 300, then 7.
	const n = 1307
	one := writerTestRun(t, db, "one")
	for i := range n {
		if err := db.InsertRequests(ctx, []bench.Request{writerTestRow(one, i)}); err != nil {
			t.Fatal(err)
		}
	}
	multi := writerTestRun(t, db, "multi")
	w := db.NewWriter(store.WriterOptions{MaxBatch: 1000, FlushEvery: time.Hour})
	for i := range n {
		w.Add(writerTestRow(multi, i))
		if i == 999 || i == 1299 {
			w.Flush()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, bb := writerTestRows(t, db, one.RunID), writerTestRows(t, db, multi.RunID)
	if len(a) != n || len(bb) != n {
		t.Fatalf("rows: one-row %d, multi-row %d, want %d", len(a), len(bb), n)
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], bb[i]) {
			t.Fatalf("row %d differs:\none-row   %v\nmulti-row %v", i, a[i], bb[i])
		}
	}
}

// writerTestRun creates a run with an endpoint and a level; the ids are in the returned row.
func writerTestRun(t *testing.T, db *store.DB, label string) bench.Request {
	t.Helper()
	runID := storetest.Run(t, db, bench.Run{Host: "h", Label: label})
	ep := storetest.Endpoint(t, db, runID, "a")
	lv := storetest.Level(t, db, bench.Level{RunID: runID, EndpointID: ep, Concurrency: 4})
	return bench.Request{RunID: runID, LevelID: lv, EndpointID: ep}
}

// writerTestRow is request i of ids' run: values that differ by row, NULLs in some rows.
func writerTestRow(ids bench.Request, i int) bench.Request {
	r := ids
	seq, in, out := i, 100+i, i%7
	ttft, e2e := float64(i)/3, float64(i)*1.5+0.125
	r.PromptIdx, r.PromptID, r.Seq, r.Attempt, r.Final, r.StartMS = i%50, fmt.Sprintf("p%d", i%50), &seq, 1+i%2, i%5 != 0, float64(i)
	r.Measurement = bench.Measurement{Status: bench.StatusOK, StartedAt: time.Unix(1700000000, int64(i)*1e6),
		ElapsedMS: e2e, ITLMS: []float64{float64(i) / 7, 2.5}, Chunks: i % 9, ResponseText: fmt.Sprintf("answer %d ünïcode", i),
		FinishReason: "stop"}
	if i%3 != 0 {
		r.TTFTMS, r.E2EMS, r.InputTokens, r.OutputTokens = &ttft, &e2e, &in, &out
		r.UsageJSON = fmt.Sprintf(`{"prompt_tokens":%d,"completion_tokens":%d}`, in, out)
	} else {
		r.Status, r.ErrorClass, r.ErrorMessage, r.HTTPStatus = bench.StatusError, "http_5xx", "HTTP 503", 503
	}
	return r
}

// writerTestRows is every column of a run's requests but the ids, in insertion order.
func writerTestRows(t *testing.T, db *store.DB, runID int64) [][]any {
	t.Helper()
	tb, err := db.Query(context.Background(), `SELECT prompt_idx, prompt_id, warmup, attempt, final, status, http_status,
		error_class, error_message, finish_reason, started_at, scheduled_ms, start_ms, queue_ms, elapsed_ms,
		ttft_ms, ttfc_ms, e2e_ms, tpot_ms, itl_ms, chunks, input_tokens, input_tokens_source, output_tokens,
		output_tokens_source, reasoning_tokens, response_text, reasoning_text, usage_json, server_ttft_ms,
		server_e2e_ms, server_json, em, f1, relay_flag, seq, conn_reused, connect_ms, conn_retries, http_proto,
		cached_tokens FROM requests WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		t.Fatal(err)
	}
	return tb.Rows
}
