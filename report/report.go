package report

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/internal/defaults"
	"github.com/trackerbench/tracker/levelstat"
)

// ErrNoRuns is returned when the selection matches no run.
var ErrNoRuns = errors.New("no runs match the selection")

// ErrNoBaseline is returned when --baseline names an endpoint the selection does not hold.
var ErrNoBaseline = errors.New("baseline endpoint not in the selection")

// Options select the runs and tune the statistics. Zero values take the defaults.
type Options struct {
	RunIDs    []int64
	Label     string
	Since     time.Time
	Endpoints []string
	Baseline  string // default: the config's baseline, else the first endpoint alphabetically

	Seed       uint64  // bootstrap seed (default 1)
	Resamples  int     // bootstrap replicates (default 1000)
	Budget     int     // about the most requests one replicate draws per side (default 10000)
	Alpha      float64 // significance level and 1 − confidence (default 0.05)
	MinSample  int     // fewer successful requests on a side than this: no claim (default 30)
	Saturation float64 // throughput gain below this fraction = saturated (default 0.10)
	// History regression rule: the newest run is compared with up to HistoryWindow earlier runs.
	HistoryWindow int     // default 5
	HistoryK      float64 // IQR multiplier (default 1.5)
	HistoryMinRel float64 // smallest relative change flagged (default 0.05)
	HistoryAlpha  float64 // one-sided U test level (default 0.01)

	// recompute computes every level's figures from its requests even where the store keeps
	// them (tests compare the two).
	recompute bool
	// sequential computes the groups' figures in one goroutine, one after another, instead of
	// beside each other (tests compare the two).
	sequential bool
}

func (o *Options) defaults() {
	if o.Seed == 0 {
		o.Seed = 1
	}
	defaults.Positive(&o.Resamples, 1000)
	defaults.Positive(&o.Budget, 10000)
	defaults.Positive(&o.Alpha, 0.05)
	defaults.Positive(&o.MinSample, 30)
	defaults.Positive(&o.Saturation, 0.10)
	defaults.Positive(&o.HistoryWindow, 5)
	defaults.Positive(&o.HistoryK, 1.5)
	defaults.Positive(&o.HistoryMinRel, 0.05)
	defaults.Positive(&o.HistoryAlpha, 0.01)
}

// RunRef is one selected run.
type RunRef struct {
	ID        int64           `json:"id"`
	UUID      string          `json:"uuid"` // the run's identity in every database (runs.uuid); ID is this database's
	Label     string          `json:"label"`
	Status    bench.RunStatus `json:"status"`
	StartedAt time.Time       `json:"started_at"`
	Dataset   string          `json:"dataset"`
	Endpoints []string        `json:"endpoints"`
}

// Method records how the numbers were computed, so report.json can be reproduced.
type Method struct {
	Seed           uint64  `json:"seed"`
	Resamples      int     `json:"resamples"`
	Budget         int     `json:"budget"`
	Alpha          float64 `json:"alpha"`
	MinSample      int     `json:"min_sample"`
	Saturation     float64 `json:"saturation_fraction"`
	RegressionRule string  `json:"regression_rule"`
}

// FailureSummary counts one endpoint's failed requests of one kind, with an example message.
type FailureSummary struct {
	Endpoint string `json:"endpoint"`
	Kind     string `json:"kind"`
	Count    int    `json:"count"`
	Example  string `json:"example"` // server or model text: escape it wherever it is shown
}

// Result is every number the report computed; report.json is this struct.
type Result struct {
	Runs           []RunRef         `json:"runs"`
	Requests       int              `json:"requests"`
	OK             int              `json:"ok"`
	Endpoints      []string         `json:"endpoints"`
	Baseline       string           `json:"baseline"`
	BaselineSource string           `json:"baseline_source"`
	Method         Method           `json:"method"`
	Levels         []LevelStats     `json:"levels"`
	Groups         []*Group         `json:"groups"`
	NotCompared    []Exclusion      `json:"not_compared"`
	Speedups       []Speedup        `json:"speedups"`
	Curves         []Curve          `json:"load_curves"`
	InputCurves    []InputCurve     `json:"input_length"`
	History        []HistorySeries  `json:"history"`
	Failures       []FailureSummary `json:"failures"`
	Findings       []string         `json:"findings"`
	ServerLevels   []ServerLevel    `json:"server_levels"` // the servers' own /metrics (telemetry.go)

	opts         Options
	serverSeries map[int64][]bench.ServerPoint // by level: gauges over time, for the charts
	// figureErrs are the figures that could not be drawn (file -> why), set by WriteFiles
	// before report.md is rendered so that it names them instead of linking a missing file.
	figureErrs map[string]string
	// studyTput is the headline workload's throughput interval by endpoint (the first-study
	// table's), computed beside the comparisons; throughputInterval computes a missing one.
	studyTput map[string][2]float64
}

