package runner

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkTransports sends streamed answers of the zero-delay server's shape (scale_bench_test.go)
// from 128 goroutines through net/http's Transport and through the lean one, each body read to
// its end, nothing parsed: the transports' own cost. Client and server share this process, so
// cpu-us/req (rusage, user + system, per request: cpuTime) holds both; the difference between the two
// sub-benchmarks is the client's.
//
//	go test -run '^$' -bench Transports -benchtime 50000x -count 3 ./runner
func BenchmarkTransports(b *testing.B) {
	body := []byte(strings.Repeat(`data: {"id":"x","choices":[{"index":0,"delta":{"content":" tok"},"finish_reason":null}]}`+"\n\n", 4) +
		"data: [DONE]\n\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	for _, tc := range []struct {
		name string
		rt   func() http.RoundTripper
	}{
		{"net-http", func() http.RoundTripper { return newHTTPClient(128).Transport }},
		{"lean", func() http.RoundTripper { return newH1Transport(newHTTPClient(128).Transport.(*http.Transport)) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			hc := &http.Client{Transport: tc.rt()}
			cpu0 := cpuTime()
			b.ResetTimer()
			if failed := sendAll(hc, srv.URL, b.N, 128); failed > 0 {
				b.Fatalf("%d requests failed", failed)
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/req")
			hc.CloseIdleConnections()
		})
	}
}

// sendAll sends n POSTs from c goroutines, reading each answer to its end; it returns the failures.
func sendAll(hc *http.Client, url string, n, c int) int64 {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				resp, err := hc.Post(url, "application/json", bytes.NewReader([]byte(`{"stream":true}`)))
				if err != nil {
					failed.Add(1)
					continue
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					failed.Add(1)
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return failed.Load()
}
