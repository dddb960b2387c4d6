package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/internal/memstore"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func generate(t *testing.T, db bench.History, o Options) *Result {
	t.Helper()
	res, err := Generate(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// fixtureReport is the report of buildFixture's history with the default options.
func fixtureReport(t *testing.T) *Result {
	t.Helper()
	return generate(t, buildFixture(t), Options{})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

// TestGoldenMarkdown: the report of the fixture, read from a real database and from memory
// (the two History implementations must agree to the last digit).
func TestGoldenMarkdown(t *testing.T) {
	for name, db := range map[string]bench.History{"sqlite": buildFixtureSQL(t), "memory": buildFixture(t)} {
		t.Run(name, func(t *testing.T) { goldenMarkdown(t, db) })
	}
}

func goldenMarkdown(t *testing.T, db bench.History) {
	res := generate(t, db, Options{})
	var buf bytes.Buffer
	if err := res.WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "fixture.md.golden", buf.Bytes())

	// The same database and seed give the same numbers.
	var again bytes.Buffer
	if err := generate(t, db, Options{}).WriteMarkdown(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("two reports over the same database differ")
	}
}

// TestFixtureFindings checks what the fixture was built to show, independently of wording.
func TestFixtureFindings(t *testing.T) {
	res := fixtureReport(t)
	if res.Baseline != "metis" || res.BaselineSource != "the first endpoint alphabetically" {
		t.Errorf("baseline %q (%s), want metis alphabetically", res.Baseline, res.BaselineSource)
	}
	// Groups: c=1,2,4,8 at max tokens 128 temp 0; max tokens 256; temperature 0.7.
	if len(res.Groups) != 6 {
		t.Fatalf("%d groups, want 6", len(res.Groups))
	}
	// The temperature-0.7 run only has sophia: not compared, with the reason naming temperature.
	var found bool
	for _, x := range res.NotCompared {
		if x.Endpoint == "sophia" && strings.Contains(x.Reason, "temperature 0.7 vs 0") {
			found = true
		}
	}
	if !found {
		t.Errorf("no exclusion naming the temperature difference: %+v", res.NotCompared)
	}
	// At c=1 sophia is much faster in E2E; at c=8 it is slower.
	c1 := groupAt(t, res, 128, 1)
	c8 := groupAt(t, res, 128, 8)
	s1 := res.speedup(c1.ID, "sophia", MetricE2E, "median")
	if s1.Verdict() != VerdictBetter || s1.Ratio < 2 {
		t.Errorf("c=1 sophia E2E speedup %v verdict %s, want > 2× better", s1.Ratio, s1.Verdict())
	}
	s8 := res.speedup(c8.ID, "sophia", MetricE2E, "median")
	if s8.Verdict() != VerdictWorse {
		t.Errorf("c=8 sophia E2E verdict %s (%v), want worse", s8.Verdict(), s8.Ratio)
	}
	// The max-tokens-256 run has 10 requests a side: too few.
	small := groupAt(t, res, 256, 1)
	if v := res.speedup(small.ID, "sophia", MetricE2E, "median").Verdict(); v != VerdictTooFew {
		t.Errorf("10-request comparison verdict %q, want too few", v)
	}
	// Load curve: sophia wins single-stream, saturates at once, metis overtakes.
	if len(res.Curves) != 1 {
		t.Fatalf("%d curves, want 1", len(res.Curves))
	}
	cv := res.Curves[0]
	if cv.Winner != "sophia" || cv.Crossover == nil || cv.Crossover.Endpoint != "metis" {
		t.Errorf("winner %q crossover %+v, want sophia overtaken by metis", cv.Winner, cv.Crossover)
	}
	for _, s := range cv.Saturation {
		if s.Endpoint == "sophia" && (!s.Saturated || s.At != 1) {
			t.Errorf("sophia saturation %+v, want saturated at 1", s)
		}
		if s.Endpoint == "metis" && s.Saturated {
			t.Errorf("metis saturation %+v, want still rising", s)
		}
	}
	// History: the planted sophia slowdown in the newest c=1 run is flagged; metis is not.
	for _, h := range res.History {
		if h.Group != c1.ID || h.Metric != MetricE2E {
			continue
		}
		want := h.Endpoint == "sophia"
		if !h.Checked || h.Regression != want {
			t.Errorf("history %s %s: checked %v regression %v, want %v", h.Endpoint, h.Metric, h.Checked, h.Regression, want)
		}
	}
	// Input length varies 100..4000 tokens: latency against input length is there, TTFT slope
	// close to the planted 0.10 ms/token for metis (100 ms per 1k).
	var slopeOK bool
	for _, ic := range res.InputCurves {
		if ic.Group == c1.ID && ic.Endpoint == "metis" {
			slopeOK = math.Abs(float64(ic.TTFTSlopePer1k)-100) < 15
		}
	}
	if !slopeOK {
		t.Errorf("metis TTFT slope on %s not near 100 ms per 1k tokens: %+v", c1.ID, res.InputCurves)
	}
	// The JSON holds every number and round-trips.
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("report.json does not parse: %v", err)
	}
	if n := len(back["speedups"].([]any)); n != len(res.Speedups) || n == 0 {
		t.Errorf("report.json has %d speedups, result %d", n, len(res.Speedups))
	}
}