// Generate reads the selected history through db and computes the report.
func Generate(ctx context.Context, db bench.History, o Options) (*Result, error) {
	o.defaults()
	runs, err := selectRuns(ctx, db, &o)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*bench.Run{}
	ids := make([]int64, len(runs))
	for i := range runs {
		byID[runs[i].ID] = &runs[i]
		ids[i] = runs[i].ID
	}
	lvls, err := db.ReportLevels(ctx, ids, o.Endpoints)
	if err != nil {
		return nil, err
	}
	res := &Result{opts: o, Method: Method{Seed: o.Seed, Resamples: o.Resamples, Budget: o.Budget, Alpha: o.Alpha,
		MinSample: o.MinSample, Saturation: o.Saturation, RegressionRule: regressionRule(&o)}}
	stored, err := storedStats(ctx, db, lvls, &o)
	if err != nil {
		return nil, err
	}
	loaded, err := readLevels(ctx, db, lvls, byID, stored)
	if err != nil {
		return nil, err
	}
	sel := res.addLevels(lvls, loaded, byID)
	res.addRuns(runs, sel.runEndpoints)
	if len(res.Endpoints) == 0 {
		return nil, fmt.Errorf("%w: the selected runs have no levels for these endpoints", ErrNoRuns)
	}
	if err := res.chooseBaseline(&o, runs); err != nil {
		return nil, err
	}
	res.compareGroups(sel, &o)
	if err := res.readServer(ctx, db, ids); err != nil {
		return nil, err
	}
	res.Findings = findings(res)
	return res, nil
}

// selectRuns reads the runs the options select; every run asked for by id must be among them.
func selectRuns(ctx context.Context, db bench.History, o *Options) ([]bench.Run, error) {
	runs, err := db.ReportRuns(ctx, bench.ReportSelection{RunIDs: o.RunIDs, Label: o.Label, Since: o.Since, Endpoints: o.Endpoints})
	if err != nil {
		return nil, err
	}
	for _, id := range o.RunIDs {
		if !slices.ContainsFunc(runs, func(r bench.Run) bool { return r.ID == id }) {
			return nil, fmt.Errorf("run %d: %w (or it does not match --label/--since/--endpoints)", id, bench.ErrNotFound)
		}
	}
	if len(runs) == 0 {
		return nil, ErrNoRuns
	}
	return runs, nil
}

// selectedLevels is what addLevels gathered from the selected levels for the comparison.
type selectedLevels struct {
	datas        []*levelData // every level, in the order of Result.Levels
	usable       []*levelData // the levels with successful requests: the ones compared
	prices       map[string]endpointPrice
	runEndpoints map[int64][]string
}

