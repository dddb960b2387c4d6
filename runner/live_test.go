package runner

import (
	"bytes"
	"context"
	"regexp"
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
	for _, want := range []string{"live-a concurrency 2 #1", "done", "err", "req/s", "p50 TTFT", "ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("live view lacks %q: %q", want, out)
		}
	}
	if !regexp.MustCompile(`live-a concurrency 2 #1: [1-9][0-9]* done, 0 err, [0-9.]+ req/s, p50 TTFT [3-9][0-9]ms`).MatchString(out) {
		t.Errorf("live view never showed requests done with a p50 TTFT of at least 30 ms: %q", out)
	}
}
