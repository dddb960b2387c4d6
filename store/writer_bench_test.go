package store_test

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// BenchmarkWriterRecord records requests through the Writer, as a run does (a realistic row:
// a 300-character answer, 64 inter-token gaps, usage JSON), on each backend, and reports
// requests/s recorded. Issue 14 asks ≥ 2,000 requests/s on PostgreSQL over loopback.
func BenchmarkWriterRecord(b *testing.B) {
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			db := be.Open(b)
			runID := storetest.Run(b, db, bench.Run{Host: "h"})
			ep := storetest.Endpoint(b, db, runID, "a")
			lv := storetest.Level(b, db, bench.Level{RunID: runID, EndpointID: ep, Concurrency: 64})
			itl := make([]float64, 64)
			for i := range itl {
				itl[i] = 12.345 + float64(i)
			}
			answer := strings.Repeat("Denver Broncos ", 20)

			w := db.NewWriter(store.WriterOptions{})
			b.ResetTimer()
			start, cpu0 := time.Now(), processCPU(b)
			for i := range b.N {
				seq, e2e, ttft, out, in := i, 812.5, 95.25, 64, 180
				w.Add(bench.Request{RunID: runID, LevelID: lv, EndpointID: ep, PromptIdx: i % 500, PromptID: "p", Seq: &seq,
					Attempt: 1, Final: true, StartMS: float64(i),
					Measurement: bench.Measurement{Status: bench.StatusOK, StartedAt: time.Now(), ElapsedMS: e2e, E2EMS: &e2e,
						TTFTMS: &ttft, ITLMS: itl, Chunks: 64, InputTokens: &in, OutputTokens: &out, ResponseText: answer,
						UsageJSON: `{"prompt_tokens":180,"completion_tokens":64}`, FinishReason: "stop"}})
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
			b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/request")
		})
	}
}

// processCPU is this process's CPU time so far (user + system): on a shared machine the
// steadier figure than wall time.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