// addLevels adds each level's statistics, endpoint and failures to the result, and notes the
// levels that cannot be compared (nothing measured, nothing successful).
func (res *Result) addLevels(lvls []bench.ReportLevel, loaded []*levelData, byID map[int64]*bench.Run) selectedLevels {
	sel := selectedLevels{prices: map[string]endpointPrice{}, runEndpoints: map[int64][]string{}}
	for i, l := range lvls {
		run := byID[l.RunID]
		d := loaded[i]
		sel.datas = append(sel.datas, d)
		res.Levels = append(res.Levels, d.stats)
		res.Requests += d.stats.N
		res.OK += d.stats.OK
		if !slices.Contains(sel.runEndpoints[l.RunID], l.Endpoint) {
			sel.runEndpoints[l.RunID] = append(sel.runEndpoints[l.RunID], l.Endpoint)
		}
		if !slices.Contains(res.Endpoints, l.Endpoint) {
			res.Endpoints = append(res.Endpoints, l.Endpoint)
		}
		if p, ok := endpointPriceOf(l.EndpointConfigJSON); ok {
			sel.prices[l.Endpoint] = p
		}
		switch {
		case d.stats.N == 0:
			res.NotCompared = append(res.NotCompared, Exclusion{RunID: l.RunID, LevelID: l.ID, Endpoint: l.Endpoint,
				Workload: fingerprintOf(run, &l).Text(), Reason: "no measured requests"})
		case d.stats.OK == 0:
			res.NotCompared = append(res.NotCompared, Exclusion{RunID: l.RunID, LevelID: l.ID, Endpoint: l.Endpoint,
				Workload: fingerprintOf(run, &l).Text(), Reason: fmt.Sprintf("no successful requests (%d failed)", d.stats.N)})
		default:
			sel.usable = append(sel.usable, d)
		}
		res.addFailures(l.Endpoint, d)
	}
	slices.Sort(res.Endpoints)
	slices.SortFunc(res.Failures, func(a, b FailureSummary) int {
		if c := strings.Compare(a.Endpoint, b.Endpoint); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	return sel
}

// addFailures counts a level's failures by endpoint and kind, keeping the first example of each.
func (res *Result) addFailures(endpoint string, d *levelData) {
	for kind, fc := range d.failures {
		i := slices.IndexFunc(res.Failures, func(f FailureSummary) bool { return f.Endpoint == endpoint && f.Kind == kind })
		if i < 0 {
			res.Failures = append(res.Failures, FailureSummary{Endpoint: endpoint, Kind: kind, Example: fc.example})
			i = len(res.Failures) - 1
		}
		res.Failures[i].Count += fc.n
	}
}

// addRuns lists the selected runs, each with the endpoints it measured.
func (res *Result) addRuns(runs []bench.Run, runEndpoints map[int64][]string) {
	for _, r := range runs {
		eps := runEndpoints[r.ID]
		slices.Sort(eps)
		res.Runs = append(res.Runs, RunRef{ID: r.ID, UUID: r.UUID, Label: r.Label, Status: r.Status, StartedAt: r.StartedAt, Dataset: r.Dataset, Endpoints: eps})
	}
}

// chooseBaseline picks the baseline: --baseline, else the run configuration's, else the first
// endpoint alphabetically.
func (res *Result) chooseBaseline(o *Options, runs []bench.Run) error {
	switch {
	case o.Baseline != "":
		if !slices.Contains(res.Endpoints, o.Baseline) {
			return fmt.Errorf("--baseline %q: %w (endpoints: %s)", o.Baseline, ErrNoBaseline, strings.Join(res.Endpoints, ", "))
		}
		res.Baseline, res.BaselineSource = o.Baseline, "--baseline"
	default:
		if b := configBaseline(runs); b != "" && slices.Contains(res.Endpoints, b) {
			res.Baseline, res.BaselineSource = b, "the run configuration's baseline"
		} else {
			res.Baseline, res.BaselineSource = res.Endpoints[0], "the first endpoint alphabetically"
		}
	}
	return nil
}

// compareGroups groups the usable levels into comparable workloads, summarizes each endpoint
// in each group, computes every endpoint's speedups over the baseline (and beside them the
// first study's throughput intervals), then the load and input-length curves and the history.
func (res *Result) compareGroups(sel selectedLevels, o *Options) {
	jobs := res.summarizeGroups(sel, o)
	// The first study's throughput intervals (bootstraps, which report.md would otherwise
	// compute on one core) read the groups and their summaries, never the speedups: they run
	// beside the comparisons, in one goroutine more (runCompares keeps a worker per core busy).
	// The curves and the history come after: run beside the comparisons too, their garbage
	// raised the 1M-request report's peak heap by about 50 MB for 0.1-0.2 s of wall time.
	// After them, the input-length curves and the history run beside each other.
	var wg sync.WaitGroup
	if !o.sequential { // sequential: report.md computes them, as it does for any Result
		wg.Go(func() { res.studyTput = res.studyIntervals() })
	}
	for _, sp := range runCompares(jobs, o) {
		res.Speedups = append(res.Speedups, sp...)
	}
	wg.Wait()
	res.Curves = buildCurves(res.Groups, res.Baseline, o)
	// The input-length curves and the history read the groups' columns and change nothing
	// they share: one of them on another core (each ~0.1 s at 1M requests).
	if o.sequential {
		res.InputCurves = buildInputCurves(res.Groups)
	} else {
		wg.Go(func() { res.InputCurves = buildInputCurves(res.Groups) })
	}
	res.History = buildHistory(res.Groups, o)
	wg.Wait()
}

// summarizeGroups groups the usable levels, summarizes each endpoint in each group, notes the
// groups that cannot be compared, and returns the comparisons to run.
func (res *Result) summarizeGroups(sel selectedLevels, o *Options) []compareJob {
	res.Groups = buildGroups(sel.usable)
	for i, d := range sel.datas {
		res.Levels[i].Group = d.stats.Group
	}
	poolSides(res.Groups, o)
	var jobs []compareJob
	for _, g := range res.Groups {
		for _, name := range g.endpointNames() {
			g.Endpoints = append(g.Endpoints, g.sides[name].summarize(sel.prices))
		}
		base := g.sides[res.Baseline]
		if base == nil || len(g.sides) < 2 {
			res.NotCompared = append(res.NotCompared, g.exclusions(res)...)
			continue
		}
		for _, name := range g.endpointNames() {
			if name != res.Baseline {
				jobs = append(jobs, compareJob{g, base, g.sides[name]})
			}
		}
	}
	slices.SortStableFunc(res.NotCompared, func(a, b Exclusion) int {
		if a.RunID != b.RunID {
			return int(a.RunID - b.RunID)
		}
		return int(a.LevelID - b.LevelID)
	})
	return jobs
}

// poolSides pools and sorts every side's compared columns (side.pool), a side per core (each
// side's pools are its own), so that the summaries and comparisons find them ready.
func poolSides(groups []*Group, o *Options) {
	var sides []*side
	for _, g := range groups {
		for _, name := range g.endpointNames() {
			sides = append(sides, g.sides[name])
		}
	}
	workers := min(runtime.GOMAXPROCS(0), max(len(sides), 1))
	if o.sequential {
		workers = 1
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(sides); i = int(next.Add(1) - 1) {
				sides[i].pool(colE2E)
			}
		})
	}
	wg.Wait()
}

