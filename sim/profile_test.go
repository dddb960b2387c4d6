package sim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/internal/testenv"
)

func TestBuiltinProfiles(t *testing.T) {
	names := BuiltinNames()
	if len(names) != 2 {
		t.Fatalf("built-ins %v, want two", names)
	}
	for _, n := range names {
		p, ok := Builtin(n)
		if !ok || !strings.Contains(n, "illustrative") || !strings.Contains(p.Description, "ILLUSTRATIVE") {
			t.Errorf("%s: built-in names and descriptions must say they are illustrative: %q", n, p.Description)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		q, err := LoadProfile(n)
		if err != nil || q.Name != n {
			t.Errorf("LoadProfile(%s): %v", n, err)
		}
	}
	fast, _ := Builtin("illustrative-fast")
	scaling, _ := Builtin("illustrative-scaling")
	// The shape of the study: ~3x faster for one stream, and a ceiling that the other passes.
	single := func(p Profile) float64 {
		return float64(p.SingleStreamTTFT(90) + 44*p.SingleStreamTPOT(0))
	}
	if r := single(scaling) / single(fast); r < 2.5 || r > 3.6 {
		t.Errorf("single-stream ratio %.2f, want about 3", r)
	}
	ceiling := func(p Profile) float64 {
		return float64(p.MaxNumSeqs) / p.StepTime(p.MaxNumSeqs).Seconds()
	}
	if ceiling(scaling) < 3*ceiling(fast) {
		t.Errorf("decode throughput ceilings %.0f vs %.0f tok/s: the scaling profile should pass the fast one's", ceiling(scaling), ceiling(fast))
	}
}

func TestParseProfileErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown field", "model: m\nmax_num_seq: 4\n", "max_num_seq"},
		{"nested unknown", "output:\n  lenght: fixed\n", "lenght"},
		{"bad duration", "decode_base: fast\n", "decode_base"},
		{"negative", "decode_per_seq: -1ms\n", "decode_per_seq"},
		{"no unit", "decode_per_seq: 20\n", "decode_per_seq"},
		{"no decode cost", "model: m\n", "decode_base"},
		{"fault duration", "faults:\n  - kind: stall\n    rate: 0.1\n    duration: long\n", "faults[0].duration"},
		{"bad mode", "decode_base: 10ms\noutput:\n  length: poisson\n", "output.length"},
		{"fixed needs tokens", "decode_base: 10ms\noutput:\n  length: fixed\n", "output.tokens"},
		{"unknown fault", "decode_base: 10ms\nfaults:\n  - kind: explode\n    rate: 0.1\n", "explode"},
		{"fault rates", "decode_base: 10ms\nfaults:\n  - kind: drop\n    rate: 0.7\n  - kind: stall\n    rate: 0.7\n", "add up"},
		{"empty", "\n", "empty"},
	} {
		_, err := ParseProfile("prof.yaml", []byte(tc.yaml))
		if err == nil || !errors.Is(err, ErrProfile) || !strings.Contains(err.Error(), "prof.yaml") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrProfile naming prof.yaml and %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadProfile("no-such-profile"); err == nil || !strings.Contains(err.Error(), "illustrative-fast") {
		t.Errorf("unknown name: %v, want the built-in names listed", err)
	}
}

// TestExampleProfile: the documented example file parses, every field as written.
func TestExampleProfile(t *testing.T) {
	path := filepath.Join("..", "examples", "sim-profile.yaml")
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(t, "examples/sim-profile.yaml not present")
	}
	p, err := LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxNumSeqs != 32 || p.DecodePerSeq != 400*time.Microsecond || p.Output.ReasoningTokens != 16 ||
		len(p.Faults) != 3 || p.Faults[2].Duration != 30*time.Second || p.Faults[0].RetryAfter != 2 || p.Faults[1].AfterTokens != 3 {
		t.Errorf("parsed %+v", p)
	}
}

func TestParseFault(t *testing.T) {
	f, err := ParseFault("stall=0.25,after=5,duration=2s")
	if err != nil || f.Kind != FaultStall || f.Rate != 0.25 || f.AfterTokens != 5 || f.Duration != 2*time.Second {
		t.Errorf("got %+v, %v", f, err)
	}
	f, err = ParseFault("rate_limit=1")
	if err != nil || f.RetryAfter != 1 || f.AfterTokens != 3 {
		t.Errorf("defaults: got %+v, %v", f, err)
	}
	for _, bad := range []string{"stall", "stall=2", "boom=0.1", "drop=0.1,after=x", "drop=0.1,color=red"} {
		if _, err := ParseFault(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	merged := MergeFaults([]Fault{{Kind: FaultDrop, Rate: 0.1}, {Kind: FaultStall, Rate: 0.1}}, []Fault{{Kind: FaultDrop, Rate: 0.5}, {Kind: FaultNoDone, Rate: 0.2}})
	if len(merged) != 3 || merged[0].Rate != 0.5 || merged[2].Kind != FaultNoDone {
		t.Errorf("merged %+v", merged)
	}
}

// TestDeterministic: the same seed draws the same faults and ids; another seed does not.
func TestDeterministic(t *testing.T) {
	fs := []Fault{{Kind: FaultDrop, Rate: 0.3}, {Kind: FaultStall, Rate: 0.3}}
	draw := func(seed int64) string {
		var b strings.Builder
		for n := uint64(1); n <= 200; n++ {
			if f := pickFault(fs, seed, n); f != nil {
				b.WriteString(f.Kind[:1])
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	first, again, other := draw(1), draw(1), draw(2)
	if first != again || first == other {
		t.Errorf("fault draws are not a function of the seed")
	}
	hits := strings.Count(draw(1), "d") + strings.Count(draw(1), "s")
	if hits < 90 || hits > 150 {
		t.Errorf("%d faults in 200 draws at rate 0.6", hits)
	}
	a, _ := New(testProfile(), Options{})
	b, _ := New(testProfile(), Options{})
	defer a.Close()
	defer b.Close()
	if a.newID(true, 5) != b.newID(true, 5) || a.newID(true, 5) == a.newID(true, 6) {
		t.Errorf("ids are not a function of seed and request number")
	}
}

// TestBuiltinLongPrompts: with long prompts the fast profile's small KV cache caps its batch
// below max_num_seqs, while the scaling profile takes them all.
func TestBuiltinLongPrompts(t *testing.T) {
	long := "Context: " + strings.Repeat("The river flows past the mill and the old stone bridge. ", 300) +
		"\n\nQuestion: What flows past the mill?\nAnswer:"
	for _, tc := range []struct {
		name     string
		maxBatch int64
	}{{"illustrative-fast", 0}, {"illustrative-scaling", 8}} {
		p, _ := Builtin(tc.name)
		p.Model = "sim-test"
		s, ts := startSim(t, p)
		promptTokens := s.tok.Count(long)
		want := tc.maxBatch
		if want == 0 {
			want = int64(p.KVCacheTokens / (promptTokens + 8))
		}
		postAll(t, ts.URL+"/v1/chat/completions", 8, chatBody(long, map[string]any{"max_tokens": 8, "ignore_eos": true}))
		if st := s.Stats(); st.Finished != 8 || st.MaxBatch != want {
			t.Errorf("%s with %d-token prompts: max batch %d, want %d (finished %d)", tc.name, promptTokens, st.MaxBatch, want, st.Finished)
		}
	}
}
