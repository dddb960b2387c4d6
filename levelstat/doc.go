// Package levelstat computes a load level's statistics (docs/metrics.md, "Per level") once, in
// one place: the store runs it over a level's requests when the level ends and keeps the result
// in the level_summary table that v_summary reads; the runner's live view, early stops and
// sweeps run it on requests as they complete; the report runs it on the requests it streams.
// The SQL form of the same definitions (the v_level_stats view) is the analysts'; a store test
// proves the two equal on generated data.
//
// It depends only on the domain types (bench): callers describe a request (Sample) and read
// the figures (Stats). Memory is bounded by the number of figures, never by the level's size: percentiles
// are read from values streamed in sorted order (FromSorted) or from a sorted slice the caller
// already holds (Percentile).
package levelstat
