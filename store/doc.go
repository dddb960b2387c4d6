// Package store opens, migrates and writes tracker's SQLite database. It is the only
// package that speaks SQL; everything else goes through its types and methods.
//
// It owns schema.sql's migrations and views, every query, and the typed records and status
// constants the other packages use. It does not compute report statistics (package report)
// or decide what to record (package runner).
package store
