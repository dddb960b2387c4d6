package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The lean transport against hostile and odd servers, each answer compared with what
// net/http's Transport does with it (h1review).

// leanAndStd are the two transports under comparison, built as the run builds them.
func leanAndStd(conc int) (lean *h1Transport, std *http.Transport) {
	return newH1Transport(newHTTPClient(conc).Transport.(*http.Transport)), newHTTPClient(conc).Transport.(*http.Transport)
}

// outcome is what a caller sees of one request.
type outcome struct {
	status  int
	body    string
	err     bool
	trailer string
}

func (o outcome) String() string {
	return fmt.Sprintf("status %d body %q err %v trailer %q", o.status, o.body, o.err, o.trailer)
}

// doOutcome sends a POST through rt and reads its answer to the end.
func doOutcome(rt http.RoundTripper, url, body string) (outcome, error) {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return outcome{err: true}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return outcome{status: resp.StatusCode, body: string(b), err: err != nil, trailer: resp.Trailer.Get("X-T")}, err
}

// Odd but legal (or common) answers: the lean transport returns what net/http returns, and
// opens as many connections for three requests in a row. (A server closing without saying
// so, the next request racing its FIN, is TestServerClosingConnectionsIsNotAFailure's: there
// the outcome is timing's, and the runner's replay's.)
func TestH1TransportAnswersLikeNetHTTP(t *testing.T) {
	cases := []struct {
		name   string
		raw    string
		close  bool
		sleep  bool // wait for a FIN between requests (else reuse at once)
		reqHdr string
	}{
		{"HTTP/1.0 without length", "HTTP/1.0 200 OK\r\n\r\nto the end", true, true, ""},
		{"HTTP/1.0 with length, no keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", true, true, ""},
		{"204 no body", "HTTP/1.1 204 No Content\r\n\r\n", false, true, ""},
		{"304 with a length and no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, true, ""},
		{"chunked with trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\nX-T: done\r\n\r\n", false, true, ""},
		{"chunk extensions", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;name=val;q=\"x\"\r\nok\r\n0;end\r\n\r\n", false, true, ""},
		{"length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", false, true, ""},
		{"two different lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", false, true, ""},
		{"connection close in the answer, socket left open", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", false, true, ""},
		{"connection close asked in the request header", lengthOK, false, true, "close"},
		{"connection close asked by Request.Close", lengthOK, false, true, "Request.Close"},
		{"status line only, then close", "HTTP/1.1 200 OK\r\n", true, true, ""},
		{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok", true, true, ""},
		{"unknown transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok", true, true, ""},
		{"bare LF lines", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", false, true, ""},
		{"body larger than the header bound", "HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + strings.Repeat("y", 300000), false, true, ""},
		{"headers just under the bound", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", maxResponseHeaders-200) + "\r\nContent-Length: 2\r\n\r\nok", false, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lean, std := leanAndStd(4)
			run := func(rt http.RoundTripper) ([]outcome, int32) {
				srv := startRawServer(t, always(tc.raw, tc.close))
				var got []outcome
				for range 3 {
					req, _ := http.NewRequest(http.MethodPost, srv.url, strings.NewReader("{}"))
					switch tc.reqHdr {
					case "":
					case "Request.Close":
						req.Close = true
					default:
						req.Header.Set("Connection", tc.reqHdr)
					}
					o := outcome{}
					resp, err := (&http.Client{Transport: rt}).Do(req)
					if err != nil {
						o.err = true
					} else {
						b, err := io.ReadAll(resp.Body)
						resp.Body.Close()
						o = outcome{status: resp.StatusCode, body: string(b), err: err != nil, trailer: resp.Trailer.Get("X-T")}
					}
					got = append(got, o)
					if tc.sleep {
						time.Sleep(20 * time.Millisecond)
					}
				}
				return got, srv.accepts.Load()
			}
			want, wantConns := run(std)
			got, gotConns := run(lean)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("lean transport: %v\nnet/http:       %v", got, want)
			}
			if tc.sleep && gotConns != wantConns {
				t.Errorf("lean transport opened %d connections for 3 requests, net/http %d", gotConns, wantConns)
			}
		})
	}
}

// earlyAnswerServer reads a request's headers and a little of its body, answers 413 and
// closes the connection with the rest of the body unread (a gateway's size limit; Go's own
// server does this past 256 KiB of unread body).
func earlyAnswerServer(t *testing.T) string {
	t.Helper()
	return acceptEach(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: application/json\r\nConnection: close\r\n"+
			"Content-Length: 27\r\n\r\n{\"error\":\"prompt too long\"}")
		time.Sleep(10 * time.Millisecond) // the answer is on its way before the RST
	})
}

// A server that answers before it has read the whole request body, then closes: net/http
// returns the answer (its reader gets it while its writer fails); so must the lean
// transport, or tracker records a broken pipe instead of the server's 413 and its message.
// The lean transport is tried with the body written beside the read (over inlineBody) and
// written inline (inlineBody raised above it), where the write fails before the read.
func TestH1TransportAnswerBeforeTheBodyIsRead(t *testing.T) {
	url := earlyAnswerServer(t)
	body := strings.Repeat("x", 8<<20)
	lean, std := leanAndStd(2)
	inline, _ := leanAndStd(2)
	inline.inlineBody = 1 << 30
	for name, rt := range map[string]http.RoundTripper{"net/http": std, "lean": lean, "lean inline": inline} {
		for i := range 3 {
			o, err := doOutcome(rt, url, body)
			if o.status != http.StatusRequestEntityTooLarge || !strings.Contains(o.body, "prompt too long") {
				t.Errorf("%s, request %d: %v (%v), want the 413 and its body", name, i+1, o, err)
			}
		}
	}
}

// connCountingServer is an httptest server that counts connections and how many are open.
type connCountingServer struct {
	*httptest.Server
	accepted, open atomic.Int32
}

func startConnCountingServer(t *testing.T, h http.Handler) *connCountingServer {
	t.Helper()
	cs := &connCountingServer{Server: httptest.NewUnstartedServer(h)}
	cs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			cs.accepted.Add(1)
			cs.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			cs.open.Add(-1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

// A stream that stalls until the request's context ends: the connection is closed, never
// pooled, and the next request gets a new one and its full answer.
func TestH1TransportStallThenTimeoutDropsTheConnection(t *testing.T) {
	srv := startConnCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "data: {}\n\n")
		w.(http.Flusher).Flush()
		if r.URL.Query().Has("stall") {
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	lean, _ := leanAndStd(2)
	hc := &http.Client{Transport: lean}
	ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, errTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"?stall=1", strings.NewReader("{}"))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, errTimeout) {
		t.Errorf("stalled body: %v, want the timeout's cause", err)
	}
	if n := idleCount(lean); n != 0 {
		t.Errorf("%d idle connections after the timeout, want 0", n)
	}
	body, err := fetch(hc, srv.URL, -1)
	if err != nil || body != "data: {}\n\ndata: [DONE]\n\n" {
		t.Errorf("next request: %q %v", body, err)
	}
	if n := srv.accepted.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (the stalled one is not reused)", n)
	}
}

