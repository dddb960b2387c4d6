package report

import "math"

// centredLogRange is a ratio axis's range, symmetric about 1× on a log scale: [1/M, M] with M
// the smallest power of two that holds every finite positive value of vs (at least 2), so 0.31×
// and 3.2× sit the same distance from 1× in both the SVG figures and the HTML charts.
func centredLogRange(vs []float64) (lo, hi float64) {
	k := 1.0
	for _, v := range vs {
		if v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			k = max(k, math.Ceil(math.Abs(math.Log2(v))-1e-9))
		}
	}
	return math.Exp2(-k), math.Exp2(k)
}
