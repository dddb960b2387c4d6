package report

import (
	"math"
	"testing"
)

func TestCostPerMTokOut(t *testing.T) {
	hourly, _ := endpointPriceOf(`{"price_per_hour": 18, "nodes": 2}`)
	tokens, _ := endpointPriceOf(`{"input_price_per_mtok": 0.5, "output_price_per_mtok": 1.5}`)
	if _, ok := endpointPriceOf(`{"nodes": 2}`); ok {
		t.Error("nodes alone is not a price")
	}
	for _, tc := range []struct {
		name          string
		p             endpointPrice
		tokS, in, out float64
		want          float64
	}{
		// $36/h at 10 tok/s: 36,000 tokens an hour, so $1,000 per million.
		{"hourly, slow", hourly, 10, 0, 1, 1000},
		{"hourly, 10x the throughput costs a tenth", hourly, 100, 0, 1, 100},
		// Output price plus input price in proportion: 3 input tokens per output token.
		{"tokens", tokens, 10, 300, 100, 1.5 + 0.5*3},
	} {
		if got := float64(costPerMTokOut(tc.p, true, tc.tokS, tc.in, tc.out)); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := sideCost(hourly, true, 0, 0, 1800); got != 18 {
		t.Errorf("half an hour of 2 nodes at $18: %v, want 18", got)
	}
}

// TestCostCrossover: a token-priced endpoint costs the same at every load; an hourly one gets
// cheaper as its throughput rises, and overtakes it.
func TestCostCrossover(t *testing.T) {
	c := Curve{Xs: []float64{1, 8, 64}, Endpoints: []string{"api", "node"}}
	for i, x := range c.Xs {
		c.Points = append(c.Points,
			CurvePoint{Endpoint: "api", X: x, CostPerMTokOut: 3},
			CurvePoint{Endpoint: "node", X: x, CostPerMTokOut: Num([]float64{20, 5, 1}[i])})
	}
	cc := costCrossover(&c)
	if cc == nil || cc.Cheapest != "api" || cc.Endpoint != "node" || cc.At != 64 {
		t.Fatalf("crossover %+v, want node cheaper than api from 64", cc)
	}
	c.Points[5].CostPerMTokOut = 4
	if cc := costCrossover(&c); cc != nil {
		t.Errorf("no crossover expected: %+v", cc)
	}
}

func TestWilsonInterval(t *testing.T) {
	lo, hi := wilson(32, 32, 0.05)
	if math.Abs(lo-0.8928) > 1e-3 || hi != 1 {
		t.Errorf("32 of 32: %v–%v, want 0.893–1", lo, hi)
	}
	lo, hi = wilson(5, 10, 0.05)
	if math.Abs(lo-0.2366) > 1e-3 || math.Abs(hi-0.7634) > 1e-3 {
		t.Errorf("5 of 10: %v–%v, want 0.237–0.763", lo, hi)
	}
}
