package testenv

import (
	"bytes"
	"fmt"
	"os"
	"strings"
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

// PostgresEnv names the variable that holds the URL of a PostgreSQL server the tests may
// use (postgres://user@host:port/database?...); .ci/run starts a throwaway cluster and sets it.
const PostgresEnv = "TRACKER_TEST_POSTGRES"

// Postgres returns the URL of the tests' PostgreSQL server. Without one it skips the test
// on a developer's machine, saying how to get one, and fails it under CI.
func Postgres(t testing.TB) string {
	t.Helper()
	u := strings.TrimSpace(os.Getenv(PostgresEnv))
	if u == "" {
		Missing(t, "no PostgreSQL server for the tests: set %s=postgres://user@127.0.0.1:PORT/DB (`source .ci/postgres.sh && pg_start` starts a throwaway cluster and sets it)", PostgresEnv)
	}
	return u
}
