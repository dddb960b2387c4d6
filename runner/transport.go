package runner

import (
	"context"
	"io"
	"net/http"
	"time"
)

// exchange is what the HTTP layer saw of one request: it is where t0 is taken, just before
// the request is written, and where the body is watched for stalls (the SSE reader sees [DONE]).
type exchange struct {
	key      string // the API key of this attempt ("" = none); never logged
	headers  map[string]string
	redirect RedirectPolicy // which redirects to follow (redirect.go)
	onRead   func()         // called after every read of the response body
	body     []byte         // the streamed request's body, which every body of its requests reads; nil = not known
	t0       time.Time      // monotonic
	status   int
	header   http.Header
	conn     connInfo // what the connection did (conn.go)
	proto    string   // the protocol that answered: HTTP/1.1, HTTP/2.0
}

type exchangeKey struct{}

func withExchange(ctx context.Context, x *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

// doer is the go-openai HTTPDoer: it sets the credentials and headers, stamps t0 and wraps the response body.
type doer struct {
	hc    *http.Client
	fresh *http.Client // for replays after a stale connection (conn.go); nil = hc
	cold  bool         // --cold-connections: t0 before asking for a connection
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if x == nil {
		return d.hc.Do(req)
	}
	if x.key != "" {
		req.Header.Set("Authorization", "Bearer "+x.key)
	} else if req.Header.Get("Authorization") == "Bearer " {
		req.Header.Del("Authorization") // no key: send no credentials rather than an empty one
	}
	for k, v := range x.headers {
		req.Header.Set(k, v)
	}
	x.t0 = time.Now()
	ct := &connTrace{}
	resp, err := d.sendTraced(req, ct)
	x.conn = ct.info()
	if !d.cold && !x.conn.t0.IsZero() {
		x.t0 = x.conn.t0 // the wait for a connection or a stream is queue time, not TTFT (docs/metrics.md)
	}
	if resp != nil {
		x.proto = resp.Proto
		x.status = resp.StatusCode
		x.header = resp.Header
		resp.Body = &watchedBody{rc: resp.Body, x: x}
	}
	return resp, err
}

type watchedBody struct {
	rc io.ReadCloser
	x  *exchange
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.rc.Read(p)
	if n > 0 {
		if w.x.onRead != nil {
			w.x.onRead()
		}
	}
	return n, err
}

func (w *watchedBody) Close() error { return w.rc.Close() }

// ended is bodyEnded of the body it watches.
func (w *watchedBody) ended() bool { return bodyEnded(w.rc) }

// newHTTPClient is tuned for many concurrent streams: no response compression (it would
// buffer chunks), enough idle connections per host for the highest level.
func newHTTPClient(maxConns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true
	tr.MaxIdleConns = maxConns + 16
	tr.MaxIdleConnsPerHost = maxConns + 16
	tr.MaxConnsPerHost = 0
	tr.ResponseHeaderTimeout = 0
	tr.MaxResponseHeaderBytes = maxResponseHeaders // bounds.go
	tr.DialContext = stampedDialer()               // chunk times are arrival times (rxstamp.go)
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect}
}
