package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/trackerbench/tracker/tokens"
)

// Synthetic is the dataset name of generated fixed-length prompts.
const Synthetic = "synthetic"

// Spec says which prompts a run sends: where they come from, how many, in what order and
// how they are rendered.
type Spec struct {
	Name         string   // a file path, a HuggingFace name ("squad", "hf:owner/name") or "synthetic"
	Limit        int      // how many rows to sample (synthetic: how many prompts); 0 = all (synthetic: 100)
	Seed         int64    // the sampling seed
	TemplateFile string   // a Go text/template file for the user message; "" = DefaultTemplate
	System       string   // an optional system message
	Fields       FieldMap // column names, for sources that differ from the SQuAD ones

	// HuggingFace datasets.
	Split          string       // "" = validation, else test, else train
	HFConfig       string       // "" = the only config (or "default")
	Revision       string       // "" = what the Hub serves now; a cached revision's sha (prefix) pins it
	HFVia          string       // "rows", "parquet" or "" (rows, falling back to parquet)
	CacheDir       string       // "" = $TRACKER_CACHE, else os.UserCacheDir()/tracker
	Offline        bool         // read only the cache (also HF_HUB_OFFLINE=1, HF_DATASETS_OFFLINE=1)
	HFEndpoint     string       // "" = $HF_ENDPOINT, else DefaultHFEndpoint
	DatasetsServer string       // "" = $HF_DATASETS_SERVER, else DefaultDatasetsServer
	Token          string       // "" = $HF_TOKEN; sent as a bearer token, never stored
	HTTPClient     *http.Client // nil = a client with a 10 minute timeout
	Retry          Retry        // retries of 429 and 5xx answers
	Progress       io.Writer    // where fetch progress is written; nil = nowhere

	// Workload shape.
	InputTokens   int     // synthetic: each prompt's input length in tokens (exact)
	OutputTokens  int     // each prompt's output length (Prompt.MaxTokens; the runner sends ignore_eos)
	Spread        float64 // synthetic: lengths drawn uniformly within ±Spread (a fraction) of the targets
	ContextTokens []int   // long-context: each sampled question at each of these prompt lengths
}

// PromptSet is a run's prompts with where they came from.
type PromptSet struct {
	Source  string // what Spec.Name resolved to (a path, hf:repo/config/split@revision, synthetic:...)
	Hash    string // sha256 of the source
	Prompts []Prompt
}

// LoadSource loads the rows Spec names: an existing file by its content and extension,
// else a HuggingFace dataset (through the cache).
func LoadSource(ctx context.Context, spec Spec) (*Source, error) {
	if fi, err := os.Stat(spec.Name); err == nil && !fi.IsDir() {
		return LoadFileWith(spec.Name, spec.Fields)
	}
	if _, ok := ParseHFName(spec.Name); ok {
		return LoadHF(ctx, spec)
	}
	if _, err := os.Stat(spec.Name); err != nil && strings.ContainsAny(spec.Name, `/\.`) {
		return nil, fmt.Errorf("reading dataset: %w", err)
	}
	return nil, fmt.Errorf("dataset %q: %w: not a file, not synthetic, and not a HuggingFace name (squad, squad_v2, hf:owner/name)", spec.Name, ErrNotFound)
}

// Prepare loads, samples and renders the prompts a Spec names.
//   - "synthetic": generated prompts of exactly InputTokens tokens (see SyntheticPrompts);
//   - otherwise rows from LoadSource, sampled with Seed and rendered with the template;
//     with ContextTokens, every sampled question at every target length (LongContext).
//
// OutputTokens > 0 sets every prompt's MaxTokens.
func Prepare(ctx context.Context, spec Spec, tok *tokens.Counter) (*PromptSet, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("no dataset named")
	}
	if tok == nil {
		return nil, errors.New("preparing prompts: no tokenizer")
	}
	if spec.InputTokens < 0 || spec.OutputTokens < 0 || spec.Spread < 0 || spec.Spread >= 1 {
		return nil, fmt.Errorf("workload shape: input tokens %d, output tokens %d, spread %v: want lengths >= 0 and 0 <= spread < 1",
			spec.InputTokens, spec.OutputTokens, spec.Spread)
	}
	if strings.EqualFold(spec.Name, Synthetic) {
		if len(spec.ContextTokens) > 0 {
			return nil, errors.New("--context-tokens packs real text around a question; synthetic prompts take --input-tokens")
		}
		if spec.TemplateFile != "" {
			return nil, errors.New("--template renders dataset rows; synthetic prompts have none")
		}
		return SyntheticPrompts(spec, tok)
	}
	if spec.Spread > 0 {
		return nil, errors.New("--spread varies synthetic prompt lengths (--dataset synthetic); a dataset's lengths are its own")
	}
	if spec.InputTokens > 0 {
		return nil, fmt.Errorf("--input-tokens shapes synthetic prompts (--dataset synthetic); for real text use --context-tokens")
	}
	var (
		tmpl *Template
		err  error
	)
	if spec.TemplateFile != "" {
		tmpl, err = LoadTemplate(spec.TemplateFile, spec.System)
	} else {
		tmpl, err = NewTemplate("", spec.System)
	}
	if err != nil {
		return nil, err
	}
	src, err := LoadSource(ctx, spec)
	if err != nil {
		return nil, err
	}
	rows := Sample(src.Rows, spec.Limit, spec.Seed)
	if len(rows) == 0 {
		return nil, fmt.Errorf("dataset %s: sample: %w", src.Name, ErrEmpty)
	}
	var prompts []Prompt
	if len(spec.ContextTokens) > 0 {
		prompts, err = LongContext(ctx, rows, src.Rows, spec.ContextTokens, tmpl, tok, spec.Seed)
	} else {
		prompts, err = Build(rows, tmpl, tok)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", src.Name, err)
	}
	if spec.OutputTokens > 0 {
		for i := range prompts {
			prompts[i].MaxTokens = spec.OutputTokens
		}
	}
	return &PromptSet{Source: src.Name, Hash: src.Hash, Prompts: prompts}, nil
}

// ParseTokenCounts reads a list of token lengths such as "1k,8k,32k,128k": plain numbers,
// or with a k (×1000) or m (×1,000,000) suffix. Duplicates are dropped, order is kept.
func ParseTokenCounts(s string) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		p := strings.ToLower(strings.TrimSpace(part))
		if p == "" {
			continue
		}
		mult := 1.0
		switch {
		case strings.HasSuffix(p, "k"):
			mult, p = 1000, strings.TrimSuffix(p, "k")
		case strings.HasSuffix(p, "m"):
			mult, p = 1e6, strings.TrimSuffix(p, "m")
		}
		f, err := strconv.ParseFloat(p, 64)
		n := int(f * mult)
		if err != nil || f <= 0 || float64(n) != f*mult {
			return nil, fmt.Errorf("token length %q: want a positive whole number such as 8000 or 8k", strings.TrimSpace(part))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("token lengths %q: none given", s)
	}
	return out, nil
}

// TokenLabel writes a length the way ParseTokenCounts reads it: 8000 as "8k".
func TokenLabel(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}
