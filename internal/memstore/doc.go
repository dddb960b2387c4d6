// Package memstore is an in-memory bench.Recorder, bench.Resumer and bench.History, for the
// runner's and the report's tests that exercise measurement and analysis rather than the
// database: no file, no SQL, no schema, and what was recorded can be read back as typed
// values (Requests, Levels) instead of rows.
//
// It keeps the store's observable rules — ids from 1, the defaults CreateRun and StartLevel
// fill in, times in UTC without a monotonic reading, the requests a level's statistics count
// (final, not a warm-up, not canceled), --resume's lease and reopening — and the report's
// golden test runs over both, so the two cannot drift apart unnoticed. It keeps server
// samples but does not summarize them (ServerLevelSummary returns none): v_server_level is
// the store's. It owns nothing of the production path.
package memstore
