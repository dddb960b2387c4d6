// Package testenv decides what a test does when something it needs from outside the
// repository (the shared SQuAD set, a browser, a database server) is missing: on a developer's
// machine it skips with the reason; under CI (CI=true) it fails, because CI installs and lays
// out everything and a skip there would hide a test that never ran.
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
