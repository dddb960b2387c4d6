package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The lean transport is the run's for HTTP/1.1 (the default and --http 1.1); --http 2 keeps
// net/http's. The replay client never keeps a connection.
func TestH1TransportIsTheHTTP11Default(t *testing.T) {
	for _, tc := range []struct {
		http string
		lean bool
	}{{"", true}, {HTTP11, true}, {HTTP2, false}} {
		d := newDoer(4, ConnOptions{HTTP: tc.http})
		tr, lean := d.hc.Transport.(*h1Transport)
		if lean != tc.lean {
			t.Errorf("--http %q: transport %T, want lean %v", tc.http, d.hc.Transport, tc.lean)
			continue
		}
		if !lean {
			continue
		}
		fresh, ok := d.fresh.Transport.(*h1Transport)
		if !ok || fresh.keepAlive || !fresh.fallback.DisableKeepAlives || !tr.keepAlive || tr.maxIdle < 4 {
			t.Errorf("--http %q: fresh %T keepAlive %v; pooled keepAlive %v maxIdle %d", tc.http, d.fresh.Transport, ok && fresh.keepAlive, tr.keepAlive, tr.maxIdle)
		}
	}
}

// What the lean transport leaves to net/http: https, a proxy, Expect, and requests net/http
// refuses (its error is then the one returned).
func TestH1TransportHandles(t *testing.T) {
	viaProxy := newH1Transport(newHTTPClient(1).Transport.(*http.Transport))
	viaProxy.fallback.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy:3128"})
	cases := []struct {
		name string
		tr   *h1Transport
		url  string
		mod  func(*http.Request)
		want bool
	}{
		{"plain http", nil, "http://127.0.0.1:8000/v1/chat/completions", nil, true},
		{"no port", nil, "http://localhost/v1", nil, true},
		{"https", nil, "https://127.0.0.1:8000/v1", nil, false},
		{"proxy", viaProxy, "http://10.0.0.1:8000/v1", nil, false},
		{"expect", nil, "http://127.0.0.1/v1", func(r *http.Request) { r.Header.Set("Expect", "100-continue") }, false},
		{"newline in a value", nil, "http://127.0.0.1/v1", func(r *http.Request) { r.Header["X-Key"] = []string{"a\r\nX-Injected: 1"} }, false},
		{"space in a name", nil, "http://127.0.0.1/v1", func(r *http.Request) { r.Header["X Key"] = []string{"a"} }, false},
		{"bad method", nil, "http://127.0.0.1/v1", func(r *http.Request) { r.Method = "GE T" }, false},
		{"tab and UTF-8 in a value", nil, "http://127.0.0.1/v1", func(r *http.Request) { r.Header.Set("X-Note", "a\tb é") }, true},
	}
	plain := newH1Transport(newHTTPClient(1).Transport.(*http.Transport))
	for _, tc := range cases {
		tr := tc.tr
		if tr == nil {
			tr = plain
		}
		req, err := http.NewRequest(http.MethodPost, tc.url, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		if tc.mod != nil {
			tc.mod(req)
		}
		if got := tr.handles(req); got != tc.want {
			t.Errorf("%s: handles %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A refused header is net/http's error, not bytes on the wire.
func TestH1TransportRefusesInjectedHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the request reached the server with %q", r.Header)
	}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: newH1Transport(newHTTPClient(1).Transport.(*http.Transport))}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header["X-Key"] = []string{"a\r\nX-Injected: 1"}
	if resp, err := hc.Do(req); err == nil || !strings.Contains(err.Error(), "invalid header field value") {
		if resp != nil {
			resp.Body.Close()
		}
		t.Fatalf("err %v, want net/http's invalid header field value", err)
	}
}

// captureRequest is the bytes of the first request a client sends to a server that answers
// it with an empty 200 and closes.
func captureRequest(t *testing.T, rt http.RoundTripper, build func(base string) *http.Request) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var raw bytes.Buffer
		req, err := http.ReadRequest(bufio.NewReader(io.TeeReader(c, &raw)))
		if err == nil {
			io.Copy(io.Discard, req.Body)
		}
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		got <- raw.Bytes()
	}()
	resp, err := (&http.Client{Transport: rt}).Do(build("http://" + ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return <-got
}

// The server sees the same bytes from the lean transport as from net/http's, pooled and
// without keep-alives (the replay's transport).
func TestH1TransportWritesWhatNetHTTPWrites(t *testing.T) {
	body := `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}`
	build := func(base string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer k")
		req.Header.Set("X-Custom", "v")
		return req
	}
	for _, keep := range []bool{true, false} {
		std := newHTTPClient(2).Transport.(*http.Transport)
		std.DisableKeepAlives = !keep
		lean := newH1Transport(newHTTPClient(2).Transport.(*http.Transport))
		if !keep {
			lean = lean.withoutKeepAlives()
		}
		want := hostless(captureRequest(t, std, build))
		got := hostless(captureRequest(t, lean, build))
		if keep && (len(want) == 0 || !bytes.Equal(got, want)) {
			t.Errorf("lean transport wrote\n%q\nnet/http wrote\n%q", got, want)
		}
		if !keep && !sameRequest(t, got, want) {
			// net/http writes its Connection: close after the request's headers, Request.Write among them
			t.Errorf("without keep-alives: lean transport wrote\n%q\nnet/http wrote\n%q", got, want)
		}
	}
}

// hostless is a request's bytes with its Host line's address blanked (each capture has its port).
func hostless(raw []byte) []byte {
	return regexp.MustCompile(`Host: [0-9.:]+\r\n`).ReplaceAll(raw, []byte("Host: -\r\n"))
}

// sameRequest: the two requests parse to the same method, target, headers and body.
func sameRequest(t *testing.T, a, b []byte) bool {
	t.Helper()
	parse := func(raw []byte) (string, http.Header, string) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		body, _ := io.ReadAll(req.Body)
		return req.Method + " " + req.RequestURI + " " + req.Host, req.Header, string(body)
	}
	l1, h1, b1 := parse(a)
	l2, h2, b2 := parse(b)
	return l1 == l2 && reflect.DeepEqual(h1, h2) && b1 == b2
}

// traceRecorder records the httptrace hooks connTrace and the rest of the runner use.
type traceRecorder struct {
	mu     sync.Mutex
	events []string
}

func (r *traceRecorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *traceRecorder) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn:      func(string) { r.add("GetConn") },
		ConnectStart: func(string, string) { r.add("ConnectStart") },
		ConnectDone:  func(string, string, error) { r.add("ConnectDone") },
		GotConn: func(i httptrace.GotConnInfo) {
			if stamperOf(i.Conn) == nil && runtime.GOOS == "linux" {
				r.add("GotConn without receive stamps")
			}
			if i.Reused {
				r.add("GotConn reused")
			} else {
				r.add("GotConn new")
			}
		},
		WroteHeaders:         func() { r.add("WroteHeaders") },
		WroteRequest:         func(httptrace.WroteRequestInfo) { r.add("WroteRequest") },
		GotFirstResponseByte: func() { r.add("GotFirstResponseByte") },
		Got1xxResponse:       func(code int, _ textproto.MIMEHeader) error { r.add("Got1xx"); return nil },
		PutIdleConn:          func(err error) { r.add("PutIdleConn") },
	}
}

