package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/trackerbench/tracker/bench"
	"gonum.org/v1/gonum/stat"
)

// CurvePoint is one endpoint at one load level of a load curve.
type CurvePoint struct {
	Endpoint   string  `json:"endpoint"`
	X          float64 `json:"x"`
	Group      string  `json:"group"`
	OutputTokS Num     `json:"output_tok_s"`
	ReqS       Num     `json:"req_s"`
	P50E2EMS   Num     `json:"p50_e2e_ms"`
	P50TTFTMS  Num     `json:"p50_ttft_ms"`
	P50TPOTMS  Num     `json:"p50_tpot_ms"`
	P99E2EMS   Num     `json:"p99_e2e_ms"`
	OK         int     `json:"n"` // successful requests
	// CostPerMTokOut is USD per million output tokens at this level's throughput (cost.go).
	CostPerMTokOut Num `json:"cost_per_mtok_out"`
}

// Saturation is where an endpoint's throughput stops rising: the first level after which
// the next level adds less than the saturation fraction.
type Saturation struct {
	Endpoint  string  `json:"endpoint"`
	Saturated bool    `json:"saturated"`
	At        float64 `json:"at"` // the saturation level, or the highest level measured if not saturated
	PeakTokS  Num     `json:"peak_output_tok_s"`
	PeakAt    float64 `json:"peak_at"`
}

// Crossover is the first load level at which another endpoint's throughput overtakes the
// single-stream winner's.
type Crossover struct {
	Endpoint    string  `json:"endpoint"`
	At          float64 `json:"at"`
	Value       Num     `json:"output_tok_s"`
	WinnerValue Num     `json:"winner_output_tok_s"`
}

// A curve's x axis: the name it is drawn and written with (Curve.XName).
const (
	xConcurrency = "concurrency"  // closed loop: requests in flight
	xRate        = "rate (req/s)" // open loop: requests sent per second
)

// Curve is throughput and latency against load for one workload swept over several levels.
type Curve struct {
	ID         string       `json:"id"`
	Workload   string       `json:"workload"`
	XName      string       `json:"x"`
	Xs         []float64    `json:"levels"`
	Endpoints  []string     `json:"endpoints"`
	Points     []CurvePoint `json:"points"`
	Saturation []Saturation `json:"saturation"`
	Winner     string       `json:"single_stream_winner"`
	WinnerAt   float64      `json:"winner_at"`
	Crossover  *Crossover   `json:"crossover"`
	// CostCrossover is where another endpoint becomes cheaper per output token (cost.go).
	CostCrossover *CostCrossover `json:"cost_crossover,omitempty"`
}

func (c *Curve) point(endpoint string, x float64) *CurvePoint {
	for i := range c.Points {
		if c.Points[i].Endpoint == endpoint && c.Points[i].X == x {
			return &c.Points[i]
		}
	}
	return nil
}

// firstCommonLevel is the lowest level at which every endpoint of the curve has a point
// whose value (what value reads from it) is valid; found is false when there is none.
func (c *Curve) firstCommonLevel(value func(*CurvePoint) Num) (x float64, found bool) {
	for _, x := range c.Xs {
		all := true
		for _, e := range c.Endpoints {
			if p := c.point(e, x); p == nil || !value(p).Valid() {
				all = false
				break
			}
		}
		if all {
			return x, true
		}
	}
	return 0, false
}

// WorkloadText describes the workload without its load level.
func (f Fingerprint) WorkloadText() string {
	stream := ""
	if !f.Stream {
		stream = ", not streamed"
	}
	return fmt.Sprintf("prompt set %s, max tokens %s, temperature %s%s, %s loop", shortHash(f.PromptSetHash),
		f.maxTokText(), f.tempText(), stream, f.LoadMode)
}

