package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/trackerbench/tracker/store"
)

func TestRunConfigRoundTripAndOldFormats(t *testing.T) {
	c := store.RunConfig{Baseline: "b", Burstiness: "+Inf", Duration: time.Minute,
		Endpoints: []store.EndpointConfig{{Name: "a", BaseURL: "http://h/v1", Model: "m"}},
		Loads:     []store.LoadConfig{{Concurrency: 2}}, Request: store.RequestConfig{MaxTokens: 9, Stream: true}}
	text, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := store.ParseRunConfig(text)
	if err != nil || back.Version != store.RunConfigVersion || back.Baseline != "b" || back.Duration != time.Minute ||
		back.Request.MaxTokens != 9 || len(back.Endpoints) != 1 {
		t.Errorf("round trip: %+v %v", back, err)
	}
	for _, old := range []string{`{"args":["--config","e.yaml"],"baseline":"x"}`, `{"Baseline":"x","args":[]}`} {
		got, err := store.ParseRunConfig(old)
		if !errors.Is(err, store.ErrLegacyConfig) || got.Baseline != "x" {
			t.Errorf("%s: %+v %v, want the legacy error with baseline x", old, got, err)
		}
	}
	if _, err := store.ParseRunConfig(`{"version":99}`); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("a newer version: %v", err)
	}
}
