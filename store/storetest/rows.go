package storetest

import (
	"context"
	"testing"

	"github.com/trackerbench/tracker/store"
)

// Rows runs query through db.Query and returns its rows as maps from column name to the
// driver's value (int64, float64, string, []byte or nil for NULL).
func Rows(t testing.TB, db *store.DB, query string, args ...any) []map[string]any {
	t.Helper()
	tb, err := db.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, 0, len(tb.Rows))
	for _, row := range tb.Rows {
		m := make(map[string]any, len(tb.Columns))
		for i, c := range tb.Columns {
			m[c] = row[i]
		}
		out = append(out, m)
	}
	return out
}

// Float reads a numeric driver value (int64 or float64) as a float64; anything else (NULL,
// text) reads as null, which the caller picks so that its checks fail on it.
func Float(v any, null float64) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return null
}