func idleCount(t *h1Transport) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.idle {
		n += len(c)
	}
	return n
}

// Canceling a request while its dial waits returns at once with the cause.
func TestH1TransportCancelDuringDial(t *testing.T) {
	lean, _ := leanAndStd(2)
	dialing := make(chan struct{})
	lean.dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
		close(dialing)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("run interrupted")
	go func() { <-dialing; cancel(cause) }()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://192.0.2.1:9/v1", strings.NewReader("{}"))
	_, err := (&http.Client{Transport: lean}).Do(req)
	if !errors.Is(err, cause) {
		t.Errorf("err %v, want the cause", err)
	}
}

// Concurrent requests to two hosts, some with long bodies: each answer comes from the host
// asked, no host gets more connections than the concurrency, and after CloseIdleConnections every connection
// is closed on the server's side and no goroutine is left.
func TestH1TransportTwoHostsConcurrently(t *testing.T) {
	for _, conc := range []int{8, 64} {
		t.Run(fmt.Sprint(conc), func(t *testing.T) {
			var srvs [2]*connCountingServer
			for i := range srvs {
				name := fmt.Sprintf("host%d", i)
				srvs[i] = startConnCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					fmt.Fprintf(w, "%s:%s", name, b)
				}))
			}
			base := runtime.NumGoroutine() // with the servers' own
			lean, _ := leanAndStd(conc)
			hc := &http.Client{Transport: lean}
			var wg sync.WaitGroup
			var bad atomic.Int32
			for g := range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 20 {
						h := (g + i) % 2
						q := fmt.Sprintf("%d-%d", g, i)
						if i%5 == 4 { // a long prompt: written beside the read (largeBody)
							q += strings.Repeat(".", 200<<10)
						}
						body, err := fetchBody(hc, srvs[h].URL, q)
						if want := fmt.Sprintf("host%d:%s", h, q); err != nil || body != want {
							if bad.Add(1) < 5 {
								t.Errorf("got %.40q %v, want %.40q", body, err, want)
							}
						}
					}
				}()
			}
			wg.Wait()
			for i, s := range srvs {
				if n := s.accepted.Load(); n > int32(conc) {
					t.Errorf("host%d: %d connections for concurrency %d", i, n, conc)
				}
			}
			lean.CloseIdleConnections()
			waitFor(t, "server connections closed", func() bool { return srvs[0].open.Load() == 0 && srvs[1].open.Load() == 0 })
			waitFor(t, "goroutines back to the servers' own", func() bool { return runtime.NumGoroutine() <= base })
		})
	}
}

