package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// h1Transport is the run's HTTP/1.1 transport for plain http:// endpoints (docs/metrics.md,
// "Connections"). It does what net/http's Transport does for such a request, on the
// request's own goroutine: it takes an idle connection from its pool (or dials one with the
// stamping dialer), writes the request with (*http.Request).Write, reads the answer with
// http.ReadResponse (net/http's own parser: 1xx, chunked and Content-Length bodies, bodies
// that end at EOF, lengths that lie) and gives the connection back when the body has been
// read to its end. net/http's Transport runs two goroutines per connection and hands every
// request and answer between them and the caller; against a fast local server that costs
// about a third of the client's CPU per request (README, "Scale").
//
// It keeps net/http's guarantees that the runner relies on: the httptrace hooks with the
// same meaning (GetConn, GotConn with Reused, WroteHeaders and WroteRequest from Request.Write,
// GotFirstResponseByte, Got1xxResponse, PutIdleConn; DNS and Connect from the dialer), the
// response header bound and its error text, no compression, LIFO reuse of idle connections
// up to maxIdle per host, an idle timeout, cancellation that closes the connection (so a
// blocked read returns) and reports context.Cause, a silent resend when not one byte could
// be written on a reused connection, and the errors of a stale connection (EOF, reset,
// broken pipe) that staleConnection recognises. Where net/http notices a server closing an
// idle connection with the connection's reader goroutine, this transport looks before it
// reuses one (idleConnAlive: a non-blocking peek) and drops a closed one.
//
// Anything else goes to fallback, net/http's Transport: https, a proxy from the environment,
// an Expect header, an invalid method or header (net/http's error then).
type h1Transport struct {
	fallback   *http.Transport
	dial       func(ctx context.Context, network, addr string) (net.Conn, error)
	keepAlive  bool // false: every request a connection of its own, sent with Connection: close
	maxIdle    int  // idle connections kept per host
	maxHeader  int64
	idleLimit  time.Duration // an idle connection older than this is not reused
	inlineBody int64         // the largest request body written before the answer is read (h1InlineBody)

	mu   sync.Mutex
	idle map[string][]*h1Conn
}

// h1 buffer sizes: net/http's defaults.
const (
	h1ReadBuffer  = 4 << 10
	h1WriteBuffer = 4 << 10
)

// newH1Transport builds the lean transport around tr, which it copies its settings from
// and sends everything it does not handle to.
func newH1Transport(tr *http.Transport) *h1Transport {
	maxHeader := tr.MaxResponseHeaderBytes
	if maxHeader <= 0 {
		maxHeader = 10 << 20 // net/http's default
	}
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return &h1Transport{fallback: tr, dial: dial, keepAlive: !tr.DisableKeepAlives,
		maxIdle: tr.MaxIdleConnsPerHost, maxHeader: maxHeader, idleLimit: tr.IdleConnTimeout,
		inlineBody: h1InlineBody, idle: map[string][]*h1Conn{}}
}

// withoutKeepAlives is a transport like t whose every request opens its own connection
// (the replay after a stale connection: conn.go).
func (t *h1Transport) withoutKeepAlives() *h1Transport {
	fb := t.fallback.Clone()
	fb.DisableKeepAlives = true
	return &h1Transport{fallback: fb, dial: t.dial, maxHeader: t.maxHeader, inlineBody: t.inlineBody, idle: map[string][]*h1Conn{}}
}

// CloseIdleConnections closes the pool's idle connections and the fallback's.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*h1Conn{}
	t.mu.Unlock()
	for _, conns := range idle {
		for _, pc := range conns {
			pc.conn.Close()
		}
	}
	t.fallback.CloseIdleConnections()
}

// handles reports whether req is one for this transport rather than net/http's.
func (t *h1Transport) handles(req *http.Request) bool {
	if req.URL == nil || req.URL.Scheme != "http" || req.URL.Host == "" || req.Header.Get("Expect") != "" {
		return false
	}
	if t.fallback.Proxy != nil {
		if u, err := t.fallback.Proxy(req); err != nil || u != nil {
			return false
		}
	}
	return validToken(req.Method) && validHeaders(req.Header)
}

// RoundTrip sends req and returns its answer, whose body gives the connection back.
func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.handles(req) {
		return t.fallback.RoundTrip(req)
	}
	if ctx := req.Context(); ctx.Err() != nil {
		closeRequestBody(req) // as net/http: no connection is taken for it
		return nil, context.Cause(ctx)
	}
	trace := httptrace.ContextClientTrace(req.Context())
	for {
		resp, again, err := t.roundTrip(req, trace)
		if !again {
			return resp, err
		}
		// Not one byte was written on a reused connection: send it again on another, as
		// net/http does (not a replay: nothing was sent).
		if req, err = rewindBody(req); err != nil {
			return nil, err
		}
	}
}

