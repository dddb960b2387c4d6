// Package store opens, migrates and writes tracker's SQLite database. It is the only
// package that speaks SQL; everything else goes through its methods and the domain types of
// package bench.
//
// It owns schema.sql's migrations and views and every query. It does not compute report
// statistics (package report) or decide what to record (package runner).
//
// The aliases in bench_aliases.go (store.Run = bench.Run, store.StatusOK = bench.StatusOK,
// ...) are transitional: the domain types moved to package bench, and the aliases keep code
// written against store's names compiling until it is switched over. New code uses bench.
package store
