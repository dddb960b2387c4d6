package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The scale benchmarks run the built binary as a child process, so peak RSS is the whole
// tracker process's (its rusage Maxrss), against a zero-delay streaming server in this process.
// They are large: run them once, on a quiet machine if possible (-benchtime 1x):
//
//	go test -run '^$' -bench 'Scale' -benchtime 1x -timeout 60m .

// zeroDelayServer streams every answer at once: four content chunks, usage, [DONE]. It
// records when the first completion request since it was last reset arrived, and when the
// last response ended.
type zeroDelayServer struct {
	srv        *http.Server
	url        string
	served     atomic.Int64
	firstStart atomic.Int64 // unix ns; 0 = none yet
	lastEnd    atomic.Int64 // unix ns
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
		z.firstStart.CompareAndSwap(0, time.Now().UnixNano())
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(zeroDelayBody)
		z.served.Add(1)
		z.lastEnd.Store(time.Now().UnixNano())
	})}
	go z.srv.Serve(ln)
	b.Cleanup(func() { z.srv.Close() })
	return z
}

// benchBinEnv names a tracker binary for the benchmarks to run instead of building this
// tree's (e.g. main's, to compare the two in the same minute with the same harness).
const benchBinEnv = "TRACKER_BENCH_BIN"

// buildTracker builds the binary once per benchmark into a temporary directory, unless
// benchBinEnv names one.
func buildTracker(b *testing.B) string {
	b.Helper()
	if bin := os.Getenv(benchBinEnv); bin != "" {
		return bin
	}
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
	startup         time.Duration // from the start (exec) to the server's first completion request
	maxRSSMB        float64
	reqPerS         float64
	cpuPerReq       time.Duration // user + system CPU of the child, per request
	serverCPUPerReq time.Duration // the same of this process (the server) while the child ran
}

// runTracker sends n requests at concurrency c to the server and measures the child process.
func runTracker(b *testing.B, bin, db string, z *zeroDelayServer, n, c int) childRun {
	b.Helper()
	cmd := exec.Command(bin, "run", "--db", db, "--endpoint", "zero="+z.url+",model=m", "--dataset", "synthetic",
		"--limit", "100", "--input-tokens", "32", "--max-tokens", "4", "--concurrency", fmt.Sprint(c),
		"--requests", fmt.Sprint(n), "--no-preflight", "--label", fmt.Sprintf("scale-%d", n))
	return measureChild(b, cmd, z, n)
}

// measureChild runs cmd, which sends n requests to z, and measures it: wall time, the time
// from z's last response to the exit, the time from the start to z's first completion
// request (the child's start-up: flags, prompts, database, warm connections), peak RSS,
// requests/s from the start to the last response, and CPU time (user + system) per request,
// from the child's rusage.
func measureChild(b *testing.B, cmd *exec.Cmd, z *zeroDelayServer, n int) childRun {
	b.Helper()
	served0 := z.served.Load()
	z.firstStart.Store(0)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	self0 := selfCPU(b)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", cmd.Args[0], err, stderr.String())
	}
	end := time.Now()
	if got := z.served.Load() - served0; got != int64(n) {
		b.Fatalf("server answered %d requests, want %d", got, n)
	}
	last := time.Unix(0, z.lastEnd.Load())
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return childRun{wall: end.Sub(start), afterLast: end.Sub(last), startup: time.Unix(0, z.firstStart.Load()).Sub(start),
		maxRSSMB: float64(ru.Maxrss) / 1024,
		reqPerS:  float64(n) / last.Sub(start).Seconds(), cpuPerReq: cpu / time.Duration(n),
		serverCPUPerReq: (selfCPU(b) - self0) / time.Duration(n)}
}

