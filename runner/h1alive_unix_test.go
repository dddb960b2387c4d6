//go:build unix

package runner

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// idleConnAlive: an open, quiet connection is alive, without allocating; one with bytes
// nobody asked for, or one the server closed, is not.
func TestIdleConnAlive(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tc := range []struct {
		name   string
		server func(net.Conn)
		alive  bool
	}{
		{"quiet", func(net.Conn) {}, true},
		{"unsolicited bytes", func(c net.Conn) { c.Write([]byte("HTTP/1.1 200 OK\r\n")) }, false},
		{"closed by the server", func(c net.Conn) { c.Close() }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accepted := make(chan net.Conn, 1)
			go func() {
				c, err := ln.Accept()
				if err == nil {
					accepted <- c
				}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			sc := <-accepted
			defer sc.Close()
			tc.server(sc)
			time.Sleep(20 * time.Millisecond) // what the server did has arrived
			raw, err := c.(syscall.Conn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			pc := &h1Conn{conn: c, raw: raw}
			if got := idleConnAlive(pc); got != tc.alive {
				t.Fatalf("alive %v, want %v", got, tc.alive)
			}
			if a := testing.AllocsPerRun(50, func() { idleConnAlive(pc) }); tc.alive && a > 0 {
				t.Errorf("a look allocates %.1f times, want 0", a)
			}
		})
	}
}
