// Package store opens, migrates and writes tracker's SQLite database. It is the only
// package that speaks SQL; everything else goes through its methods and the domain types of
// package bench.
//
// It owns schema.sql's migrations and views and every query. It does not compute report
// statistics (package report) or decide what to record (package runner).
//
// The domain types (run, level, request, statuses, run configuration) are package bench's;
// store's methods name them there (bench.Run, bench.StatusOK, ...) and store keeps no aliases.
package store
