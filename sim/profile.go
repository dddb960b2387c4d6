package sim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// ErrProfile is returned for a profile that cannot be used (unknown name, bad file, bad value).
var ErrProfile = errors.New("invalid sim profile")

// Profile is the simulated server: its model name, its engine's latency parameters, its
// output and its faults. docs/sim.md documents every field.
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Model       string `yaml:"model"` // the served model name (/v1/models, the "model" of every response)

	// Scheduler.
	MaxNumSeqs       int `yaml:"max_num_seqs"`       // sequences in one batch (continuous batching)
	KVCacheTokens    int `yaml:"kv_cache_tokens"`    // KV-cache budget: prompt + output tokens of running sequences
	MaxBatchedTokens int `yaml:"max_batched_tokens"` // prompt tokens prefilled in one step; 0 = no limit
	MaxModelLen      int `yaml:"max_model_len"`      // prompt + output limit of one request; 0 = no limit

	// RequestOverhead delays each request before it reaches the queue (network, gateway,
	// tokenization): it adds to TTFT without holding up the batch.
	RequestOverhead time.Duration `yaml:"request_overhead"`

	// Step costs. A step that admits sequences costs PrefillOverhead + PrefillPerToken x their
	// prompt tokens; a step with running sequences costs DecodeBase + DecodePerSeq x batch size
	// (+ DecodePerContextToken x tokens held by the batch). Both, when a step does both.
	PrefillOverhead       time.Duration `yaml:"prefill_overhead"`
	PrefillPerToken       time.Duration `yaml:"prefill_per_token"`
	DecodeBase            time.Duration `yaml:"decode_base"`
	DecodePerSeq          time.Duration `yaml:"decode_per_seq"`
	DecodePerContextToken time.Duration `yaml:"decode_per_context_token"`
	Jitter                float64       `yaml:"jitter"` // relative s.d. of each step's duration (0 = exact)
	Seed                  int64         `yaml:"seed"`   // seeds jitter, faults, ids and output lengths

	// Requests and output.
	PromptOverheadTokens int    `yaml:"prompt_overhead_tokens"` // chat-template tokens added to prompt_tokens
	Output               Output `yaml:"output"`

	Faults []Fault `yaml:"faults"`
}

// Output shapes the generated text.
type Output struct {
	// Length: "answer" (default) stops after the extractive answer (+1 end-of-sequence token);
	// "fixed" always generates Tokens; "uniform" draws a length in [Min, Max] per request.
	// max_tokens caps every mode; ignore_eos and min_tokens lengthen it.
	Length          string `yaml:"length"`
	Tokens          int    `yaml:"tokens"`
	Min             int    `yaml:"min"`
	Max             int    `yaml:"max"`
	ReasoningTokens int    `yaml:"reasoning_tokens"` // reasoning tokens sent as delta.reasoning before the answer
}

// Output length modes.
const (
	LengthAnswer  = "answer"
	LengthFixed   = "fixed"
	LengthUniform = "uniform"
)