// buildCurves finds the workloads measured at two or more load levels and computes each
// endpoint's curve, saturation point and the crossover.
func buildCurves(groups []*Group, baseline string, o *Options) []Curve {
	byWork := map[string][]*Group{}
	var order []string
	for _, g := range groups {
		k := g.Fingerprint.workloadKey()
		if byWork[k] == nil {
			order = append(order, k)
		}
		byWork[k] = append(byWork[k], g)
	}
	var curves []Curve
	for _, k := range order {
		gs := byWork[k]
		if len(gs) < 2 {
			continue
		}
		c := Curve{ID: fmt.Sprintf("L%d", len(curves)+1), Workload: gs[0].Fingerprint.WorkloadText(), XName: xConcurrency}
		if gs[0].Fingerprint.LoadMode == bench.LoadOpen {
			c.XName = xRate
		}
		for _, g := range gs {
			x := g.Fingerprint.loadX()
			if !slices.Contains(c.Xs, x) {
				c.Xs = append(c.Xs, x)
			}
			for _, e := range g.Endpoints {
				if !slices.Contains(c.Endpoints, e.Endpoint) {
					c.Endpoints = append(c.Endpoints, e.Endpoint)
				}
				c.Points = append(c.Points, CurvePoint{Endpoint: e.Endpoint, X: x, Group: g.ID, OutputTokS: e.OutputTokS,
					ReqS: e.ReqS, P50E2EMS: e.P50E2EMS, P50TTFTMS: e.P50TTFTMS, P50TPOTMS: e.P50TPOTMS, P99E2EMS: e.P99E2EMS,
					OK: e.OK, CostPerMTokOut: e.CostPerMTokOut})
			}
		}
		if len(c.Xs) < 2 {
			continue
		}
		slices.Sort(c.Xs)
		slices.Sort(c.Endpoints)
		slices.SortFunc(c.Points, func(a, b CurvePoint) int {
			if a.Endpoint != b.Endpoint {
				if a.Endpoint < b.Endpoint {
					return -1
				}
				return 1
			}
			return cmp.Compare(a.X, b.X)
		})
		for _, e := range c.Endpoints {
			c.Saturation = append(c.Saturation, saturation(&c, e, o.Saturation))
		}
		c.Winner, c.WinnerAt, c.Crossover = crossover(&c)
		c.CostCrossover = costCrossover(&c)
		curves = append(curves, c)
	}
	return curves
}

func saturation(c *Curve, endpoint string, frac float64) Saturation {
	var pts []CurvePoint
	for _, p := range c.Points {
		if p.Endpoint == endpoint && p.OutputTokS.Valid() {
			pts = append(pts, p)
		}
	}
	s := Saturation{Endpoint: endpoint, PeakTokS: Num(math.NaN())}
	for _, p := range pts {
		if !s.PeakTokS.Valid() || p.OutputTokS > s.PeakTokS {
			s.PeakTokS, s.PeakAt = p.OutputTokS, p.X
		}
	}
	for i := 0; i+1 < len(pts); i++ {
		if float64(pts[i+1].OutputTokS) < float64(pts[i].OutputTokS)*(1+frac) {
			s.Saturated, s.At = true, pts[i].X
			return s
		}
	}
	if len(pts) > 0 {
		s.At = pts[len(pts)-1].X
	}
	return s
}

// crossover finds the single-stream winner (highest throughput at the lowest level every
// endpoint measured) and the first higher level where another endpoint's throughput exceeds it.
func crossover(c *Curve) (string, float64, *Crossover) {
	if len(c.Endpoints) < 2 {
		return "", 0, nil
	}
	x0, found := c.firstCommonLevel(func(p *CurvePoint) Num { return p.OutputTokS })
	if !found {
		return "", 0, nil
	}
	winner := ""
	var best Num
	for _, e := range c.Endpoints {
		if p := c.point(e, x0); winner == "" || p.OutputTokS > best {
			winner, best = e, p.OutputTokS
		}
	}
	for _, x := range c.Xs {
		if x <= x0 {
			continue
		}
		w := c.point(winner, x)
		if w == nil || !w.OutputTokS.Valid() {
			continue
		}
		var over *Crossover
		for _, e := range c.Endpoints {
			if e == winner {
				continue
			}
			if p := c.point(e, x); p != nil && p.OutputTokS > w.OutputTokS && (over == nil || p.OutputTokS > over.Value) {
				over = &Crossover{Endpoint: e, At: x, Value: p.OutputTokS, WinnerValue: w.OutputTokS}
			}
		}
		if over != nil {
			return winner, x0, over
		}
	}
	return winner, x0, nil
}

// InputBin is one input-length bin of an endpoint's requests in a group.
type InputBin struct {
	Lo        float64 `json:"lo_tokens"`
	Hi        float64 `json:"hi_tokens"`
	N         int     `json:"n"`
	P50TTFTMS Num     `json:"p50_ttft_ms"`
	P50E2EMS  Num     `json:"p50_e2e_ms"`
}

// InputCurve is latency against input length for one endpoint in one group whose requests
// differ in input length. Slopes are least-squares fits over requests, in ms per 1,000 tokens.
type InputCurve struct {
	Group          string     `json:"group"`
	Endpoint       string     `json:"endpoint"`
	Bins           []InputBin `json:"bins"`
	TTFTSlopePer1k Num        `json:"ttft_ms_per_1k_input_tokens"`
	E2ESlopePer1k  Num        `json:"e2e_ms_per_1k_input_tokens"`
}

