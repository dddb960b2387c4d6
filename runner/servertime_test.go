package runner

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestServerTimingsSkipsOnlyWhatHasNone: usage is decoded for its timings only when it may
// hold one (mayHoldTimings), and what is found is what decoding every usage finds.
func TestServerTimingsSkipsOnlyWhatHasNone(t *testing.T) {
	tests := []struct {
		name  string
		usage string
		want  map[string]string
	}{
		{"none (OpenAI, vLLM)", `{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}`, map[string]string{}},
		{"SambaNova", `{"prompt_tokens":8,"time_to_first_token":0.25,"total_latency":1.5}`, map[string]string{"time_to_first_token": "0.25", "total_latency": "1.5"}},
		{"escaped key", `{"time\u005fto_first_token":0.25}`, map[string]string{"time_to_first_token": "0.25"}},
		{"key in a value only", `{"note":"start_time","prompt_tokens":1}`, map[string]string{}},
		{"duplicate key, last wins", `{"end_time":1,"end_time":2}`, map[string]string{"end_time": "2"}},
		{"not JSON", `{"time_to_first_token":`, map[string]string{}},
		{"empty", ``, map[string]string{}},
		{"null", `null`, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			for k, v := range serverTimings(json.RawMessage(tt.usage), nil) {
				got[k] = string(v)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("serverTimings(%s) = %v, want %v", tt.usage, got, tt.want)
			}
		})
	}
}

// BenchmarkServerTimings is the timings read of a usage object without any (OpenAI, vLLM,
// the scale benchmark's server): every streamed request with usage pays it.
func BenchmarkServerTimings(b *testing.B) {
	usage := json.RawMessage(`{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}`)
	b.ReportAllocs()
	for b.Loop() {
		serverTimings(usage, nil)
	}
}

// A usage object without timings, and no llama.cpp timings, cost no allocation: every
// streamed request of most servers reads both.
func TestNoTimingsAllocatesNothing(t *testing.T) {
	usage := json.RawMessage(`{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}`)
	a := testing.AllocsPerRun(100, func() {
		if len(serverTimings(usage, nil)) != 0 {
			t.Fatal("timings found")
		}
		if _, _, ok := parseLlamaTimings(nil); ok {
			t.Fatal("llama.cpp timings found")
		}
	})
	if a > 0 {
		t.Errorf("%.1f allocations, want 0", a)
	}
}
