package bench

import "testing"

func TestLoadLabel(t *testing.T) {
	cases := []struct {
		concurrency int
		rate        float64
		want        string
	}{
		{1, 0, "c=1"},
		{256, 0, "c=256"},
		{0, 2.5, "2.5 req/s"},
		{8, 2.5, "2.5 req/s (cap 8)"},
		{0, 13.284629103, "13.28 req/s"}, // a rate sweep's computed rate
		{0, 0.012345, "0.01235 req/s"},
		{0, 12000, "12000 req/s"}, // not 1.2e+04
		{0, 123456, "123500 req/s"},
	}
	for _, c := range cases {
		if got := LoadLabel(c.concurrency, c.rate); got != c.want {
			t.Errorf("LoadLabel(%d, %g) = %q, want %q", c.concurrency, c.rate, got, c.want)
		}
	}
}
