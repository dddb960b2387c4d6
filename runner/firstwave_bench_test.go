package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackerbench/tracker/store/storetest"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// fixedServerEnv makes the test binary serve fixed-delay streams instead of testing.
const fixedServerEnv = "TRACKER_BENCH_FIXED_SERVER"

// fixedTTFT is the bench server's own time to first token.
const fixedTTFT = 50 * time.Millisecond

// fixedTimingsPath is where the bench server hands out (and forgets) what its own clock saw.
const fixedTimingsPath = "/bench/timings"

// serverTimes is what the bench server saw of its connections and requests, in
// CLOCK_MONOTONIC ns (monoNS), so that the benchmark can place them on its own timeline.
type serverTimes struct {
	Accepts []serverAccept  `json:"accepts"`
	Reqs    []serverRequest `json:"reqs"`
	CPU     time.Duration   `json:"cpu"` // the server process's CPU time so far (user + system)
}

type serverAccept struct {
	Port int   `json:"port"` // the client's port
	At   int64 `json:"at"`   // ConnState StateNew: the accept loop had the connection
}

type serverRequest struct {
	// Rx is when this host's kernel received the request's bytes, as the server's socket
	// stamped them (SO_TIMESTAMPNS, the latest read before the handler: the one that
	// brought the request in); 0 when there is no stamp. From Rx to Begin the request
	// waited in the server process: for its runtime to notice the socket, for a core, for
	// its turn to be parsed. That queue is the server's, but outside its own TTFT.
	Rx    int64 `json:"rx"`
	Begin int64 `json:"begin"` // the handler started (the request was read)
	Write int64 `json:"write"` // just before the first token was written
	Flush int64 `json:"flush"` // the first token's Flush returned (it is in the kernel)
	Port  int   `json:"port"`
}

// serverLog collects serverTimes under a mutex; take hands them out and starts afresh.
type serverLog struct {
	mu sync.Mutex
	t  serverTimes
}

func (l *serverLog) accept(c net.Conn) {
	at, _ := monoNS()
	l.mu.Lock()
	l.t.Accepts = append(l.t.Accepts, serverAccept{Port: remotePort(c.RemoteAddr().String()), At: at})
	l.mu.Unlock()
}

func (l *serverLog) request(r serverRequest) {
	l.mu.Lock()
	l.t.Reqs = append(l.t.Reqs, r)
	l.mu.Unlock()
}

func (l *serverLog) take() serverTimes {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.t
	l.t = serverTimes{}
	t.CPU = cpuTime()
	return t
}

func remotePort(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

// TestBenchFixedDelayServer is not a test: with fixedServerEnv set it is the other process
// of BenchmarkFirstWave, a loopback server that waits 50 ms, streams 8 tokens 10 ms apart and
// reports in usage.time_to_first_token the time from entering its handler to just before
// writing the first token, and in usage.start_time (as seconds, with every ns) the
// CLOCK_MONOTONIC reading of entering its handler (a key to its record in fixedTimingsPath,
// not a Unix time). It stops when its standard input closes.
func TestBenchFixedDelayServer(t *testing.T) {
	log := &serverLog{}
	serveStampedServerProcess(t, fixedServerEnv, "BenchmarkFirstWave", &http.Server{Handler: fixedDelayHandler(log),
		ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				log.accept(c)
			}
		},
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, serverConnKey{}, c)
		}}, true)
}

// serverConnKey holds, in a bench server request's context, its connection (with receive
// stamps on: stampedListener).
type serverConnKey struct{}

// receivedAt is the CLOCK_MONOTONIC time at which the kernel received the latest read of
// the request's connection (the read that brought the request in), or 0.
func receivedAt(r *http.Request) int64 {
	s, _ := r.Context().Value(serverConnKey{}).(rxStamper)
	off, ok := wallMinusMonoNS()
	if s == nil || !ok {
		return 0
	}
	if ns, ok := s.lastRx(); ok {
		return ns - off
	}
	return 0
}

