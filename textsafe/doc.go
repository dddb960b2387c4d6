// Package textsafe makes text that came from a server safe to keep and to show: a
// Redactor removes the run's secrets from it, Terminal neutralises control characters.
//
// It owns only these two transformations; deciding what text is kept, bounded or printed is
// left to its callers (runner, report, the CLI).
package textsafe
