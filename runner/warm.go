package runner

import (
	"context"
	"io"
	"math"
	"net/http"
	"sync"
	"time"
)

// Warm connections (docs/metrics.md, "Connections"): before a level starts, the client opens
// as many connections as the level will use and leaves them idle in its pool, so that the
// level's first requests do not open theirs inside their TTFT (a TCP, and over HTTPS a TLS,
// handshake: 50-200 ms over a WAN). --cold-connections skips this.

// warmTimeout bounds the whole warm-up of one level's connections.
const warmTimeout = 30 * time.Second

// maxWarmBody is how much of a warm-up answer is read before the connection is given back.
const maxWarmBody = 1 << 20

// warmConnections opens n connections to the endpoint: one request first (over HTTP/2 it
// sets up the connection the others share), then n at once, each held open until all have
// their answer's headers, so that each needs a connection of its own (HTTP/1.1) or a
// stream of its own (HTTP/2: the transport opens as many connections as the server's
// MAX_CONCURRENT_STREAMS requires). The requests are GET {base_url}/models: cheap, without
// side effects; any answer, a 404 included, leaves its connection open. It is best effort:
// a failure here shows again, recorded, in the level's requests. It returns how many
// requests got an answer.
func (c *Client) warmConnections(ctx context.Context, n int) int {
	if n < 1 {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, warmTimeout)
	defer cancel()
	key, _, err := c.keys.current(ctx)
	if err != nil {
		return 0
	}
	first := c.warmRequest(ctx, key)
	if first == nil {
		return 0
	}
	release(first)
	var all, held sync.WaitGroup
	answered := make(chan *http.Response, n)
	all.Add(n)
	held.Add(n)
	for range n {
		go func() {
			defer all.Done()
			resp := c.warmRequest(ctx, key)
			held.Done()
			held.Wait() // every request holds its connection until all have one
			answered <- resp
		}()
	}
	all.Wait()
	close(answered)
	got := 0
	for resp := range answered {
		if resp != nil {
			got++
			release(resp)
		}
	}
	return got
}

// warmRequest sends one GET /models and returns its answer with the body unread, or nil. It
// waits for the endpoint's rate limiter (max_rps) like any request: a gateway counts GETs too.
func (c *Client) warmRequest(ctx context.Context, key string) *http.Response {
	if c.limit.wait(ctx) != nil {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.ep.BaseURL+"/models", nil)
	if err != nil {
		return nil
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range c.ep.Headers {
		req.Header.Set(k, v)
	}
	resp, err := c.d.hc.Do(req)
	if err != nil {
		return nil
	}
	return resp
}

// release reads what is left of a warm-up answer (bounded) and closes it, giving its
// connection back to the pool.
func release(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxWarmBody))
	resp.Body.Close()
}

// warmCount is how many connections a level uses: its concurrency, or for an open loop
// with no cap its rate (requests/s) rounded up, at most maxUncappedWarm.
func (l Load) warmCount() int {
	if l.Concurrency > 0 {
		return l.Concurrency
	}
	return min(maxUncappedWarm, int(math.Ceil(l.Rate)))
}

const maxUncappedWarm = 256
