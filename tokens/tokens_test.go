package tokens

import "testing"

func TestCount(t *testing.T) {
	c, err := New("openai/gpt-oss-120b")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello world", 2},
		{"Which NFL team represented the AFC at Super Bowl 50?", 12},
	}
	for _, tc := range cases {
		if got := c.Count(tc.text); got != tc.want {
			t.Errorf("Count(%q) = %d, want %d", tc.text, got, tc.want)
		}
		if got := c.Decode(c.Encode(tc.text)); got != tc.text {
			t.Errorf("round trip of %q gave %q", tc.text, got)
		}
	}
	if StripProvider("openai/gpt-oss-120b") != "gpt-oss-120b" {
		t.Error("StripProvider")
	}
}