func fixedDelayHandler(log *serverLog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == fixedTimingsPath {
			json.NewEncoder(w).Encode(log.take())
			return
		}
		if r.Method != http.MethodPost {
			fmt.Fprint(w, `{"object":"list","data":[]}`)
			return
		}
		begin, _ := monoNS()
		rec := serverRequest{Rx: receivedAt(r), Begin: begin, Port: remotePort(r.RemoteAddr)}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		time.Sleep(fixedTTFT)
		for i := range 8 {
			if i > 0 {
				time.Sleep(10 * time.Millisecond)
			} else {
				rec.Write, _ = monoNS()
			}
			fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\"},\"finish_reason\":null}]}\n\n")
			fl.Flush()
			if i == 0 {
				rec.Flush, _ = monoNS()
				log.request(rec)
			}
		}
		ttft := time.Duration(rec.Write - begin)
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":8,\"time_to_first_token\":%.9f,\"start_time\":%d.%09d}}\n\ndata: [DONE]\n\n",
			ttft.Seconds(), begin/1e9, begin%1e9)
		fl.Flush() // as servers do: the end of the body (the chunked terminator) is a write of its own
	}
}

// BenchmarkFirstWave runs 1,024 requests at concurrency 256 through the whole runner (real
// SQLite) against a server in another process whose TTFT is a fixed 50 ms, with warm
// connections (the default) and with --cold-connections, and reports client p99 TTFT minus
// the server's own p99, the p99 of each request's client TTFT minus its server TTFT, and the
// first wave's mean TTFT, the first wave included in every figure. On Linux it also splits
// each request's TTFT on the CLOCK_MONOTONIC both processes share (see firstWaveSplit).
//
//	go test -run '^$' -bench FirstWave -benchtime 1x -count 3 ./runner
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

// waveRequest is one request of the benchmark as the client recorded it.
type waveRequest struct {
	seq              int64
	ttft, serverTTFT float64 // ms
	reused           bool
	startedAt        string // t0, wall clock (RFC 3339)
	startTime        string // the server's handler start, CLOCK_MONOTONIC seconds (usage.start_time)
}

func firstWave(b *testing.B, url string, cold bool) {
	const c, n = 256, 1024
	db := storetest.Open(b)
	r := &Runner{DB: db, Tokens: tokenstest.Counter(b), Version: "bench"}
	p := plan(c, []int{c}, ep("fixed", url))
	p.Requests, p.Conn.Cold = n, cold
	p.Request.MaxTokens = 8
	before := fetchServerTimes(b, url) // and forget the earlier runs'
	use := startUsage()
	if _, err := r.Run(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	st := fetchServerTimes(b, url)
	use.report(b, n, st.CPU-before.CPU)
	tb, err := db.Query(context.Background(), `SELECT seq, ttft_ms, server_ttft_ms, started_at,
		server_json, conn_reused FROM requests
		WHERE warmup = 0 AND status = 'ok' ORDER BY seq`)
	if err != nil {
		b.Fatal(err)
	}
	if len(tb.Rows) != n {
		b.Fatalf("%d of %d requests ok", len(tb.Rows), n)
	}
	reqs := make([]waveRequest, len(tb.Rows))
	var client, server, added []float64
	first := 0.0
	for i, row := range tb.Rows {
		w := waveRequest{seq: row[0].(int64), ttft: row[1].(float64), serverTTFT: row[2].(float64),
			startedAt: row[3].(string), reused: row[5].(int64) == 1}
		var sj map[string]json.RawMessage
		json.Unmarshal([]byte(row[4].(string)), &sj)
		w.startTime = string(sj["start_time"])
		reqs[i] = w
		client, server = append(client, w.ttft), append(server, w.serverTTFT)
		added = append(added, w.ttft-w.serverTTFT)
		if w.seq < c {
			first += w.ttft / c
		}
	}
	b.ReportMetric(percentile(client, 0.99), "client-p99-ttft-ms")
	b.ReportMetric(percentile(server, 0.99), "server-p99-ttft-ms")
	b.ReportMetric(percentile(client, 0.99)-percentile(server, 0.99), "p99-gap-ms")
	// Per request, client TTFT − the server's own (up + down): the gap of the p99s moves with
	// the server's own lateness; this does not.
	b.ReportMetric(percentile(added, 0.99), "added-p99-ms")
	b.ReportMetric(first, "first-wave-mean-ttft-ms")
	b.ReportMetric(float64(len(st.Accepts)), "server-accepts")
	firstWaveSplit(b, reqs, st)
}

// runCost is what the run cost the machine: this process's CPU time and scheduling
// latencies, and the CPU time of every process (/proc/stat).
type runCost struct {
	wall         time.Time
	cpu, machine time.Duration
	sched        *metrics.Float64Histogram
}

const schedLatencies = "/sched/latencies:seconds"

func startUsage() runCost {
	u := runCost{wall: time.Now(), cpu: cpuTime(), sched: schedHistogram()}
	u.machine, _ = machineBusy()
	return u
}

func schedHistogram() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: schedLatencies}}
	metrics.Read(s)
	return s[0].Value.Float64Histogram()
}

