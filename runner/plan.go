package runner

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/internal/defaults"
)

// Load is one load level: a closed loop of Concurrency requests in flight, or (Rate > 0) an
// open loop of Rate requests/s with at most Concurrency in flight (0 = no cap).
type Load struct {
	Concurrency int
	Rate        float64
}

// String is the level's label (bench.LoadLabel): "c=4" or "2 req/s (cap 8)".
func (l Load) String() string { return bench.LoadLabel(l.Concurrency, l.Rate) }

// Sweep searches for the load where an endpoint stops scaling.
type Sweep struct {
	Kind           bench.SweepKind
	MinGain        float64 // stop when output throughput rises by less than this fraction (default 0.05)
	MaxConcurrency int     // concurrency sweep: the highest level tried; rate sweep: the saturating level
	Steps          int     // rate sweep: rates between single-stream and saturated throughput
	SLOTarget      float64 // stop at the first level whose SLO attainment is below this (needs SLOs)
}

// SLO is a set of latency targets; zero = no target.
type SLO struct {
	TTFT, TPOT, E2E time.Duration
}

func (s SLO) set() bool { return s.TTFT > 0 || s.TPOT > 0 || s.E2E > 0 }

func (s SLO) store() bench.SLO {
	f := func(d time.Duration) *float64 {
		if d <= 0 {
			return nil
		}
		return ptr(ms(d))
	}
	return bench.SLO{TTFTMS: f(s.TTFT), TPOTMS: f(s.TPOT), E2EMS: f(s.E2E)}
}

// ParseSLO reads "ttft=500ms,tpot=50ms,e2e=10s" (any subset).
func ParseSLO(s string) (SLO, error) {
	var slo SLO
	if strings.TrimSpace(s) == "" {
		return slo, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if !ok || err != nil || d <= 0 {
			return slo, fmt.Errorf("%w: --slo %q: %q: want NAME=DURATION, e.g. ttft=500ms", ErrPlan, s, part)
		}
		switch strings.TrimSpace(k) {
		case "ttft":
			slo.TTFT = d
		case "tpot":
			slo.TPOT = d
		case "e2e":
			slo.E2E = d
		default:
			return slo, fmt.Errorf("%w: --slo %q: unknown target %q (want ttft, tpot, e2e)", ErrPlan, s, k)
		}
	}
	return slo, nil
}

// ParseInts reads a comma list of positive integers, as in --concurrency 1,8,64.
func ParseInts(flag, s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: --%s %q: %q is not a positive integer", ErrPlan, flag, s, part)
		}
		out = append(out, n)
	}
	return out, nil
}

// MinRate is the lowest request rate a level may ask for (one request every 1000 s): below
// it a level would wait for hours or forever before its first request.
const MinRate = 0.001

// ParseRates reads a comma list of positive request rates, as in --rate 2,4,8.
func ParseRates(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(f >= MinRate) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: --rate %q: %q is not a number of requests/s from %g up", ErrPlan, s, part, MinRate)
		}
		out = append(out, f)
	}
	return out, nil
}

// Plan is everything one run does.
type Plan struct {
	Label     string
	Endpoints []Endpoint
	Keys      map[string]string // endpoint name -> API key; never stored
	Baseline  string
	Dataset   string // what --dataset named
	Prompts   *dataset.PromptSet
	Seed      int64

	Loads          []Load        // the levels, in order (ignored by a sweep)
	Burstiness     float64       // gamma shape of open-loop arrivals; 0 = 1 (Poisson); +Inf = constant
	Requests       int           // requests per level; 0 = one pass over the prompts (with no Duration)
	Duration       time.Duration // how long each level sends; 0 = until Requests are sent
	Warmup         int           // requests per endpoint before its first level, excluded from statistics
	WarmupDuration time.Duration // and/or warm up for this long
	Repeat         int           // trials of every level (default 1)
	Conn           ConnOptions   // connections: warm or cold, HTTP version (conn.go)
	Order          bench.Order
	Sweep          *Sweep
	MaxErrorRate   float64 // stop a level early when its error rate passes this (0 = never)
	SLO            SLO
	Request        RequestOptions
	ConfigFile     string              // the --config file (absolute), read again by --resume
	DatasetConfig  bench.DatasetConfig // what --dataset and its flags asked for
	ServerMetrics  ServerMetrics       // scraping each endpoint's /metrics (telemetry.go)
}

// ErrPlan is returned for a plan that cannot run.
var ErrPlan = errors.New("invalid run plan")

func (p *Plan) validate() error {
	if len(p.Endpoints) > 0 && (p.Prompts == nil || len(p.Prompts.Prompts) == 0) {
		return fmt.Errorf("%w: no prompts", ErrPlan)
	}
	return p.validateSettings()
}

