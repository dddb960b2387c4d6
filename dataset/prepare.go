package dataset

import (
	"context"
	"fmt"

	"github.com/trackerbench/tracker/tokens"
)

// Spec says which prompts a run sends: where they come from, how many, in what order and
// how they are rendered.
type Spec struct {
	Name         string   // a file path (SQuAD JSON, JSONL)
	Limit        int      // how many rows to sample; 0 = all
	Seed         int64    // the sampling seed
	TemplateFile string   // a Go text/template file for the user message; "" = DefaultTemplate
	System       string   // an optional system message
	Fields       FieldMap // column names, for sources that differ from the SQuAD ones
}

// PromptSet is a run's prompts with where they came from.
type PromptSet struct {
	Source  string // what Spec.Name resolved to
	Hash    string // sha256 of the source
	Prompts []Prompt
}

// Prepare loads, samples and renders the prompts a Spec names.
func Prepare(ctx context.Context, spec Spec, tok *tokens.Counter) (*PromptSet, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("no dataset named")
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
	src, err := LoadFile(spec.Name)
	if err != nil {
		return nil, err
	}
	rows := Sample(src.Rows, spec.Limit, spec.Seed)
	if len(rows) == 0 {
		return nil, fmt.Errorf("dataset %s: sample: %w", spec.Name, ErrEmpty)
	}
	prompts, err := Build(rows, tmpl, tok)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", spec.Name, err)
	}
	return &PromptSet{Source: src.Name, Hash: src.Hash, Prompts: prompts}, nil
}
