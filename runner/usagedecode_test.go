package runner

import (
	"encoding/json"
	"reflect"
	"testing"
)

// usageInputs are usage objects as servers send them and as they should not.
var usageInputs = []string{
	`{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}`,
	`{"prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12}`,
	" \n{ \"prompt_tokens\" :\t8 ,\r\n\"completion_tokens\":0 }\n",
	`{"completion_tokens":4}`, `{"total_tokens":12}`, `{}`, ` { } `, `{"prompt_tokens":null,"completion_tokens":4}`,
	`{"prompt_tokens":999999999999999,"completion_tokens":1}`, `{"prompt_tokens":9999999999999999}`,
	`{"prompt_tokens":12345678901234567890123}`, `{"prompt_tokens":8.0}`, `{"prompt_tokens":8.5}`, `{"prompt_tokens":1e3}`,
	`{"prompt_tokens":-1}`, `{"prompt_tokens":-0}`, `{"prompt_tokens":007}`, `{"prompt_tokens":0}`,
	`{"prompt_tokens":8,"prompt_tokens":9}`, `{"prompt_tokens":8,"prompt_tokens":null}`, `{"prompt_tokens":"8"}`,
	`{"Prompt_Tokens":8}`, `{"PROMPT_TOKENS":8,"completion_tokens":2}`, `{"prompt_tokens":8,"extra":[1,{"a":2}]}`,
	`{"prompt\u005ftokens":8}`, `{"prompt_tokens":8,"completion_tokens_details":{"reasoning_tokens":3}}`,
	`{"prompt_tokens":8,"prompt_tokens_details":{"cached_tokens":5}}`, `{"prompt_tokens":8,}`, `{"prompt_tokens":8`,
	`{"prompt_tokens":8}x`, `{"prompt_tokens":8} {}`, `[]`, `[1]`, `"x"`, `8`, `true`, `{"prompt_tokens":true}`,
	`{"prompt_tokens" 8}`, `{prompt_tokens:8}`, `{"prompt_tokens":8 "completion_tokens":4}`, `{,}`, `{"":1}`,
	`{"prompt_tokens":nul}`, `{"prompt_tokens":nullx}`, "{\"prompt_tokens\":8}\x00", "{\"prompt_tokens\xff\":8}",
	`{"time_to_first_token":0.1,"prompt_tokens":8}`, `{"prompt_tokens":[8]}`, "",
}

// parseUsageJSON is parseUsage as encoding/json alone decodes.
func parseUsageJSON(raw []byte) (*usage, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false
	}
	var u usage
	if json.Unmarshal(raw, &u) != nil {
		return nil, false
	}
	return &u, true
}

func sameUsageAsJSON(t *testing.T, raw []byte) {
	t.Helper()
	got, gotOK := parseUsage(raw)
	want, wantOK := parseUsageJSON(raw)
	if gotOK != wantOK || !reflect.DeepEqual(got, want) {
		t.Errorf("%q: got %v %s, encoding/json %v %s", raw, gotOK, usageText(got), wantOK, usageText(want))
	}
}

func usageText(u *usage) string {
	b, _ := json.Marshal(u)
	return string(b)
}

// TestParseUsageSameAsJSON: parseUsage gives what encoding/json gives for every input, and
// the flat shapes take the fast path.
func TestParseUsageSameAsJSON(t *testing.T) {
	for _, in := range usageInputs {
		sameUsageAsJSON(t, []byte(in))
	}
	for _, in := range usageInputs[:8] {
		var u usage
		if !decodeFlatUsage([]byte(in), &u) {
			t.Errorf("%q: not decoded by decodeFlatUsage", in)
		}
	}
}

func FuzzParseUsage(f *testing.F) {
	for _, in := range usageInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, raw []byte) { sameUsageAsJSON(t, raw) })
}

// BenchmarkParseUsage is the scale benchmark server's usage object, by parseUsage and by
// encoding/json.
func BenchmarkParseUsage(b *testing.B) {
	raw := []byte(`{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}`)
	for name, parse := range map[string]func([]byte) (*usage, bool){"fast": func(b []byte) (*usage, bool) { return parseUsage(b) }, "encoding-json": parseUsageJSON} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := parse(raw); !ok {
					b.Fatal("not decoded")
				}
			}
		})
	}
}
