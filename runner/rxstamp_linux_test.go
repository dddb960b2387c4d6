package runner

import (
	"encoding/binary"
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rxTimeParsed is rxTime as it was written with unix.ParseSocketControlMessage, which
// allocates: the reference rxTime must agree with.
func rxTimeParsed(oob []byte) (int64, bool) {
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

// cmsg is one control message of level and typ carrying data, padded as the kernel pads it.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

func TestRxTimeSameAsParsed(t *testing.T) {
	ts16 := binary.NativeEndian.AppendUint64(binary.NativeEndian.AppendUint64(nil, 1700000000), 123456789)
	ts8 := binary.NativeEndian.AppendUint32(binary.NativeEndian.AppendUint32(nil, 1700000000), 5)
	stamp := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ts16)
	other := cmsg(unix.SOL_SOCKET, unix.SCM_RIGHTS, []byte{1, 2, 3, 4})
	later := cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, binary.NativeEndian.AppendUint64(binary.NativeEndian.AppendUint64(nil, 1), 2))
	broken := append([]byte{}, stamp...)
	(*unix.Cmsghdr)(unsafe.Pointer(&broken[0])).SetLen(1 << 20) // longer than the buffer
	for _, tc := range []struct {
		name string
		oob  []byte
		want bool
	}{
		{"none", nil, false},
		{"stamp", stamp, true},
		{"32-bit stamp", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ts8), true},
		{"another message first", append(append([]byte{}, other...), stamp...), true},
		{"two stamps: the first", append(append([]byte{}, stamp...), later...), true},
		{"other level", cmsg(unix.SOL_IP, unix.SCM_TIMESTAMPNS, ts16), false},
		{"stamp of another size", cmsg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ts16[:12]), false},
		{"malformed after the stamp", append(append([]byte{}, stamp...), broken...), false},
		{"malformed", broken, false},
		{"short tail", append(append([]byte{}, stamp...), 1, 2, 3), true},
	} {
		ns, ok := rxTime(tc.oob)
		wantNS, wantOK := rxTimeParsed(tc.oob)
		if ns != wantNS || ok != wantOK || ok != tc.want {
			t.Errorf("%s: rxTime %d %v, parsed %d %v (want found %v)", tc.name, ns, ok, wantNS, wantOK, tc.want)
		}
	}
}

// A stamped read allocates nothing: it runs for every read of every answer.
func TestRxConnReadAllocatesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf, pong := make([]byte, 1), []byte("pong") // nothing allocated here either: AllocsPerRun counts every goroutine's
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			c.Write(pong)
		}
	}()
	c, err := stampedDialer()(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*rxConn); !ok {
		t.Skipf("no receive stamps here (%T)", c)
	}
	buf, ping := make([]byte, 64), []byte("p")
	read := func() {
		c.Write(ping)
		for got := 0; got < 4; {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}
	// The kernel turns stamping on for the host a moment after the first socket asks for
	// it (a deferred static key): the first reads may come unstamped.
	for i := 0; ; i++ {
		read()
		if _, ok := c.(rxStamper).lastRx(); ok {
			break
		}
		if i == 100 {
			t.Fatal("no receive stamp after 100 reads")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a := testing.AllocsPerRun(100, read); a > 0 {
		t.Errorf("a ping-pong allocates %.1f times, want 0", a)
	}
}
