package testenv

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"testing"
)

// InCI reports whether the tests run under CI (the variable CI is "true", as .ci/run has it).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test locally and fails it under CI, with the same message.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("CI=true and a test input is missing: %s", msg)
	}
	t.Skip(msg)
}

// LockedBuffer is a buffer a test can read (String) while the code under test writes to it
// from other goroutines.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