func fetchBody(hc *http.Client, url, body string) (string, error) {
	resp, err := hc.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for range 200 {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("timed out waiting for %s", what)
}

// An idle connection older than the idle limit is closed and not reused.
func TestH1TransportIdleTimeout(t *testing.T) {
	srv := startConnCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	lean, _ := leanAndStd(2)
	lean.idleLimit = 50 * time.Millisecond
	hc := &http.Client{Transport: lean}
	for i, pause := range []time.Duration{0, 10 * time.Millisecond, 120 * time.Millisecond} {
		time.Sleep(pause)
		if body, err := fetch(hc, srv.URL, -1); err != nil || body != "ok" {
			t.Fatalf("request %d: %q %v", i+1, body, err)
		}
	}
	if n := srv.accepted.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (reused after 10 ms, not after 120 ms)", n)
	}
	waitFor(t, "the expired connection closed", func() bool { return srv.open.Load() == 1 })
}

// 307 and 308 to another host resend the body there (the client rewinds it through
// GetBody); the lean transport carries both legs.
func TestH1TransportRedirectResendsTheBody(t *testing.T) {
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		target := startConnCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s", r.Method, b)
		}))
		from := startConnCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, target.URL+"/v1", code)
		}))
		lean, _ := leanAndStd(2)
		hc := &http.Client{Transport: lean} // follows every redirect
		for i := range 2 {
			body, err := fetchBody(hc, from.URL, `{"n":1}`)
			if err != nil || body != `POST {"n":1}` {
				t.Errorf("%d, request %d: %q %v", code, i+1, body, err)
			}
		}
		if a, b := from.accepted.Load(), target.accepted.Load(); a != 1 || b != 1 {
			t.Errorf("%d: %d and %d connections, want one to each host", code, a, b)
		}
	}
}

// A server that answers before it has read the request body and then neither reads nor
// closes: net/http's reader returns the answer while its writer is stuck; a transport
// that writes the whole request before it reads waits for the request's timeout.
func TestH1TransportAnswerWhileTheServerStopsReading(t *testing.T) {
	url := acceptEach(t, func(c net.Conn) {
		defer c.Close()
		if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 27\r\n\r\n{\"error\":\"prompt too long\"}")
		time.Sleep(3 * time.Second)
	})
	lean, std := leanAndStd(2)
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{{"net/http", std}, {"lean", lean}} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(strings.Repeat("x", 32<<20)))
		began := time.Now()
		resp, err := tc.rt.RoundTrip(req)
		o := outcome{err: err != nil}
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			o.status, o.body = resp.StatusCode, string(b)
		}
		cancel()
		t.Logf("%s: %v %v after %s", tc.name, o, err, time.Since(began).Round(time.Millisecond))
		if o.status != http.StatusRequestEntityTooLarge || time.Since(began) > time.Second {
			t.Errorf("%s: %v (%v) after %s, want the 413 at once", tc.name, o, err, time.Since(began))
		}
	}
}

// closeTracker is a request body that says whether it was closed.
type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeTracker) Close() error { c.closed.Store(true); return nil }

