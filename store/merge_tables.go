package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// mergeTable says how one table's rows of one run are found and copied by `tracker merge`.
// Every table of the schema but runs is listed in mergeTables (a test checks it), in an
// order where a row's references are copied before it.
type mergeTable struct {
	name string
	// mapped: the table's id is referenced by a later table, so each row is inserted alone
	// and its new id read back (RETURNING id); other tables are inserted in batches.
	mapped bool
	// refs maps a column to the table whose id it holds; the copy writes the target's id.
	refs map[string]string
	// where selects one run's rows; its one placeholder is the run id (source's or target's).
	where string
	order string
	// mutable columns may change when a run is resumed (`tracker run --resume`): they are
	// left out of the check that one copy of a run holds every row of the other.
	mutable []string
	// derived: the rows are figures computed from other rows (a level's stored summary), so
	// every column but the references is mutable: a resumed level's figures change.
	derived bool
}

const (
	tableRuns      = "runs"
	tableEndpoints = "endpoints"
	tableLevels    = "levels"
	tableSeries    = "server_metric_series"
	tableRequests  = "requests"
)

var mergeTables = []mergeTable{
	{name: tableEndpoints, mapped: true, refs: map[string]string{"run_id": tableRuns},
		where: "run_id = ?", order: "id"},
	{name: "prompts", refs: map[string]string{"run_id": tableRuns},
		where: "run_id = ?", order: "idx"},
	{name: tableLevels, mapped: true, refs: map[string]string{"run_id": tableRuns, "endpoint_id": tableEndpoints},
		where: "run_id = ?", order: "id", mutable: []string{"status", "ended_at", "note", "lag_flag", "stop_reason"}},
	{name: tableSeries, mapped: true, refs: map[string]string{"endpoint_id": tableEndpoints},
		where: "endpoint_id IN (SELECT id FROM endpoints WHERE run_id = ?)", order: "id", mutable: []string{"kind"}},
	{name: tableRequests, refs: map[string]string{"run_id": tableRuns, "level_id": tableLevels, "endpoint_id": tableEndpoints},
		where: "run_id = ?", order: "id", mutable: []string{"final"}},
	{name: "level_summary", refs: map[string]string{"level_id": tableLevels},
		where: "level_id IN (SELECT id FROM levels WHERE run_id = ?)", order: "level_id", derived: true},
	{name: "server_metrics", refs: map[string]string{"level_id": tableLevels, "series_id": tableSeries},
		where: "level_id IN (SELECT id FROM levels WHERE run_id = ?)", order: "level_id, series_id, t_ms"},
}

// runMutable are the runs columns --resume and the lease change.
var runMutable = []string{"status", "ended_at", "error", "lease_owner", "lease_until"}

// tableColumns are a table's columns, in order, without id, as the database reports them for
// "SELECT *" (the same query in both dialects).
func (db *DB) tableColumns(ctx context.Context, table string) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT * FROM `+table+` WHERE 1 = 0`)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", table, err)
	}
	defer rows.Close()
	all, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", table, err)
	}
	cols := slices.DeleteFunc(all, func(c string) bool { return strings.EqualFold(c, "id") })
	for i, c := range cols {
		cols[i] = strings.ToLower(c)
	}
	return cols, nil
}

// mergeColumns reads every merged table's columns in the source and checks that the target
// has the same ones. Both are at this tracker's schema version (a source at an older one is
// read through a migrated copy), so they differ only for a file this tracker did not write;
// and since the names are written into the merge's statements, each must be a plain
// lower-case identifier.
func mergeColumns(ctx context.Context, src, dst *DB) (map[string][]string, error) {
	out := map[string][]string{}
	for _, name := range MergedTables() {
		cols, err := src.tableColumns(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotTracker, err)
		}
		want, err := dst.tableColumns(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("the target: %w", err)
		}
		for _, c := range cols {
			if !plainIdentifier(c) {
				return nil, fmt.Errorf("%w: table %s has a column named %q", ErrNotTracker, name, c)
			}
		}
		if !sameSet(cols, want) {
			return nil, fmt.Errorf("%w: table %s has columns %s, this tracker's has %s", ErrNotTracker, name,
				strings.Join(cols, ", "), strings.Join(want, ", "))
		}
		out[name] = cols
	}
	return out, nil
}

func plainIdentifier(s string) bool {
	if s == "" || len(s) > 64 || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.Sort(sa)
	slices.Sort(sb)
	return slices.Equal(sa, sb)
}

func mergeTableNames() []string {
	names := make([]string, len(mergeTables))
	for i, t := range mergeTables {
		names[i] = t.name
	}
	return names
}

// MergedTables lists the tables `tracker merge` copies, runs first (for tests and docs).
func MergedTables() []string { return append([]string{tableRuns}, mergeTableNames()...) }

// selectList is "id, c1, c2, ..." (id first when the table is mapped) and the index of the
// first column in the scanned row.
func selectList(t mergeTable, cols []string) (string, int) {
	if t.mapped {
		return "id, " + strings.Join(cols, ", "), 1
	}
	return strings.Join(cols, ", "), 0
}

// eachRow streams one run's rows of a table: fn gets the row's id (0 when the table is not
// mapped) and its values in cols' order; the slice is reused between calls.
func (db *DB) eachRow(ctx context.Context, t mergeTable, cols []string, runID int64, fn func(id int64, vals []any) error) error {
	list, first := selectList(t, cols)
	rows, err := db.sql.QueryContext(ctx, `SELECT `+list+` FROM `+t.name+` WHERE `+t.where+` ORDER BY `+t.order, runID)
	if err != nil {
		return fmt.Errorf("reading %s of run %d: %w", t.name, runID, err)
	}
	defer rows.Close()
	vals := make([]any, first+len(cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		clear(vals)
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("reading %s of run %d: %w", t.name, runID, err)
		}
		var id int64
		if first == 1 {
			n, ok := vals[0].(int64)
			if !ok {
				return fmt.Errorf("reading %s of run %d: id %v is not an integer", t.name, runID, vals[0])
			}
			id = n
		}
		if err := fn(id, vals[first:]); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading %s of run %d: %w", t.name, runID, err)
	}
	return nil
}

// refIndexes maps the positions in cols of t's reference columns to the tables they name.
func refIndexes(t mergeTable, cols []string) map[int]string {
	out := map[int]string{}
	for i, c := range cols {
		if ref, ok := t.refs[c]; ok {
			out[i] = ref
		}
	}
	return out
}

// mutableIndexes are the positions in cols of the columns in mutable.
func mutableIndexes(cols, mutable []string) []bool {
	out := make([]bool, len(cols))
	for i, c := range cols {
		out[i] = slices.Contains(mutable, c)
	}
	return out
}

// skipped are the positions in cols the containment check leaves out (mutableIndexes; for a
// derived table, every column but its references).
func (t mergeTable) skipped(cols []string) []bool {
	out := mutableIndexes(cols, t.mutable)
	if t.derived {
		for i, c := range cols {
			_, ref := t.refs[c]
			out[i] = !ref
		}
	}
	return out
}