// selfCPU is this process's CPU time so far (user + system).
func selfCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawClientEnv makes the test binary the raw HTTP client of BenchmarkScaleRun100k (its value:
// the server's URL) instead of testing; rawCountEnv and rawConcEnv are its n and c.
const (
	rawClientEnv = "TRACKER_SCALE_RAW_URL"
	rawCountEnv  = "TRACKER_SCALE_RAW_N"
	rawConcEnv   = "TRACKER_SCALE_RAW_C"
)

// rawBody is what the raw client sends: the fields and about the size of tracker's body
// (a 32-token prompt); the server reads and ignores it.
var rawBody = []byte(`{"max_tokens":4,"messages":[{"role":"user","content":"the quick brown fox jumps over the lazy dog and then some more words to make thirty two tokens of prompt text"}],"model":"m","stream":true,"stream_options":{"include_usage":true},"temperature":0}`)

// TestScaleRawClient is not a test: with rawClientEnv set it is the reference client of
// BenchmarkScaleRun100k, a child process as tracker is (so neither shares the server's Go
// runtime): vegeta-style, n requests from c goroutines over one transport keeping c
// connections alive, each body read to its end, nothing parsed or recorded.
func TestScaleRawClient(t *testing.T) {
	url, n, c := referenceClientArgs(t, rawClientEnv, "the raw HTTP client")
	if failed := rawHTTPLoop(url, n, c); failed > 0 {
		t.Fatalf("raw HTTP: %d requests failed", failed)
	}
}

// rawHTTPLoop sends n requests from c goroutines and returns how many failed.
func rawHTTPLoop(url string, n, c int) int64 {
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				resp, err := hc.Post(url+"/chat/completions", "application/json", bytes.NewReader(rawBody))
				if err != nil {
					failed.Add(1)
					continue
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					failed.Add(1)
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	return failed.Load()
}

// runRaw runs the raw client as a child process and measures it as runTracker measures tracker.
func runRaw(b *testing.B, z *zeroDelayServer, n, c int) childRun {
	b.Helper()
	return runReference(b, "TestScaleRawClient", rawClientEnv, z, n, c)
}

// runReference runs the test binary's reference client test (one of TestScale*Client, made
// a client by urlEnv) as a child process, sending n requests at concurrency c to z, and
// measures it as runTracker measures tracker.
func runReference(b *testing.B, test, urlEnv string, z *zeroDelayServer, n, c int) childRun {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), urlEnv+"="+z.url, fmt.Sprintf("%s=%d", rawCountEnv, n), fmt.Sprintf("%s=%d", rawConcEnv, c))
	return measureChild(b, cmd, z, n)
}

// referenceClientArgs is what a reference client test (TestScale*Client) was started with:
// the server's URL from urlEnv, and n and c; without urlEnv set the test is not a client
// (a plain `go test`) and is skipped.
func referenceClientArgs(t *testing.T, urlEnv, what string) (url string, n, c int) {
	t.Helper()
	url = os.Getenv(urlEnv)
	if url == "" {
		t.Skip(what + " process of BenchmarkScaleRun100k")
	}
	if _, err := fmt.Sscan(os.Getenv(rawCountEnv), &n); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(os.Getenv(rawConcEnv), &c); err != nil {
		t.Fatal(err)
	}
	return url, n, c
}

// vegetaClientEnv makes the test binary the vegeta client of BenchmarkScaleRun100k (its value:
// the server's URL) instead of testing; it takes n and c from rawCountEnv and rawConcEnv.
const vegetaClientEnv = "TRACKER_SCALE_VEGETA_URL"

// TestScaleVegetaClient is not a test: with vegetaClientEnv set it is the second reference client
// of BenchmarkScaleRun100k, a child process as tracker and the raw loop are. It does what
//
//	vegeta attack -rate=0 -workers=c -max-workers=c -connections=c -max-connections=c \
//	    -header 'Content-Type: application/json' -body body.json <<<'POST URL/chat/completions' | vegeta report
//
// does with n hits, through vegeta's library (v12.13.0, a test-only dependency): see vegetaAttack.
func TestScaleVegetaClient(t *testing.T) {
	url, n, c := referenceClientArgs(t, vegetaClientEnv, "the vegeta client")
	if err := vegetaCheck(vegetaAttack(url, n, c), n); err != nil {
		t.Fatal(err)
	}
}

