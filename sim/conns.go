package sim

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// ConnOptions make the simulator close connections the way real servers do, behind the
// client's back (docs/sim.md): llama-server closes the TCP connection after every streamed
// answer while its headers promise keep-alive; cpp-httplib (older llama.cpp) and nginx
// close after N requests; servers and gateways close idle connections.
type ConnOptions struct {
	CloseAfterStream bool          // close after every streamed answer (the llamacpp wire always does)
	KeepaliveMax     int           // close after this many requests on a connection; 0 = never
	IdleClose        time.Duration // close a connection idle this long; 0 = the server's default
}

func (o ConnOptions) active() bool {
	return o.CloseAfterStream || o.KeepaliveMax > 0 || o.IdleClose > 0
}

type simConnKey struct{}

// connCloser tracks each connection's requests and closes the doomed ones once idle.
type connCloser struct {
	opts   ConnOptions
	mu     sync.Mutex
	count  map[net.Conn]int
	doomed map[net.Conn]bool
}

// ConfigureServer sets up srv (the http.Server that serves Handler): HTTP/1.1 and h2c, and
// connections closed as the options say. Serve calls it; tests serving Handler themselves call it too.
func (s *Server) ConfigureServer(srv *http.Server) {
	var p http.Protocols // HTTP/1.1, and HTTP/2 by prior knowledge on plain TCP (tracker run --http 2)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv.Protocols = &p
	o := s.connOptions()
	if !o.active() {
		return
	}
	if o.IdleClose > 0 {
		srv.IdleTimeout = o.IdleClose
	}
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, simConnKey{}, c)
	}
	srv.ConnState = s.conns.connState
}

// connOptions are the options in force: the llamacpp wire always closes after a stream.
func (s *Server) connOptions() ConnOptions {
	o := s.opts.Conn
	if _, ok := s.wire.(llamacpp); ok {
		o.CloseAfterStream = true
	}
	return o
}

// request counts a request on its connection and dooms the connection when it is the
// connection's last (KeepaliveMax).
func (cc *connCloser) request(r *http.Request) {
	cc.doom(r, func(n int) bool { return cc.opts.KeepaliveMax > 0 && n >= cc.opts.KeepaliveMax }, true)
}

// streamed dooms the connection of a streamed answer (CloseAfterStream).
func (cc *connCloser) streamed(r *http.Request) {
	cc.doom(r, func(int) bool { return cc.opts.CloseAfterStream }, false)
}

func (cc *connCloser) doom(r *http.Request, last func(requests int) bool, count bool) {
	c, ok := r.Context().Value(simConnKey{}).(net.Conn)
	if !ok {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if count {
		cc.count[c]++
	}
	if last(cc.count[c]) {
		cc.doomed[c] = true
	}
}

func (cc *connCloser) connState(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateIdle:
		cc.mu.Lock()
		doomed := cc.doomed[c]
		cc.mu.Unlock()
		if doomed {
			c.Close() // no Connection: close was sent: the client learns it when it next writes
		}
	case http.StateClosed, http.StateHijacked:
		cc.mu.Lock()
		delete(cc.count, c)
		delete(cc.doomed, c)
		cc.mu.Unlock()
	}
}
