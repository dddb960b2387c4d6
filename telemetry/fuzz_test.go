package telemetry

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// FuzzParse: any body either fails with ErrNotPrometheus or yields samples with a family, a
// known kind, labels as a JSON object and a finite value.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		vllmHistogram,
		"# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing 4\n",
		"# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n",
		"<html></html>",
		"x{a=\"\\\"\"} NaN\ny +Inf\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		samples, err := Parse(strings.NewReader(body), Selection{All: true, Allow: NewAllowList()})
		if err != nil {
			return
		}
		for _, s := range samples {
			var labels map[string]string
			if s.Family == "" || s.Kind == "" || json.Unmarshal([]byte(s.Labels), &labels) != nil || math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
				t.Fatalf("bad sample %+v from %q", s, body)
			}
		}
	})
}
