//go:build unix

package runner

import "syscall"

// raiseFileLimit sets the soft RLIMIT_NOFILE to the hard limit (Go already does this at
// start on most systems; doing it here makes the check below not depend on that) and
// returns the soft limit in force.
func raiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		raised := rl
		raised.Cur = rl.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			rl = raised
		}
	}
	return uint64(rl.Cur), nil
}
