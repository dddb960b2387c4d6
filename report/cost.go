package report

import (
	"encoding/json"
	"math"
)

// endpointPrice is what an endpoint costs, from its stored configuration: USD per million
// input and output tokens (hosted APIs), and/or USD per hour per node times the nodes it
// occupies (a GPU node, an RDU allocation).
type endpointPrice struct {
	InPerMTok, OutPerMTok float64
	PerHour               float64 // USD per node-hour
	Nodes                 int
	tokens, hourly        bool
}

// hourlyUSD is the endpoint's cost per hour, all its nodes together.
func (p endpointPrice) hourlyUSD() float64 { return p.PerHour * float64(max(p.Nodes, 1)) }

// endpointPriceOf reads the prices from an endpoint's configuration JSON
// (input_price_per_mtok, output_price_per_mtok, price_per_hour, nodes).
func endpointPriceOf(cfgJSON string) (endpointPrice, bool) {
	var cfg struct {
		In    *float64 `json:"input_price_per_mtok"`
		Out   *float64 `json:"output_price_per_mtok"`
		Hour  *float64 `json:"price_per_hour"`
		Nodes int      `json:"nodes"`
	}
	if json.Unmarshal([]byte(cfgJSON), &cfg) != nil {
		return endpointPrice{}, false
	}
	var p endpointPrice
	if cfg.In != nil && cfg.Out != nil {
		p.InPerMTok, p.OutPerMTok, p.tokens = *cfg.In, *cfg.Out, true
	}
	if cfg.Hour != nil && *cfg.Hour > 0 {
		p.PerHour, p.Nodes, p.hourly = *cfg.Hour, max(cfg.Nodes, 1), true
	}
	return p, p.tokens || p.hourly
}

// sideCost is what a side's successful requests cost: tokens at the token prices, plus the
// hours its levels kept the endpoint busy (Σ level windows) at the hourly price. NaN when the
// endpoint has no price.
func sideCost(p endpointPrice, ok bool, inTok, outTok, busySeconds float64) float64 {
	if !ok {
		return math.NaN()
	}
	var usd float64
	if p.tokens {
		usd += (inTok*p.InPerMTok + outTok*p.OutPerMTok) / 1e6
	}
	if p.hourly {
		usd += p.hourlyUSD() * busySeconds / 3600
	}
	return usd
}

// costPerMTokOut is the cost of a million output tokens at a measured output throughput: the
// hourly price over the tokens an hour yields at that rate, plus the token prices per output
// token (input tokens counted in their measured proportion to output tokens).
func costPerMTokOut(p endpointPrice, ok bool, outTokS, inTok, outTok float64) Num {
	if !ok || outTok <= 0 {
		return Num(math.NaN())
	}
	var usd float64
	if p.tokens {
		usd += p.OutPerMTok + p.InPerMTok*inTok/outTok
	}
	if p.hourly {
		if !(outTokS > 0) {
			return Num(math.NaN())
		}
		usd += p.hourlyUSD() / (outTokS * 3600) * 1e6
	}
	return Num(usd)
}

// CostCrossover is where another endpoint becomes cheaper per output token than the one that
// is cheapest at the lowest load level every endpoint measured.
type CostCrossover struct {
	Cheapest      string  `json:"cheapest_at_low_load"`
	CheapestAt    float64 `json:"cheapest_at"`
	Endpoint      string  `json:"endpoint"`
	At            float64 `json:"at"`
	CostPerMTok   Num     `json:"cost_per_mtok_out"`
	CheapestValue Num     `json:"cheapest_cost_per_mtok_out"`
}

// costCrossover is the cost analogue of crossover: nil when fewer than two endpoints have a
// cost at a common level, or when the cheapest stays cheapest.
func costCrossover(c *Curve) *CostCrossover {
	if len(c.Endpoints) < 2 {
		return nil
	}
	x0, found := c.firstCommonLevel(func(p *CurvePoint) Num { return p.CostPerMTokOut })
	if !found {
		return nil
	}
	cheapest := ""
	var best Num
	for _, e := range c.Endpoints {
		if p := c.point(e, x0); cheapest == "" || p.CostPerMTokOut < best {
			cheapest, best = e, p.CostPerMTokOut
		}
	}
	for _, x := range c.Xs {
		w := c.point(cheapest, x)
		if x <= x0 || w == nil || !w.CostPerMTokOut.Valid() {
			continue
		}
		for _, e := range c.Endpoints {
			if p := c.point(e, x); e != cheapest && p != nil && p.CostPerMTokOut.Valid() && p.CostPerMTokOut < w.CostPerMTokOut {
				return &CostCrossover{Cheapest: cheapest, CheapestAt: x0, Endpoint: e, At: x, CostPerMTok: p.CostPerMTokOut, CheapestValue: w.CostPerMTokOut}
			}
		}
	}
	return nil
}
