package report

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/levelstat"
)

// Num is a number in the report: NaN and infinities (no data) are written to JSON as null.
type Num float64

// MarshalJSON writes NaN and ±Inf as null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Valid reports whether n holds a number.
func (n Num) Valid() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

// LevelStats are one level's figures, defined exactly as the v_summary view defines them
// (docs/metrics.md): latency statistics over successful requests, percentiles numpy-linear,
// output_tok_s = Σ ok output tokens / (max(start+elapsed) − min(start)) over all measured
// requests, mean_req_tok_s = mean over ok requests (e2e > 0) of output_tokens / e2e.
type LevelStats struct {
	LevelID     int64             `json:"level_id"`
	RunID       int64             `json:"run_id"`
	Endpoint    string            `json:"endpoint"`
	Model       string            `json:"model"`
	Concurrency int               `json:"concurrency"`
	Rate        float64           `json:"rate"`
	Trial       int               `json:"trial"`
	LevelStatus bench.LevelStatus `json:"level_status"`
	Group       string            `json:"group"`
	N           int               `json:"n"`
	OK          int               `json:"ok"`
	Latencies
	OutputTokens int64 `json:"output_tokens"`
	ClientRes    int   `json:"client_resource"` // failed for want of a client resource: not in n
	DurationS    Num   `json:"duration_s"`
	OutputTokS   Num   `json:"output_tok_s"`
	ReqS         Num   `json:"req_s"`
	MeanReqTokS  Num   `json:"mean_req_tok_s"`
	EM           Num   `json:"em"`
	F1           Num   `json:"f1"`
}

// Latencies are a set of requests' success rate and, over its successful requests, the mean
// and numpy-linear p50, p90 and p99 of E2E, TTFT and TPOT (ms): one level's in LevelStats, an
// endpoint's pooled over a group's levels in EndpointSummary.
type Latencies struct {
	SuccessRate Num `json:"success_rate"`
	MeanE2EMS   Num `json:"mean_e2e_ms"`
	P50E2EMS    Num `json:"p50_e2e_ms"`
	P90E2EMS    Num `json:"p90_e2e_ms"`
	P99E2EMS    Num `json:"p99_e2e_ms"`
	MeanTTFTMS  Num `json:"mean_ttft_ms"`
	P50TTFTMS   Num `json:"p50_ttft_ms"`
	P90TTFTMS   Num `json:"p90_ttft_ms"`
	P99TTFTMS   Num `json:"p99_ttft_ms"`
	MeanTPOTMS  Num `json:"mean_tpot_ms"`
	P50TPOTMS   Num `json:"p50_tpot_ms"`
	P90TPOTMS   Num `json:"p90_tpot_ms"`
	P99TPOTMS   Num `json:"p99_tpot_ms"`
}

// latenciesOf is Latencies from a success rate and levelstat's figures by metric.
func latenciesOf(successRate Num, lat *[levelstat.NumMetrics]levelstat.Latency) Latencies {
	e2e, ttft, tpot := lat[levelstat.E2E], lat[levelstat.TTFT], lat[levelstat.TPOT]
	return Latencies{SuccessRate: successRate,
		MeanE2EMS: Num(e2e.Mean), P50E2EMS: Num(e2e.P50), P90E2EMS: Num(e2e.P90), P99E2EMS: Num(e2e.P99),
		MeanTTFTMS: Num(ttft.Mean), P50TTFTMS: Num(ttft.P50), P90TTFTMS: Num(ttft.P90), P99TTFTMS: Num(ttft.P99),
		MeanTPOTMS: Num(tpot.Mean), P50TPOTMS: Num(tpot.P50), P90TPOTMS: Num(tpot.P90), P99TPOTMS: Num(tpot.P99)}
}