// report: client and server CPU µs per request; the share of the 2 cores the machine's
// other users took during the run (the noise); and this process's p99 scheduling latency,
// the time its goroutines waited, runnable, for a core (Go's runtime/metrics histogram).
func (u runCost) report(b *testing.B, n int, serverCPU time.Duration) {
	wall, cpu := time.Since(u.wall), cpuTime()-u.cpu
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "client-cpu-µs/req")
	b.ReportMetric(float64(serverCPU.Microseconds())/float64(n), "server-cpu-µs/req")
	if m, ok := machineBusy(); ok {
		others := m - u.machine - cpu - serverCPU
		b.ReportMetric(max(0, float64(others)/float64(time.Duration(runtime.NumCPU())*wall)), "others-cpu-share")
	}
	b.ReportMetric(histogramQuantile(u.sched, schedHistogram(), 0.99)*1000, "client-sched-p99-ms")
}

// histogramQuantile is the upper bound of the bucket holding quantile q of the
// observations added between two readings of a runtime/metrics histogram.
func histogramQuantile(before, after *metrics.Float64Histogram, q float64) float64 {
	var total uint64
	d := make([]uint64, len(after.Counts))
	for i := range d {
		d[i] = after.Counts[i] - before.Counts[i]
		total += d[i]
	}
	var seen uint64
	for i, c := range d {
		seen += c
		if c > 0 && float64(seen) >= q*float64(total) {
			return after.Buckets[i+1]
		}
	}
	return 0
}

// fetchServerTimes asks the bench server for what its clock saw since the last call.
func fetchServerTimes(b *testing.B, url string) serverTimes {
	resp, err := http.Get(url + fixedTimingsPath)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var st serverTimes
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		b.Fatalf("reading the bench server's timings: %v", err)
	}
	return st
}

// firstWaveSplit divides each request's client TTFT on CLOCK_MONOTONIC into: up, from t0
// (the client's request headers written) to the server's handler start (the client's write,
// loopback, the server's wake-up, accept queue and request parsing); the server's own TTFT
// (handler start to its first write); and down, from the server's first write to the
// client's reading the first token (the server's write, loopback, the client's wake-up and
// parsing). up + server + down = client TTFT. The client's t0 is its started_at, a wall-clock
// time, turned into CLOCK_MONOTONIC with this process's offset between the two clocks (an
// NTP slew during the run moves it by at most ~0.5 ms a second).
//
// Up is split again at the kernel's receive time of the request on the server's socket
// (serverRequest.Rx): wire, from t0 to there (the rest of the client's write: body, flush,
// loopback), and the server's queue, from there to its handler (the server process noticing
// the socket, getting a core, parsing). The queue is the server's own wait, which a real
// engine's own TTFT does not count either (it starts when its HTTP layer hands it the
// request); p99-gap-ms keeps it, and p99-gap-rx-ms is the same gap against the server's TTFT
// counted from its kernel's receipt of the request (server TTFT + queue), to say how much of
// the headline gap is the server's queue and how much the client's (client-part-p99-ms: wire
// + down, per request).
func firstWaveSplit(b *testing.B, reqs []waveRequest, st serverTimes) {
	off, ok := wallMinusMonoNS()
	if !ok {
		return
	}
	byBegin := make(map[int64]serverRequest, len(st.Reqs))
	for _, r := range st.Reqs {
		byBegin[r.Begin] = r
	}
	var p waveParts
	for _, w := range reqs {
		t, err := time.Parse(time.RFC3339Nano, w.startedAt)
		begin, ok := monoFromSeconds(w.startTime)
		sr, found := byBegin[begin]
		if err != nil || !ok || !found {
			b.Fatalf("seq %d: no server record (started_at %q, start_time %q)", w.seq, w.startedAt, w.startTime)
		}
		p.add(w, sr, t.UnixNano()-off)
	}
	p.report(b)
	if path := os.Getenv("TRACKER_BENCH_FIRSTWAVE_DUMP"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, "# seq\tttft\tserver_ttft\tup\tdown\tserver_write\tt0\tport\treused\tqueue")
			fmt.Fprintln(f, strings.Join(p.rows, "\n"))
			f.Close()
		}
	}
}

