package store_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/writer_values.golden")

// requestColumnNames are the requests columns the writer writes (but the ids, which depend
// on the database), in schema order.
const requestColumnNames = `prompt_idx, prompt_id, warmup, attempt, final, status, http_status, error_class,
	error_message, finish_reason, started_at, scheduled_ms, start_ms, queue_ms, elapsed_ms, ttft_ms, ttfc_ms,
	e2e_ms, tpot_ms, itl_ms, chunks, input_tokens, input_tokens_source, output_tokens, output_tokens_source,
	reasoning_tokens, response_text, reasoning_text, usage_json, server_ttft_ms, server_e2e_ms, server_json,
	em, f1, relay_flag, seq, conn_reused, connect_ms, conn_retries, http_proto, cached_tokens`

// TestWriterValuesGolden: every value the Writer stores in SQLite, with its storage class
// (typeof), for rows that set every field (small and large integers, NULLs, booleans both
// ways, text, floats), is the one in testdata/writer_values.golden, written by the writer
// of 862d32a (go test ./store -run WriterValuesGolden -update rewrites it). A change in how
// values are bound (their Go types) must leave this file as it is.
func TestWriterValuesGolden(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	ids := writerTestRun(t, db, "golden")
	w := db.NewWriter(store.WriterOptions{})
	for i := range 8 {
		w.Add(goldenRow(ids, i))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var sel []string
	for _, c := range strings.Split(requestColumnNames, ",") {
		c = strings.TrimSpace(c)
		sel = append(sel, fmt.Sprintf("'%s=' || typeof(%s) || ':' || quote(%s)", c, c, c))
	}
	tb, err := db.Query(ctx, "SELECT "+strings.Join(sel, " || ' ' || ")+" FROM requests WHERE run_id = ? ORDER BY id", ids.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, r := range tb.Rows {
		fmt.Fprintln(&got, r[0])
	}
	path := filepath.Join("testdata", "writer_values.golden")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("stored values changed:\n got %s\nwant %s", got.String(), want)
	}
}

// goldenRow is row i of TestWriterValuesGolden: writerTestRow's, with the fields it leaves
// unset set in some rows and integers above 255 in others.
func goldenRow(ids bench.Request, i int) bench.Request {
	r := writerTestRow(ids, i*37)
	r.Warmup, r.RelayFlag = i%2 == 1, i%3 == 1
	r.QueueMS = float64(i) * 0.25
	if i%2 == 0 {
		sched, ttfc, tpot, srvT, srvE, em, f1 := float64(i)*10, 1.5+float64(i), 0.75, 12.5, 99.0, 1.0, 0.5
		reuse, conn, cached, reasoning := i%4 == 0, 3.25, 1<<20+i, 70000+i
		r.ScheduledMS, r.TTFCMS, r.TPOTMS, r.ServerTTFTMS, r.ServerE2EMS, r.EM, r.F1 = &sched, &ttfc, &tpot, &srvT, &srvE, &em, &f1
		r.ConnReused, r.ConnectMS, r.CachedTokens, r.ReasoningTokens = &reuse, &conn, &cached, &reasoning
		r.ConnRetries, r.HTTPProto, r.ServerJSON, r.ReasoningText = i, "HTTP/1.1", `{"x":1}`, "think"
		r.InputTokensSource, r.OutputTokensSource = bench.SourceUsage, bench.SourceTokenizer
		r.PromptIdx, r.Attempt, r.Chunks = 100000+i, 300+i, 1<<31+i
	}
	r.StartedAt = time.Date(2026, 11, 29, 23, 59, 58, 123456789+i, time.UTC)
	return r
}
