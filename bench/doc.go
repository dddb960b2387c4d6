// Package bench is the domain: what a benchmark is made of. A run, its endpoints, prompts and
// load levels, one request's measurement, the run's typed configuration, and the statuses,
// error classes and outcomes every statistic is defined on (docs/metrics.md).
//
// It imports no other package of tracker and speaks no SQL: the runner measures into these
// types, the store persists them, the report reads them back, and each can use them without
// importing the others.
package bench
