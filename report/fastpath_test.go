package report

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aclements/go-moremath/stats"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/levelstat"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// The report's fast paths against the computations they replaced, on generated data: each
// test fails if the fast path gives another number.

// TestStoredLevelsEqualRecomputed: a report that takes each ended level's figures from the
// store's level_summary (and reads fewer columns) equals one that recomputes every level from
// its requests, number for number (means to rounding: their sums may run in another order).
func TestStoredLevelsEqualRecomputed(t *testing.T) {
	db := buildShuffledSQL(t)
	ctx := context.Background()
	fast := generate(t, db, Options{})
	slow := generate(t, db, Options{recompute: true})
	var ids []int64
	for _, l := range fast.Levels {
		ids = append(ids, l.LevelID)
	}
	stored, err := db.StoredLevelStats(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(ids) || len(ids) == 0 {
		t.Fatalf("%d of %d levels have stored statistics: the fast path is not tested", len(stored), len(ids))
	}
	a, b := jsonTree(t, fast), jsonTree(t, slow)
	if diffs := compareTrees("report", a, b, 1e-12); len(diffs) > 0 {
		t.Errorf("%d differences, first: %v", len(diffs), diffs[:min(len(diffs), 10)])
	}
}

// buildShuffledSQL is the fixture in a real database with one more run whose requests were
// recorded out of sequence order, as a run at concurrency records them, with failures and
// scores.
func buildShuffledSQL(t *testing.T) *store.DB {
	db := buildFixtureSQL(t)
	addRun(t, context.Background(), db, runSpec{label: "hw5", started: day(8), promptSet: "sha256:squad40", maxTokens: 128,
		prompts: 40, levels: []int{1, 4}, perLevel: 60, endpoints: []profile{metis, sophia}, quality: true, seed: 9,
		failures: map[string]int{"metis": 3, "sophia": 1}, shuffle: true})
	return db
}

func jsonTree(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// compareTrees lists where two decoded JSON values differ, numbers compared to relative tol.
func compareTrees(path string, a, b any, tol float64) []string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return []string{path + ": object differs"}
		}
		var d []string
		for k, v := range x {
			d = append(d, compareTrees(path+"."+k, v, y[k], tol)...)
		}
		return d
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return []string{path + ": array differs"}
		}
		var d []string
		for i := range x {
			d = append(d, compareTrees(fmt.Sprintf("%s[%d]", path, i), x[i], y[i], tol)...)
		}
		return d
	case float64:
		y, ok := b.(float64)
		if !ok || math.Abs(x-y) > tol*math.Max(1, math.Abs(y)) {
			return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
		}
		return nil
	default:
		if a != b {
			return []string{fmt.Sprintf("%s: %v vs %v", path, a, b)}
		}
		return nil
	}
}