// The hooks come in the same order and say the same as net/http's, for a new connection, a
// reused one, and an answer with an informational 103 before it.
func TestH1TransportTracesLikeNetHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("hints") {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	run := func(rt http.RoundTripper) []string {
		rec := &traceRecorder{}
		hc := &http.Client{Transport: rt}
		for _, q := range []string{"", "", "?hints=1"} {
			ctx := httptrace.WithClientTrace(context.Background(), rec.trace())
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+q, strings.NewReader("{}"))
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			rec.add("--")
		}
		return rec.events
	}
	want := run(newHTTPClient(2).Transport)
	got := run(newH1Transport(newHTTPClient(2).Transport.(*http.Transport)))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lean transport's hooks:\n%q\nnet/http's:\n%q", got, want)
	}
}

// rawServer answers each request with answer(n) (n counts requests from 1, across
// connections), written as it is, and closes the connection after it when told to.
type rawServer struct {
	url     string
	accepts atomic.Int32
	served  atomic.Int32
}

func startRawServer(t *testing.T, answer func(n int) (raw string, closeAfter bool)) *rawServer {
	t.Helper()
	s := &rawServer{}
	s.url = acceptEach(t, func(c net.Conn) {
		s.accepts.Add(1)
		s.serve(c, answer)
	})
	return s
}

