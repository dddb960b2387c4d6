package bench_test

import (
	"errors"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
)

func TestRunConfigRoundTripAndOldFormats(t *testing.T) {
	c := bench.RunConfig{Baseline: "b", Burstiness: "+Inf", Duration: time.Minute,
		Endpoints: []bench.EndpointConfig{{Name: "a", BaseURL: "http://h/v1", Model: "m"}},
		Loads:     []bench.LoadConfig{{Concurrency: 2}}, Request: bench.RequestConfig{MaxTokens: 9, Stream: true}}
	text, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := bench.ParseRunConfig(text)
	if err != nil || back.Version != bench.RunConfigVersion || back.Baseline != "b" || back.Duration != time.Minute ||
		back.Request.MaxTokens != 9 || len(back.Endpoints) != 1 {
		t.Errorf("round trip: %+v %v", back, err)
	}
	for _, old := range []string{`{"args":["--config","e.yaml"],"baseline":"x"}`, `{"Baseline":"x","args":[]}`} {
		got, err := bench.ParseRunConfig(old)
		if !errors.Is(err, bench.ErrLegacyConfig) || got.Baseline != "x" {
			t.Errorf("%s: %+v %v, want the legacy error with baseline x", old, got, err)
		}
	}
	if _, err := bench.ParseRunConfig(`{"version":99}`); !errors.Is(err, bench.ErrNewerConfig) {
		t.Errorf("a newer version: %v", err)
	}
}
