package testenv

import (
	"fmt"
	"os"
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
