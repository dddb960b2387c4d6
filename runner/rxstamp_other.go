//go:build !linux

package runner

import "net"

// stampReceived: receive stamps are Linux's (rxstamp_linux.go); elsewhere a chunk's time
// is when the client read it.
func stampReceived(c net.Conn) net.Conn { return c }
