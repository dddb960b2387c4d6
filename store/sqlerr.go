package store

import (
	"errors"

	"modernc.org/sqlite"
)

// hasCode reports whether err is an SQLite error whose primary result code (the extended
// code's low byte: SQLITE_READONLY_DBMOVED is SQLITE_READONLY) is one of codes. The store
// tells SQLite's answers apart by these codes, never by their message text.
func hasCode(err error, codes ...int) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}
