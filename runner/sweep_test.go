package runner

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/internal/memstore"
)

// stopRecorder keeps the stop reasons a sweep sets, by level id.
type stopRecorder struct {
	*memstore.Store
	reasons map[int64]string
}

func (s *stopRecorder) SetStopReason(_ context.Context, id int64, reason string) error {
	s.reasons[id] = reason
	return nil
}

// batchLimited is a model of a continuous-batching server with a batch limit per endpoint:
// a level at concurrency c gets min(c, limit) times one stream's throughput, however the
// host schedules the test. It records the concurrencies it ran, per endpoint.
type batchLimited struct {
	limits []int
	ran    [][]int
}

func (b *batchLimited) run(_ context.Context, group []levelRun) ([]levelResult, error) {
	out := make([]levelResult, len(group))
	for i, lr := range group {
		c := lr.load.Concurrency
		b.ran[lr.ep] = append(b.ran[lr.ep], c)
		out[i] = levelResult{id: int64(1000*lr.ep + c), snap: snapshot{N: lr.minRequests, OK: lr.minRequests,
			SuccessRate: 1, OutputTokS: 100 * float64(min(c, b.limits[lr.ep]))}}
	}
	return out, nil
}

// The concurrency sweep's stopping decision, on throughputs that scheduling cannot move: each
// endpoint stops at the first doubling past its batch limit (the first gain below MinGain),
// saying so, and the others go on; an endpoint with no limit in reach stops at the sweep's
// highest concurrency. TestSweepStopsAtBatchLimit is the same through real HTTP and a real
// simulator, with looser bounds.
func TestSweepStopsAtFirstLevelPastLimit(t *testing.T) {
	for _, order := range []bench.Order{bench.OrderInterleaved, bench.OrderSequential} {
		b := &batchLimited{limits: []int{4, 16, 1000}, ran: make([][]int, 3)}
		db := &stopRecorder{Store: memstore.New(), reasons: map[int64]string{}}
		ex := &executor{r: &Runner{DB: db}, plan: &Plan{Order: order,
			Endpoints: []Endpoint{{Name: "a"}, {Name: "b"}, {Name: "c"}},
			Sweep:     &Sweep{Kind: bench.SweepConcurrency, MinGain: 0.15, MaxConcurrency: 64}}}
		if err := ex.sweepConcurrency(context.Background(), b.run); err != nil {
			t.Fatal(err)
		}
		for e, want := range [][]int{{1, 2, 4, 8}, {1, 2, 4, 8, 16, 32}, {1, 2, 4, 8, 16, 32, 64}} {
			if !slices.Equal(b.ran[e], want) {
				t.Errorf("order %s, endpoint %d (limit %d): ran %v, want %v", order, e, b.limits[e], b.ran[e], want)
			}
			last := want[len(want)-1]
			reason := db.reasons[int64(1000*e+last)]
			wantReason := "sweep stopped: output throughput rose 0.0%"
			if e == 2 {
				wantReason = "sweep stopped: reached the sweep's highest concurrency 64"
			}
			if !strings.HasPrefix(reason, wantReason) || len(db.reasons) != 3 {
				t.Errorf("order %s, endpoint %d: stop reason %q (of %d), want %q", order, e, reason, len(db.reasons), wantReason)
			}
		}
	}
}
