// Package runner sends a workload to endpoints, streams and times every response, and
// hands each request's record to a bench.Recorder (the store, or an in-memory one in tests).
//
// It owns endpoints and their configuration, API keys, the load shapes (closed-loop
// concurrency levels, open-loop arrivals, sweeps), the HTTP client and its timing on a
// monotonic clock, preflight checks, the live progress view and resuming interrupted runs.
// It does not speak SQL or import package store, score answers or load prompt files (package
// dataset), compute report statistics (package report) or parse /metrics (package telemetry).
package runner
