package telemetry

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/internal/testenv"
)

// The real llama.cpp captures (../shared/wire/llamacpp, llama-server b4747 with --metrics).
func readCapture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../shared/wire/llamacpp/" + name)
	if err != nil {
		testenv.Missing(t, "the llama.cpp /metrics capture: %v", err)
	}
	return string(b)
}

func find(samples []Sample, name, labels string) (Sample, bool) {
	for _, s := range samples {
		if s.Name == name && (labels == "" || s.Labels == labels) {
			return s, true
		}
	}
	return Sample{}, false
}

func TestParseLlamaCppCapture(t *testing.T) {
	for _, tc := range []struct {
		file       string
		processing float64
		predicted  float64
	}{
		{"metrics-4-streams-busy.txt", 4, 0},
		{"metrics-idle.txt", 0, 800},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := Parse(strings.NewReader(readCapture(t, tc.file)), Selection{Allow: NewAllowList()})
			if err != nil {
				t.Fatal(err)
			}
			s, ok := find(got, "llamacpp:requests_processing", "{}")
			if !ok || s.Value != tc.processing || s.Kind != KindGauge {
				t.Errorf("requests_processing = %+v, %v; want %v gauge", s, ok, tc.processing)
			}
			s, _ = find(got, "llamacpp:tokens_predicted_total", "")
			if s.Value != tc.predicted || s.Kind != KindCounter {
				t.Errorf("tokens_predicted_total = %+v, want %v counter", s, tc.predicted)
			}
			// The quirk: an average typed counter is kept as a gauge.
			if s, _ := find(got, "llamacpp:n_busy_slots_per_decode", ""); s.Kind != KindGauge {
				t.Errorf("n_busy_slots_per_decode kind %q, want gauge", s.Kind)
			}
			// Not allow-listed: throughput averages.
			if _, ok := find(got, "llamacpp:predicted_tokens_seconds", ""); ok {
				t.Error("predicted_tokens_seconds kept, want it dropped by the allow-list")
			}
			all, err := Parse(strings.NewReader(readCapture(t, tc.file)), Selection{All: true, Allow: NewAllowList()})
			if err != nil || len(all) != 12 {
				t.Errorf("--server-metrics all kept %d samples (%v), want all 12", len(all), err)
			}
		})
	}
}

const vllmHistogram = `# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.01",model_name="m"} 1.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="m"} 3.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="m"} 4.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="m"} 4.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="m"} 0.25
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 7.0
`

func TestParseHistogramKeepsBucketsSumCount(t *testing.T) {
	got, err := Parse(strings.NewReader(vllmHistogram), Selection{Allow: NewAllowList()})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, labels string
		v            float64
	}{
		{"vllm:num_requests_running", `{"engine":"0","model_name":"m"}`, 7},
		{"vllm:time_to_first_token_seconds_bucket", `{"engine":"0","le":"+Inf","model_name":"m"}`, 4},
		{"vllm:time_to_first_token_seconds_bucket", `{"engine":"0","le":"0.01","model_name":"m"}`, 1},
		{"vllm:time_to_first_token_seconds_bucket", `{"engine":"0","le":"0.1","model_name":"m"}`, 3},
		{"vllm:time_to_first_token_seconds_count", `{"engine":"0","model_name":"m"}`, 4},
		{"vllm:time_to_first_token_seconds_sum", `{"engine":"0","model_name":"m"}`, 0.25},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d samples %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.Labels != w.labels || g.Value != w.v {
			t.Errorf("sample %d = %+v, want %+v", i, g, w)
		}
	}
	if got[1].Family != "vllm:time_to_first_token_seconds" || got[1].Kind != KindHistogram {
		t.Errorf("bucket family/kind = %q/%q", got[1].Family, got[1].Kind)
	}
}

func TestParseRejectsWhatIsNotPrometheus(t *testing.T) {
	for name, body := range map[string]string{
		"html":    "<!DOCTYPE html><html><body>Not found</body></html>",
		"json":    `{"error":{"message":"not found"}}`,
		"empty":   "",
		"comment": "# nothing here\n",
		"garbage": "\x00\x01\x02 binary{{{",
	} {
		if _, err := Parse(strings.NewReader(body), Selection{All: true}); !errors.Is(err, ErrNotPrometheus) {
			t.Errorf("%s: err = %v, want ErrNotPrometheus", name, err)
		}
	}
}

func TestRoleOf(t *testing.T) {
	a := NewAllowList()
	for name, want := range map[string]Role{
		"vllm:num_requests_running":                RoleRunning,
		"llamacpp:requests_deferred":               RoleWaiting,
		"vllm:time_to_first_token_seconds_bucket":  RoleServerTTFT,
		"sglang:e2e_request_latency_seconds_count": RoleServerE2E,
		"vllm:something_else":                      RoleNone,
		"tgi_queue_size":                           RoleWaiting,
	} {
		if got := a.RoleOf(name); got != want {
			t.Errorf("RoleOf(%s) = %q, want %q", name, got, want)
		}
	}
}
