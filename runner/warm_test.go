package runner

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// countingServer serves h over HTTP/1.1 and counts the connections it accepts.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int32) {
	srv := httptest.NewUnstartedServer(h)
	conns := countConns(srv)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, conns
}

// countConns counts the connections an unstarted srv will accept.
func countConns(srv *httptest.Server) *atomic.Int32 {
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	return &conns
}

// The connections warmed before a level are the ones its requests use: the server accepts
// no more connections than the largest level warms, and every measured request went out on
// a reused connection (none dialed inside the level). The open loop without a cap warms as
// many connections as its rate (100) and keeps ~30 requests in flight: a pool that kept
// fewer idle connections than were warmed (it kept the closed loops' largest concurrency,
// 1, plus 16) closed the rest as they were given back, and the level dialed them again.
func TestWarmedConnectionsAreTheOnesUsed(t *testing.T) {
	for _, tc := range []struct {
		name     string
		loads    []Load
		ttft     time.Duration
		requests int
		accepts  int32
	}{
		{"closed loop, 8 then 32", []Load{{Concurrency: 8}, {Concurrency: 32}}, 20 * time.Millisecond, 64, 32},
		{"open loop, no cap", []Load{{Rate: 100}}, 300 * time.Millisecond, 60, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeServer{ttft: tc.ttft, tokens: words(2)}
			srv, accepts := countingServer(t, http.HandlerFunc(f.handle))
			r, db := newRunner(t)
			p := plan(8, nil, ep("e", srv.URL))
			p.Loads, p.Requests = tc.loads, tc.requests
			if out, err := r.Run(context.Background(), p); err != nil || out.Status != bench.RunCompleted {
				t.Fatalf("run: %v %v", out, err)
			}
			if all := requests(t, db, "warmup = 0"); len(all) != tc.requests*len(tc.loads) {
				t.Fatalf("%d requests recorded, want %d", len(all), tc.requests*len(tc.loads))
			}
			for _, row := range requests(t, db, "warmup = 0 AND (status <> 'ok' OR conn_reused IS NOT 1 OR connect_ms IS NOT NULL)") {
				t.Errorf("seq %v: %v reused %v connect_ms %v: want ok on a warmed connection", row["seq"], row["status"], row["conn_reused"], row["connect_ms"])
			}
			if n := accepts.Load(); n != tc.accepts {
				t.Errorf("the server accepted %d connections, want %d (one per warmed connection, none dialed again)", n, tc.accepts)
			}
		})
	}
}

// The run's HTTP client keeps at least as many idle connections per host as it may warm,
// and never caps the connections per host (a cap would queue requests inside the client).
func TestHTTPClientKeepsWarmedConnections(t *testing.T) {
	for _, n := range []int{1, 8, 256, 1024} {
		tr := newHTTPClient(n).Transport.(*http.Transport)
		if tr.MaxIdleConnsPerHost < n || tr.MaxIdleConns < n || tr.MaxConnsPerHost != 0 {
			t.Errorf("newHTTPClient(%d): MaxIdleConnsPerHost %d, MaxIdleConns %d, MaxConnsPerHost %d",
				n, tr.MaxIdleConnsPerHost, tr.MaxIdleConns, tr.MaxConnsPerHost)
		}
	}
}

// A server that sends [DONE] and then keeps its response open: the answer is still ok and
// the client gives up on the rest after drainWait, not at the server's leisure. The server
// says which came first, the client hanging up or its own 3 s (a wall-clock ceiling near
// drainWait would charge a loaded host's delays to the client).
func TestBodyLeftOpenAfterDone(t *testing.T) {
	const hold = 3 * time.Second
	hungUp := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done(): // the client hung up
			hungUp <- true
		case <-time.After(hold):
			hungUp <- false
		}
	}))
	t.Cleanup(srv.Close)
	c := NewClient(ep("e", srv.URL), "", newDoer(1, ConnOptions{}), tokenstest.Counter(t))
	began := time.Now()
	rec := c.Do(context.Background(), promptSet(1).Prompts[0], RequestOptions{MaxTokens: 8})
	took := time.Since(began)
	if first := <-hungUp; rec.Status != bench.StatusOK || !first || took < drainWait {
		t.Errorf("%s %s after %v, hung up before the server's %v: %v; want ok, hung up %v after [DONE]",
			rec.Status, rec.ErrorMessage, took, hold, first, drainWait)
	}
}
