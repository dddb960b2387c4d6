package runner

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/trackerbench/tracker/store/storetest"
)

// fixedServerEnv makes the test binary serve fixed-delay streams instead of testing.
const fixedServerEnv = "TRACKER_BENCH_FIXED_SERVER"

// fixedTTFT is the bench server's own time to first token.
const fixedTTFT = 50 * time.Millisecond

// TestBenchFixedDelayServer is not a test: with fixedServerEnv set it is the other process
// of BenchmarkFirstWave, a loopback server that waits 50 ms, streams 8 tokens 10 ms apart and
// reports in usage.time_to_first_token the time from entering its handler to just before
// writing the first token. It stops when its standard input closes.
func TestBenchFixedDelayServer(t *testing.T) {
	if os.Getenv(fixedServerEnv) == "" {
		t.Skip("the server process of BenchmarkFirstWave")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			fmt.Fprint(w, `{"object":"list","data":[]}`)
			return
		}
		begin := time.Now()
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		time.Sleep(fixedTTFT)
		ttft := time.Since(begin)
		for i := range 8 {
			if i > 0 {
				time.Sleep(10 * time.Millisecond)
			}
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\"},\"finish_reason\":null}]}\n\n")
			fl.Flush()
		}
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":8,\"time_to_first_token\":%.9f}}\n\ndata: [DONE]\n\n", ttft.Seconds())
	}))
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// BenchmarkFirstWave runs 1,024 requests at concurrency 256 through the whole runner (real
// SQLite) against a server in another process whose TTFT is a fixed 50 ms, with warm
// connections (the default) and with --cold-connections, and reports client p99 TTFT minus
// the server's own p99, and the first wave's mean TTFT, the first wave included in every
// figure.
//
//	go test -run '^$' -bench FirstWave -benchtime 1x ./runner
func BenchmarkFirstWave(b *testing.B) {
	url := startServerProcess(b, "TestBenchFixedDelayServer", fixedServerEnv)
	for _, cold := range []bool{false, true} {
		b.Run(map[bool]string{false: "warm", true: "cold"}[cold], func(b *testing.B) {
			for range b.N {
				firstWave(b, url, cold)
			}
		})
	}
}

func firstWave(b *testing.B, url string, cold bool) {
	const c, n = 256, 1024
	db := storetest.Open(b)
	r := &Runner{DB: db, Tokens: counter(b), Version: "bench"}
	p := plan(c, []int{c}, ep("fixed", url))
	p.Requests, p.Conn.Cold = n, cold
	p.Request.MaxTokens = 8
	if _, err := r.Run(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	tb, err := db.Query(context.Background(), `SELECT ttft_ms, server_ttft_ms, seq FROM requests
		WHERE warmup = 0 AND status = 'ok' ORDER BY seq`)
	if err != nil {
		b.Fatal(err)
	}
	if len(tb.Rows) != n {
		b.Fatalf("%d of %d requests ok", len(tb.Rows), n)
	}
	var client, server []float64
	first := 0.0
	for _, row := range tb.Rows {
		client, server = append(client, row[0].(float64)), append(server, row[1].(float64))
		if row[2].(int64) < c {
			first += row[0].(float64) / c
		}
	}
	sort.Float64s(client)
	sort.Float64s(server)
	b.ReportMetric(percentile(client, 0.99), "client-p99-ttft-ms")
	b.ReportMetric(percentile(server, 0.99), "server-p99-ttft-ms")
	b.ReportMetric(percentile(client, 0.99)-percentile(server, 0.99), "p99-gap-ms")
	b.ReportMetric(first, "first-wave-mean-ttft-ms")
}
