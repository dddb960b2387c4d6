// Package bench is the domain: what a benchmark is made of. A run, its endpoints, prompts and
// load levels, one attempt's Measurement and the Request record that places it in its run, the
// run's typed configuration, and the statuses, error classes and outcomes every statistic is
// defined on (docs/metrics.md).
//
// It also holds the two boundaries between measuring and storing: Recorder (with Resumer),
// which the runner records a run into, and History, which the report reads runs from. The
// store implements them; internal/memstore implements them in memory for tests.
//
// It imports no other package of tracker and speaks no SQL, so that the runner, the store and
// the report can all use it without importing each other (docs/architecture.md).
package bench
