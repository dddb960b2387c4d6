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