// roundTrip is one attempt; again is true when nothing could be written on a reused
// connection and req may go out on another.
func (t *h1Transport) roundTrip(req *http.Request, trace *httptrace.ClientTrace) (resp *http.Response, again bool, err error) {
	ctx := req.Context()
	addr := hostPort(req)
	if trace != nil && trace.GetConn != nil {
		trace.GetConn(addr)
	}
	pc, err := t.conn(ctx, addr)
	if err != nil {
		closeRequestBody(req) // Request.Write closes it on every other path
		if ended(ctx) {
			return nil, false, context.Cause(ctx) // as net/http reports a cancelled dial
		}
		return nil, false, err
	}
	if trace != nil && trace.GotConn != nil {
		info := httptrace.GotConnInfo{Conn: pc.conn, Reused: pc.reused, WasIdle: pc.reused}
		if pc.reused {
			info.IdleTime = time.Since(pc.idleAt)
		}
		trace.GotConn(info)
	}
	stop := context.AfterFunc(ctx, func() { pc.conn.Close() }) // unblocks a read or write
	written := pc.nwrite
	var wrote <-chan error // the writer's error, when a goroutine writes a large body
	if largeBody(req, t.inlineBody) {
		wrote = t.writeAsync(pc, req)
	} else if err := t.write(pc, req); err != nil {
		if resp, ok := t.earlyAnswer(pc, req, trace, written); ok {
			return t.answered(resp, pc, ctx, stop, closedWriter(), trace), false, nil
		}
		stop()
		pc.conn.Close()
		if ended(ctx) {
			return nil, false, context.Cause(ctx)
		}
		if pc.reused && pc.nwrite == written && rewindable(req) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("writing the request: %w", err)
	}
	resp, err = t.read(pc, req, trace)
	if err != nil {
		stop()
		pc.conn.Close()
		if ended(ctx) {
			return nil, false, context.Cause(ctx)
		}
		if wrote != nil && <-wrote != nil && pc.reused && pc.nwrite == written && rewindable(req) {
			return nil, true, nil // nothing written on a reused connection: as the inline write's
		}
		return nil, false, err
	}
	return t.answered(resp, pc, ctx, stop, wrote, trace), false, nil
}

// h1InlineBody is the largest request body written before the answer is read, on the
// request's goroutine. A larger one (a long prompt), or one of unknown length, is written
// by a goroutine of its own while the answer is read, as net/http does with every request:
// a server may answer before it has read it and then stop reading without closing.
const h1InlineBody = 64 << 10

func largeBody(req *http.Request, inline int64) bool {
	// A length of 0 with a body is an unknown length too (http.Request), sent chunked.
	return req.Body != nil && req.Body != http.NoBody && (req.ContentLength <= 0 || req.ContentLength > inline)
}

// writeAsync writes req on pc from a goroutine of its own; the channel has its error.
func (t *h1Transport) writeAsync(pc *h1Conn, req *http.Request) <-chan error {
	done := make(chan error, 1)
	go func() { done <- t.write(pc, req) }()
	return done
}

// closedWriter is a writer's outcome for an answer that came after a failed write.
func closedWriter() <-chan error {
	done := make(chan error, 1)
	done <- errors.New("the request was not written whole")
	return done
}

// h1WriteWait is how long a body's end waits for the request's writer before it gives the
// connection back (net/http's maxWriteWaitBeforeConnReuse); after it the connection is closed.
const h1WriteWait = 50 * time.Millisecond

// answered is resp with a body that gives pc back at its end, when the answer keeps it and
// the whole request was written (wrote: nil when it was, before the answer was read).
func (t *h1Transport) answered(resp *http.Response, pc *h1Conn, ctx context.Context, stop func() bool, wrote <-chan error, trace *httptrace.ClientTrace) *http.Response {
	keep := t.keepAlive && !resp.Close && !resp.Request.Close && resp.StatusCode > 199
	b := &h1Body{rc: resp.Body, pc: pc, t: t, ctx: ctx, stop: stop, keep: keep, wrote: wrote, trace: trace}
	if resp.Body == http.NoBody {
		b.finish(true) // nothing to read: the connection is free now
		return resp
	}
	resp.Body = b
	return resp
}

// earlyAnswerWait bounds the read of an answer after the request could not be written: the
// answer, when there is one, is already in the socket's receive queue.
const earlyAnswerWait = time.Second

