package report

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSelectKLargeSamples checks the selection on the sizes the bootstrap gives it (above
// the 600 elements where Floyd–Rivest samples first), with ties, sorted and reversed input,
// for ranks at the edges and the middle.
func TestSelectKLargeSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{601, 602, 1000, 4097, 10000, 20001} {
		base := make([]float64, n)
		for i := range base {
			base[i] = math.Round(rng.ExpFloat64() * 50) // heavy ties
		}
		sorted := slices.Sorted(slices.Values(base))
		inputs := map[string][]float64{"random": base, "sorted": sorted, "reversed": slices.Clone(sorted)}
		slices.Reverse(inputs["reversed"])
		for name, in := range inputs {
			for _, k := range []int{0, 1, n / 3, (n - 1) / 2, n / 2, n - 2, n - 1} {
				x := slices.Clone(in)
				if got := selectK(x, k); got != sorted[k] {
					t.Fatalf("%s n=%d k=%d: %g, want %g", name, n, k, got, sorted[k])
				}
				for i, v := range x {
					if (i < k && v > x[k]) || (i > k && v < x[k]) {
						t.Fatalf("%s n=%d k=%d: not partitioned at %d", name, n, k, i)
					}
				}
			}
			if got, want := medianInPlace(slices.Clone(in)), quantileSorted(sorted, .5); got != want {
				t.Fatalf("%s n=%d: median %g, want %g", name, n, got, want)
			}
		}
	}
}

// TestMedianInPlaceLargeAwkward checks the median of bootstrap-sized samples whose values
// crowd into few of the counting ranges, span huge or tiny ranges, are negative, equal, or
// include an infinity or a NaN-free extreme, against the median of the sorted values.
func TestMedianInPlaceLargeAwkward(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gen := map[string]func(i int) float64{
		"all equal":        func(int) float64 { return 7 },
		"two values":       func(i int) float64 { return float64(i % 2) },
		"one far outlier":  func(i int) float64 { return map[bool]float64{true: 1e300, false: 1 + rng.Float64()}[i == 17] },
		"negative":         func(int) float64 { return -rng.ExpFloat64() },
		"tiny range":       func(int) float64 { return 1 + float64(rng.IntN(3))*1e-15 },
		"subnormal range":  func(int) float64 { return float64(rng.IntN(3)) * 5e-324 },
		"infinity":         func(i int) float64 { return map[bool]float64{true: math.Inf(1), false: rng.Float64()}[i == 3] },
		"minus infinity":   func(i int) float64 { return map[bool]float64{true: math.Inf(-1), false: rng.Float64()}[i == 3] },
		"heavy tail":       func(int) float64 { return math.Exp(rng.NormFloat64() * 4) },
		"clustered by run": func(i int) float64 { return float64(i/10%7)*100 + rng.Float64() },
	}
	for name, g := range gen {
		for _, n := range []int{256, 257, 1000, 10001} {
			x := make([]float64, n)
			for i := range x {
				x[i] = g(i)
			}
			want := quantile(x, 0.5)
			got := medianInPlace(slices.Clone(x))
			if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("%s n=%d: medianInPlace %g, sorted median %g", name, n, got, want)
			}
			y := slices.Clone(x)
			medianInPlace(y)
			slices.Sort(y)
			if !slices.Equal(y, slices.Sorted(slices.Values(x))) {
				t.Errorf("%s n=%d: medianInPlace changed the values, not only their order", name, n)
			}
		}
	}
}