// TestEachStoredIsEach: the store's lean read of every level in one batch gives every measured
// request Each gives, in the same order, with the same values in the columns it reads.
func TestEachStoredIsEach(t *testing.T) {
	db := buildShuffledSQL(t)
	ctx := context.Background()
	runs, err := db.ReportRuns(ctx, bench.ReportSelection{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	lvls, err := db.ReportLevels(ctx, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := db.NewRequestScanner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ss := sc.(storedScanner)
	var lids []int64
	for _, l := range lvls {
		lids = append(lids, l.ID)
	}
	stored, err := db.StoredLevelStats(ctx, lids)
	if err != nil {
		t.Fatal(err)
	}
	sts := make([]*levelstat.Stats, len(lvls))
	for i, l := range lvls {
		st, ok := stored[l.ID]
		if !ok {
			t.Fatalf("level %d has no stored statistics", l.ID)
		}
		sts[i] = &st
	}
	leans := make([][]bench.ReportRequest, len(lvls))
	if err := ss.EachStoredLevels(ctx, lids, sts, func(i int, r *bench.ReportRequest) error {
		leans[i] = append(leans[i], *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	failures := 0
	for li, l := range lvls {
		var all []bench.ReportRequest
		if err := sc.Each(ctx, l.ID, func(r *bench.ReportRequest) error { all = append(all, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		lean := leans[li]
		if len(all) != len(lean) {
			t.Fatalf("level %d: Each %d requests, EachStored %d", l.ID, len(all), len(lean))
		}
		for i := range all {
			want := storetest.StoredForm(all[i])
			if want.Status != bench.StatusOK {
				failures++
			}
			if fmt.Sprintf("%+v", want) != fmt.Sprintf("%+v", lean[i]) {
				t.Fatalf("level %d request %d:\nEach       %+v\nEachStored %+v", l.ID, i, want, lean[i])
			}
		}
	}
	if failures == 0 {
		t.Fatal("the fixture has no failures: their read is not tested")
	}
}

// TestMedianSortedIsMedianInPlace: the median read off sorted values is medianInPlace's, bit
// for bit, for every size (odd, even, the buckets' sizes) with and without ties.
func TestMedianSortedIsMedianInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 700 {
		for _, ties := range []bool{false, true} {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = rng.ExpFloat64() * 100
				if ties {
					xs[i] = math.Round(xs[i] / 10)
				}
			}
			want := medianInPlace(slices.Clone(xs))
			s := slices.Clone(xs)
			slices.Sort(s)
			if got := medianSorted(s); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("n=%d ties=%t: medianSorted %v, medianInPlace %v", n, ties, got, want)
			}
		}
	}
}

// TestUTestSortedIsMoremath: the U test of sorted samples gives go-moremath's p, bit for bit:
// small samples (its exact distribution), large ones (normal approximation), ties, equal
// samples, shifted samples, an empty side.
func TestUTestSortedIsMoremath(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sample := func(n int, shift, round float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = rng.NormFloat64()*10 + shift
			if round > 0 {
				xs[i] = math.Round(xs[i]/round) * round
			}
		}
		return xs
	}
	cases := 0
	for _, n1 := range []int{0, 1, 5, 24, 26, 50, 51, 60, 300, 5000} {
		for _, n2 := range []int{1, 7, 25, 49, 52, 400, 6000} {
			for _, shift := range []float64{0, 0.5, 3} {
				for _, round := range []float64{0, 1, 100} {
					a, b := sample(n1, shift, round), sample(n2, 0, round)
					want, wantOK := uTest(a, b, stats.LocationDiffers)
					sa, sb := slices.Clone(a), slices.Clone(b)
					slices.Sort(sa)
					slices.Sort(sb)
					got, ok := uTestSortedTwoSided(sa, sb)
					if ok != wantOK || math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
						t.Fatalf("n=%d/%d shift %v round %v: p %v (%t), go-moremath %v (%t)", n1, n2, shift, round, got, ok, want, wantOK)
					}
					cases++
				}
			}
		}
	}
	same := sample(200, 0, 0)
	for i := range same {
		same[i] = 7
	}
	if p, ok := uTestSortedTwoSided(same, same); p != 1 || !ok {
		t.Errorf("equal samples: p %v, %t; want 1 as uTest", p, ok)
	}
}

// pairedE2EByMap is the pairing pairedE2E replaced: a map from (run, trial, seq) per side.
func pairedE2EByMap(base, other *side) (byRun map[int64][][2]float64, runs []int64) {
	type pairKey struct {
		run   int64
		trial int
		seq   float64
	}
	index := func(s *side) map[pairKey]float64 {
		m := map[pairKey]float64{}
		for _, d := range s.levels {
			c := d.ok.cols
			if len(c) <= colSeq || len(c[colSeq]) != len(c[colE2E]) {
				continue
			}
			for j := range c[colE2E] {
				e2e, seq := c[colE2E][j], c[colSeq][j]
				if math.IsNaN(e2e) || math.IsNaN(seq) || e2e <= 0 {
					continue
				}
				m[pairKey{d.lvl.RunID, d.lvl.Trial, seq}] = e2e
			}
		}
		return m
	}
	b, o := index(base), index(other)
	byRun = map[int64][][2]float64{}
	for k, vb := range b {
		if vo, ok := o[k]; ok {
			if _, seen := byRun[k.run]; !seen {
				runs = append(runs, k.run)
			}
			byRun[k.run] = append(byRun[k.run], [2]float64{vb, vo})
		}
	}
	slices.Sort(runs)
	for _, r := range runs {
		slices.SortFunc(byRun[r], func(x, y [2]float64) int {
			return cmp.Or(cmp.Compare(x[0], y[0]), cmp.Compare(x[1], y[1]))
		})
	}
	return byRun, runs
}

// TestPairingIsTheMapPairing: pairing by merging sorted lists pairs exactly what the map did,
// with repeated sequence numbers (the last read wins), missing and NaN ones, E2E <= 0, several
// trials and levels of a run, and runs only one side measured.
func TestPairingIsTheMapPairing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	makeSide := func(runs int) *side {
		s := &side{}
		for r := range runs {
			for trial := range 1 + rng.IntN(2) {
				for range 1 + rng.IntN(2) { // sometimes two levels of one run and trial
					d := &levelData{lvl: bench.ReportLevel{Level: bench.Level{ID: int64(len(s.levels) + 1), RunID: int64(r + 1), Trial: trial}}}
					d.ok.cols = make([][]float64, numCols)
					for range rng.IntN(40) {
						seq := float64(rng.IntN(30))
						if rng.IntN(20) == 0 {
							seq = math.NaN()
						}
						e2e := math.Round(rng.Float64()*100) - 2 // ties, and a few <= 0
						d.ok.cols[colE2E] = append(d.ok.cols[colE2E], e2e)
						d.ok.cols[colSeq] = append(d.ok.cols[colSeq], seq)
					}
					s.levels = append(s.levels, d)
				}
			}
		}
		return s
	}
	for i := range 50 {
		base, other := makeSide(1+rng.IntN(6)), makeSide(1+rng.IntN(6))
		gotBy, gotRuns := pairedE2E(base, other)
		wantBy, wantRuns := pairedE2EByMap(base, other)
		if fmt.Sprint(gotRuns) != fmt.Sprint(wantRuns) {
			t.Fatalf("case %d: runs %v, by map %v", i, gotRuns, wantRuns)
		}
		for _, r := range wantRuns {
			if fmt.Sprint(gotBy[r]) != fmt.Sprint(wantBy[r]) {
				t.Fatalf("case %d run %d: pairs %v, by map %v", i, r, gotBy[r], wantBy[r])
			}
		}
	}
}

// TestSidePoolIsPooled: a side's pooled column is s.pooled(col) sorted, with its mean summed
// in pooled order (the number mean(s.pooled(col)) gives); so is its mean decode time.
func TestSidePoolIsPooled(t *testing.T) {
	res := fixtureReport(t)
	n := 0
	for _, g := range res.Groups {
		for _, s := range g.sides {
			if got, want := s.meanDecode(), mean(s.pooled(colDecode)); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("%s: mean decode %v, mean of the pooled column %v", s.endpoint, got, want)
			}
			for _, col := range poolCols {
				v := s.pooled(col)
				p := s.pool(col)
				if math.Float64bits(p.mean) != math.Float64bits(mean(v)) && !(math.IsNaN(p.mean) && math.IsNaN(mean(v))) {
					t.Errorf("%s col %d: mean %v, pooled %v", s.endpoint, col, p.mean, mean(v))
				}
				slices.Sort(v)
				if !slices.Equal(v, p.sorted) {
					t.Errorf("%s col %d: sorted pool differs", s.endpoint, col)
				}
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no side")
	}
}

// TestSortFloatsIsSlicesSort: the radix sort orders every size as slices.Sort does: negative,
// zero, infinite, subnormal and repeated values.
func TestSortFloatsIsSlicesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 100, radixMin - 1, radixMin, radixMin + 1, 50000} {
		for _, kind := range []string{"spread", "ties", "special", "same", "nan"} {
			xs := make([]float64, n)
			for i := range xs {
				switch kind {
				case "spread":
					xs[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(20)-10))
				case "ties":
					xs[i] = float64(rng.IntN(50) - 25)
				case "special":
					xs[i] = []float64{math.Inf(1), math.Inf(-1), 0, 5e-324, -5e-324, math.MaxFloat64, -1, 1}[rng.IntN(8)]
				case "same":
					xs[i] = 42
				case "nan":
					xs[i] = []float64{math.NaN(), 1, 2}[rng.IntN(3)]
				}
			}
			want := slices.Clone(xs)
			slices.Sort(want)
			sortFloats(xs)
			for i := range xs {
				if math.Float64bits(xs[i]) != math.Float64bits(want[i]) && !(math.IsNaN(xs[i]) && math.IsNaN(want[i])) {
					t.Fatalf("n=%d %s: at %d %v, slices.Sort %v", n, kind, i, xs[i], want[i])
				}
			}
		}
	}
}

// TestOverlapIsSequential: a report whose side pools are sorted a side per core and whose
// first study's throughput intervals are computed beside the comparisons writes the same
// files, byte for byte, as one that computes them one after another, the study intervals at
// write time; and the study intervals, which report.md rounds, are the same to the last bit.
func TestOverlapIsSequential(t *testing.T) {
	db := buildShuffledSQL(t)
	files := func(o Options) (*Result, map[string]string) {
		res := generate(t, db, o)
		dir := t.TempDir()
		if err := res.WriteFiles(dir, FileOptions{}); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = string(b)
		}
		return res, out
	}
	over, a := files(Options{})
	seq, b := files(Options{sequential: true})
	if len(over.studyTput) == 0 || seq.studyTput != nil {
		t.Fatalf("study intervals: %d computed beside the comparisons, %d in the sequential report: not the two paths",
			len(over.studyTput), len(seq.studyTput))
	}
	h := seq.headline()
	for name, s := range h.sides {
		lo, hi := throughputInterval(h, s, &seq.Method)
		if got := over.studyTput[name]; got != [2]float64{lo, hi} {
			t.Errorf("%s: study throughput interval %v beside the comparisons, [%v %v] at write time", name, got, lo, hi)
		}
	}
	if len(a) < 3 || !maps.Equal(a, b) {
		for name := range a {
			if a[name] != b[name] {
				t.Errorf("%s differs", name)
			}
		}
		t.Fatalf("%d files with overlap, %d sequential", len(a), len(b))
	}
}