// vegetaCheck fails a vegeta run unless it made n requests, all answered 200 without error.
func vegetaCheck(m *vegeta.Metrics, n int) error {
	if m.Requests != uint64(n) || m.Success != 1 || len(m.Errors) > 0 || m.StatusCodes["200"] != n {
		return fmt.Errorf("vegeta: %d requests (want %d), success %.4f, status codes %v, errors %q",
			m.Requests, n, m.Success, m.StatusCodes, m.Errors)
	}
	return nil
}

// vegetaAttack sends n hits from c workers with vegeta's Attacker and adds every Result to a
// vegeta.Metrics, closed at the end, as `vegeta report` does. What is not the CLI's default is
// only what its flags above set: c workers from the start (the CLI starts 10 and adds workers
// up to -max-workers while all are busy; at -rate=0 it reaches c at once) and c connections
// kept alive (the CLI keeps up to 10,000 idle ones, no cap on open ones; c workers open at most
// c). The rest are the defaults the CLI passes: keep-alive on, 10 redirects, a 30 s timeout
// per request, no limit on the body read (-max-body=-1: every body is read into
// Result.Body), -http2 (which over cleartext http:// leaves HTTP/1.1; h2c is off), no
// attack name, so each request carries only vegeta's X-Vegeta-Seq header beside
// Content-Type. Left out: the CLI's gob encoding of each Result into the pipe and `vegeta
// report`'s decoding in a second process, which would only add CPU to this reference.
func vegetaAttack(url string, n, c int) *vegeta.Metrics {
	atk := vegeta.NewAttacker(
		vegeta.Redirects(vegeta.DefaultRedirects),
		vegeta.Timeout(vegeta.DefaultTimeout),
		vegeta.Workers(uint64(c)),
		vegeta.MaxWorkers(uint64(c)),
		vegeta.KeepAlive(true),
		vegeta.Connections(c),
		vegeta.MaxConnections(c),
		vegeta.HTTP2(true),
		vegeta.H2C(false),
		vegeta.MaxBody(vegeta.DefaultMaxBody),
	)
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodPost, URL: url + "/chat/completions",
		Body: rawBody, Header: http.Header{"Content-Type": []string{"application/json"}}})
	var m vegeta.Metrics
	for res := range atk.Attack(tr, hitsPacer{n: uint64(n)}, 0, "") {
		m.Add(res)
	}
	m.Close()
	return &m
}

// hitsPacer is vegeta's -rate=0 (a zero ConstantPacer: no wait between hits) that stops the
// attack after n hits: Attack sends exactly n ticks to its workers, and its results channel
// closes when the last one's Result is in.
type hitsPacer struct {
	vegeta.ConstantPacer
	n uint64
}

// Pace implements vegeta.Pacer.
func (p hitsPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.n {
		return 0, true
	}
	return p.ConstantPacer.Pace(elapsed, hits)
}

// runVegeta runs the vegeta client as a child process and measures it as runTracker measures tracker.
func runVegeta(b *testing.B, z *zeroDelayServer, n, c int) childRun {
	b.Helper()
	return runReference(b, "TestScaleVegetaClient", vegetaClientEnv, z, n, c)
}

