package runner

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The live view shows each running level's requests done, errors, achieved rate and p50 TTFT.
func TestLiveView(t *testing.T) {
	f := &fakeServer{ttft: 30 * time.Millisecond, tokens: words(2)}
	srv := f.start(t)
	r, _ := newRunner(t)
	var buf bytes.Buffer
	r.Progress = &buf
	if _, err := r.Run(context.Background(), plan(40, []int{2}, ep("live-a", srv.URL))); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"live-a c=2 #1", "done", "err", "req/s", "p50 TTFT", "ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("live view lacks %q: %q", want, out)
		}
	}
	// The server's own TTFT is 30 ms: the live p50 can be no lower (a tight lower bound); how much
	// higher depends on the machine's load, so no upper bound is asserted.
	m := regexp.MustCompile(`live-a c=2 #1: [1-9][0-9]* done, 0 err, [0-9.]+ req/s, p50 TTFT ([0-9]+)ms`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("live view never showed requests done with a p50 TTFT: %q", out)
	}
	if p50, _ := strconv.Atoi(m[1]); p50 < 30 {
		t.Errorf("live p50 TTFT %d ms is below the server's own 30 ms: %q", p50, out)
	}
}
