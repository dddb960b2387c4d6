package runner

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"syscall"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// What the connection of each request did, from net/http/httptrace (docs/metrics.md,
// "Connections"): whether it was reused, how long a new one took to open, how many times
// the request was sent again on another connection, and the protocol that answered.

// connTrace follows one request's connections. Its hooks run on the transport's goroutines.
type connTrace struct {
	mu        sync.Mutex
	getConn   time.Time // the transport was asked for a connection (last attempt)
	gotConn   time.Time // it had one
	wrote     time.Time // the request's headers were written on it (HTTP/2: after a stream was free)
	gotConns  int       // connections the request was given
	replayed  bool      // sent again after a stale connection (sendTraced)
	reused    bool      // the last connection had served an earlier request
	connect   time.Duration
	firstByte bool      // a byte of the response arrived (on the last attempt)
	rx        rxStamper // the connection's receive stamps (rxstamp.go); nil = none
}

func (ct *connTrace) hooks() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) {
			ct.mu.Lock()
			ct.getConn, ct.firstByte, ct.wrote = time.Now(), false, time.Time{}
			ct.mu.Unlock()
		},
		GotConn: func(info httptrace.GotConnInfo) {
			now := time.Now()
			ct.mu.Lock()
			ct.gotConn, ct.reused, ct.rx = now, info.Reused, stamperOf(info.Conn)
			ct.gotConns++
			ct.connect = 0
			if !info.Reused && !ct.getConn.IsZero() {
				// DNS + TCP + TLS (and, for HTTP/2, the wait for the shared new connection).
				ct.connect = now.Sub(ct.getConn)
			}
			ct.mu.Unlock()
		},
		WroteHeaders: func() {
			now := time.Now()
			ct.mu.Lock()
			ct.wrote = now
			ct.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			ct.mu.Lock()
			ct.firstByte = true
			ct.mu.Unlock()
		},
	}
}

// connInfo is what the trace says about the attempt that answered (or failed last).
type connInfo struct {
	t0      time.Time // when the request went on the wire (its headers written); zero = never
	reused  bool
	connect *time.Duration // nil when the connection was reused
	retries int            // 1 when it was replayed after a stale connection
	rx      rxStamper      // the connection's receive stamps; nil = none
}

func (ct *connTrace) info() connInfo {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	ci := connInfo{t0: ct.wrote, reused: ct.reused, rx: ct.rx}
	if ct.replayed {
		ci.retries = 1
	}
	if ci.t0.IsZero() || ci.t0.Before(ct.gotConn) { // the last attempt wrote nothing
		ci.t0 = ct.gotConn
	}
	if ct.gotConns > 0 && !ct.reused {
		d := ct.connect
		ci.connect = &d
	}
	return ci
}

// staleConnection reports whether err is the failure of a reused keep-alive connection that
// the server had already closed: the connection was reused, not one byte of a response came
// back, and the error is a closed or reset connection. The server never answered it; it
// has not seen the request, or saw it arrive on a socket it was closing.
func (ct *connTrace) staleConnection(err error) bool {
	ct.mu.Lock()
	reused, answered := ct.reused, ct.firstByte
	ct.mu.Unlock()
	return reused && !answered && closedConnection(err)
}

// closedConnection: errors of a connection closed by the peer, not timeouts or refusals.
func closedConnection(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) ||
		textServerClosedIdle.in(err)
}

// sendTraced sends req with a connection trace and replays it, once, on a new connection
// when the reused connection it went out on turned out to be closed already (see
// staleConnection). The replay is safe for chat completions: the first send got no answer,
// so the request either never reached the server or reached a connection the server was
// closing; a completion has no effect beyond its answer. It is transparent (the record is
// of the answering attempt) and counted in conn_retries. A failure after a response began
// (a stream cut mid-way) is never replayed. (Go's transport also re-sends, on its own, a
// request of which not one byte could be written; that is not counted: nothing was sent.
// Nor are redirects, which also ask for a connection.)
func (d *doer) sendTraced(req *http.Request, ct *connTrace) (*http.Response, error) {
	ctx := httptrace.WithClientTrace(req.Context(), ct.hooks())
	resp, err := d.send(req.WithContext(ctx))
	if err == nil || req.Context().Err() != nil || !ct.staleConnection(err) {
		return resp, err
	}
	replay, rerr := rewound(req, ctx)
	if rerr != nil {
		return resp, err
	}
	ct.mu.Lock()
	ct.replayed = true
	ct.mu.Unlock()
	fresh := d.fresh
	if fresh == nil {
		fresh = freshConnections(d.hc)
	}
	return fresh.Do(replay)
}