// earlyAnswer is the answer of a server that answered before it had read the whole
// request and closed the connection (a size limit: 413, or Go's server past 256 KiB of
// unread body): net/http's reader returns that answer while its writer fails, and so does
// this. Only after a write to the connection failed with part of the request written (a
// failure to read the request's own body, a cancellation, or nothing written on a reused
// connection are not answers); ok is false when no answer came.
func (t *h1Transport) earlyAnswer(pc *h1Conn, req *http.Request, trace *httptrace.ClientTrace, written int64) (*http.Response, bool) {
	if pc.werr == nil || pc.nwrite == written || req.Context().Err() != nil {
		return nil, false
	}
	pc.conn.SetReadDeadline(time.Now().Add(earlyAnswerWait))
	resp, err := t.read(pc, req, trace)
	if err != nil {
		return nil, false
	}
	pc.conn.SetReadDeadline(time.Time{})
	return resp, true
}

// write sends the request on pc: headers and body through the buffer, then one flush.
func (t *h1Transport) write(pc *h1Conn, req *http.Request) error {
	if !t.keepAlive && !req.Close {
		r := *req // Request.Write then says Connection: close, as net/http does without keep-alives
		r.Close = true
		req = &r
	}
	if ok, err := t.writeLean(pc, req); ok {
		if err != nil {
			return err
		}
		return pc.bw.Flush()
	}
	if err := req.Write(pc.bw); err != nil {
		return err
	}
	return pc.bw.Flush()
}

// writeLean writes req with writeLean when its exchange holds the bytes its body reads;
// ok is false when it did not (h1write.go).
func (t *h1Transport) writeLean(pc *h1Conn, req *http.Request) (ok bool, err error) {
	ctx := req.Context()
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	if x == nil || x.body == nil {
		return false, nil
	}
	return writeLean(pc.bw, req, x.body, httptrace.ContextClientTrace(ctx))
}

// read reads the answer's headers (after any 1xx), bounded by maxHeader as net/http bounds them.
func (t *h1Transport) read(pc *h1Conn, req *http.Request, trace *httptrace.ClientTrace) (*http.Response, error) {
	pc.readLimit = t.maxHeader
	if _, err := pc.br.Peek(1); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if trace != nil && trace.GotFirstResponseByte != nil {
		trace.GotFirstResponseByte()
	}
	for {
		resp, err := http.ReadResponse(pc.br, req)
		if err != nil {
			if pc.readLimit <= 0 {
				// textHeadersTooLarge: net/http's words, which hostileFailure classifies.
				return nil, fmt.Errorf("net/http: server response headers exceeded %d bytes; aborted", t.maxHeader)
			}
			return nil, fmt.Errorf("reading the answer's headers: %w", err)
		}
		if code := resp.StatusCode; code < 100 || code > 199 || code == http.StatusSwitchingProtocols {
			pc.readLimit = math.MaxInt64
			return resp, nil
		}
		if trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return nil, err
			}
			pc.readLimit = t.maxHeader // the hook saw it: the limit starts again, as in net/http
		}
	}
}

// conn is an idle connection to addr that is still open, or a new one.
// ended reports whether ctx has ended, a deadline already past counted as ended: a dial
// given ctx's deadline (net.Dialer) can fail with its own "i/o timeout" a moment before
// ctx's timer marks ctx done, and the failure is the deadline's, to be reported as its
// cause. It then waits for that timer, which is due.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		<-ctx.Done()
		return true
	}
	return false
}

func (t *h1Transport) conn(ctx context.Context, addr string) (*h1Conn, error) {
	for {
		pc := t.takeIdle(addr)
		if pc == nil {
			break
		}
		if (t.idleLimit > 0 && time.Since(pc.idleAt) > t.idleLimit) || !idleConnAlive(pc) {
			pc.conn.Close()
			continue
		}
		pc.reused = true
		return pc, nil
	}
	c, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	pc := &h1Conn{conn: c, addr: addr}
	if sc, ok := c.(syscall.Conn); ok {
		pc.raw, _ = sc.SyscallConn()
	}
	pc.br = bufio.NewReaderSize(pc, h1ReadBuffer)
	pc.bw = bufio.NewWriterSize(pc, h1WriteBuffer)
	return pc, nil
}

// takeIdle is the most recently used idle connection to addr, or nil.
func (t *h1Transport) takeIdle(addr string) *h1Conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	conns := t.idle[addr]
	n := len(conns)
	if n == 0 {
		return nil
	}
	pc := conns[n-1]
	conns[n-1] = nil
	t.idle[addr] = conns[:n-1]
	return pc
}

// putIdle gives pc back to the pool; false when the pool is full (pc is then closed).
func (t *h1Transport) putIdle(pc *h1Conn) bool {
	pc.idleAt = time.Now()
	t.mu.Lock()
	conns := t.idle[pc.addr]
	ok := len(conns) < t.maxIdle
	if ok {
		t.idle[pc.addr] = append(conns, pc)
	}
	t.mu.Unlock()
	if !ok {
		pc.conn.Close()
	}
	return ok
}