// TestColumnsAreValues: a cluster's rows (appendRows) and pooled columns (appendColumn), built a
// column slice at a time, hold bit for bit what cluster.value gives value by value, NaN,
// infinite, negative and zero values included.
func TestColumnsAreValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), -3, 5e-324, 1e308}
	c := &cluster{cols: make([][]float64, numCols)}
	for j := range 2000 {
		for col := range numCols {
			v := rng.ExpFloat64() * 1000
			if rng.IntN(4) == 0 {
				v = special[rng.IntN(len(special))]
			}
			if col == colSeq {
				v = float64(j)
			}
			c.cols[col] = append(c.cols[col], v)
		}
	}
	same := func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) || a != a && b != b }
	rows := c.appendRows(nil)
	if len(rows) != c.n() {
		t.Fatalf("%d rows of %d requests", len(rows), c.n())
	}
	for j, row := range rows {
		for k, col := range reqCols {
			if want := c.value(col, j); !same(row[k], want) {
				t.Fatalf("request %d column %d: row %v, value %v", j, col, row[k], want)
			}
		}
	}
	for _, col := range []int{colE2E, colTTFT, colTPOT, colOut, colIn, colSeq, colTokS, colDecode} {
		var want []float64
		for j := range c.n() {
			if v := c.value(col, j); !math.IsNaN(v) {
				want = append(want, v)
			}
		}
		got := c.appendColumn(nil, col)
		if len(got) != len(want) || !slices.EqualFunc(got, want, same) {
			t.Errorf("column %d: %d values, want %d, or they differ", col, len(got), len(want))
		}
	}
}

