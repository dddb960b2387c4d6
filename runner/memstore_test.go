package runner

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/internal/memstore"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// A recorder that stops accepting requests stops the run at once, as failed with its error,
// and --resume then sends exactly the requests that have no record: the runner's side of the
// bench.Recorder and bench.Resumer contract, in memory (TestDiskFullStopsRun is the same
// over a real database that fills up).
func TestRecorderFailureStopsRunAndResumeFinishes(t *testing.T) {
	f := &fakeServer{ttft: time.Millisecond, tokens: words(2)}
	srv := f.start(t)
	r, m := newMemRunner(t)
	const planned = 400
	p := plan(20, []int{4}, ep("a", srv.URL))
	p.Requests = planned
	m.FailRequestsAfter(30, errors.New("the disk is full"))
	out, err := r.Run(context.Background(), p)
	if err == nil || !strings.Contains(err.Error(), "the disk is full") || out.Status != bench.RunFailed {
		t.Fatalf("outcome %+v, err %v: want failed with the recorder's error", out, err)
	}
	run, _ := m.GetRun(context.Background(), out.RunID)
	sent, recorded := f.count(), len(m.Requests())
	if run.Status != bench.RunFailed || recorded != 30 || sent > recorded+2*4 {
		t.Errorf("run %s, %d sent, %d recorded: want failed, 30 recorded and at most the in-flight requests more sent",
			run.Status, sent, recorded)
	}

	m.FailRequestsAfter(0, nil)
	f2 := &fakeServer{ttft: time.Millisecond, tokens: words(2)}
	p.Endpoints[0].BaseURL = f2.start(t).URL + "/v1"
	if out, err := r.Resume(context.Background(), out.RunID, p); err != nil || out.Status != bench.RunCompleted {
		t.Fatalf("resume: %+v %v", out, err)
	}
	if f2.count() != planned-30 {
		t.Errorf("resume sent %d, want the %d without a record", f2.count(), planned-30)
	}
	seqs := map[int]int{}
	for _, rec := range m.Requests() {
		if rec.Final && !rec.Warmup && rec.Status != bench.StatusCanceled {
			seqs[*rec.Seq]++
		}
	}
	for seq := range planned {
		if seqs[seq] != 1 {
			t.Errorf("seq %d has %d final records, want 1", seq, seqs[seq])
		}
	}
}

// rawRecorder keeps the records exactly as the runner hands them to its sink.
type rawRecorder struct {
	*memstore.Store
	mu   sync.Mutex
	recs []bench.Request
}

type rawSink struct {
	bench.RequestSink
	r *rawRecorder
}

func (r *rawRecorder) RecordRequests(o bench.SinkOptions) bench.RequestSink {
	return rawSink{r.Store.RecordRequests(o), r}
}

func (s rawSink) Add(rec bench.Request) {
	s.r.mu.Lock()
	s.r.recs = append(s.r.recs, rec)
	s.r.mu.Unlock()
	s.RequestSink.Add(rec)
}

// A record leaves the runner with a wall-clock send time only (the monotonic reading it was
// measured with is dropped) and with its offset from the level's start taken on the
// monotonic clock: the two agree with each other. The level's clock starts after its
// warm-up, so each measured record's wall-clock start, less its StartMS, is one offset
// (to 1 ms), no earlier than the warm-up's end; how long the warm-up took is the host's
// business (a 50 ms ceiling on it failed at load 6-9).
func TestRecordsCarryNoMonotonicReading(t *testing.T) {
	f := &fakeServer{ttft: 2 * time.Millisecond, tokens: words(2)}
	srv := f.start(t)
	raw := &rawRecorder{Store: memstore.New()}
	r := &Runner{DB: raw, Tokens: tokenstest.Counter(t), Version: "test"}
	p := plan(4, []int{2}, ep("a", srv.URL))
	p.Warmup = 1
	if _, err := r.Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(raw.recs) != 5 {
		t.Fatalf("%d records, want 4 and a warm-up", len(raw.recs))
	}
	level := raw.Levels()[0]
	warmEnd, offsets := math.NaN(), []float64{}
	for _, rec := range raw.recs {
		if rec.StartedAt != rec.StartedAt.Round(0) {
			t.Errorf("record of prompt %s, attempt %d: StartedAt %v carries a monotonic clock reading", rec.PromptID, rec.Attempt, rec.StartedAt)
		}
		wall := float64(rec.StartedAt.Sub(level.StartedAt)) / float64(time.Millisecond)
		if rec.Warmup {
			warmEnd = wall + rec.ElapsedMS
			continue
		}
		offsets = append(offsets, wall-rec.StartMS)
	}
	for _, o := range offsets {
		if math.Abs(o-offsets[0]) > 1 || !(o >= warmEnd-1) {
			t.Errorf("wall-clock start less StartMS: %.3f ms (of %.3f); want one offset, no earlier than the warm-up's end %.3f ms",
				o, offsets, warmEnd)
		}
	}
}
