package runner

import (
	"testing"

	"github.com/trackerbench/tracker/bench"
)

// The live level statistics (early stops, sweeps, the live view) leave canceled requests
// and client-resource failures out of n, the success rate and the window, as v_summary
// does, and count the client-resource failures apart.
func TestLevelStatsLeaveOutClientResourceFailures(t *testing.T) {
	ls := newLevelStats(SLO{})
	tokens, e2e := 10, 100.0
	add := func(status bench.RequestStatus, class bench.ErrorClass, start float64) {
		ls.add(&bench.Request{StartMS: start, Measurement: bench.Measurement{Status: status, ErrorClass: class,
			ElapsedMS: 100, E2EMS: &e2e, OutputTokens: &tokens}})
	}
	add(bench.StatusOK, "", 0)
	add(bench.StatusOK, "", 50)
	add(bench.StatusError, "http_500", 100)
	add(bench.StatusError, ClassClientResource, 5000) // would stretch the window
	add(bench.StatusError, ClassClientResource, 6000)
	add(bench.StatusCanceled, ClassCanceled, 7000)
	s := ls.snapshot()
	if s.N != 3 || s.OK != 2 || s.Failed != 1 || s.ClientResource != 2 || s.SuccessRate != 2.0/3 {
		t.Errorf("snapshot %+v: want n 3, ok 2, failed 1, client resource 2, success 2/3", s)
	}
	if want := 20 * 1000 / 200.0; s.OutputTokS != want { // 20 tokens over 0..200 ms
		t.Errorf("output tok/s %v, want %v (window of the measured requests only)", s.OutputTokS, want)
	}
}