// ParseProfile reads a YAML profile; name is used in errors (the file's path). Unknown fields
// are rejected. Missing fields take the defaults documented in docs/sim.md.
func ParseProfile(name string, b []byte) (Profile, error) {
	var p Profile
	if len(bytes.TrimSpace(b)) == 0 {
		return p, fmt.Errorf("%w: %s: empty file", ErrProfile, name)
	}
	if err := checkDurations(b); err != nil {
		return p, fmt.Errorf("%w: %s: %v", ErrProfile, name, err)
	}
	if err := yaml.UnmarshalWithOptions(b, &p, yaml.DisallowUnknownField()); err != nil {
		return p, fmt.Errorf("%w: %s: %s", ErrProfile, name, oneLine(yaml.FormatError(err, false, false)))
	}
	if p.Name == "" {
		p.Name = name
	}
	p.setDefaults()
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// durationFields are the profile's duration fields (faults' are checked under faults[i]).
var durationFields = []string{"request_overhead", "prefill_overhead", "prefill_per_token", "decode_base",
	"decode_per_seq", "decode_per_context_token"}

// checkDurations names the field of a bad duration, which the YAML decoder does not.
func checkDurations(b []byte) error {
	var top map[string]any
	if yaml.Unmarshal(b, &top) != nil {
		return nil // the typed decode reports it
	}
	var faults []map[string]any
	if fs, ok := top["faults"].([]any); ok {
		for _, f := range fs {
			m, _ := f.(map[string]any)
			faults = append(faults, m)
		}
	}
	check := func(field string, v any) error {
		if v == nil {
			return nil
		}
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("field %s: %v is not a duration: give a unit, such as 20ms or 50us", field, v)
		}
		if _, err := time.ParseDuration(str); err != nil {
			return fmt.Errorf("field %s: %q is not a duration (such as 20ms or 50us)", field, str)
		}
		return nil
	}
	for _, f := range durationFields {
		if err := check(f, top[f]); err != nil {
			return err
		}
	}
	for i, m := range faults {
		if err := check(fmt.Sprintf("faults[%d].duration", i), m["duration"]); err != nil {
			return err
		}
	}
	return nil
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// LoadProfile returns a built-in profile by name, or reads a YAML file.
func LoadProfile(nameOrPath string) (Profile, error) {
	if p, ok := Builtin(nameOrPath); ok {
		return p, nil
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(nameOrPath, "/.") {
			return Profile{}, fmt.Errorf("%w: %q is neither a built-in profile (%s) nor a file",
				ErrProfile, nameOrPath, strings.Join(BuiltinNames(), ", "))
		}
		return Profile{}, fmt.Errorf("reading sim profile: %w", err)
	}
	return ParseProfile(nameOrPath, b)
}

func (p *Profile) setDefaults() {
	if p.Model == "" {
		p.Model = "sim-model"
	}
	if p.MaxNumSeqs == 0 {
		p.MaxNumSeqs = 256
	}
	if p.KVCacheTokens == 0 {
		p.KVCacheTokens = 1 << 20
	}
	if p.Output.Length == "" {
		p.Output.Length = LengthAnswer
	}
	for i := range p.Faults {
		p.Faults[i].setDefaults()
	}
}

// Validate checks every field's range.
func (p Profile) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: field %s: %s", ErrProfile, field, fmt.Sprintf(format, args...))
	}
	for _, f := range []struct {
		field    string
		negative bool
	}{
		{"max_batched_tokens", p.MaxBatchedTokens < 0},
		{"max_model_len", p.MaxModelLen < 0},
		{"request_overhead", p.RequestOverhead < 0},
		{"prefill_overhead", p.PrefillOverhead < 0},
		{"prefill_per_token", p.PrefillPerToken < 0},
		{"decode_base", p.DecodeBase < 0},
		{"decode_per_seq", p.DecodePerSeq < 0},
		{"decode_per_context_token", p.DecodePerContextToken < 0},
		{"prompt_overhead_tokens", p.PromptOverheadTokens < 0},
		{"output.reasoning_tokens", p.Output.ReasoningTokens < 0},
	} {
		if f.negative {
			return bad(f.field, "must not be negative")
		}
	}
	switch {
	case p.MaxNumSeqs < 1:
		return bad("max_num_seqs", "must be at least 1, got %d", p.MaxNumSeqs)
	case p.KVCacheTokens < 1:
		return bad("kv_cache_tokens", "must be at least 1, got %d", p.KVCacheTokens)
	case p.DecodeBase+p.DecodePerSeq <= 0:
		return bad("decode_base", "decode_base + decode_per_seq must be positive")
	case p.Jitter < 0 || p.Jitter > 1:
		return bad("jitter", "must be in [0, 1], got %g", p.Jitter)
	}
	switch p.Output.Length {
	case LengthAnswer:
	case LengthFixed:
		if p.Output.Tokens < 1 {
			return bad("output.tokens", "must be at least 1 with length: fixed")
		}
	case LengthUniform:
		if p.Output.Min < 1 || p.Output.Max < p.Output.Min {
			return bad("output.min", "want 1 <= min <= max with length: uniform, got min %d max %d", p.Output.Min, p.Output.Max)
		}
	default:
		return bad("output.length", "want answer, fixed or uniform, got %q", p.Output.Length)
	}
	for i, f := range p.Faults {
		if err := f.validate(); err != nil {
			return fmt.Errorf("%w: faults[%d]: %v", ErrProfile, i, err)
		}
	}
	return validateFaultSet(p.Faults)
}

// SingleStreamTTFT is the model's time to first token for one request alone on the server.
func (p Profile) SingleStreamTTFT(promptTokens int) time.Duration {
	return p.RequestOverhead + p.PrefillOverhead + time.Duration(promptTokens)*p.PrefillPerToken
}

// SingleStreamTPOT is the model's time per output token after the first for one request
// alone on the server, whose context holds contextTokens.
func (p Profile) SingleStreamTPOT(contextTokens int) time.Duration {
	return p.DecodeBase + p.DecodePerSeq + time.Duration(contextTokens)*p.DecodePerContextToken
}

// StepTime is the modelled duration of a decode step with batch sequences (no prefill, no
// context cost, no jitter); throughput at that batch is batch tokens per StepTime.
func (p Profile) StepTime(batch int) time.Duration {
	return p.DecodeBase + time.Duration(batch)*p.DecodePerSeq
}
