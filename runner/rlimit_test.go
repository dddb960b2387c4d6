//go:build unix

package runner

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// A concurrency the file limit cannot carry is refused before anything is sent, with the
// limit in the message; one it can carry passes.
func TestFileLimitRefusesConcurrency(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Max > 1<<30 {
		t.Skipf("no finite hard RLIMIT_NOFILE (%v, %d)", err, rl.Max)
	}
	p := plan(1, []int{int(rl.Max)}, ep("a", "http://127.0.0.1:1"))
	err := p.validate()
	if !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), fmt.Sprint(rl.Max)) || !strings.Contains(err.Error(), "ulimit") {
		t.Errorf("concurrency %d: err = %v, want ErrPlan naming the limit", rl.Max, err)
	}
	var now syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now)
	if now.Cur != now.Max {
		t.Errorf("soft limit %d after the check, want the hard limit %d", now.Cur, now.Max)
	}
	ok := plan(1, []int{int(rl.Max) - fileReserve}, ep("a", "http://127.0.0.1:1"))
	if err := ok.validate(); err != nil {
		t.Errorf("concurrency %d: %v", rl.Max-fileReserve, err)
	}
}

// Running out of descriptors or ports is the client's failure, not the endpoint's.
func TestClientResourceErrors(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.EADDRNOTAVAIL} {
		err := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno)}
		f, ok := hostileFailure(fmt.Errorf("Post \"http://x\": %w", err))
		if !ok || f.class != ClassClientResource || !strings.Contains(f.message, "not the endpoint") {
			t.Errorf("%v: %+v %v, want %s", errno, f, ok, ClassClientResource)
		}
	}
	if f, ok := hostileFailure(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}); ok {
		t.Errorf("connection refused classified as %+v", f)
	}
}