// exclusions explains why a group's measurements were not compared.
func (g *Group) exclusions(res *Result) []Exclusion {
	var reason string
	if g.sides[res.Baseline] == nil {
		reason = fmt.Sprintf("the baseline %s did not measure this workload", res.Baseline)
		// Name the nearest workload the baseline did measure.
		best, bestDiff := "", []string(nil)
		for _, h := range res.Groups {
			if h.sides[res.Baseline] == nil {
				continue
			}
			d := g.Fingerprint.differences(h.Fingerprint)
			if best == "" || len(d) < len(bestDiff) {
				best, bestDiff = h.ID, d
			}
		}
		if best != "" {
			reason += fmt.Sprintf("; the nearest it did (%s) differs in %s", best, strings.Join(bestDiff, ", "))
		}
		if len(g.sides) < 2 {
			reason += "; and no other endpoint measured it either"
		}
	} else {
		reason = "no endpoint other than the baseline measured this workload"
	}
	var out []Exclusion
	for _, name := range g.endpointNames() {
		for _, d := range g.sides[name].levels {
			out = append(out, Exclusion{RunID: d.lvl.RunID, LevelID: d.lvl.ID, Endpoint: name, Workload: g.ID + ": " + g.Workload, Reason: reason})
		}
	}
	return out
}

// configBaseline reads `baseline:` from the newest selected run's configuration, if any
// (bench.ParseRunConfig also reads it from runs recorded before the typed configuration).
func configBaseline(runs []bench.Run) string {
	for i := len(runs) - 1; i >= 0; i-- {
		cfg, err := bench.ParseRunConfig(runs[i].ConfigJSON)
		if (err == nil || errors.Is(err, bench.ErrLegacyConfig)) && cfg.Baseline != "" {
			return cfg.Baseline
		}
	}
	return ""
}

