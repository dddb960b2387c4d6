package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// analystQueries are typical questions over the whole benchmark database (1,000 runs,
// 1,000,000 requests), asked through `tracker query` as a user would.
var analystQueries = map[string]string{
	// Per-endpoint median TTFT by concurrency over every run, with tracker's median() (SQLite's
	// percentile extension; docs/schema.md, "Percentiles in SQL"): levels are read in
	// levels_by_endpoint's order, so the groups need no sort.
	"p50-ttft-by-endpoint-concurrency": `SELECT endpoint, concurrency, median(ttft_ms) AS p50_ttft_ms
		FROM v_requests WHERE status = 'ok' GROUP BY endpoint, concurrency`,
	// The same question in portable SQL (window functions: the middle one or two of each group,
	// ranked), for comparison.
	"p50-ttft-by-endpoint-concurrency-window": `WITH x AS (
		SELECT endpoint, concurrency, ttft_ms,
		       ROW_NUMBER() OVER (PARTITION BY endpoint, concurrency ORDER BY ttft_ms) AS i,
		       COUNT(*) OVER (PARTITION BY endpoint, concurrency) AS n
		FROM v_requests WHERE status = 'ok' AND ttft_ms IS NOT NULL)
		SELECT endpoint, concurrency, AVG(ttft_ms) AS p50_ttft_ms FROM x
		WHERE i IN ((n + 1) / 2, (n + 2) / 2) GROUP BY endpoint, concurrency`,
	// The whole summary view.
	"v_summary-all": `SELECT * FROM v_summary`,
	// One run's summary, as `tracker run` prints it.
	"v_summary-one-run": `SELECT * FROM v_summary WHERE run_id = 500`,
}

// BenchmarkQuery1M runs each analyst query through the built binary, as a child process, over
// the report benchmark's database: wall and CPU time of the process. (Not its peak RSS: Linux
// counts this process's RSS at the spawn in the child's, and this one holds the report's.)
//
//	go test -run '^$' -bench Query1M -benchtime 1x ./report/
func BenchmarkQuery1M(b *testing.B) {
	path := benchDB(b)
	bin := filepath.Join(b.TempDir(), "tracker")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	outputs := map[string]string{}
	for name, q := range analystQueries {
		b.Run(name, func(b *testing.B) {
			var wall, cpu time.Duration
			for b.Loop() {
				cmd := exec.Command(bin, "query", "--db", path, "--format", "csv", q)
				start := time.Now()
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("tracker query: %v\n%s", err, out)
				}
				wall = time.Since(start)
				outputs[name] = string(out)
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			}
			b.ReportMetric(wall.Seconds(), "wall-s")
			b.ReportMetric(cpu.Seconds(), "cpu-s")
		})
	}
	// The two forms of the same question give the same figures (when both ran).
	med, win := outputs["p50-ttft-by-endpoint-concurrency"], outputs["p50-ttft-by-endpoint-concurrency-window"]
	if med != "" && win != "" && med != win {
		b.Errorf("median() and the window form differ:\n%s\n%s", med, win)
	}
}
