package report

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/internal/memstore"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/store/storetest"
)

// profile is how a simulated endpoint behaves: TTFT grows with input length, TPOT with
// concurrency (slow = how much each extra stream slows decoding).
type profile struct {
	name       string
	ttftBase   float64 // ms
	ttftPerTok float64 // ms per input token
	tpot       float64 // ms at concurrency 1
	slow       float64 // tpot multiplier per extra concurrent stream
	config     string
}

// runSpec describes one synthetic run.
type runSpec struct {
	label       string
	started     time.Time
	promptSet   string
	maxTokens   int
	temperature float64
	prompts     int   // prompt set size; input tokens 100, 200, ...
	levels      []int // concurrencies
	perLevel    int   // measured requests per level
	endpoints   []profile
	tpotScale   map[string]float64 // planted per-endpoint slowdowns
	failures    map[string]int     // endpoint -> failed requests at the highest level
	cached      map[string]int     // endpoint -> cached_tokens of its ok requests (absent = not reported)
	quality     bool
	seed        uint64
	config      string // the run's config_json; "" = {}
	shuffle     bool   // record each level's requests out of sequence order (as completions come)
}

// addRun writes one synthetic run: a closed loop per level, each worker sending requests
// back to back, with one warm-up and one superseded retry per level that must be excluded.
func addRun(t testing.TB, ctx context.Context, db bench.Recorder, s runSpec) int64 {
	t.Helper()
	temp := s.temperature
	if s.config == "" {
		s.config = `{}`
	}
	runID, err := db.CreateRun(ctx, bench.Run{Label: s.label, StartedAt: s.started, ToolVersion: "test", Host: "test",
		ConfigJSON: s.config, Dataset: "synthetic", DatasetHash: "d", PromptSetHash: s.promptSet, Seed: 1,
		MaxTokens: s.maxTokens, Temperature: &temp, Stream: true})
	if err != nil {
		t.Fatal(err)
	}
	var prompts []bench.Prompt
	for i := range s.prompts {
		prompts = append(prompts, bench.Prompt{Idx: i, PromptID: fmt.Sprintf("p%d", i), SourceRow: i,
			TextHash: fmt.Sprintf("h%d", i), InputTokens: 100 * (i + 1)})
	}
	if err := db.AddPrompts(ctx, runID, prompts); err != nil {
		t.Fatal(err)
	}
	sink := db.RecordRequests(bench.SinkOptions{})
	rng := rand.New(rand.NewPCG(s.seed, uint64(runID)))
	for _, p := range s.endpoints {
		epID, err := db.AddEndpoint(ctx, bench.Endpoint{RunID: runID, Name: p.name, BaseURL: "http://127.0.0.1/" + p.name,
			Model: "model-" + p.name, ConfigJSON: p.config})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range s.levels {
			lvlID, err := db.StartLevel(ctx, bench.Level{RunID: runID, EndpointID: epID, Concurrency: c, StartedAt: s.started})
			if err != nil {
				t.Fatal(err)
			}
			reqs := levelRequests(&s, p, c, bench.Request{RunID: runID, LevelID: lvlID, EndpointID: epID}, rng)
			if s.shuffle {
				rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
			}
			for _, r := range reqs {
				sink.Add(r)
			}
			sink.Flush() // a level's statistics are stored from its recorded requests when it ends
			if err := db.FinishLevel(ctx, bench.Level{ID: lvlID, Status: bench.LevelCompleted, EndedAt: s.started.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, runID, bench.RunCompleted, s.started.Add(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	return runID
}

// levelRequests makes one level's requests: c workers sending back to back, the first a
// warm-up, the second a superseded attempt, failures at the end of the highest level.
func levelRequests(s *runSpec, p profile, c int, base bench.Request, rng *rand.Rand) []bench.Request {
	noise := func() float64 { return math.Max(0.5, 1+0.08*rng.NormFloat64()) }
	workers := make([]float64, c) // next free time per worker, ms
	var reqs []bench.Request
	nFail := 0
	if c == s.levels[len(s.levels)-1] {
		nFail = s.failures[p.name]
	}
	total := s.perLevel + 2 + nFail
	for i := range total {
		w := i % c
		start := workers[w]
		idx := i % s.prompts
		in := 100 * (idx + 1)
		scale := 1.0
		if f, ok := s.tpotScale[p.name]; ok {
			scale = f
		}
		out := 80 + rng.IntN(41)
		ttft := (p.ttftBase + p.ttftPerTok*float64(in)) * noise()
		tpot := p.tpot * (1 + p.slow*float64(c-1)) * scale * noise()
		e2e := ttft + tpot*float64(out-1)
		r := base
		r.PromptIdx, r.PromptID, r.Final, r.StartMS, r.Seq = idx, fmt.Sprintf("p%d", idx), true, start, ptr(i)
		r.Measurement = bench.Measurement{Status: bench.StatusOK, StartedAt: s.started, ElapsedMS: e2e,
			TTFTMS: ptr(ttft), E2EMS: ptr(e2e), TPOTMS: ptr(tpot), InputTokens: ptr(in), OutputTokens: ptr(out)}
		switch {
		case i == 0: // warm-up: absurd numbers that must not count
			r.Warmup, r.E2EMS, r.TTFTMS = true, ptr(1e6), ptr(1e6)
		case i == 1: // a superseded attempt
			r.Final, r.Status, r.ErrorClass = false, bench.StatusError, "http_5xx"
			r.E2EMS, r.TTFTMS, r.TPOTMS = nil, nil, nil
		case i >= s.perLevel+2: // failures, with server text that must be escaped
			r.Status, r.ErrorClass, r.HTTPStatus = bench.StatusError, "http_5xx", 502
			r.ErrorMessage = `upstream said <script>alert("x")</script> & gave up`
			r.TTFTMS, r.E2EMS, r.TPOTMS, r.OutputTokens = nil, nil, nil, nil
			r.ElapsedMS = 30
		}
		if s.quality && r.Status == bench.StatusOK {
			em := 0.0
			if rng.Float64() < 0.8 {
				em = 1
			}
			f1 := math.Min(1, em*0.9+0.1+0.2*rng.Float64())
			r.EM, r.F1 = &em, &f1
		}
		if n, ok := s.cached[p.name]; ok && r.Status == bench.StatusOK {
			r.CachedTokens = ptr(n)
		}
		if !r.Warmup {
			workers[w] = start + r.ElapsedMS
		}
		reqs = append(reqs, r)
	}
	return reqs
}

func ptr[T any](v T) *T { return &v }

var (
	metis  = profile{name: "metis", ttftBase: 200, ttftPerTok: 0.10, tpot: 20, slow: 0.05, config: `{"input_price_per_mtok": 0.5, "output_price_per_mtok": 1.5}`}
	sophia = profile{name: "sophia", ttftBase: 80, ttftPerTok: 0.03, tpot: 8, slow: 1.2, config: `{"price_per_hour": 12, "nodes": 2}`}
)

func day(d int) time.Time { return time.Date(2026, 11, d, 9, 0, 0, 0, time.UTC) }

// buildFixture is the fixed history of the golden test, in memory: a concurrency sweep of two
// endpoints (run 1), three more runs at concurrency 1 with a planted TPOT regression of sophia
// in the last, a small run at another max tokens (too few requests to claim), and a run only
// sophia measured at another temperature (not comparable).
func buildFixture(t testing.TB) *memstore.Store {
	t.Helper()
	db := memstore.New()
	fillFixture(t, db)
	return db
}

// buildFixtureSQL is buildFixture in a real database, for the tests that read it with SQL.
func buildFixtureSQL(t testing.TB) *store.DB {
	t.Helper()
	db := storetest.Open(t)
	fillFixture(t, db)
	return db
}

// fillFixture writes buildFixture's runs into db.
func fillFixture(t testing.TB, db bench.Recorder) {
	t.Helper()
	ctx := context.Background()
	both := []profile{metis, sophia}
	addRun(t, ctx, db, runSpec{label: "hw5", started: day(1), promptSet: "sha256:squad40", maxTokens: 128, prompts: 40,
		levels: []int{1, 2, 4, 8}, perLevel: 40, endpoints: both, failures: map[string]int{"metis": 2}, quality: true, seed: 1})
	for i, scale := range []float64{1, 1, 1.4} {
		spec := runSpec{label: "hw5", started: day(2 + i), promptSet: "sha256:squad40", maxTokens: 128, prompts: 40,
			levels: []int{1}, perLevel: 40, endpoints: both, seed: uint64(2 + i), quality: true}
		if scale != 1 {
			spec.tpotScale = map[string]float64{"sophia": scale}
		}
		addRun(t, ctx, db, spec)
	}
	addRun(t, ctx, db, runSpec{label: "other", started: day(6), promptSet: "sha256:squad40", maxTokens: 256, prompts: 40,
		levels: []int{1}, perLevel: 10, endpoints: both, seed: 6})
	addRun(t, ctx, db, runSpec{label: "other", started: day(7), promptSet: "sha256:squad40", maxTokens: 128, temperature: 0.7,
		prompts: 40, levels: []int{1}, perLevel: 40, endpoints: []profile{sophia}, seed: 7})
}
