package runner

import (
	"errors"
	"fmt"
	"time"

	"github.com/trackerbench/tracker/dataset"
)

// Orders across endpoints.
const (
	OrderInterleaved = "interleaved" // level by level, endpoints alternating
	OrderSequential  = "sequential"  // every level of one endpoint, then the next
)

// Plan is everything one run does.
type Plan struct {
	Label       string
	Endpoints   []Endpoint
	Keys        map[string]string // endpoint name -> API key; never stored
	Baseline    string
	Dataset     string // what --dataset named
	Prompts     *dataset.PromptSet
	Seed        int64
	Concurrency []int // closed-loop levels, in order
	Warmup      int   // requests per endpoint before its first level, excluded from statistics
	Order       string
	Request     RequestOptions
	Extra       map[string]any // more resolved settings to keep in the run's config (no secrets)
}

// ErrPlan is returned for a plan that cannot run.
var ErrPlan = errors.New("invalid run plan")

func (p *Plan) validate() error {
	switch {
	case len(p.Endpoints) == 0:
		return fmt.Errorf("%w: no endpoints", ErrPlan)
	case p.Prompts == nil || len(p.Prompts.Prompts) == 0:
		return fmt.Errorf("%w: no prompts", ErrPlan)
	case len(p.Concurrency) == 0:
		return fmt.Errorf("%w: no concurrency levels", ErrPlan)
	case p.Warmup < 0:
		return fmt.Errorf("%w: --warmup %d is negative", ErrPlan, p.Warmup)
	}
	for _, c := range p.Concurrency {
		if c < 1 {
			return fmt.Errorf("%w: concurrency %d: want 1 or more", ErrPlan, c)
		}
	}
	switch p.Order {
	case "":
		p.Order = OrderInterleaved
	case OrderInterleaved, OrderSequential:
	default:
		return fmt.Errorf("%w: --order %q: want interleaved or sequential", ErrPlan, p.Order)
	}
	if p.Request.Timeout < 0 || p.Request.StallTimeout < 0 {
		return fmt.Errorf("%w: timeouts must not be negative", ErrPlan)
	}
	return nil
}

// levelJob is one endpoint at one level.
type levelJob struct {
	ep          int // index into Plan.Endpoints
	concurrency int
}

// schedule lists the level jobs in the plan's order.
func (p *Plan) schedule() []levelJob {
	var jobs []levelJob
	if p.Order == OrderSequential {
		for e := range p.Endpoints {
			for _, c := range p.Concurrency {
				jobs = append(jobs, levelJob{e, c})
			}
		}
		return jobs
	}
	for _, c := range p.Concurrency {
		for e := range p.Endpoints {
			jobs = append(jobs, levelJob{e, c})
		}
	}
	return jobs
}

// configJSON is the resolved configuration stored with the run: no keys, no header values.
func (p *Plan) config() map[string]any {
	eps := make([]map[string]any, len(p.Endpoints))
	for i, e := range p.Endpoints {
		eps[i] = map[string]any{"name": e.Name, "base_url": e.BaseURL, "model": e.Model,
			"api_key_env": e.APIKeyEnv, "hardware": e.Hardware, "header_names": headerNames(e.Headers)}
	}
	cfg := map[string]any{
		"endpoints":     eps,
		"baseline":      p.Baseline,
		"dataset":       p.Dataset,
		"seed":          p.Seed,
		"prompts":       len(p.Prompts.Prompts),
		"concurrency":   p.Concurrency,
		"warmup":        p.Warmup,
		"order":         p.Order,
		"max_tokens":    p.Request.MaxTokens,
		"temperature":   p.Request.Temperature,
		"ignore_eos":    p.Request.IgnoreEOS,
		"timeout":       p.Request.Timeout.String(),
		"stall_timeout": p.Request.StallTimeout.String(),
		"stream":        true,
	}
	for k, v := range p.Extra {
		cfg[k] = v
	}
	return cfg
}

func durationOrNone(d time.Duration) string {
	if d == 0 {
		return "none"
	}
	return d.String()
}