// BenchmarkScaleRun100k is one run of 100,000 requests at concurrency 128 against a zero-delay
// server: wall time, the time from the last response to the process's exit (summary included),
// peak RSS, requests/s recorded, and two references' requests/s on the same server: a bare
// net/http loop (nothing parsed or recorded: the stricter one) and vegeta's library doing what
// `vegeta attack | vegeta report` does. All three clients are child processes, run one after
// the other in each iteration (-count 3 to repeat); on a shared machine their CPU time per
// request (rusage) is the steadier figure, and the server's (this process, while tracker ran)
// is reported beside them: on 2 cores client and server share the CPU.
func BenchmarkScaleRun100k(b *testing.B) {
	bin := buildTracker(b)
	z := startZeroDelayServer(b)
	const n, c = 100_000, 128
	var r, raw, veg childRun
	for b.Loop() {
		raw = runRaw(b, z, n, c) // the same minute as tracker's run: all three see the same load
		veg = runVegeta(b, z, n, c)
		r = runTracker(b, bin, filepath.Join(b.TempDir(), "t.db"), z, n, c)
	}
	b.ReportMetric(r.wall.Seconds(), "wall-s")
	b.ReportMetric(r.afterLast.Seconds(), "after-last-response-s")
	b.ReportMetric(float64(r.startup.Microseconds())/1000, "startup-ms")
	b.ReportMetric(float64(raw.startup.Microseconds())/1000, "raw-startup-ms")
	b.ReportMetric(r.maxRSSMB, "peak-rss-MB")
	b.ReportMetric(r.reqPerS, "req/s")
	b.ReportMetric(raw.reqPerS, "raw-http-req/s")
	b.ReportMetric(r.reqPerS/raw.reqPerS, "ratio-to-raw")
	b.ReportMetric(veg.reqPerS, "vegeta-req/s")
	b.ReportMetric(r.reqPerS/veg.reqPerS, "ratio-to-vegeta")
	b.ReportMetric(float64(r.cpuPerReq.Microseconds()), "cpu-us/req")
	b.ReportMetric(float64(raw.cpuPerReq.Microseconds()), "raw-cpu-us/req")
	b.ReportMetric(float64(veg.cpuPerReq.Microseconds()), "vegeta-cpu-us/req")
	b.ReportMetric(float64(r.serverCPUPerReq.Microseconds()), "server-cpu-us/req")
}

// BenchmarkStartup is tracker's start-up as BenchmarkScaleRun100k's run has it (c=128,
// warm connections, a new database), without the 100,000 requests: the time from the
// child's start (exec) to the server's first completion request, which the 100k run's
// requests/s count against tracker. One request a run; the median and the lowest of the
// iterations (-benchtime 20x), and the child's CPU time (benchBinEnv: another binary's).
func BenchmarkStartup(b *testing.B) {
	bin := buildTracker(b)
	z := startZeroDelayServer(b)
	var startups, cpus []time.Duration
	for b.Loop() {
		r := runTracker(b, bin, filepath.Join(b.TempDir(), "t.db"), z, 1, 128)
		startups, cpus = append(startups, r.startup), append(cpus, r.cpuPerReq)
	}
	slices.Sort(startups)
	slices.Sort(cpus)
	b.ReportMetric(float64(startups[len(startups)/2].Microseconds())/1000, "startup-ms")
	b.ReportMetric(float64(startups[0].Microseconds())/1000, "min-startup-ms")
	b.ReportMetric(float64(cpus[len(cpus)/2].Microseconds())/1000, "cpu-ms")
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

// TestVegetaAttack checks the vegeta reference client on a small run: exactly n requests reach
// the server, each an HTTP/1.1 POST with the raw loop's body and Content-Type, no more than c at
// once; and a server that answers 500 fails vegetaCheck.
func TestVegetaAttack(t *testing.T) {
	const n, c = 300, 8
	for _, tc := range []struct {
		name   string
		status int
		ok     bool
	}{{"200", http.StatusOK, true}, {"500", http.StatusInternalServerError, false}} {
		t.Run(tc.name, func(t *testing.T) {
			var got, bad, inFlight, peak atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				now := inFlight.Add(1)
				defer inFlight.Add(-1)
				for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
				}
				body, _ := io.ReadAll(r.Body)
				if r.Proto != "HTTP/1.1" || r.Method != http.MethodPost || !bytes.Equal(body, rawBody) ||
					r.Header.Get("Content-Type") != "application/json" || r.URL.Path != "/v1/chat/completions" {
					bad.Add(1)
				}
				got.Add(1)
				time.Sleep(2 * time.Millisecond) // so that requests overlap: peak shows the workers' bound
				w.WriteHeader(tc.status)
				w.Write(zeroDelayBody)
			}))
			defer srv.Close()
			err := vegetaCheck(vegetaAttack(srv.URL+"/v1", n, c), n)
			if (err == nil) != tc.ok {
				t.Errorf("vegetaCheck: %v, want ok=%v", err, tc.ok)
			}
			if got.Load() != n || bad.Load() != 0 || peak.Load() > c {
				t.Errorf("server saw %d requests (want %d), %d not as the raw loop's, %d at once (at most %d)",
					got.Load(), n, bad.Load(), peak.Load(), c)
			}
		})
	}
}