// latencyOfSorted is one metric's mean m and percentiles over its values, already sorted.
func latencyOfSorted(sorted []float64, m float64) levelstat.Latency {
	return levelstat.Latency{Mean: m, P50: quantileSorted(sorted, levelstat.P50),
		P90: quantileSorted(sorted, levelstat.P90), P99: quantileSorted(sorted, levelstat.P99)}
}

// Request columns kept for the successful requests of a level (parallel slices, NaN = NULL),
// and two derived from them on demand (not stored: they would add 16 bytes a request).
const (
	colE2E = iota
	colTTFT
	colTPOT
	colOut // output tokens
	colIn  // input tokens
	colSeq // position in the level: pairs requests across endpoints (paired.go)
	numCols

	colTokS   = numCols     // output_tokens * 1000 / e2e, when e2e > 0 (v_summary's mean_req_tok_s)
	colDecode = numCols + 1 // e2e − ttft
)

// metricCols are the columns of levelstat's latency metrics.
var metricCols = [levelstat.NumMetrics]int{levelstat.E2E: colE2E, levelstat.TTFT: colTTFT, levelstat.TPOT: colTPOT}

// value is request j's value of column col of c, derived columns included.
func (c *cluster) value(col, j int) float64 {
	switch col {
	case colTokS:
		return tokS(c.cols[colE2E][j], c.cols[colOut][j])
	case colDecode:
		return decodeMS(c.cols[colE2E][j], c.cols[colTTFT][j])
	}
	return c.cols[col][j]
}

// decodeMS is a request's decode time (colDecode): e2e − ttft.
func decodeMS(e2e, ttft float64) float64 { return e2e - ttft }

// tokS is a request's output tokens/s (colTokS): out * 1000 / e2e when e2e > 0 and out is a
// number, else NaN.
func tokS(e2e, out float64) float64 {
	if e2e > 0 && !math.IsNaN(out) {
		return out * 1000.0 / e2e
	}
	return math.NaN()
}

// appendColumn appends column col of c (derived columns included) to out, NaN skipped: the
// values cluster.value gives, a column at a time rather than a value at a time.
func (c *cluster) appendColumn(out []float64, col int) []float64 {
	switch col {
	case colTokS:
		out0 := c.cols[colOut]
		for j, e2e := range c.cols[colE2E] {
			if v := tokS(e2e, out0[j]); v == v { // x != x only for NaN
				out = append(out, v)
			}
		}
	case colDecode:
		ttft := c.cols[colTTFT]
		for j, e2e := range c.cols[colE2E] {
			if v := decodeMS(e2e, ttft[j]); v == v {
				out = append(out, v)
			}
		}
	default:
		for _, v := range c.cols[col] {
			if v == v {
				out = append(out, v)
			}
		}
	}
	return out
}

// levelData is what the report keeps of one level after streaming its requests: the
// v_summary figures, the successful requests' numeric columns, and sums for pooling.
type levelData struct {
	lvl   bench.ReportLevel
	run   *bench.Run
	stats LevelStats
	ok    cluster // successful requests, columns as above
	win   float64 // window_ms

	emSum, f1Sum       float64
	emN, f1N           int
	serverGapSum       float64 // Σ (client TTFT − server TTFT) over ok requests with both
	serverGapN         int
	relayed            int     // ok requests whose stream arrived in relayed bursts
	cached             int     // ok requests the server's prompt cache served in part (cached_tokens > 0)
	inTokSum, outTokOK float64 // Σ input / output tokens of ok requests (cost)
	failures           map[string]*failureCount
}

type failureCount struct {
	n       int
	example string
}

