package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Fault kinds. Each request draws at most one fault.
const (
	FaultRateLimit   = "rate_limit"   // HTTP 429 with Retry-After, before any byte of a stream
	FaultServerError = "server_error" // HTTP 500 with an OpenAI-style error body
	FaultUnavailable = "unavailable"  // HTTP 503 with an OpenAI-style error body
	FaultStall       = "stall"        // no bytes for Duration after AfterTokens tokens, then the stream resumes
	FaultDrop        = "drop"         // the connection is cut after AfterTokens tokens
	FaultMalformed   = "malformed"    // an SSE line that is not JSON after AfterTokens tokens; the stream goes on
	FaultNoDone      = "no_done"      // the stream ends cleanly but without "data: [DONE]"
	FaultNoUsage     = "no_usage"     // no usage chunk (streaming) or no usage field (non-streaming)
)

// FaultKinds lists every fault kind in the order a request draws them.
func FaultKinds() []string {
	return []string{FaultRateLimit, FaultServerError, FaultUnavailable, FaultStall, FaultDrop,
		FaultMalformed, FaultNoDone, FaultNoUsage}
}

// Fault is one kind of failure injected into a fraction of requests.
type Fault struct {
	Kind        string        `yaml:"kind"`
	Rate        float64       `yaml:"rate"`         // fraction of requests, 0..1
	AfterTokens int           `yaml:"after_tokens"` // stall, drop, malformed: tokens sent first (default 3)
	Duration    time.Duration `yaml:"duration"`     // stall: how long nothing is sent (default 10s)
	RetryAfter  int           `yaml:"retry_after"`  // rate_limit: the Retry-After header, seconds (default 1)
}

func (f *Fault) setDefaults() {
	if f.AfterTokens == 0 {
		f.AfterTokens = 3
	}
	if f.Duration == 0 {
		f.Duration = 10 * time.Second
	}
	if f.RetryAfter == 0 {
		f.RetryAfter = 1
	}
}

func (f Fault) validate() error {
	known := false
	for _, k := range FaultKinds() {
		known = known || k == f.Kind
	}
	switch {
	case !known:
		return fmt.Errorf("field kind: unknown fault %q (want one of %s)", f.Kind, strings.Join(FaultKinds(), ", "))
	case f.Rate < 0 || f.Rate > 1:
		return fmt.Errorf("field rate: must be in [0, 1], got %g", f.Rate)
	case f.AfterTokens < 0:
		return fmt.Errorf("field after_tokens: must not be negative")
	case f.Duration < 0:
		return fmt.Errorf("field duration: must not be negative")
	case f.RetryAfter < 0:
		return fmt.Errorf("field retry_after: must not be negative")
	}
	return nil
}

// ParseFault reads the command line's form of a fault: KIND=RATE followed by optional
// ,after=N ,duration=D ,retry_after=S (for example "stall=0.1,after=5,duration=3s").
func ParseFault(s string) (Fault, error) {
	var f Fault
	for i, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return f, fmt.Errorf("fault %q: %q is not key=value", s, part)
		}
		var err error
		switch {
		case i == 0:
			f.Kind = k
			f.Rate, err = strconv.ParseFloat(v, 64)
		case k == "after":
			f.AfterTokens, err = strconv.Atoi(v)
		case k == "duration":
			f.Duration, err = time.ParseDuration(v)
		case k == "retry_after":
			f.RetryAfter, err = strconv.Atoi(v)
		default:
			return f, fmt.Errorf("fault %q: unknown option %q (want after, duration or retry_after)", s, k)
		}
		if err != nil {
			return f, fmt.Errorf("fault %q: %s: %v", s, k, err)
		}
	}
	f.setDefaults()
	if err := f.validate(); err != nil {
		return f, fmt.Errorf("fault %q: %v", s, err)
	}
	return f, nil
}

// validateFaultSet checks that one draw can pick among the faults: rates add up to at most 1.
func validateFaultSet(fs []Fault) error {
	sum := 0.0
	for _, f := range fs {
		sum += f.Rate
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("%w: fault rates add up to %g, more than 1", ErrProfile, sum)
	}
	return nil
}

// pickFault draws the fault of request number n (from 1): deterministic for a seed and n.
func pickFault(fs []Fault, seed int64, n uint64) *Fault {
	if len(fs) == 0 {
		return nil
	}
	u := rand.New(rand.NewPCG(uint64(seed), n^0x6661756c74)).Float64() // "fault"
	acc := 0.0
	for i := range fs {
		acc += fs[i].Rate
		if u < acc {
			return &fs[i]
		}
	}
	return nil
}

// MergeFaults returns base with each of over replacing base's fault of the same kind, or
// added when base has none.
func MergeFaults(base, over []Fault) []Fault {
	out := append([]Fault(nil), base...)
	for _, o := range over {
		replaced := false
		for i := range out {
			if out[i].Kind == o.Kind {
				out[i], replaced = o, true
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out
}
