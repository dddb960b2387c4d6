package runner

import "sort"

// Relay detection (docs/metrics.md, "Relayed streams"). A relay between the server and the
// client (ALCF Sophia's gateway forwards chunks in groups of 20 or every 0.5 s and polls
// every 25 ms) turns a steady stream into bursts: most gaps near zero, a few long ones. The
// client's ITL and TPOT then describe the relay, not the decoder. A request is flagged when
//
//   - it has at least relayMinGaps inter-chunk gaps, and
//   - at least relayBurstShare of them are shorter than relayNearZeroMS, and
//   - at least one gap is at least relayLongMS and at least relayLongFactor × the median gap.
const (
	relayMinGaps    = 10
	relayNearZeroMS = 1.0
	relayBurstShare = 0.7
	relayLongMS     = 20.0
	relayLongFactor = 20.0
)

// relayed reports whether a request's inter-chunk gaps (ms) show a relay's bursts.
func relayed(gaps []float64) bool {
	if len(gaps) < relayMinGaps {
		return false
	}
	near := 0
	for _, g := range gaps {
		if g < relayNearZeroMS {
			near++
		}
	}
	if float64(near) < relayBurstShare*float64(len(gaps)) {
		return false
	}
	s := append([]float64{}, gaps...)
	sort.Float64s(s)
	median := s[len(s)/2]
	if len(s)%2 == 0 {
		median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	longest := s[len(s)-1]
	return longest >= relayLongMS && longest >= relayLongFactor*median
}
