package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The scale benchmarks run the built binary as a child process, so peak RSS is the whole
// tracker process's (its rusage Maxrss), against a zero-delay streaming server in this process.
// They are large: run them once, on a quiet machine if possible (-benchtime 1x):
//
//	go test -run '^$' -bench 'Scale' -benchtime 1x -timeout 60m .

// zeroDelayServer streams every answer at once: four content chunks, usage, [DONE]. It
// records when the last response ended.
type zeroDelayServer struct {
	srv     *http.Server
	url     string
	served  atomic.Int64
	lastEnd atomic.Int64 // unix ns
}

var zeroDelayBody = []byte(strings.Repeat(`data: {"id":"x","choices":[{"index":0,"delta":{"content":" tok"},"finish_reason":null}]}`+"\n\n", 4) +
	`data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}}` + "\n\n" +
	"data: [DONE]\n\n")

func startZeroDelayServer(b *testing.B) *zeroDelayServer {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	z := &zeroDelayServer{url: "http://" + ln.Addr().String() + "/v1"}
	z.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"object":"list","data":[{"id":"m","object":"model"}]}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(zeroDelayBody)
		z.served.Add(1)
		z.lastEnd.Store(time.Now().UnixNano())
	})}
	go z.srv.Serve(ln)
	b.Cleanup(func() { z.srv.Close() })
	return z
}

// buildTracker builds the binary once per benchmark into a temporary directory.
func buildTracker(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "tracker")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// childRun is one `tracker run` in a child process.
type childRun struct {
	wall, afterLast time.Duration
	maxRSSMB        float64
	reqPerS         float64
}

// runTracker sends n requests at concurrency c to the server and measures the child process.
func runTracker(b *testing.B, bin, db string, z *zeroDelayServer, n, c int) childRun {
	b.Helper()
	served0 := z.served.Load()
	cmd := exec.Command(bin, "run", "--db", db, "--endpoint", "zero="+z.url+",model=m", "--dataset", "synthetic",
		"--limit", "100", "--input-tokens", "32", "--max-tokens", "4", "--concurrency", fmt.Sprint(c),
		"--requests", fmt.Sprint(n), "--no-preflight", "--label", fmt.Sprintf("scale-%d", n))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("tracker run: %v\n%s", err, stderr.String())
	}
	end := time.Now()
	if got := z.served.Load() - served0; got != int64(n) {
		b.Fatalf("server answered %d requests, want %d", got, n)
	}
	last := time.Unix(0, z.lastEnd.Load())
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return childRun{wall: end.Sub(start), afterLast: end.Sub(last), maxRSSMB: float64(ru.Maxrss) / 1024,
		reqPerS: float64(n) / last.Sub(start).Seconds()}
}

// rawHTTPRate is the reference: the same requests by a bare net/http loop (vegeta-style: send,
// read the body to the end, nothing parsed or recorded) at the same concurrency.
func rawHTTPRate(b *testing.B, z *zeroDelayServer, n, c int) float64 {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	body := []byte(`{"model":"m","messages":[{"role":"user","content":"hello there"}],"max_tokens":4,"stream":true}`)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				resp, err := hc.Post(z.url+"/chat/completions", "application/json", bytes.NewReader(body))
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		b.Fatalf("raw HTTP: %d requests failed", failed.Load())
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkScaleRun100k is one run of 100,000 requests at concurrency 128 against a zero-delay
// server: wall time, the time from the last response to the process's exit (summary included),
// peak RSS, requests/s recorded, and a raw net/http loop's requests/s on the same server.
func BenchmarkScaleRun100k(b *testing.B) {
	bin := buildTracker(b)
	z := startZeroDelayServer(b)
	const n, c = 100_000, 128
	raw := rawHTTPRate(b, z, n, c)
	var r childRun
	for b.Loop() {
		r = runTracker(b, bin, filepath.Join(b.TempDir(), "t.db"), z, n, c)
	}
	b.ReportMetric(r.wall.Seconds(), "wall-s")
	b.ReportMetric(r.afterLast.Seconds(), "after-last-response-s")
	b.ReportMetric(r.maxRSSMB, "peak-rss-MB")
	b.ReportMetric(r.reqPerS, "req/s")
	b.ReportMetric(raw, "raw-http-req/s")
	b.ReportMetric(r.reqPerS/raw, "ratio-to-raw")
}

// BenchmarkScaleRSS is peak RSS against run size: one run of 10k, 100k and 1M requests at
// concurrency 128 each. Flat is right: nothing kept per request beyond streaming statistics.
func BenchmarkScaleRSS(b *testing.B) {
	bin := buildTracker(b)
	z := startZeroDelayServer(b)
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			var r childRun
			for b.Loop() {
				r = runTracker(b, bin, filepath.Join(b.TempDir(), "t.db"), z, n, 128)
			}
			b.ReportMetric(r.maxRSSMB, "peak-rss-MB")
			b.ReportMetric(r.wall.Seconds(), "wall-s")
			b.ReportMetric(r.afterLast.Seconds(), "after-last-response-s")
		})
	}
}
