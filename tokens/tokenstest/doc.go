// Package tokenstest gives tests tracker's token counter, built once per test binary.
//
// It owns only that shared counter; what a test counts, and against what, stays in the test.
package tokenstest
