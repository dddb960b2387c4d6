package runner

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

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

	// The reader's recvmsg: its arguments and results, and the function RawConn.Read
	// calls, made once with the connection (a closure made for every read, with the
	// variables it sets, was three allocations per read).
	msg  unix.Msghdr
	iov  unix.Iovec
	n    int
	rerr error
	recv func(fd uintptr) bool
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
	rc := &rxConn{TCPConn: tc, raw: raw, oob: make([]byte, unix.CmsgSpace(16)*2)}
	rc.recv = rc.recvmsg
	return rc
}

func (c *rxConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.iov.Base = &p[0]
	c.iov.SetLen(len(p))
	err := c.raw.Read(c.recv)
	n, rerr := c.n, c.rerr
	c.iov.Base, c.rerr = nil, nil // keep no reference to the caller's buffer
	if err == nil && rerr != nil {
		err = os.NewSyscallError("recvmsg", rerr)
	}
	if err != nil {
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	if n == 0 {
		return 0, io.EOF
	}
	if ns, ok := rxTime(c.oob[:c.msg.Controllen]); ok {
		c.last.Store(ns)
	}
	return n, nil
}

// recvmsg is c.recv: one recvmsg(2) into c.iov with the control data in c.oob, as
// unix.Recvmsg makes it for a connected socket (no source address asked for), retried on
// EINTR; false (wait until readable) on EAGAIN.
func (c *rxConn) recvmsg(fd uintptr) bool {
	for {
		c.msg = unix.Msghdr{Iov: &c.iov, Control: &c.oob[0]}
		c.msg.SetIovlen(1)
		c.msg.SetControllen(len(c.oob))
		r, _, errno := unix.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&c.msg)), 0)
		c.n, c.rerr = int(r), nil
		if errno == 0 {
			return true
		}
		c.n, c.rerr = 0, errno
		if errno != unix.EINTR {
			return errno != unix.EAGAIN
		}
	}
}

func (c *rxConn) lastRx() (int64, bool) {
	ns := c.last.Load()
	return ns, ns != 0
}

// rxTime is the SCM_TIMESTAMPNS stamp in a recvmsg's control data, in ns: a timespec of
// two native longs (8 bytes each on 64-bit systems, 4 on 32-bit ones).
func rxTime(oob []byte) (int64, bool) {
	var ns int64
	found := false
	for len(oob) >= unix.CmsgLen(0) { // every message parsed, as ParseSocketControlMessage does
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return 0, false
		}
		oob = rest
		if found || h.Level != unix.SOL_SOCKET || h.Type != unix.SCM_TIMESTAMPNS {
			continue
		}
		switch len(data) {
		case 16:
			ns, found = int64(binary.NativeEndian.Uint64(data))*1e9+int64(binary.NativeEndian.Uint64(data[8:])), true
		case 8:
			ns, found = int64(int32(binary.NativeEndian.Uint32(data)))*1e9+int64(int32(binary.NativeEndian.Uint32(data[4:]))), true
		}
	}
	return ns, found
}