func groupAt(t *testing.T, res *Result, maxTokens, c int) *Group {
	t.Helper()
	for _, g := range res.Groups {
		if g.Fingerprint.MaxTokens == maxTokens && g.Fingerprint.Concurrency == c && g.Fingerprint.Temperature != nil && *g.Fingerprint.Temperature == 0 {
			return g
		}
	}
	t.Fatalf("no group with max tokens %d at c=%d", maxTokens, c)
	return nil
}

// An endpoint's latency figures pooled over a group's levels are defined as a level's: where
// the group holds one level of the endpoint, they are that level's, every one of them.
func TestPooledLatenciesOfOneLevelAreTheLevels(t *testing.T) {
	res := fixtureReport(t)
	g := groupAt(t, res, 256, 1) // one run, one level a side
	byEndpoint := map[string]Latencies{}
	for _, l := range res.Levels {
		if l.Group == g.ID {
			byEndpoint[l.Endpoint] = l.Latencies
		}
	}
	if len(g.Endpoints) != 2 || len(byEndpoint) != 2 {
		t.Fatalf("group %s: %d endpoints, %d levels; want 2 and 2", g.ID, len(g.Endpoints), len(byEndpoint))
	}
	for _, e := range g.Endpoints {
		want := byEndpoint[e.Endpoint]
		if e.Levels != 1 || e.Latencies != want || !e.P99TPOTMS.Valid() {
			t.Errorf("%s (%d levels): pooled %+v, level %+v", e.Endpoint, e.Levels, e.Latencies, want)
		}
	}
}

// TestLevelFiguresMatchSummaryView: the report's per-level figures are v_summary's.
func TestLevelFiguresMatchSummaryView(t *testing.T) {
	db := buildFixtureSQL(t)
	res := generate(t, db, Options{})
	var ids []int64
	for _, r := range res.Runs {
		ids = append(ids, r.ID)
	}
	view, err := db.LevelSummaries(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(view) != len(res.Levels) || len(view) == 0 {
		t.Fatalf("v_summary has %d levels, report %d", len(view), len(res.Levels))
	}
	for _, l := range res.Levels {
		v, ok := view[l.LevelID]
		if !ok {
			t.Fatalf("level %d not in v_summary", l.LevelID)
		}
		var viewTokens int64 // NULL when no ok request has a count; the report's figure is then 0
		if v.OutputTokens != nil {
			viewTokens = *v.OutputTokens
		}
		if l.N != v.N || l.OK != v.OK || l.OutputTokens != viewTokens {
			t.Errorf("level %d: n/ok/tokens %d/%d/%d, view %d/%d/%d", l.LevelID, l.N, l.OK, l.OutputTokens, v.N, v.OK, viewTokens)
		}
		for name, pair := range map[string][2]any{
			"success_rate": {l.SuccessRate, v.SuccessRate},
			"mean_e2e_ms":  {l.MeanE2EMS, v.MeanE2EMS}, "p50_e2e_ms": {l.P50E2EMS, v.P50E2EMS},
			"p90_e2e_ms": {l.P90E2EMS, v.P90E2EMS}, "p99_e2e_ms": {l.P99E2EMS, v.P99E2EMS},
			"mean_ttft_ms": {l.MeanTTFTMS, v.MeanTTFTMS}, "p50_ttft_ms": {l.P50TTFTMS, v.P50TTFTMS},
			"p90_ttft_ms": {l.P90TTFTMS, v.P90TTFTMS}, "p99_ttft_ms": {l.P99TTFTMS, v.P99TTFTMS},
			"mean_tpot_ms": {l.MeanTPOTMS, v.MeanTPOTMS}, "p50_tpot_ms": {l.P50TPOTMS, v.P50TPOTMS},
			"p90_tpot_ms": {l.P90TPOTMS, v.P90TPOTMS}, "p99_tpot_ms": {l.P99TPOTMS, v.P99TPOTMS},
			"duration_s": {l.DurationS, v.DurationS}, "output_tok_s": {l.OutputTokS, v.OutputTokS},
			"req_s": {l.ReqS, v.ReqS}, "mean_req_tok_s": {l.MeanReqTokS, v.MeanReqTokS},
			"em": {l.EM, v.EM}, "f1": {l.F1, v.F1},
		} {
			got := float64(pair[0].(Num))
			var want float64
			switch w := pair[1].(type) {
			case float64:
				want = w
			case *float64:
				if w == nil {
					want = math.NaN()
				} else {
					want = *w
				}
			}
			if math.IsNaN(got) != math.IsNaN(want) || !math.IsNaN(got) && math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("level %d %s: report %v, v_summary %v", l.LevelID, name, got, want)
			}
		}
	}
}

