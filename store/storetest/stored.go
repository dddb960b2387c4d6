package storetest

import (
	"math"

	"github.com/trackerbench/tracker/bench"
)

// StoredForm is r as the report's lean read (store's EachStored) gives it: the columns it
// does not read are NaN or false, and a request that did not succeed carries only its
// identity and status (its latencies and tokens are not pooled).
func StoredForm(r bench.ReportRequest) bench.ReportRequest {
	r.StartMS, r.ElapsedMS, r.Relayed = math.NaN(), math.NaN(), false
	if r.Status != bench.StatusOK {
		r.TTFTMS, r.E2EMS, r.TPOTMS, r.ServerTTFTMS = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		r.InputTokens, r.OutputTokens, r.Cached = math.NaN(), math.NaN(), false
	}
	return r
}
