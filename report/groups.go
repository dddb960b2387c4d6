package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/levelstat"
)

// Fingerprint is the workload of a measurement. Two measurements are comparable when their
// fingerprints are equal: the same prompt set (by hash), max tokens, temperature, streaming
// mode and load level (loop mode, concurrency, rate).
type Fingerprint struct {
	PromptSetHash string         `json:"prompt_set_hash"`
	MaxTokens     int            `json:"max_tokens"`            // 0 = not set
	Temperature   *float64       `json:"temperature,omitempty"` // nil = not set
	Stream        bool           `json:"stream"`
	LoadMode      bench.LoadMode `json:"load_mode"`
	Concurrency   int            `json:"concurrency"`
	Rate          float64        `json:"rate,omitempty"` // requests/s, open loop
}

func fingerprintOf(r *bench.Run, l *bench.ReportLevel) Fingerprint {
	mode := r.LoadMode
	if l.Rate > 0 {
		mode = bench.LoadOpen
	}
	if mode == "" {
		mode = bench.LoadClosed
	}
	return Fingerprint{PromptSetHash: r.PromptSetHash, MaxTokens: r.MaxTokens, Temperature: r.Temperature,
		Stream: r.Stream, LoadMode: mode, Concurrency: l.Concurrency, Rate: l.Rate}
}

// workloadKey identifies the workload without its load level (load curves sweep that).
func (f Fingerprint) workloadKey() string {
	return fmt.Sprintf("%s|%d|%s|%t|%s", f.PromptSetHash, f.MaxTokens, f.tempText(), f.Stream, f.LoadMode)
}

func (f Fingerprint) key() string {
	return fmt.Sprintf("%s|%d|%g", f.workloadKey(), f.Concurrency, f.Rate)
}

func (f Fingerprint) tempText() string {
	if f.Temperature == nil {
		return "default"
	}
	return strconv.FormatFloat(*f.Temperature, 'g', -1, 64)
}

func (f Fingerprint) maxTokText() string {
	if f.MaxTokens == 0 {
		return "unset"
	}
	return strconv.Itoa(f.MaxTokens)
}

// LoadText is the load level in words (bench.LoadLabel): "c=4" or "2 req/s (cap 8)".
func (f Fingerprint) LoadText() string { return bench.LoadLabel(f.Concurrency, f.Rate) }

// loadX is the load level as a number for curves: the rate for open loop, else concurrency.
func (f Fingerprint) loadX() float64 {
	if f.Rate > 0 {
		return f.Rate
	}
	return float64(f.Concurrency)
}

// Text describes the workload in one line.
func (f Fingerprint) Text() string {
	stream := ""
	if !f.Stream {
		stream = ", not streamed"
	}
	return fmt.Sprintf("prompt set %s, max tokens %s, temperature %s%s, %s", shortHash(f.PromptSetHash),
		f.maxTokText(), f.tempText(), stream, f.LoadText())
}

// differences lists the fingerprint fields in which f and g differ, in words.
func (f Fingerprint) differences(g Fingerprint) []string {
	var d []string
	if f.PromptSetHash != g.PromptSetHash {
		d = append(d, fmt.Sprintf("prompt set %s vs %s", shortHash(f.PromptSetHash), shortHash(g.PromptSetHash)))
	}
	if f.MaxTokens != g.MaxTokens {
		d = append(d, fmt.Sprintf("max tokens %s vs %s", f.maxTokText(), g.maxTokText()))
	}
	if f.tempText() != g.tempText() {
		d = append(d, fmt.Sprintf("temperature %s vs %s", f.tempText(), g.tempText()))
	}
	if f.Stream != g.Stream {
		d = append(d, fmt.Sprintf("streaming %t vs %t", f.Stream, g.Stream))
	}
	if f.LoadMode != g.LoadMode || f.Concurrency != g.Concurrency || f.Rate != g.Rate {
		d = append(d, fmt.Sprintf("load %s vs %s", f.LoadText(), g.LoadText()))
	}
	return d
}