// waveParts are the parts of the requests' TTFTs (ms), in the order of the requests.
type waveParts struct {
	up, down, write      []float64
	queue, wire          []float64 // up's two parts, when the server had a receive stamp
	client, serverFromRx []float64 // client TTFT; server TTFT + queue
	clientPart           []float64 // wire + down
	rows                 []string
}

// add places one request, whose t0 is t0 (CLOCK_MONOTONIC ns), on the server's record sr.
func (p *waveParts) add(w waveRequest, sr serverRequest, t0 int64) {
	firstByte := t0 + int64(w.ttft*float64(time.Millisecond))
	up, down := float64(sr.Begin-t0)/1e6, float64(firstByte-sr.Write)/1e6
	p.up, p.down = append(p.up, up), append(p.down, down)
	p.write = append(p.write, float64(sr.Flush-sr.Write)/1e6)
	queue := -1.0
	if sr.Rx != 0 {
		queue = float64(sr.Begin-sr.Rx) / 1e6
		p.queue, p.wire = append(p.queue, queue), append(p.wire, up-queue)
		p.client, p.serverFromRx = append(p.client, w.ttft), append(p.serverFromRx, w.serverTTFT+queue)
		p.clientPart = append(p.clientPart, up-queue+down)
	}
	p.rows = append(p.rows, fmt.Sprintf("%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%v\t%.3f",
		w.seq, w.ttft, w.serverTTFT, up, down, p.write[len(p.write)-1], t0, sr.Port, w.reused, queue))
}

func (p *waveParts) report(b *testing.B) {
	b.ReportMetric(percentile(p.up, 0.5), "up-p50-ms")
	b.ReportMetric(percentile(p.up, 0.99), "up-p99-ms")
	b.ReportMetric(percentile(p.down, 0.5), "down-p50-ms")
	b.ReportMetric(percentile(p.down, 0.99), "down-p99-ms")
	b.ReportMetric(percentile(p.write, 0.99), "server-write-p99-ms")
	if len(p.queue) != len(p.up) {
		return // no receive stamps (or not on every request): no split of up
	}
	b.ReportMetric(percentile(p.queue, 0.5), "server-queue-p50-ms")
	b.ReportMetric(percentile(p.queue, 0.99), "server-queue-p99-ms")
	b.ReportMetric(percentile(p.wire, 0.99), "wire-p99-ms")
	b.ReportMetric(percentile(p.clientPart, 0.99), "client-part-p99-ms")
	b.ReportMetric(percentile(p.client, 0.99)-percentile(p.serverFromRx, 0.99), "p99-gap-rx-ms")
}

// monoFromSeconds parses the bench server's start_time ("seconds.nanoseconds") exactly.
func monoFromSeconds(s string) (int64, bool) {
	sec, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 9 {
		return 0, false
	}
	a, err1 := strconv.ParseInt(sec, 10, 64)
	c, err2 := strconv.ParseInt(frac, 10, 64)
	return a*1e9 + c, err1 == nil && err2 == nil
}