// A request whose context has ended before it is sent fails with the cause without taking
// (and so closing) a pooled connection, and, like every failed request, its body is closed
// (RoundTripper's contract; net/http does both).
func TestH1TransportCanceledBeforeItStarts(t *testing.T) {
	srv := startConnCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	lean, _ := leanAndStd(2)
	hc := &http.Client{Transport: lean}
	if body, err := fetch(hc, srv.URL, -1); err != nil || body != "ok" {
		t.Fatalf("first request: %q %v", body, err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("level over")
	cancel(cause)
	body := &closeTracker{Reader: strings.NewReader("{}")}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, body)
	if _, err := lean.RoundTrip(req); !errors.Is(err, cause) || !body.closed.Load() {
		t.Errorf("canceled request: err %v body closed %v, want the cause and closed", err, body.closed.Load())
	}
	if got, err := fetch(hc, srv.URL, -1); err != nil || got != "ok" {
		t.Fatalf("next request: %q %v", got, err)
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1: the canceled request cost the pooled one", n)
	}
	// A refused dial closes the body too.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	for name, rt := range map[string]http.RoundTripper{"lean": lean, "net/http": newHTTPClient(1).Transport} {
		body := &closeTracker{Reader: strings.NewReader("{}")}
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1", body)
		if _, err := rt.RoundTrip(req); err == nil || !body.closed.Load() {
			t.Errorf("%s, refused dial: err %v body closed %v, want an error and closed", name, err, body.closed.Load())
		}
	}
}

// Closing an answer's body from another goroutine while a read waits in it ends the read at
// once with an error and closes the connection; a long body whose server never reads nor
// answers ends with the request's timeout and leaves no writer goroutine behind.
func TestH1TransportAbortsLeaveNothingBehind(t *testing.T) {
	srv := startConnCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// (bounded: a server that reads nothing does not see the client go; after the handler
		// returns it does, and closes its side)
		if r.URL.Query().Has("deaf") {
			select { // reads nothing, answers nothing
			case <-r.Context().Done():
			case <-time.After(500 * time.Millisecond):
			}
			return
		}
		io.WriteString(w, "data: {}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(500 * time.Millisecond):
		}
	}))
	lean, _ := leanAndStd(2)
	base := runtime.NumGoroutine()
	resp, err := lean.RoundTrip(mustRequest(t, context.Background(), srv.URL, "{}"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); done <- err }()
	time.Sleep(50 * time.Millisecond)
	resp.Body.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("read of a closed body: no error")
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("a read waiting in a closed body did not return")
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), 200*time.Millisecond, errTimeout)
	defer cancel()
	if _, err := lean.RoundTrip(mustRequest(t, ctx, srv.URL+"?deaf=1", strings.Repeat("x", 32<<20))); !errors.Is(err, errTimeout) {
		t.Errorf("deaf server: %v, want the timeout", err)
	}
	lean.CloseIdleConnections()
	waitFor(t, "connections closed", func() bool { return srv.open.Load() == 0 })
	waitFor(t, "goroutines back", func() bool { return runtime.NumGoroutine() <= base })
}

func mustRequest(t *testing.T, ctx context.Context, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// lateContext is a context whose deadline has passed but whose timer has not yet marked it
// done: Done closes a little later, as a context's own timer may after a dial has already
// failed at the deadline it was given.
type lateContext struct {
	context.Context // for Value
	deadline        time.Time
	done            chan struct{}
}

func (c *lateContext) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *lateContext) Done() <-chan struct{}       { return c.done }
func (c *lateContext) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// A dial that fails at the request's deadline, before the request's context is marked done,
// is reported as the deadline (context.Cause), not as the dial's own error: the runner
// classifies a timeout by it. (CI once saw "dial tcp …: i/o timeout" from a loaded machine.)
func TestH1TransportDialFailingAtTheDeadline(t *testing.T) {
	lean, _ := leanAndStd(1)
	dialErr := errors.New("dial: i/o timeout at the deadline")
	lean.dial = func(context.Context, string, string) (net.Conn, error) { return nil, dialErr }
	ctx := &lateContext{Context: context.Background(), deadline: time.Now().Add(-time.Millisecond), done: make(chan struct{})}
	time.AfterFunc(20*time.Millisecond, func() { close(ctx.done) })
	_, err := lean.RoundTrip(mustRequest(t, ctx, "http://127.0.0.1:9/v1", "{}"))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, dialErr) {
		t.Errorf("dial failing at the deadline: %v, want the deadline", err)
	}
}
