// Package lint holds tests that check the module's source as a whole (for
// now: no function longer than 100 lines). It has no code of its own; `go
// test ./...` runs it with the rest.
package lint