func shortHash(h string) string {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) > 8 {
		return h[:8]
	}
	if h == "" {
		return "(none)"
	}
	return h
}

// Group is a set of comparable measurements: every level of every selected run whose
// fingerprint is the same.
type Group struct {
	ID          string            `json:"id"`
	Fingerprint Fingerprint       `json:"fingerprint"`
	Workload    string            `json:"workload"`
	Runs        []int64           `json:"runs"`
	Endpoints   []EndpointSummary `json:"endpoints"`

	sides map[string]*side // by endpoint
}

// side is one endpoint's measurements within a group.
type side struct {
	endpoint string
	levels   []*levelData
	runs     []*cluster // successful requests pooled per run (trials merged)
	runIDs   []int64
	levelCl  []*cluster // per level, for throughput

	poolOnce sync.Once
	pools    map[int]*pool // by column: the request-level columns compared (poolCols)
}

// pool is one column of a side's requests pooled over its runs: the non-NaN values sorted,
// and their mean (summed in pooled order, as mean(s.pooled(col)) is).
type pool struct {
	sorted []float64
	mean   float64
}

// poolCols are the columns kept pooled and sorted: each is read by the endpoint's summary and
// by every comparison of the side (percentiles, box, medians, U tests, means), so sorting it
// once serves them all.
var poolCols = [...]int{colE2E, colTTFT, colTPOT, colTokS}

// pool returns column col pooled (col one of poolCols; nil for another). The result is shared:
// callers must not change it. Safe for concurrent use.
func (s *side) pool(col int) *pool {
	s.poolOnce.Do(func() {
		s.pools = make(map[int]*pool, len(poolCols))
		var sorter floatSorter // its buffers serve the four columns
		for _, c := range poolCols {
			v := s.pooled(c)
			p := &pool{mean: mean(v), sorted: v}
			sorter.sort(p.sorted)
			s.pools[c] = p
		}
	})
	return s.pools[col]
}

// EndpointSummary is one endpoint's figures pooled over all its levels in a group.
type EndpointSummary struct {
	Endpoint      string `json:"endpoint"`
	Model         string `json:"model"`
	Runs          int    `json:"runs"`
	Levels        int    `json:"levels"`
	N             int    `json:"n"`
	OK            int    `json:"ok"`
	Latencies            // over the requests of all its levels, pooled
	MeanDecodeMS  Num    `json:"mean_decode_ms"` // mean of e2e − ttft
	OutputTokS    Num    `json:"output_tok_s"`   // mean over levels of v_summary's output_tok_s
	ReqS          Num    `json:"req_s"`          // mean over levels
	MeanReqTokS   Num    `json:"mean_req_tok_s"`
	EM            Num    `json:"em"`
	F1            Num    `json:"f1"`
	ServerGapMS   Num    `json:"client_minus_server_ttft_ms"` // mean, where the server reports TTFT
	RelayShare    Num    `json:"relay_share"`                 // share of ok answers that arrived in relayed bursts
	CacheHitShare Num    `json:"cache_hit_share"`             // share of ok answers with cached_tokens > 0
	CostPer1kReqs Num    `json:"cost_per_1k_requests"`        // USD, when the endpoint config has prices
	// USD per million output tokens at this group's measured output throughput (cost.go).
	CostPerMTokOut Num     `json:"cost_per_mtok_out"`
	CostPerCorrect Num     `json:"cost_per_correct_answer"` // USD per answer with EM = 1, where answers are scored
	Correct        int     `json:"correct_answers"`         // answers with EM = 1
	BoxE2EMS       [5]Num  `json:"box_e2e_ms"`              // min, q1, median, q3, max
	BoxTTFTMS      [5]Num  `json:"box_ttft_ms"`
	InputTokenMin  float64 `json:"-"`
	InputTokenMax  float64 `json:"-"`
}

