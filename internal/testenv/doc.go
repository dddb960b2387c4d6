// Package testenv decides what a test does when something it needs from outside the
// repository (the shared SQuAD set, a browser, a database server) is missing: on a developer's
// machine it skips with the reason; under CI (CI=true) it fails, because CI installs and lays
// out everything and a skip there would hide a test that never ran.
//
// It owns only that skip-or-fail decision; it does not find, download or lay out the things
// tests need.
package testenv