// TestCountedMedianIsMedianInPlace: a replicate's medians from the counts gather makes over the
// side's value range are bit for bit medianInPlace's, for spread and tied values, a column of
// one value or with infinities (not mapped), a heavy tail, few draws and many.
func TestCountedMedianIsMedianInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	gen := map[string]func() float64{
		"spread": func() float64 { return 1000 * math.Exp(0.3*rng.NormFloat64()) },
		"ties":   func() float64 { return math.Round(rng.NormFloat64()*3) + 50 },
		"same":   func() float64 { return 7 },
		"tail":   func() float64 { return 1 / (rng.Float64() + 1e-9) },
		"inf": func() float64 { // an infinite range: not mapped, but counted
			if rng.IntN(50) == 0 {
				return math.Inf(1 - 2*rng.IntN(2))
			}
			return rng.Float64()
		},
	}
	checked := 0
	for name, g := range gen {
		for _, per := range []int{3, 40, 400} {
			var runs [][]float64
			for range 30 {
				vals := make([]float64, per)
				for j := range vals {
					vals[j] = g()
				}
				runs = append(runs, vals)
			}
			s := testSide("a", runs...)
			rs := newRowSide(s)
			for _, budget := range []int{50, 10000} {
				d := newRowDraw(rs, budget)
				rng2 := newRNG(1, 2)
				for range 20 {
					d.draw(rng2, rs, budget)
					for c := range numMedianCols {
						want := medianInPlace(slices.Clone(d.vals[c]))
						if got := d.median(rs, c); math.Float64bits(got) != math.Float64bits(want) {
							t.Fatalf("%s per=%d budget=%d col %d: counted %v, medianInPlace %v", name, per, budget, c, got, want)
						}
						checked++
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}

// TestPairedReplicatesCounted: the paired bootstrap's replicates, medians counted as drawn, are
// bit for bit those of drawing and taking medianInPlace, for spread ratios, ties and a range
// with an infinity (not mapped).
func TestPairedReplicatesCounted(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, kind := range []string{"spread", "ties", "inf"} {
		var runRatios [][]float64
		var all []float64
		for r := range 40 {
			start := len(all)
			for range 5 + r*7 {
				v := math.Exp(0.2 * rng.NormFloat64())
				switch {
				case kind == "ties":
					v = math.Round(v*4) / 4
				case kind == "inf" && rng.IntN(100) == 0:
					v = math.Inf(1)
				}
				all = append(all, v)
			}
			runRatios = append(runRatios, all[start:len(all):len(all)])
		}
		o := &Options{Resamples: 50, Budget: 600}
		got := pairedReplicates(newRNG(3, 4), runRatios, all, o)
		want := make([]float64, 0, o.Resamples)
		ref := newRNG(3, 4)
		per := max(10, o.Budget/len(runRatios))
		for range o.Resamples {
			var buf []float64
			for range runRatios {
				rs := runRatios[ref.IntN(len(runRatios))]
				for range min(len(rs), per) {
					buf = append(buf, rs[ref.IntN(len(rs))])
				}
			}
			want = append(want, medianInPlace(buf))
		}
		if !slices.EqualFunc(got, want, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
			t.Errorf("%s: replicates differ from drawing and medianInPlace", kind)
		}
	}
}
