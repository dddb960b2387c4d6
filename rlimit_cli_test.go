//go:build unix

package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// `tracker run --concurrency N` beyond what the open-file limit can carry is refused before
// anything is recorded, with the limit in the message (it used to be recorded as
// thousands of endpoint connect errors).
func TestConcurrencyBeyondFileLimitRefused(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Max > 1<<20 {
		t.Skipf("no small finite hard RLIMIT_NOFILE (%v, %d)", err, rl.Max)
	}
	srv, _ := streamServer(t, 0)
	data := writeFile(t, "d.jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["a"]}}`+"\n")
	db := filepath.Join(t.TempDir(), "t.db")
	limit := strconv.FormatUint(rl.Max, 10)
	r := tracker(t, "--db", db, "run", "--endpoint", "a="+srv.URL+"/v1,model=m", "--dataset", data,
		"--concurrency", strconv.FormatUint(rl.Max+1, 10), "--no-preflight")
	if r.code != 2 || !strings.Contains(r.stderr, "ulimit") || !strings.Contains(r.stderr, limit) {
		t.Errorf("exit %d, stderr %q: want a refusal naming the limit %s", r.code, r.stderr, limit)
	}
	q := tracker(t, "--db", db, "query", "--format", "csv", "SELECT COUNT(*) FROM requests")
	if q.code == 0 && strings.TrimSpace(q.stdout) != "COUNT(*)\n0" {
		t.Errorf("requests were recorded: %s", q.stdout)
	}
}
