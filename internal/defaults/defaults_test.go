package defaults

import (
	"testing"
	"time"
)

func TestPositive(t *testing.T) {
	ints := []struct{ in, want int }{{0, 30}, {-5, 30}, {1, 1}, {200, 200}}
	for _, c := range ints {
		v := c.in
		if Positive(&v, 30); v != c.want {
			t.Errorf("int %d: got %d, want %d", c.in, v, c.want)
		}
	}
	floats := []struct{ in, want float64 }{{0, 0.05}, {-0.1, 0.05}, {1e-9, 1e-9}, {0.5, 0.5}}
	for _, c := range floats {
		v := c.in
		if Positive(&v, 0.05); v != c.want {
			t.Errorf("float %g: got %g, want %g", c.in, v, c.want)
		}
	}
	d := time.Duration(0)
	if Positive(&d, time.Second); d != time.Second {
		t.Errorf("duration: got %v, want 1s", d)
	}
}