// acceptEach listens on loopback until the test ends, serves each accepted connection with
// handle on a goroutine of its own, and returns the server's base URL (http://host:port/v1).
func acceptEach(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return "http://" + ln.Addr().String() + "/v1"
}

func (s *rawServer) serve(c net.Conn, answer func(int) (string, bool)) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		raw, closeAfter := answer(int(s.served.Add(1)))
		if _, err := io.WriteString(c, raw); err != nil || closeAfter {
			return
		}
	}
}

const (
	chunkedOK = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"
	lengthOK = "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\ndata: [DONE]\n\n"
)

// Which answers leave their connection for the next request, and what each request reads:
// two requests in a row, the second after the first's body was read (or closed) and 20 ms
// for a server's FIN to arrive.
func TestH1TransportConnectionReuse(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	cases := []struct {
		name      string
		answer    func(n int) (string, bool)
		readFirst int // bytes of the first body read before Close; -1 = all
		conns     int32
		bodies    []string
		errs      []string // substrings of each request's error ("" = none)
	}{
		{"chunked", always(chunkedOK, false), -1, 1, []string{"data: [DONE]\n\n", "data: [DONE]\n\n"}, nil},
		{"content-length", always(lengthOK, false), -1, 1, []string{"data: [DONE]\n\n", "data: [DONE]\n\n"}, nil},
		{"connection close", always("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", true), -1, 2, []string{"ok", "ok"}, nil},
		{"HTTP/1.0 body to EOF", always("HTTP/1.0 200 OK\r\n\r\nto the end", true), -1, 2, []string{"to the end", "to the end"}, nil},
		{"HTTP/1.0 keep-alive", always("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", false), -1, 1, []string{"ok", "ok"}, nil},
		{"closed without saying (llama.cpp)", always(chunkedOK, true), -1, 2, []string{"data: [DONE]\n\n", "data: [DONE]\n\n"}, nil},
		{"length shorter than the body", always("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", false), -1, 2, []string{"ok", "ok"}, nil},
		{"body closed unread", always("HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n"+big, false), 10, 2, []string{"xxxxxxxxxx", big}, nil},
		{"103 first", always("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"+lengthOK, false), -1, 1, []string{"data: [DONE]\n\n", "data: [DONE]\n\n"}, nil},
		{"no body", always("HTTP/1.1 204 No Content\r\n\r\n", false), -1, 1, []string{"", ""}, nil},
		{"length longer than the body", always("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok", true), -1, 2, []string{"ok", "ok"},
			[]string{"unexpected EOF", "unexpected EOF"}},
		{"chunked body cut", always("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n", true), -1, 2, []string{"ok", "ok"},
			[]string{"unexpected EOF", "unexpected EOF"}},
		{"headers too large", always("HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("a", maxResponseHeaders)+"\r\n\r\n", true), -1, 2, []string{"", ""},
			[]string{textHeadersTooLarge.text, textHeadersTooLarge.text}},
		{"not HTTP", always("SSH-2.0-OpenSSH_9.6\r\n", true), -1, 2, []string{"", ""}, []string{"malformed HTTP", "malformed HTTP"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startRawServer(t, tc.answer)
			hc := &http.Client{Transport: newH1Transport(newHTTPClient(2).Transport.(*http.Transport))}
			for i := range 2 {
				limit := -1
				if i == 0 {
					limit = tc.readFirst
				}
				body, err := fetch(hc, srv.url, limit)
				want := ""
				if tc.errs != nil {
					want = tc.errs[i]
				}
				if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
					t.Errorf("request %d: err %v, want %q", i+1, err, want)
				}
				if body != tc.bodies[i] && len(body)+len(tc.bodies[i]) < 200 {
					t.Errorf("request %d: body %q, want %q", i+1, body, tc.bodies[i])
				} else if body != tc.bodies[i] {
					t.Errorf("request %d: body of %d bytes, want %d", i+1, len(body), len(tc.bodies[i]))
				}
				time.Sleep(20 * time.Millisecond) // a closing server's FIN is in
			}
			if got := srv.accepts.Load(); got != tc.conns {
				t.Errorf("%d connections for 2 requests, want %d", got, tc.conns)
			}
		})
	}
}