// h1Conn is one connection: the dialed conn (an rxConn on Linux), its buffers, and what
// net/http's persistConn counts of it. One request uses it at a time.
type h1Conn struct {
	conn      net.Conn
	raw       syscall.RawConn // for idleConnAlive; nil = cannot look
	addr      string
	br        *bufio.Reader
	bw        *bufio.Writer
	readLimit int64 // bytes the headers may still take
	nwrite    int64
	werr      error // the connection's write error, if any
	reused    bool
	idleAt    time.Time
	peek      [1]byte
	peekIdle  func(fd uintptr) bool // idleConnAlive's look (h1alive_unix.go); nil until the first
	quiet     bool                  // what the last look found: nothing to read
}

// Read is the buffer's source: the connection, within readLimit.
func (pc *h1Conn) Read(p []byte) (int, error) {
	if pc.readLimit <= 0 {
		return 0, errors.New("read limit exhausted")
	}
	if int64(len(p)) > pc.readLimit {
		p = p[:pc.readLimit]
	}
	n, err := pc.conn.Read(p)
	pc.readLimit -= int64(n)
	return n, err
}

func (pc *h1Conn) Write(p []byte) (int, error) {
	n, err := pc.conn.Write(p)
	pc.nwrite += int64(n)
	if err != nil {
		pc.werr = err
	}
	return n, err
}

// h1Body is an answer's body: at its end the connection goes back to the pool; an error, a
// Close before the end, or an answer that keeps no connection (Connection: close, HTTP/1.0,
// a body that ends at EOF) closes it.
type h1Body struct {
	rc    io.ReadCloser // http.ReadResponse's body
	pc    *h1Conn
	t     *h1Transport
	ctx   context.Context
	stop  func() bool // the cancellation's AfterFunc
	keep  bool
	wrote <-chan error // the request's writer when it ran beside the read; nil: it had ended
	trace *httptrace.ClientTrace
	state atomic.Int32 // h1Open, h1Ended, h1Closed
}

const (
	h1Open int32 = iota
	h1Ended
	h1Closed
)

var errReadOnClosedBody = errors.New("http: read on closed response body") // net/http's words

func (b *h1Body) Read(p []byte) (int, error) {
	switch b.state.Load() {
	case h1Ended:
		return 0, io.EOF
	case h1Closed:
		return 0, errReadOnClosedBody
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.finish(true)
	case err != nil:
		b.finish(false)
		if b.ctx.Err() != nil {
			err = context.Cause(b.ctx)
		}
	}
	return n, err
}

// ended reports whether the body was read to its end: a Read now returns EOF.
func (b *h1Body) ended() bool { return b.state.Load() == h1Ended }

// Close ends the body; before its end it closes the connection (net/http does too).
func (b *h1Body) Close() error {
	b.finish(false)
	b.state.Store(h1Closed)
	return nil
}

// finish runs once, at the body's end (ended) or on an error or Close: the connection goes
// back to the pool only after a complete answer that keeps it, with nothing read beyond it,
// and before the request was canceled.
func (b *h1Body) finish(ended bool) {
	next := h1Closed
	if ended {
		next = h1Ended
	}
	if !b.state.CompareAndSwap(h1Open, next) {
		return
	}
	if b.stop() && ended && b.keep && b.pc.br.Buffered() == 0 && b.written() && b.t.putIdle(b.pc) {
		if b.trace != nil && b.trace.PutIdleConn != nil {
			b.trace.PutIdleConn(nil)
		}
		return
	}
	b.pc.conn.Close()
}

// written reports whether the whole request was written, waiting up to h1WriteWait for a
// writer that runs beside the read.
func (b *h1Body) written() bool {
	if b.wrote == nil {
		return true
	}
	wait := time.NewTimer(h1WriteWait)
	defer wait.Stop()
	select {
	case err := <-b.wrote:
		return err == nil
	case <-wait.C:
		return false
	}
}

// hostPort is the request's host:port, the port made explicit.
func hostPort(req *http.Request) string {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = "80"
	}
	return net.JoinHostPort(host, port)
}

// closeRequestBody closes a request's body that will not be sent (RoundTripper's contract).
func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// rewindable: a request whose body can be sent again (net/http's condition for its resend).
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewindBody is req with a fresh copy of its body.
func rewindBody(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	b, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("rewinding the request body: %w", err)
	}
	r := *req
	r.Body = b
	return &r, nil
}

// validToken: an HTTP token (RFC 9110), as a method or a header name must be.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validHeaders: every name a token, every value free of control characters but tab (what
// net/http's Transport checks before it sends; Request.Write alone would not refuse them).
func validHeaders(h http.Header) bool {
	for k, vv := range h {
		if !validToken(k) {
			return false
		}
		for _, v := range vv {
			for i := 0; i < len(v); i++ {
				if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
					return false
				}
			}
		}
	}
	return true
}
