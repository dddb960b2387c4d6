package runner

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// Arrival times. A chunk's time is when its bytes reached this host, not when the client got
// around to reading them: under load (hundreds of streams, a busy machine) the bytes of a
// first token can wait tens of milliseconds in the socket before the goroutine that reads
// them runs, and that wait is the client's, not the server's. On Linux each connection asks
// the kernel to stamp what it receives (SO_TIMESTAMPNS, rxstamp_linux.go); the time of a
// chunk is then the receive time of the latest read on its connection. That read delivered
// the chunk's last bytes or came after them, so the time is never before the bytes arrived,
// and never after the client read them. A segment that arrives while an earlier one is still
// unread is merged into it by the kernel, keeping the later stamp: a chunk read after the
// server's next write arrived is timed at that arrival (docs/metrics.md, "Arrival times").
// Elsewhere, or when the kernel gives no stamp, it is the time the client read the chunk, as
// before.

// rxStamper is a connection that knows the kernel's receive time of its latest read.
type rxStamper interface {
	// lastRx is the CLOCK_REALTIME receive time, in ns, of the last segment of the latest
	// read that returned data; ok is false before any stamped read.
	lastRx() (ns int64, ok bool)
}

// stamperOf is c's rxStamper, looking under TLS; nil when it has none.
func stamperOf(c net.Conn) rxStamper {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	s, _ := c.(rxStamper)
	return s
}

// maxRxLag bounds how long before the read a stamp may be: beyond it (a wall-clock step
// between the stamp and the read) the read time is used.
const maxRxLag = time.Minute

// arrived is when the bytes just read on rx reached this host: now moved back by how long
// they waited in the kernel, but never before floor (t0, or the previous chunk). now must
// carry a monotonic reading; the result does too.
func arrived(rx rxStamper, now, floor time.Time) time.Time {
	if rx == nil {
		return now
	}
	ns, ok := rx.lastRx()
	if !ok {
		return now
	}
	lag := time.Duration(now.UnixNano() - ns) // both CLOCK_REALTIME
	if lag <= 0 || lag > maxRxLag {
		return now
	}
	at := now.Add(-lag)
	if !floor.IsZero() && at.Before(floor) {
		return floor
	}
	return at
}

// stampedDialer dials TCP like net/http's default transport, asking the kernel to stamp
// what each connection receives where it can.
func stampedDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return stampReceived(c), nil
	}
}
