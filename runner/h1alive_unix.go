//go:build unix

package runner

import (
	"errors"
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
	alive := false
	err := pc.raw.Read(func(fd uintptr) bool {
		for {
			_, _, err := syscall.Recvfrom(int(fd), pc.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			alive = errors.Is(err, syscall.EAGAIN)
			return true // done either way: never wait here
		}
	})
	return err == nil && alive
}