// Exclusion is a measurement the report could not compare, and why.
type Exclusion struct {
	RunID    int64  `json:"run_id"`
	LevelID  int64  `json:"level_id"`
	Endpoint string `json:"endpoint"`
	Workload string `json:"workload"`
	Reason   string `json:"reason"`
}

// buildGroups groups levels by fingerprint, in order of first appearance in the (oldest-first)
// selection, and numbers them G1, G2, ...
func buildGroups(levels []*levelData) []*Group {
	var groups []*Group
	byKey := map[string]*Group{}
	for _, d := range levels {
		fp := fingerprintOf(d.run, &d.lvl)
		g := byKey[fp.key()]
		if g == nil {
			g = &Group{Fingerprint: fp, Workload: fp.Text(), sides: map[string]*side{}}
			byKey[fp.key()] = g
			groups = append(groups, g)
		}
		s := g.sides[d.lvl.Endpoint]
		if s == nil {
			s = &side{endpoint: d.lvl.Endpoint}
			g.sides[d.lvl.Endpoint] = s
		}
		s.levels = append(s.levels, d)
	}
	// Stable order: by workload, then load level, so that group ids do not depend on history order
	// more than needed.
	slices.SortStableFunc(groups, func(a, b *Group) int {
		if c := strings.Compare(a.Fingerprint.workloadKey(), b.Fingerprint.workloadKey()); c != 0 {
			return c
		}
		if a.Fingerprint.Rate != b.Fingerprint.Rate {
			return cmp.Compare(a.Fingerprint.Rate, b.Fingerprint.Rate)
		}
		return a.Fingerprint.Concurrency - b.Fingerprint.Concurrency
	})
	for i, g := range groups {
		g.ID = fmt.Sprintf("G%d", i+1)
		runSet := map[int64]bool{}
		for _, s := range g.sides {
			for _, d := range s.levels {
				d.stats.Group = g.ID
				runSet[d.lvl.RunID] = true
			}
			s.build()
		}
		for id := range runSet {
			g.Runs = append(g.Runs, id)
		}
		slices.Sort(g.Runs)
	}
	return groups
}

// build pools a side's successful requests per run and keeps per-level clusters.
func (s *side) build() {
	byRun := map[int64]*cluster{}
	for _, d := range s.levels {
		if d.stats.OK == 0 {
			continue
		}
		s.levelCl = append(s.levelCl, &d.ok)
		c := byRun[d.lvl.RunID]
		if c == nil {
			// The first level of a run is shared, not copied; a second trial gets a merged copy.
			byRun[d.lvl.RunID] = &d.ok
			s.runIDs = append(s.runIDs, d.lvl.RunID)
			continue
		}
		merged := &cluster{cols: make([][]float64, numCols)}
		for i := range merged.cols {
			merged.cols[i] = append(slices.Clone(c.cols[i]), d.ok.cols[i]...)
		}
		byRun[d.lvl.RunID] = merged
	}
	for _, id := range s.runIDs {
		s.runs = append(s.runs, byRun[id])
	}
}

// rows is the number of successful requests over all of a side's runs.
func (s *side) rows() int {
	n := 0
	for _, c := range s.runs {
		n += c.n()
	}
	return n
}

// pooled returns the non-NaN values of one column over all of a side's runs.
func (s *side) pooled(col int) []float64 {
	out := make([]float64, 0, s.rows())
	for _, c := range s.runs {
		out = c.appendColumn(out, col)
	}
	return out
}

