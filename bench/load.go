package bench

import (
	"strconv"
)

// LoadLabel is a load level in words, the same in the live view, the run's errors and the
// report: "c=4" for a closed loop of 4 requests in flight, "2.5 req/s" for an open loop,
// "2.5 req/s (cap 8)" for one with at most 8 in flight. A rate shows at most 4 significant
// digits (a rate sweep's computed rates are not round), never in exponent form.
func LoadLabel(concurrency int, rate float64) string {
	if rate <= 0 {
		return "c=" + strconv.Itoa(concurrency)
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(rate, 'g', 4, 64), 64)
	s := strconv.FormatFloat(r, 'f', -1, 64) + " req/s"
	if concurrency > 0 {
		s += " (cap " + strconv.Itoa(concurrency) + ")"
	}
	return s
}
