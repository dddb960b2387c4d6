// Package report turns tracker's history into statistics, speedups, a markdown analysis and
// static HTML charts. It reads history only through bench.History, which the store implements.
//
// It owns the analysis (per-level statistics, speedups with confidence intervals, the claims
// a report may make) and its rendering to report.md and HTML. It does not measure anything,
// write SQL (package store owns the queries it reads through) or run workloads (package runner).
package report
