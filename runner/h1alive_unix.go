//go:build unix

package runner

import (
	"syscall"
)

// idleConnAlive reports whether an idle connection is still open and quiet: a non-blocking
// peek finds nothing to read (EAGAIN). EOF (the server closed it: llama.cpp after every
// stream), an error, or bytes nobody asked for (net/http logs those as an unsolicited
// response) mean it is not to be reused. net/http learns the same from its reader goroutine,
// which is always reading an idle connection.
func idleConnAlive(pc *h1Conn) bool {
	if pc.raw == nil {
		return true
	}
	if pc.peekIdle == nil {
		pc.peekIdle = pc.peekQuiet // made once per connection, not for every look
	}
	pc.quiet = false
	err := pc.raw.Read(pc.peekIdle)
	return err == nil && pc.quiet
}

// peekQuiet is the peek (pc.peekIdle): it sets pc.quiet when there is nothing to read, and
// never waits.
func (pc *h1Conn) peekQuiet(fd uintptr) bool {
	for {
		_, _, err := syscall.Recvfrom(int(fd), pc.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if err == syscall.EINTR {
			continue
		}
		pc.quiet = err == syscall.EAGAIN
		return true // done either way: never wait here
	}
}
