package runner

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// A byte that waited in the socket before the client read it is timed at its arrival, not
// at the read: the server writes, the client reads 200 ms later, and on Linux the time is
// between the server's clock readings just before and just after its write (loopback
// delivers inside the write; 50 ms allowed for a deferred softirq), whatever the host's
// scheduling made of the time around it; elsewhere it is the read's, as before.
func TestArrivalIsTheKernelsReceiveTime(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	wrote := make(chan [2]time.Time, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		time.Sleep(20 * time.Millisecond)
		before := time.Now()
		c.Write([]byte("x"))
		wrote <- [2]time.Time{before, time.Now()}
		time.Sleep(time.Second)
	}()
	c, err := stampedDialer()(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ws := <-wrote
	w, after := ws[0], ws[1]
	time.Sleep(200 * time.Millisecond) // the byte waits in the kernel
	buf := make([]byte, 8)
	if n, err := c.Read(buf); n != 1 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	read := time.Now()
	at := arrived(stamperOf(c), read, w.Add(-time.Second))
	switch {
	case runtime.GOOS != "linux":
		if !at.Equal(read) {
			t.Errorf("arrival %v, want the read's time", at.Sub(read))
		}
	case at.Before(w) || at.After(after.Add(50*time.Millisecond)):
		t.Errorf("arrival %v after the write began, which took %v (read %v after it): want the kernel's receive time, during the write",
			at.Sub(w), after.Sub(w), read.Sub(w))
	}
}

// arrived never goes before its floor, and falls back to the read's time without a stamp
// or with one that is later than the read or implausibly old.
func TestArrivedBounds(t *testing.T) {
	now := time.Now()
	ns := now.UnixNano()
	for _, tc := range []struct {
		name  string
		rx    rxStamper
		floor time.Time
		want  time.Duration // before now
	}{
		{"no connection", nil, time.Time{}, 0},
		{"no stamp yet", fixedStamp(0), time.Time{}, 0},
		{"10 ms before the read", fixedStamp(ns - 10e6), time.Time{}, 10 * time.Millisecond},
		{"before the floor", fixedStamp(ns - 10e6), now.Add(-4 * time.Millisecond), 4 * time.Millisecond},
		{"after the read (clock step)", fixedStamp(ns + 10e6), time.Time{}, 0},
		{"older than maxRxLag", fixedStamp(ns - int64(2*maxRxLag)), time.Time{}, 0},
	} {
		if got := now.Sub(arrived(tc.rx, now, tc.floor)); got != tc.want {
			t.Errorf("%s: %v before the read, want %v", tc.name, got, tc.want)
		}
	}
}

type fixedStamp int64

func (f fixedStamp) lastRx() (int64, bool) { return int64(f), f != 0 }
