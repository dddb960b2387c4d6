package runner

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// usageFields are the fields of a record that come from the usage object.
type usageFields struct {
	in, out, reasoning, cached *int
	inSrc, outSrc              bench.TokenSource
	usageJSON                  string
}

func (u usageFields) String() string {
	n := func(p *int) string {
		if p == nil {
			return "nil"
		}
		return strconv.Itoa(*p)
	}
	return fmt.Sprintf("in %s (%s) out %s (%s) reasoning %s cached %s usage %s", n(u.in), u.inSrc, n(u.out), u.outSrc, n(u.reasoning), n(u.cached), u.usageJSON)
}

// TestRecordUsageDecodedOnce: the counts and cached tokens a record takes from the usage
// object (decoded once since parsedUsage; it was decoded by countTokens and again by
// applyCache) are those stated here, among them a prompt_tokens that countTokens rejects
// (2^24 + 2: over maxPlausibleTokens) while the cached tokens still come from it as the
// server sent it, minus llama.cpp's prompt_n.
func TestRecordUsageDecodedOnce(t *testing.T) {
	tok := tokenstest.Counter(t)
	p := dataset.Prompt{Messages: []dataset.Message{{Role: "user", Content: "q"}}, InputTokens: 7}
	tests := []struct {
		name, usage, timings string
		want                 usageFields
	}{
		{"none", "", "", usageFields{in: ptr(7), out: ptr(countText(tok, "one two")), inSrc: bench.SourceTokenizer, outSrc: bench.SourceTokenizer}},
		{"counts", `{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}`, "",
			usageFields{in: ptr(8), out: ptr(4), inSrc: bench.SourceUsage, outSrc: bench.SourceUsage, usageJSON: `{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}`}},
		{"cached and reasoning", `{"prompt_tokens":8,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":6},"completion_tokens_details":{"reasoning_tokens":3}}`, "",
			usageFields{in: ptr(8), out: ptr(4), reasoning: ptr(3), cached: ptr(6), inSrc: bench.SourceUsage, outSrc: bench.SourceUsage,
				usageJSON: `{"prompt_tokens":8,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":6},"completion_tokens_details":{"reasoning_tokens":3}}`}},
		{"llama.cpp prompt_n", `{"prompt_tokens":40,"completion_tokens":2}`, `{"prompt_n":38,"prompt_ms":27.6}`,
			usageFields{in: ptr(40), out: ptr(2), cached: ptr(2), inSrc: bench.SourceUsage, outSrc: bench.SourceUsage, usageJSON: `{"prompt_tokens":40,"completion_tokens":2}`}},
		{"rejected prompt_tokens, cached from it", `{"prompt_tokens":16777218,"completion_tokens":2}`, `{"prompt_n":16777210,"prompt_ms":1}`,
			usageFields{in: ptr(7), out: ptr(2), cached: ptr(8), inSrc: bench.SourceTokenizer, outSrc: bench.SourceUsage, usageJSON: `{"prompt_tokens":16777218,"completion_tokens":2}`}},
		{"not an object", `[1]`, "", usageFields{in: ptr(7), out: ptr(countText(tok, "one two")), inSrc: bench.SourceTokenizer, outSrc: bench.SourceTokenizer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t0 := time.Now()
			m := measurement{usageRaw: json.RawMessage(tt.usage), timingsRaw: json.RawMessage(tt.timings), done: true}
			m.add(t0.Add(time.Millisecond), delta{content: "one"})
			m.add(t0.Add(2*time.Millisecond), delta{content: " two", finish: "stop"})
			m.end = t0.Add(3 * time.Millisecond)
			rec := m.record(bench.Measurement{}, &exchange{t0: t0, status: 200}, p, tok)
			got := usageFields{in: rec.InputTokens, out: rec.OutputTokens, reasoning: rec.ReasoningTokens, cached: rec.CachedTokens,
				inSrc: rec.InputTokensSource, outSrc: rec.OutputTokensSource, usageJSON: rec.UsageJSON}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// BenchmarkRecord is the record of one answer of the scale benchmark's server: four
// tokens, usage, [DONE].
func BenchmarkRecord(b *testing.B) {
	tok := tokenstest.Counter(b)
	p := dataset.Prompt{Messages: []dataset.Message{{Role: "user", Content: "q"}}, InputTokens: 7}
	t0 := time.Now()
	x := &exchange{t0: t0, status: 200}
	b.ReportAllocs()
	for b.Loop() {
		m := measurement{usageRaw: json.RawMessage(`{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}`), done: true}
		for i := range 4 {
			m.add(t0.Add(time.Duration(i+1)*time.Millisecond), delta{content: " tok"})
		}
		m.add(t0.Add(5*time.Millisecond), delta{finish: "length"})
		m.end = t0.Add(6 * time.Millisecond)
		m.record(bench.Measurement{}, x, p, tok)
	}
}
