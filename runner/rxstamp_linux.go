package runner

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// rxConn is a TCP connection whose reads take the kernel's receive time of what they
// return (SO_TIMESTAMPNS) through recvmsg. Reads are not concurrent (net.Conn's contract
// for one reader; net/http has one), so oob is the reader's.
type rxConn struct {
	*net.TCPConn
	raw  syscall.RawConn
	oob  []byte
	last atomic.Int64 // CLOCK_REALTIME ns; 0 = no stamped read yet
}

// stampReceived turns on receive stamps for a TCP connection; any other connection, or
// one where the option cannot be set, is returned as it is.
func stampReceived(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return c
	}
	return &rxConn{TCPConn: tc, raw: raw, oob: make([]byte, unix.CmsgSpace(16)*2)}
}

func (c *rxConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n, oobn int
	var rerr error
	err := c.raw.Read(func(fd uintptr) bool {
		for {
			n, oobn, _, _, rerr = unix.Recvmsg(int(fd), p, c.oob, 0)
			if !errors.Is(rerr, unix.EINTR) {
				return !errors.Is(rerr, unix.EAGAIN) // EAGAIN: wait until readable
			}
		}
	})
	if err == nil && rerr != nil {
		err = os.NewSyscallError("recvmsg", rerr)
	}
	if err != nil {
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	if n == 0 {
		return 0, io.EOF
	}
	if ns, ok := rxTime(c.oob[:oobn]); ok {
		c.last.Store(ns)
	}
	return n, nil
}

func (c *rxConn) lastRx() (int64, bool) {
	ns := c.last.Load()
	return ns, ns != 0
}

// rxTime is the SCM_TIMESTAMPNS stamp in a recvmsg's control data, in ns: a timespec of
// two native longs (8 bytes each on 64-bit systems, 4 on 32-bit ones).
func rxTime(oob []byte) (int64, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_TIMESTAMPNS {
			continue
		}
		switch len(m.Data) {
		case 16:
			return int64(binary.NativeEndian.Uint64(m.Data))*1e9 + int64(binary.NativeEndian.Uint64(m.Data[8:])), true
		case 8:
			return int64(int32(binary.NativeEndian.Uint32(m.Data)))*1e9 + int64(int32(binary.NativeEndian.Uint32(m.Data[4:]))), true
		}
	}
	return 0, false
}
