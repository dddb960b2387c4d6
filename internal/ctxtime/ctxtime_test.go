package ctxtime

import (
	"context"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want bool
		min  time.Duration // the call takes at least this long
		max  time.Duration // and returns well before this
	}{
		{"zero, live context", live, 0, true, 0, time.Second},
		{"negative, live context", live, -time.Second, true, 0, time.Second},
		{"whole wait passes", live, 20 * time.Millisecond, true, 20 * time.Millisecond, 10 * time.Second},
		{"zero, ended context", done, 0, false, 0, time.Second},
		// An hour-long wait on an ended context returns at once: the generous bound only
		// says it did not wait out d.
		{"ended context cuts the wait", done, time.Hour, false, 0, 30 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			got := Sleep(c.ctx, c.d)
			el := time.Since(start)
			if got != c.want {
				t.Errorf("Sleep = %v, want %v", got, c.want)
			}
			if el < c.min || el >= c.max {
				t.Errorf("took %v, want in [%v, %v)", el, c.min, c.max)
			}
		})
	}
}