// buildInputCurves bins requests by input length (quartiles of the group's input lengths)
// wherever a group's longest input is at least twice its shortest.
func buildInputCurves(groups []*Group) []InputCurve {
	var out []InputCurve
	for _, g := range groups {
		edges := inputEdges(g)
		if len(edges) < 3 {
			continue
		}
		for _, name := range g.endpointNames() {
			out = append(out, inputCurve(g.ID, g.sides[name], edges))
		}
	}
	return out
}

// inputEdges are the bin edges of a group's input lengths (its quartiles, rounded, each kept
// once), none when fewer than 8 requests have one, the shortest is not positive or the
// longest is less than twice it.
func inputEdges(g *Group) []float64 {
	n := 0
	for _, s := range g.sides {
		n += s.rows()
	}
	all := make([]float64, 0, n)
	for _, s := range g.sides {
		for _, c := range s.runs {
			for _, v := range c.cols[colIn] {
				if !math.IsNaN(v) {
					all = append(all, v)
				}
			}
		}
	}
	if len(all) < 8 {
		return nil
	}
	lo, hi := all[0], all[0]
	for _, v := range all {
		switch {
		case v < lo:
			lo = v
		case v > hi:
			hi = v
		}
	}
	if lo <= 0 || hi < 2*lo {
		return nil
	}
	var edges []float64
	for _, p := range []float64{0, .25, .5, .75, 1} {
		e := math.Round(percentileInPlace(all, p)) // all is this function's own, without NaN
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	return edges
}

// inputBin is the bin of an input length between edges: the last whose lower edge it reaches.
func inputBin(in float64, edges []float64) int {
	for j := 1; j < len(edges)-1; j++ {
		if in < edges[j] {
			return j - 1
		}
	}
	return len(edges) - 2
}

// inputCurve is one side's latencies binned by input length (edges: inputEdges), with the
// least-squares slopes over its requests. Each bin's TTFT and E2E lists are counted first
// and then filled, so they are allocated once at their size.
func inputCurve(group string, s *side, edges []float64) InputCurve {
	ic := InputCurve{Group: group, Endpoint: s.endpoint}
	counts := make([][2]int, len(edges)-1)
	for _, c := range s.runs {
		for i, in := range c.cols[colIn] {
			if !math.IsNaN(in) {
				b := inputBin(in, edges)
				counts[b][0] += notNaN(c.cols[colTTFT][i])
				counts[b][1] += notNaN(c.cols[colE2E][i])
			}
		}
	}
	bins := make([][2][]float64, len(edges)-1)
	for b := range bins {
		bins[b] = [2][]float64{make([]float64, 0, counts[b][0]), make([]float64, 0, counts[b][1])}
	}
	n := s.rows() // the most each list holds: sized once
	xs, ttft, xe, e2e := make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n), make([]float64, 0, n)
	for _, c := range s.runs {
		for i, in := range c.cols[colIn] {
			if math.IsNaN(in) {
				continue
			}
			b := inputBin(in, edges)
			if t := c.cols[colTTFT][i]; !math.IsNaN(t) {
				bins[b][0] = append(bins[b][0], t)
				xs, ttft = append(xs, in), append(ttft, t)
			}
			if e := c.cols[colE2E][i]; !math.IsNaN(e) {
				bins[b][1] = append(bins[b][1], e)
				xe, e2e = append(xe, in), append(e2e, e)
			}
		}
	}
	for b := range bins {
		// The bins are this function's own, without NaN: their medians found in place.
		n := max(len(bins[b][0]), len(bins[b][1]))
		ic.Bins = append(ic.Bins, InputBin{Lo: edges[b], Hi: edges[b+1], N: n,
			P50TTFTMS: Num(percentileInPlace(bins[b][0], .5)), P50E2EMS: Num(percentileInPlace(bins[b][1], .5))})
	}
	ic.TTFTSlopePer1k, ic.E2ESlopePer1k = slope(xs, ttft), slope(xe, e2e)
	return ic
}

// notNaN is 1 for a number, 0 for NaN.
func notNaN(x float64) int {
	if math.IsNaN(x) {
		return 0
	}
	return 1
}

func slope(x, y []float64) Num {
	if len(x) < 3 {
		return Num(math.NaN())
	}
	_, beta := stat.LinearRegression(x, y, nil, false)
	return Num(beta * 1000)
}