// readLevels streams every level's requests, a few levels at a time in parallel (each worker
// reads a batch of levels, levelBatch at most, then the next), and returns them in the order
// of lvls.
func readLevels(ctx context.Context, db bench.History, lvls []bench.ReportLevel, runs map[int64]*bench.Run,
	stored map[int64]levelstat.Stats) ([]*levelData, error) {
	out := make([]*levelData, len(lvls))
	workers := min(runtime.GOMAXPROCS(0), 4, max(len(lvls), 1))
	// Batches small enough that every worker gets several: a few large levels are still read
	// beside each other.
	batch := min(levelBatch, max(1, len(lvls)/(8*workers)))
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc, err := db.NewRequestScanner(ctx)
			if err != nil {
				errs[w] = err
				return
			}
			defer sc.Close()
			for {
				start := int(next.Add(int64(batch)) - int64(batch))
				if start >= len(lvls) || ctx.Err() != nil {
					return
				}
				end := min(start+batch, len(lvls))
				if err := readBatch(ctx, sc, lvls[start:end], runs, stored, out[start:end]); err != nil {
					errs[w] = err
					next.Store(int64(len(lvls)))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// levelBatch is the most levels one worker of readLevels reads at a time: the store prepares
// its statements once a batch.
const levelBatch = 64

// storedStats reads the stored statistics of the levels that have them, when db keeps them
// (none when o.recompute is set: the tests' way to compare both paths).
func storedStats(ctx context.Context, db bench.History, lvls []bench.ReportLevel, o *Options) (map[int64]levelstat.Stats, error) {
	sr, ok := db.(storedStatsReader)
	if !ok || o.recompute {
		return nil, nil
	}
	ids := make([]int64, len(lvls))
	for i := range lvls {
		ids[i] = lvls[i].ID
	}
	return sr.StoredLevelStats(ctx, ids)
}

// readBatch reads the levels lvls into out (the same length): those with stored statistics
// in one read when sc can read them so, the others each from all its requests.
func readBatch(ctx context.Context, sc bench.RequestScanner, lvls []bench.ReportLevel, runs map[int64]*bench.Run,
	stored map[int64]levelstat.Stats, out []*levelData) error {
	ss, lean := sc.(storedScanner)
	var at []int // indices in lvls of the levels read with their stored statistics
	var leanLvls []bench.ReportLevel
	var stats []*levelstat.Stats
	for i, l := range lvls {
		if st, ok := stored[l.ID]; ok && lean {
			at, leanLvls, stats = append(at, i), append(leanLvls, l), append(stats, &st)
			continue
		}
		d, err := readLevel(ctx, sc, l, runs[l.RunID])
		if err != nil {
			return err
		}
		out[i] = d
	}
	if len(at) == 0 {
		return nil
	}
	ds, err := readStoredLevels(ctx, ss, leanLvls, runs, stats)
	if err != nil {
		return err
	}
	for j, i := range at {
		out[i] = ds[j]
	}
	return nil
}

type compareJob struct {
	g           *Group
	base, other *side
}

// runCompares runs the comparisons, each split into its independent parts (compareParts), on
// a worker per core: a report with fewer comparisons than cores still uses them all. Every
// part has its own random stream, so the results do not depend on scheduling. They come
// back in the order of jobs, each job's speedups in the order of its parts.
func runCompares(jobs []compareJob, o *Options) [][]Speedup {
	nParts := len(compareParts)
	parts := make([][]Speedup, len(jobs)*nParts)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(parts), 1)) {
		wg.Go(func() {
			for {
				t := int(next.Add(1) - 1)
				if t >= len(parts) {
					return
				}
				// Part-major order: every job's request bootstrap (the largest part) first,
				// so that the small parts fill in at the end.
				part, ji := t/len(jobs), t%len(jobs)
				j := jobs[ji]
				parts[ji*nParts+part] = compareParts[part](j.g, j.base, j.other, o)
			}
		})
	}
	wg.Wait()
	out := make([][]Speedup, len(jobs))
	for i := range jobs {
		for _, p := range parts[i*nParts : (i+1)*nParts] {
			out[i] = append(out[i], p...)
		}
	}
	return out
}
