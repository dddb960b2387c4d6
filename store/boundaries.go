package store

import "github.com/trackerbench/tracker/bench"

// The database is what the runner records into and what the report reads from.
var (
	_ bench.Recorder = (*DB)(nil)
	_ bench.Resumer  = (*DB)(nil)
	_ bench.History  = (*DB)(nil)
)

// RecordRequests starts a Writer for a run's requests and server samples (bench.Recorder).
func (db *DB) RecordRequests(o bench.SinkOptions) bench.RequestSink {
	return db.NewWriter(WriterOptions{RetryBudget: o.RetryBudget, OnFail: o.OnFail})
}
