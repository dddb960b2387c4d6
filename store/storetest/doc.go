// Package storetest opens real tracker databases in temporary directories for tests,
// with the repository's schema.sql (found by walking up to go.mod).
//
// It owns only opening those test databases; it holds no fixtures and no assertions (each
// package's tests build their own data through the store's API).
package storetest