// readLevel streams one level's requests and computes its figures.
func readLevel(ctx context.Context, sc bench.RequestScanner, lvl bench.ReportLevel, run *bench.Run) (*levelData, error) {
	d := newLevelData(lvl, run)
	acc := levelstat.NewAccumulator(run.SLO)
	err := sc.Each(ctx, lvl.ID, func(r *bench.ReportRequest) error {
		d.add(r, acc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.clip()
	d.summarize(acc)
	return d, nil
}

// storedScanner is a RequestScanner that can also read levels whose statistics the store
// keeps (store.DB's level_summary): only the columns the report needs beside them, several
// levels in one read (fn gets the index of the level).
type storedScanner interface {
	EachStoredLevels(ctx context.Context, levelIDs []int64, stats []*levelstat.Stats, fn func(int, *bench.ReportRequest) error) error
}

// storedStatsReader is a History that keeps ended levels' statistics (store.DB).
type storedStatsReader interface {
	StoredLevelStats(ctx context.Context, levelIDs []int64) (map[int64]levelstat.Stats, error)
}

// readStoredLevels is readLevel for levels whose statistics (stats, in the order of lvls) the
// store computed with levelstat when each ended (the figures v_summary shows): a level's
// figures are taken from its statistics, and its requests are read only for what the report
// pools over levels.
func readStoredLevels(ctx context.Context, sc storedScanner, lvls []bench.ReportLevel, runs map[int64]*bench.Run,
	stats []*levelstat.Stats) ([]*levelData, error) {
	ds := make([]*levelData, len(lvls))
	ids := make([]int64, len(lvls))
	for i, lvl := range lvls {
		ds[i], ids[i] = newLevelData(lvl, runs[lvl.RunID]), lvl.ID
		for c := range ds[i].ok.cols {
			ds[i].ok.cols[c] = make([]float64, 0, stats[i].OK) // the level's successes, as many as its columns will hold
		}
	}
	err := sc.EachStoredLevels(ctx, ids, stats, func(i int, r *bench.ReportRequest) error {
		s := levelstat.SampleOf(r.Status, r.ErrorClass)
		ds[i].tally(r, &s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		d.clip()
		d.relayed = stats[i].Relayed
		d.setStats(stats[i])
	}
	return ds, nil
}

func newLevelData(lvl bench.ReportLevel, run *bench.Run) *levelData {
	d := &levelData{lvl: lvl, run: run}
	d.ok.cols = make([][]float64, numCols)
	return d
}

// clip keeps exactly what was read: it drops the slack that appending left.
func (d *levelData) clip() {
	for i, c := range d.ok.cols {
		if len(c) < cap(c) {
			d.ok.cols[i] = slices.Clip(slices.Clone(c))
		}
	}
}

// sampleOf is a request as levelstat sees it.
func sampleOf(r *bench.ReportRequest) levelstat.Sample {
	s := levelstat.SampleOf(r.Status, r.ErrorClass)
	s.StartMS, s.ElapsedMS, s.ScheduledMS, s.Relayed = r.StartMS, r.ElapsedMS, math.NaN(), r.Relayed
	s.TTFTMS, s.E2EMS, s.TPOTMS, s.OutputTokens, s.EM, s.F1 = r.TTFTMS, r.E2EMS, r.TPOTMS, r.OutputTokens, r.EM, r.F1
	return s
}

// add counts one request in the level's statistics (levelstat: a client-side resource failure
// in none), a failure by kind, a success's sums for pooling and its columns.
func (d *levelData) add(r *bench.ReportRequest, acc *levelstat.Accumulator) {
	s := sampleOf(r)
	acc.Add(&s)
	d.tally(r, &s)
}

// tally counts a request (s is its sample, of which it reads the outcome) in the level's
// failures by kind, and a success in the sums for pooling and in the columns.
func (d *levelData) tally(r *bench.ReportRequest, s *levelstat.Sample) {
	if s.Outcome != bench.OutcomeMeasured || !s.OK {
		d.countFailure(r)
	}
	if s.Outcome != bench.OutcomeMeasured {
		return
	}
	if !math.IsNaN(r.EM) {
		d.emSum += r.EM
		d.emN++
	}
	if !math.IsNaN(r.F1) {
		d.f1Sum += r.F1
		d.f1N++
	}
	if s.OK {
		d.addOK(r)
	}
}

// addOK adds a successful request to the level's pooling sums and to its columns.
func (d *levelData) addOK(r *bench.ReportRequest) {
	if r.Relayed {
		d.relayed++
	}
	if r.Cached {
		d.cached++
	}
	if !math.IsNaN(r.OutputTokens) {
		d.outTokOK += r.OutputTokens
	}
	if !math.IsNaN(r.InputTokens) {
		d.inTokSum += r.InputTokens
	}
	if !math.IsNaN(r.ServerTTFTMS) && !math.IsNaN(r.TTFTMS) {
		d.serverGapSum += r.TTFTMS - r.ServerTTFTMS
		d.serverGapN++
	}
	c := d.ok.cols
	c[colE2E] = append(c[colE2E], r.E2EMS)
	c[colTTFT] = append(c[colTTFT], r.TTFTMS)
	c[colTPOT] = append(c[colTPOT], r.TPOTMS)
	c[colOut] = append(c[colOut], r.OutputTokens)
	c[colIn] = append(c[colIn], r.InputTokens)
	c[colSeq] = append(c[colSeq], r.Seq)
}

// summarize fills the level's statistics once every request is read: levelstat's figures (the
// ones v_summary stores), percentiles from the level's columns.
func (d *levelData) summarize(acc *levelstat.Accumulator) {
	st := acc.Stats()
	for m, col := range metricCols {
		sorted := dropNaN(d.ok.cols[col])
		slices.Sort(sorted)
		st.SetPercentilesOf(levelstat.Metric(m), sorted)
	}
	d.setStats(&st)
}

// setStats fills the level's statistics from levelstat's figures.
func (d *levelData) setStats(st *levelstat.Stats) {
	lvl := d.lvl
	s := &d.stats
	s.LevelID, s.RunID, s.Endpoint, s.Model = lvl.ID, lvl.RunID, lvl.Endpoint, lvl.Model
	s.Concurrency, s.Rate, s.Trial, s.LevelStatus = lvl.Concurrency, lvl.Rate, lvl.Trial, lvl.Status
	s.N, s.OK, s.ClientRes = st.N, st.OK, st.ClientResource
	s.Latencies = latenciesOf(Num(st.SuccessRate()), &st.Latency)
	s.MeanReqTokS, s.EM, s.F1 = Num(st.MeanReqTokS), Num(st.EM), Num(st.F1)
	if !math.IsNaN(st.OutputTokens) {
		s.OutputTokens = int64(st.OutputTokens)
	}
	s.DurationS, s.OutputTokS, s.ReqS = Num(st.DurationS()), Num(st.OutputTokS()), Num(st.ReqS())
	if st.N > 0 {
		d.win = st.WindowMS
	}
	d.ok.windowMS = d.win
}

// countFailure adds a failed request to the level's failures by status and error class.
func (d *levelData) countFailure(r *bench.ReportRequest) {
	if d.failures == nil {
		d.failures = map[string]*failureCount{}
	}
	key := string(r.Status)
	if r.ErrorClass != "" {
		key += ": " + string(r.ErrorClass)
	}
	fc := d.failures[key]
	if fc == nil {
		fc = &failureCount{example: truncateText(r.ErrorMessage, 300)}
		d.failures[key] = fc
	}
	fc.n++
}

func ratioOrNaN(a, b float64) Num {
	if b == 0 {
		return Num(math.NaN())
	}
	return Num(a / b)
}

// dropNaN returns a new slice with the non-NaN values of xs.
func dropNaN(xs []float64) []float64 {
	return appendNotNaN(make([]float64, 0, len(xs)), xs)
}

// appendNotNaN appends the non-NaN values of xs to dst.
func appendNotNaN(dst, xs []float64) []float64 {
	for _, x := range xs {
		if !math.IsNaN(x) {
			dst = append(dst, x)
		}
	}
	return dst
}

func truncateText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