// rewound is req again, with a fresh copy of its body.
func rewound(req *http.Request, ctx context.Context) (*http.Request, error) {
	r := req.Clone(ctx)
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("the request body cannot be sent again")
	}
	b, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r.Body = b
	return r, nil
}

// freshConnections is a client like hc whose every request opens its own connection: a
// replay must not pick another stale one from the pool.
func freshConnections(hc *http.Client) *http.Client {
	c := *hc
	switch tr := hc.Transport.(type) {
	case *http.Transport:
		tr = tr.Clone()
		tr.DisableKeepAlives = true
		c.Transport = tr
	case *h1Transport:
		c.Transport = tr.withoutKeepAlives()
	}
	return &c
}

// HTTP versions --http accepts.
const (
	HTTP11 = "1.1"
	HTTP2  = "2"
)

// ConnOptions say how a run's client handles its connections.
type ConnOptions struct {
	// Cold (--cold-connections) opens connections on demand inside the measured requests,
	// with t0 taken before asking for one, so set-up falls inside TTFT (vLLM's benchmark
	// does this). The default warms connections before each level and takes t0 when the
	// request has its connection (warm.go).
	Cold bool
	// HTTP is the protocol spoken: HTTP11 (default: what vLLM's benchmark client and the
	// first study's Python client speak) or HTTP2 (over TLS by ALPN, over http:// by prior
	// knowledge). No fallback: numbers compare only on one protocol.
	HTTP string
	// RootCAs are the certificates trusted for HTTPS; nil = the system's (SSL_CERT_FILE and
	// SSL_CERT_DIR are honoured), so a local server with a self-signed certificate can be trusted.
	RootCAs *x509.CertPool
}

func (o ConnOptions) validate() error {
	switch o.HTTP {
	case "", HTTP11, HTTP2:
		return nil
	}
	return fmt.Errorf("%w: --http %q: want %s or %s", ErrPlan, o.HTTP, HTTP11, HTTP2)
}

// newDoer builds the run's HTTP doer for up to maxConns concurrent requests.
func newDoer(maxConns int, o ConnOptions) *doer {
	hc := newHTTPClient(maxConns)
	if tr, ok := hc.Transport.(*http.Transport); ok {
		setProtocol(tr, o.HTTP)
		if o.RootCAs != nil {
			tr.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
		}
		if o.httpVersion() == HTTP11 {
			// http:// without a proxy: the lean transport (h1transport.go); the rest: tr.
			hc.Transport = newH1Transport(tr)
		}
	}
	return &doer{hc: hc, fresh: freshConnections(hc), cold: o.Cold}
}

// setProtocol restricts tr to one HTTP version. HTTP/2 is not strict about a server's
// MAX_CONCURRENT_STREAMS: a request finding every connection's streams in use gets a new
// connection instead of waiting inside the client, and that wait is connect time, before t0.
func setProtocol(tr *http.Transport, version string) {
	var p http.Protocols
	if version == HTTP2 {
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
		tr.ForceAttemptHTTP2 = true
		if tr.HTTP2 == nil {
			tr.HTTP2 = &http.HTTP2Config{}
		}
		tr.HTTP2.StrictMaxConcurrentRequests = false
	} else {
		p.SetHTTP1(true)
	}
	tr.Protocols = &p
}

func (o ConnOptions) httpVersion() string {
	if o.HTTP == "" {
		return HTTP11
	}
	return o.HTTP
}

// applyConn stores what the request's connection did in its record.
func (x *exchange) applyConn(rec *bench.Measurement) {
	c := x.conn
	rec.ConnRetries = c.retries
	if c.t0.IsZero() {
		return // no connection was had (refused, or failed before one)
	}
	rec.ConnReused = ptr(c.reused)
	if c.connect != nil {
		rec.ConnectMS = ptr(ms(*c.connect))
	}
	rec.HTTPProto = x.proto
}
