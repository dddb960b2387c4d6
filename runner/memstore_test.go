package runner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
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