func TestBaselineChoice(t *testing.T) {
	ctx := context.Background()
	db := memstore.New()
	addRun(t, ctx, db, runSpec{label: "a", started: day(1), promptSet: "p", maxTokens: 64, prompts: 10, levels: []int{1},
		perLevel: 30, endpoints: []profile{metis, sophia}, seed: 1, config: `{"baseline": "sophia", "seed": 1}`})
	if res := generate(t, db, Options{}); res.Baseline != "sophia" || !strings.Contains(res.BaselineSource, "configuration") {
		t.Errorf("baseline %q from %q, want sophia from the run configuration", res.Baseline, res.BaselineSource)
	}
	if res := generate(t, db, Options{Baseline: "metis"}); res.Baseline != "metis" || res.BaselineSource != "--baseline" {
		t.Errorf("baseline %q from %q, want metis from --baseline", res.Baseline, res.BaselineSource)
	}
	if _, err := Generate(ctx, db, Options{Baseline: "nope"}); !errors.Is(err, ErrNoBaseline) {
		t.Errorf("unknown baseline: %v, want ErrNoBaseline", err)
	}
	if _, err := Generate(ctx, db, Options{Label: "missing"}); !errors.Is(err, ErrNoRuns) {
		t.Errorf("empty selection: %v, want ErrNoRuns", err)
	}
	if _, err := Generate(ctx, db, Options{RunIDs: []int64{1, 99}}); !errors.Is(err, bench.ErrNotFound) {
		t.Errorf("unknown run id: %v, want ErrNotFound", err)
	}
}

// A comparison where one endpoint's prompt cache served its answers and the other's did not is
// marked; when both or neither were served, nothing is said.
func TestCacheAsymmetryMarked(t *testing.T) {
	for _, tc := range []struct {
		cached map[string]int
		marked bool
	}{
		{map[string]int{"a": 90, "b": 0}, true},
		{map[string]int{"a": 90}, true}, // b reports nothing
		{map[string]int{"a": 90, "b": 90}, false},
		{map[string]int{"a": 0, "b": 0}, false},
		{nil, false},
	} {
		db := memstore.New()
		addRun(t, context.Background(), db, runSpec{label: "c", started: day(1), promptSet: "ps", maxTokens: 128,
			prompts: 4, levels: []int{1}, perLevel: 8, seed: 1, cached: tc.cached,
			endpoints: []profile{{name: "a", ttftBase: 50, tpot: 10}, {name: "b", ttftBase: 50, tpot: 10}}})
		res := generate(t, db, Options{})
		var got string
		for _, f := range res.Findings {
			if strings.Contains(f, "cache-asymmetric") {
				got = f
			}
		}
		if (got != "") != tc.marked || (tc.marked && !strings.Contains(got, "a (100%)")) {
			t.Errorf("cached %v: finding %q, want marked %v", tc.cached, got, tc.marked)
		}
	}
}
