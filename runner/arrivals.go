package runner

import (
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/trackerbench/tracker/internal/defaults"
)

// arrivals generates an open-loop schedule: inter-arrival gaps drawn from a gamma
// distribution with shape B and scale 1/(rate·B), vLLM's parameterisation. B = 1 is a Poisson
// process (exponential gaps); B < 1 is burstier; B = +Inf is constant spacing 1/rate. The same
// seed gives the same schedule, so every endpoint meets the same arrivals.
type arrivals struct {
	rate     float64
	constant bool
	gamma    distuv.Gamma
	at       float64 // seconds after the level's start of the last arrival
	n        int
}

func newArrivals(rate, burstiness float64, seed int64) *arrivals {
	a := &arrivals{rate: rate}
	if math.IsInf(burstiness, 1) {
		a.constant = true
		return a
	}
	defaults.Positive(&burstiness, 1)
	src := rand.NewPCG(uint64(seed), 0x617272697661) // "arriva"
	a.gamma = distuv.Gamma{Alpha: burstiness, Beta: rate * burstiness, Src: src}
	return a
}

// gap is the next inter-arrival gap in seconds.
func (a *arrivals) gap() float64 {
	if a.constant {
		return 1 / a.rate
	}
	return a.gamma.Rand()
}

// next is the next request's scheduled time after the level's start. The first request is
// scheduled at 0.
func (a *arrivals) next() time.Duration {
	if a.n > 0 {
		a.at += a.gap()
	}
	a.n++
	return time.Duration(a.at * float64(time.Second))
}