func always(raw string, closeAfter bool) func(int) (string, bool) {
	return func(int) (string, bool) { return raw, closeAfter }
}

// fetch POSTs to url and reads limit bytes of the answer (-1: all) before closing it; the
// error is the request's or the body's.
func fetch(hc *http.Client, url string, limit int) (string, error) {
	resp, err := hc.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if limit >= 0 {
		r = io.LimitReader(r, int64(limit))
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

// A server that closes every connection after n answers without saying so (cpp-httplib's
// keep-alive maximum) costs no request: a closed idle connection is seen before it is used,
// and the request goes out on a new one (reused false, nothing to replay).
func TestH1TransportServerClosingAfterN(t *testing.T) {
	const n, requests = 3, 12
	srv := startRawServer(t, func(i int) (string, bool) { return lengthOK, i%n == 0 })
	tr := newH1Transport(newHTTPClient(2).Transport.(*http.Transport))
	hc := &http.Client{Transport: tr}
	reused := 0
	for i := range requests {
		rec := &traceRecorder{}
		ctx := httptrace.WithClientTrace(context.Background(), rec.trace())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.url, strings.NewReader("{}"))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for _, e := range rec.events {
			if e == "GotConn reused" {
				reused++
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := srv.accepts.Load(); got != requests/n || reused != requests-requests/n {
		t.Errorf("%d connections, %d requests on reused ones; want %d and %d", got, reused, requests/n, requests-requests/n)
	}
}

// Canceling a request unblocks it wherever it waits (for the headers, in the middle of a
// body) with the context's cause, and closes its connection: the server sees it go.
func TestH1TransportCancelClosesTheConnection(t *testing.T) {
	for _, during := range []string{"headers", "body"} {
		t.Run(during, func(t *testing.T) {
			gone := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body) // then the server watches the connection
				if during == "body" {
					io.WriteString(w, "data: {}\n\n")
					w.(http.Flusher).Flush()
				}
				select {
				case <-r.Context().Done():
					close(gone)
				case <-time.After(5 * time.Second):
				}
			}))
			t.Cleanup(srv.Close)
			hc := &http.Client{Transport: newH1Transport(newHTTPClient(2).Transport.(*http.Transport))}
			ctx, cancel := context.WithCancelCause(context.Background())
			cause := errors.New("stalled")
			time.AfterFunc(100*time.Millisecond, func() { cancel(cause) })
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("{}"))
			began := time.Now()
			resp, err := hc.Do(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if !errors.Is(err, cause) || time.Since(began) > 2*time.Second {
				t.Errorf("err %v after %s, want the cause within 2 s", err, time.Since(began))
			}
			select {
			case <-gone:
			case <-time.After(2 * time.Second):
				t.Errorf("the server did not see the connection closed")
			}
		})
	}
}
