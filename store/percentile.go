package store

import (
	"database/sql/driver"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"modernc.org/sqlite"

	"github.com/trackerbench/tracker/levelstat"
)

// SQLite's percentile extension (ext/misc/percentile.c, https://sqlite.org/percentile.html),
// which the sqlite3 command-line shell has built in since 3.47 and the amalgamation since 3.51
// with SQLITE_ENABLE_PERCENTILE, is not in the SQLite that modernc.org/sqlite bundles. Every
// SQLite connection tracker opens gets the same four aggregates, with the extension's
// semantics, so that an analyst's query runs alike in `tracker query` and in the shell:
//
//	median(Y)            percentile(Y, 50)
//	percentile(Y, P)     P in 0..100
//	percentile_cont(Y,P) P in 0..1
//	percentile_disc(Y,P) P in 0..1; the lower of the two closest ranks, never interpolated
//
// NULL inputs are ignored; no input gives NULL; a non-NULL Y that is not a number (TEXT,
// BLOB) or is infinite is an error; P must be a number in range, the same (within 0.001) for
// every row of a group. The value between two ranks is levelstat's (tracker's one percentile
// definition, numpy's linear: docs/metrics.md), which equals the extension's up to rounding in
// the last bit. All four are window functions too, as in SQLite: a frame that drops rows keeps
// its values sorted and inserts each new one in place, O(frame size) per row.

// percentileFunc is one of the four aggregates.
type percentileFunc struct {
	name string
	// maxP is P's upper bound (100 for percentile, 1 for the fractions); 0: no P (median,
	// the fraction 0.5).
	maxP float64
	// lower: the lower closest rank (percentile_disc) instead of interpolating.
	lower bool
}

// percentileFuncs are the aggregates in the order they are registered.
func percentileFuncs() []percentileFunc {
	return []percentileFunc{
		{name: "median"},
		{name: "percentile", maxP: 100},
		{name: "percentile_cont", maxP: 1},
		{name: "percentile_disc", maxP: 1, lower: true},
	}
}

// sameP is the tolerance within which P counts as the same on every row, as in SQLite.
const sameP = 0.001

// registerPercentiles registers the four aggregates with the SQLite driver. The driver's
// registry is process-wide (every connection opened afterwards gets them) and refuses a name
// registered twice: once per process is what it allows.
var registerPercentiles = sync.OnceValue(func() error {
	for _, f := range percentileFuncs() {
		nargs := int32(2)
		if f.maxP == 0 {
			nargs = 1
		}
		impl := &sqlite.FunctionImpl{NArgs: nargs, Deterministic: true,
			MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) {
				return &percentileAgg{f: f}, nil
			}}
		if err := sqlite.RegisterFunction(f.name, impl); err != nil {
			return fmt.Errorf("registering the SQL function %s: %w", f.name, err)
		}
	}
	return nil
})

// percentileAgg is one group's (or one window frame's) evaluation: every non-NULL input, kept
// until the end, as SQLite's extension keeps them.
type percentileAgg struct {
	f    percentileFunc
	p    float64 // P as given (0..maxP)
	hasP bool
	ys   []float64
	// sorted: ys is in ascending order; keepSorted: a window frame is being evaluated (a
	// value was read or a row removed), so new rows are inserted in place instead of appended.
	sorted, keepSorted bool
}

func (a *percentileAgg) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	if err := a.checkP(args); err != nil {
		return err
	}
	y, ok, err := a.input(args[0])
	if err != nil || !ok {
		return err
	}
	switch {
	case len(a.ys) == 0:
		a.ys = append(a.ys, y)
		a.sorted = true
	case !a.sorted || y >= a.ys[len(a.ys)-1]:
		a.ys = append(a.ys, y)
	case a.keepSorted:
		i, _ := slices.BinarySearch(a.ys, y)
		a.ys = slices.Insert(a.ys, i, y)
	default:
		a.ys = append(a.ys, y)
		a.sorted = false
	}
	return nil
}

// checkP reads P (the fraction 0.5 for median) and checks it is a number in range and the
// same as on the group's earlier rows.
func (a *percentileAgg) checkP(args []driver.Value) error {
	if a.f.maxP == 0 {
		a.p, a.hasP = 0.5, true
		return nil
	}
	p, ok := numericP(args[1])
	if !ok || p < 0 || p > a.f.maxP {
		return fmt.Errorf("the 2nd argument to %s() is not a number between 0.0 and %.1f", a.f.name, a.f.maxP)
	}
	if !a.hasP {
		a.p, a.hasP = p, true
	} else if math.Abs(a.p-p) > sameP {
		return fmt.Errorf("the 2nd argument to %s() is not the same for all input rows", a.f.name)
	}
	return nil
}

// numericP is P as a number: an integer or a real, or text that reads as one (SQLite applies
// numeric affinity to P); NULL and BLOB are not numbers.
func numericP(v driver.Value) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x)
	case string:
		p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return p, err == nil && !math.IsNaN(p) && !math.IsInf(p, 0)
	}
	return 0, false
}

// input is Y as a number; ok is false for NULL, which is ignored. TEXT and BLOB are errors
// (SQLite does not convert Y), and so is an infinity.
func (a *percentileAgg) input(v driver.Value) (y float64, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		return float64(x), true, nil
	case float64:
		if math.IsInf(x, 0) {
			return 0, false, fmt.Errorf("an infinite input to %s()", a.f.name)
		}
		return x, !math.IsNaN(x), nil
	}
	kind := "text"
	if _, ok := v.([]byte); ok {
		kind = "a blob"
	}
	return 0, false, fmt.Errorf("the 1st argument to %s() is not numeric (%s)", a.f.name, kind)
}

// WindowInverse removes a row that left the window frame: one of its value's copies.
func (a *percentileAgg) WindowInverse(_ *sqlite.FunctionContext, args []driver.Value) error {
	y, ok, err := a.input(args[0])
	if err != nil || !ok {
		return nil // rejected by Step when it entered, as SQLite's inverse ignores it
	}
	a.sort()
	a.keepSorted = true
	if i, found := slices.BinarySearch(a.ys, y); found {
		a.ys = slices.Delete(a.ys, i, i+1)
	}
	return nil
}

// WindowValue is the percentile of the values held; NULL when there are none.
func (a *percentileAgg) WindowValue(*sqlite.FunctionContext) (driver.Value, error) {
	if len(a.ys) == 0 {
		return nil, nil
	}
	a.sort()
	a.keepSorted = true
	p := a.p
	if a.f.maxP == 100 {
		p /= 100
	}
	if a.f.lower {
		return levelstat.PercentileLower(a.ys, p), nil
	}
	return levelstat.Percentile(a.ys, p), nil
}

func (a *percentileAgg) sort() {
	if !a.sorted {
		slices.Sort(a.ys)
		a.sorted = true
	}
}

// Final releases the values.
func (a *percentileAgg) Final(*sqlite.FunctionContext) { a.ys = nil }
