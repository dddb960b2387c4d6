package runner

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// benchServerEnv makes the test binary serve fixed-delay streams instead of testing.
const benchServerEnv = "TRACKER_BENCH_STREAM_SERVER"

// TestBenchStreamServer is not a test: with benchServerEnv set it is the other process of
// BenchmarkStreamOverhead, a loopback server whose timing is fixed. It waits a delay drawn
// uniformly from 50–150 ms (seeded by the X-Seed header), then streams 32 tokens 20 ms apart,
// and reports in usage.time_to_first_token the time from entering its handler to just before
// writing the first token. It stops when its standard input closes.
func TestBenchStreamServer(t *testing.T) {
	serveServerProcess(t, benchServerEnv, "BenchmarkStreamOverhead", &http.Server{Handler: http.HandlerFunc(streamOverheadHandler)})
}

func streamOverheadHandler(w http.ResponseWriter, r *http.Request) {
	begin := time.Now()
	seed, _ := strconv.ParseUint(r.Header.Get("X-Seed"), 10, 64)
	delay := 50*time.Millisecond + time.Duration(rand.New(rand.NewPCG(seed, 1)).Int64N(int64(100*time.Millisecond)))
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	time.Sleep(delay)
	var ttft time.Duration
	for i := range 32 {
		if i == 0 {
			ttft = time.Since(begin)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\"},\"finish_reason\":null}]}\n\n")
		fl.Flush()
	}
	fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":32,\"time_to_first_token\":%.9f}}\n\ndata: [DONE]\n\n", ttft.Seconds())
}

// serveServerProcess is the server side of startServerProcess: unless env is set the test
// is skipped (it is not a test, but the server process of the benchmark named bench); with
// it, srv serves on a loopback port whose address is printed, until standard input closes.
func serveServerProcess(t *testing.T, env, bench string, srv *http.Server) {
	serveStampedServerProcess(t, env, bench, srv, false)
}

// serveStampedServerProcess is serveServerProcess; with stamped, every connection the server
// accepts takes the kernel's receive time of what it reads (stampReceived, rxstamp.go), and
// srv's ConnContext is given that connection.
func serveStampedServerProcess(t *testing.T, env, bench string, srv *http.Server, stamped bool) {
	if os.Getenv(env) == "" {
		t.Skip("the server process of " + bench)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	if stamped {
		ln = stampedListener{ln}
	}
	go srv.Serve(ln)
	bufio.NewReader(os.Stdin).ReadString('\n') // until the benchmark closes our stdin
}

// stampedListener accepts connections with receive stamps on.
type stampedListener struct{ net.Listener }

func (l stampedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return stampReceived(c), nil
}

// startServerProcess runs the test binary again as the loopback server of a benchmark (the
// test named test, which serves while env is set and prints its address), so that server and
// client do not share a Go runtime. It returns the server's http:// URL; the server stops
// when the benchmark ends (its standard input closes).
func startServerProcess(b *testing.B, test, env string) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return "http://" + strings.TrimSpace(addr)
}

// BenchmarkStreamOverhead measures what the client adds to TTFT with 1, 64 and 1,000 streams
// kept in flight (closed loop, 4 requests a stream) against a server in another process
// (TestBenchStreamServer). Added TTFT = client TTFT − the server's own time to first token;
// it includes loopback transport and the server's share of the same 2 cores. The first wave
// (every stream starting at the same instant: a thundering herd) is excluded. client-cpu-µs
// per chunk is this process's CPU time (user + system) per SSE chunk received.
//
//	go test -run '^$' -bench StreamOverhead -benchtime 1x ./runner
func BenchmarkStreamOverhead(b *testing.B) {
	base := startServerProcess(b, "TestBenchStreamServer", benchServerEnv) + "/v1"
	for _, n := range []int{1, 64, 1000} {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			tok := tokenstest.Counter(b)
			d := &doer{hc: newHTTPClient(n)}
			msgs := []dataset.Message{{Role: "user", Content: "hello"}}
			const rounds = 4
			var added []float64
			var mu sync.Mutex
			chunks := 0
			cpu0 := cpuTime()
			b.ResetTimer()
			for it := range b.N {
				var wg sync.WaitGroup
				for i := range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for round := range rounds {
							h := map[string]string{"X-Seed": strconv.Itoa((it*n+i)*rounds + round)}
							c := NewClient(Endpoint{Name: "b", BaseURL: base, Model: "m", Headers: h}, "", d, tok)
							rec := c.Do(context.Background(), dataset.Prompt{Messages: msgs, InputTokens: 1}, RequestOptions{MaxTokens: 32})
							if rec.Status != "ok" || rec.TTFTMS == nil || rec.ServerTTFTMS == nil {
								b.Errorf("%s %s", rec.ErrorClass, rec.ErrorMessage)
								return
							}
							mu.Lock()
							chunks += rec.Chunks
							if round > 0 {
								added = append(added, *rec.TTFTMS-*rec.ServerTTFTMS)
							}
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			sort.Float64s(added)
			b.ReportMetric(percentile(added, 0.5), "p50-added-ttft-ms")
			b.ReportMetric(percentile(added, 0.99), "p99-added-ttft-ms")
			b.ReportMetric(float64(cpu.Microseconds())/float64(chunks), "client-cpu-µs/chunk")
		})
	}
}

// cpuTime is this process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// percentile is numpy's default (linear) percentile of xs, p in [0, 1].
func percentile(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	h := float64(len(s)-1) * p
	lo := int(h)
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}