// meanDecode is mean(s.pooled(colDecode)), summed in the same order, without the column.
func (s *side) meanDecode() float64 {
	var sum float64
	n := 0
	for _, c := range s.runs {
		if c.n() == 0 {
			continue
		}
		ttft := c.cols[colTTFT]
		for j, e2e := range c.cols[colE2E] {
			if v := decodeMS(e2e, ttft[j]); v == v { // x != x only for NaN
				sum += v
				n++
			}
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// summarize computes a side's pooled figures.
func (s *side) summarize(prices map[string]endpointPrice) EndpointSummary {
	e := EndpointSummary{Endpoint: s.endpoint, Levels: len(s.levels), Runs: len(uniqueRuns(s.levels))}
	var tput, reqs []float64
	var emSum, f1Sum, gapSum, inSum, outSum, busyS float64
	var emN, f1N, gapN, relayed, cached int
	for _, d := range s.levels {
		relayed, cached = relayed+d.relayed, cached+d.cached
		e.Model = d.lvl.Model
		e.N += d.stats.N
		e.OK += d.stats.OK
		if d.stats.OutputTokS.Valid() {
			tput = append(tput, float64(d.stats.OutputTokS))
			reqs = append(reqs, float64(d.stats.ReqS))
		}
		emSum, emN, f1Sum, f1N = emSum+d.emSum, emN+d.emN, f1Sum+d.f1Sum, f1N+d.f1N
		gapSum, gapN = gapSum+d.serverGapSum, gapN+d.serverGapN
		inSum, outSum = inSum+d.inTokSum, outSum+d.outTokOK
		busyS += d.win / 1000
	}
	var lat [levelstat.NumMetrics]levelstat.Latency
	for m, col := range metricCols {
		p := s.pool(col)
		lat[m] = latencyOfSorted(p.sorted, p.mean)
	}
	e.Latencies = latenciesOf(ratioOrNaN(float64(e.OK), float64(e.N)), &lat)
	e.MeanDecodeMS = Num(s.meanDecode())
	e.MeanReqTokS = Num(s.pool(colTokS).mean)
	e.BoxE2EMS, e.BoxTTFTMS = box(s.pool(colE2E).sorted), box(s.pool(colTTFT).sorted)
	e.OutputTokS, e.ReqS = Num(mean(tput)), Num(mean(reqs))
	e.EM = Num(100 * float64(ratioOrNaN(emSum, float64(emN))))
	e.F1 = Num(100 * float64(ratioOrNaN(f1Sum, float64(f1N))))
	e.ServerGapMS = ratioOrNaN(gapSum, float64(gapN))
	e.RelayShare = ratioOrNaN(float64(relayed), float64(e.OK))
	e.CacheHitShare = ratioOrNaN(float64(cached), float64(e.OK))
	p, priced := prices[s.endpoint]
	cost := sideCost(p, priced, inSum, outSum, busyS)
	e.CostPer1kReqs = ratioOrNaN(1000*cost, float64(e.OK))
	e.CostPerMTokOut = costPerMTokOut(p, priced, float64(e.OutputTokS), inSum, outSum)
	e.CostPerCorrect = Num(math.NaN())
	if emN > 0 && emSum > 0 {
		e.CostPerCorrect, e.Correct = Num(cost/emSum), int(math.Round(emSum))
	}
	e.InputTokenMin, e.InputTokenMax = s.inputRange()
	return e
}

// inputRange is the least and the most input tokens of the side's successful requests (0, 0
// when none has a count).
func (s *side) inputRange() (lo, hi float64) {
	first := true
	for _, c := range s.runs {
		for _, v := range c.cols[colIn] {
			switch {
			case math.IsNaN(v):
			case first:
				lo, hi, first = v, v, false
			case v < lo:
				lo = v
			case v > hi:
				hi = v
			}
		}
	}
	return lo, hi
}

func box(sorted []float64) [5]Num {
	if len(sorted) == 0 {
		n := Num(math.NaN())
		return [5]Num{n, n, n, n, n}
	}
	return [5]Num{Num(sorted[0]), Num(quantileSorted(sorted, .25)), Num(quantileSorted(sorted, .5)),
		Num(quantileSorted(sorted, .75)), Num(sorted[len(sorted)-1])}
}

func uniqueRuns(levels []*levelData) []int64 {
	var ids []int64
	for _, d := range levels {
		if !slices.Contains(ids, d.lvl.RunID) {
			ids = append(ids, d.lvl.RunID)
		}
	}
	return ids
}

// endpointNames lists a group's endpoints alphabetically.
func (g *Group) endpointNames() []string {
	var names []string
	for n := range g.sides {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
