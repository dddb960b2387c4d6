package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// Two copies of one run (same UUID) are compared row by row, table by table. A row is
// hashed twice: over every column (full) and without the columns --resume may change
// (fixed); a reference to another row is hashed as that row's position in its table within
// the run, so copies in databases that numbered them differently hash alike. The target's
// fixed hashes are kept as a multiset and the source's rows are matched against it: one pass
// over each copy, memory linear in the target copy's rows.

// tableDigest is one table's rows of one copy of a run.
type tableDigest struct {
	n       int
	full    uint64           // sum of the rows' full hashes (a multiset hash)
	fixed   map[uint64]int32 // target copy: its rows' fixed hashes, with multiplicity
	matched int              // source copy: rows found in the target's multiset
}

// runDigest is one copy of a run: its runs row and each table in mergeTables order.
type runDigest struct {
	runFull, runFixed uint64
	status            bench.RunStatus
	endedAt           string
	tables            []tableDigest
}

// comparison is how the source's copy of a run relates to the target's.
type comparison struct {
	identical      bool // same rows, same values
	targetInSource bool // every row of the target's copy is in the source's (the source may have more)
	sourceInTarget bool // every row of the source's copy is in the target's
	sameRun        bool // the runs rows agree on everything --resume does not change
}

type rowHasher struct{ seed maphash.Seed }

// runCopy reads one copy of a run for comparing: ord holds each mapped table's ids' positions.
type runCopy struct {
	db    *DB
	runID int64
	cols  map[string][]string
	h     rowHasher
	ord   map[string]map[int64]int64
}

func newRunCopy(db *DB, runID int64, cols map[string][]string, h rowHasher) *runCopy {
	return &runCopy{db: db, runID: runID, cols: cols, h: h,
		ord: map[string]map[int64]int64{tableRuns: {runID: 0}}}
}

// digest reads the copy. With against nil it keeps its fixed hashes (the target's copy);
// otherwise it matches its rows against against's and counts them.
func (c *runCopy) digest(ctx context.Context, against *runDigest) (*runDigest, error) {
	d := &runDigest{tables: make([]tableDigest, len(mergeTables))}
	if err := c.digestRun(ctx, d); err != nil {
		return nil, err
	}
	for i, t := range mergeTables {
		td := &d.tables[i]
		var want *tableDigest
		if against == nil {
			td.fixed = map[uint64]int32{}
		} else {
			want = &against.tables[i]
		}
		if err := c.digestTable(ctx, t, td, want); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (c *runCopy) digestRun(ctx context.Context, d *runDigest) error {
	cols := c.cols[tableRuns]
	vals, err := c.db.runRow(ctx, cols, c.runID)
	if err != nil {
		return err
	}
	full, fixed, err := c.h.row(vals, mutableIndexes(cols, runMutable), nil, nil)
	if err != nil {
		return err
	}
	d.runFull, d.runFixed = full, fixed
	for i, col := range cols {
		switch col {
		case "status":
			d.status = bench.RunStatus(textOf(vals[i]))
		case "ended_at":
			d.endedAt = textOf(vals[i])
		}
	}
	return nil
}

func (c *runCopy) digestTable(ctx context.Context, t mergeTable, td *tableDigest, want *tableDigest) error {
	cols := c.cols[t.name]
	refs := refIndexes(t, cols)
	skip := t.skipped(cols)
	var ord map[int64]int64
	if t.mapped {
		ord = map[int64]int64{}
		c.ord[t.name] = ord
	}
	return c.db.eachRow(ctx, t, cols, c.runID, func(id int64, vals []any) error {
		if ord != nil {
			ord[id] = int64(len(ord))
		}
		full, fixed, err := c.h.row(vals, skip, refs, c.ord)
		if err != nil {
			return fmt.Errorf("run %d, %s: %w", c.runID, t.name, err)
		}
		td.n++
		td.full += full
		switch {
		case want == nil:
			td.fixed[fixed]++
		case want.fixed[fixed] > 0:
			want.fixed[fixed]--
			td.matched++
		}
		return nil
	})
}

// compare relates the source's copy (digested against the target's) to the target's.
func compare(src, dst *runDigest) comparison {
	c := comparison{identical: src.runFull == dst.runFull, targetInSource: true, sourceInTarget: true,
		sameRun: src.runFixed == dst.runFixed}
	for i := range src.tables {
		s, d := &src.tables[i], &dst.tables[i]
		if s.n != d.n || s.full != d.full {
			c.identical = false
		}
		if s.matched < d.n {
			c.targetInSource = false
		}
		if s.matched < s.n {
			c.sourceInTarget = false
		}
	}
	return c
}

// row hashes one row: every column (full) and every column but the skipped ones (fixed).
// A reference column is hashed as the referenced row's position (ord), which must be in the run.
func (h rowHasher) row(vals []any, skip []bool, refs map[int]string, ord map[string]map[int64]int64) (full, fixed uint64, err error) {
	var hf, hx maphash.Hash
	hf.SetSeed(h.seed)
	hx.SetSeed(h.seed)
	for i, v := range vals {
		if ref, ok := refs[i]; ok {
			id, _ := asInt64(v)
			pos, found := ord[ref][id]
			if !found {
				return 0, 0, fmt.Errorf("column %d refers to %s %v, which is not in this run", i+1, ref, v)
			}
			v = pos
		}
		writeValue(&hf, v)
		if skip[i] {
			hx.WriteByte(0xff)
		} else {
			writeValue(&hx, v)
		}
	}
	return hf.Sum64(), hx.Sum64(), nil
}

// Type tags of hashed values: 1 (integer), 1.0 (real) and "1" (text) hash differently.
const (
	tagNull byte = iota
	tagInt
	tagReal
	tagText
	tagBlob
)

// writeValue hashes one driver value with its type. Whatever a driver returns for a column's
// type (an SQLite INTEGER as int64, a PostgreSQL smallint as int16 or boolean as bool, a
// timestamp as time.Time) hashes as the SQLite value would, so copies compare across dialects.
func writeValue(h *maphash.Hash, v any) {
	var b [9]byte
	if n, ok := asInt64(v); ok {
		b[0] = tagInt
		binary.LittleEndian.PutUint64(b[1:], uint64(n))
		h.Write(b[:])
		return
	}
	switch x := v.(type) {
	case nil:
		h.WriteByte(tagNull)
	case float64:
		b[0] = tagReal
		binary.LittleEndian.PutUint64(b[1:], math.Float64bits(x))
		h.Write(b[:])
	case float32:
		writeValue(h, float64(x))
	case string:
		b[0] = tagText
		binary.LittleEndian.PutUint64(b[1:], uint64(len(x)))
		h.Write(b[:])
		h.WriteString(x)
	case []byte:
		b[0] = tagBlob
		binary.LittleEndian.PutUint64(b[1:], uint64(len(x)))
		h.Write(b[:])
		h.Write(x)
	case time.Time:
		writeValue(h, timeText(x))
	default:
		writeValue(h, fmt.Sprint(v))
	}
}

// asInt64 reads an integer (or boolean) driver value.
func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int:
		return int64(x), true
	case bool:
		return int64(boolInt(x)), true
	}
	return 0, false
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}