// validateSettings is validate without the prompts: what StartAhead checks before the
// prompts are prepared.
func (p *Plan) validateSettings() error {
	switch {
	case len(p.Endpoints) == 0:
		return fmt.Errorf("%w: no endpoints", ErrPlan)
	case len(p.Loads) == 0 && p.Sweep == nil:
		return fmt.Errorf("%w: no load levels", ErrPlan)
	case p.Warmup < 0 || p.Requests < 0 || p.Duration < 0 || p.WarmupDuration < 0 || p.Repeat < 0:
		return fmt.Errorf("%w: --warmup, --requests, --duration and --repeat must not be negative", ErrPlan)
	case p.MaxErrorRate < 0 || p.MaxErrorRate > 1:
		return fmt.Errorf("%w: --max-error-rate %g: want a fraction between 0 and 1", ErrPlan, p.MaxErrorRate)
	case p.Burstiness < 0:
		return fmt.Errorf("%w: --burstiness %g: want a positive shape (1 = Poisson, inf = constant)", ErrPlan, p.Burstiness)
	}
	if p.Repeat == 0 {
		p.Repeat = 1
	}
	if err := p.Conn.validate(); err != nil {
		return err
	}
	for _, l := range p.Loads {
		if l.Rate == 0 && l.Concurrency < 1 {
			return fmt.Errorf("%w: concurrency %d: want 1 or more", ErrPlan, l.Concurrency)
		}
		if l.Rate < 0 || l.Concurrency < 0 {
			return fmt.Errorf("%w: %s: rates and caps must be positive", ErrPlan, l)
		}
	}
	switch p.Order {
	case "":
		p.Order = bench.OrderInterleaved
	case bench.OrderInterleaved, bench.OrderSequential, bench.OrderConcurrent:
	default:
		return fmt.Errorf("%w: --order %q: want interleaved, sequential or concurrent", ErrPlan, p.Order)
	}
	if s := p.Sweep; s != nil {
		switch s.Kind {
		case bench.SweepConcurrency, bench.SweepRate:
		default:
			return fmt.Errorf("%w: --sweep %q: want concurrency or rate", ErrPlan, s.Kind)
		}
		defaults.Positive(&s.MinGain, 0.05)
		defaults.Positive(&s.MaxConcurrency, 256)
		defaults.Positive(&s.Steps, 5)
		if s.SLOTarget < 0 || s.SLOTarget > 1 {
			return fmt.Errorf("%w: --slo-target %g: want a fraction between 0 and 1", ErrPlan, s.SLOTarget)
		}
	}
	if err := p.ServerMetrics.validate(); err != nil {
		return err
	}
	if p.Request.Timeout < 0 || p.Request.StallTimeout < 0 {
		return fmt.Errorf("%w: timeouts must not be negative", ErrPlan)
	}
	return p.checkFileLimit() // rlimit.go
}

// openLoop reports whether any level is rate-driven.
func (p *Plan) openLoop() bool {
	if p.Sweep != nil && p.Sweep.Kind == bench.SweepRate {
		return true
	}
	for _, l := range p.Loads {
		if l.Rate > 0 {
			return true
		}
	}
	return false
}

// levelRequests is how many requests a level sends; 0 = unbounded (Duration decides).
func (p *Plan) levelRequests() int {
	if p.Requests > 0 {
		return p.Requests
	}
	if p.Duration > 0 {
		return 0
	}
	return len(p.Prompts.Prompts)
}

// config is the resolved configuration stored with the run: no keys, no header values, no
// key commands, URLs redacted.
func (p *Plan) config() bench.RunConfig {
	c := bench.RunConfig{Label: p.Label, ConfigFile: p.ConfigFile, Baseline: p.Baseline, Dataset: p.DatasetConfig,
		Prompts: len(p.Prompts.Prompts), Burstiness: strconv.FormatFloat(p.Burstiness, 'g', -1, 64),
		Requests: p.Requests, Duration: p.Duration, Warmup: p.Warmup, WarmupDuration: p.WarmupDuration,
		Repeat: p.Repeat, Order: p.Order, MaxErrorRate: p.MaxErrorRate,
		SLO: bench.SLOConfig{TTFT: p.SLO.TTFT, TPOT: p.SLO.TPOT, E2E: p.SLO.E2E},
		Request: bench.RequestConfig{MaxTokens: p.Request.MaxTokens, Temperature: p.Request.Temperature,
			IgnoreEOS: p.Request.IgnoreEOS, Timeout: p.Request.Timeout, StallTimeout: p.Request.StallTimeout,
			Stream: !p.Request.NoStream, Retries: p.Request.Retries, RetryBackoff: p.Request.RetryBackoff,
			CacheBust: p.Request.CacheBust},
		Conn: bench.ConnConfig{Cold: p.Conn.Cold, HTTP: p.Conn.httpVersion()}}
	if c.Dataset.Source == "" {
		c.Dataset.Source = p.Prompts.Source
	}
	for _, e := range p.Endpoints {
		c.Endpoints = append(c.Endpoints, e.stored())
	}
	for _, l := range p.Loads {
		c.Loads = append(c.Loads, bench.LoadConfig{Concurrency: l.Concurrency, Rate: l.Rate})
	}
	if s := p.Sweep; s != nil {
		c.Sweep = &bench.SweepConfig{Kind: s.Kind, MinGain: s.MinGain, MaxConcurrency: s.MaxConcurrency, Steps: s.Steps, SLOTarget: s.SLOTarget}
	}
	return c
}

// ClosedLoads turns concurrency levels into closed-loop loads.
func ClosedLoads(cs []int) []Load {
	out := make([]Load, len(cs))
	for i, c := range cs {
		out[i] = Load{Concurrency: c}
	}
	return out
}

// OpenLoads turns rates into open-loop loads with an optional in-flight cap (0 = none).
func OpenLoads(rates []float64, maxConcurrency int) []Load {
	out := make([]Load, len(rates))
	for i, r := range rates {
		out[i] = Load{Rate: r, Concurrency: maxConcurrency}
	}
	return out
}
