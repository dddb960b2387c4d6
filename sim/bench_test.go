package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkStreams measures the simulator's own cost per streamed request (16 tokens each,
// 256 streams at once, engine steps of 1 µs so the model's time is negligible).
func BenchmarkStreams(b *testing.B) {
	p := testProfile()
	p.MaxNumSeqs, p.PrefillOverhead, p.DecodeBase, p.DecodePerSeq = 256, 0, time.Microsecond, 0
	_, ts := startSim(b, p)
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	body, _ := json.Marshal(chatBody(squadPrompt, map[string]any{"max_tokens": 16, "ignore_eos": true}))
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				resp, err := hc.Post(ts.URL+"/v1/chat/completions", "application/json", strings.NewReader(string(body)))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	b.ResetTimer()
	for range b.N {
		jobs <- struct{}{}
	}
	close(jobs)
	wg.Wait()
}
