package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/urfave/cli/v3"
)

// datasetFlags are the flags that choose and shape a run's prompts (docs/datasets.md).
func datasetFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "dataset",
			Usage: "prompt source: squad, hf:owner/name, synthetic, or a file (SQuAD JSON, JSONL, JSON, CSV, TSV, parquet)"},
		&cli.IntFlag{Name: "limit", Usage: "how many prompts to sample (0 = all; synthetic: how many to make, 0 = 100)", Value: 0},
		&cli.Int64Flag{Name: "seed", Usage: "sampling seed (the same seed gives the same prompts)", Value: 1},
		&cli.StringFlag{Name: "template", Usage: "a Go text/template file for the user message, over the row's fields"},
		&cli.StringFlag{Name: "system", Usage: "a system message sent before every prompt"},
		&cli.StringSliceFlag{Name: "field", Usage: "map a row part to a column: KEY=COLUMN, KEY one of id, title, context, question, answers, prompt (repeatable)",
			Validator: func(v []string) error { _, err := dataset.ParseFieldMap(v); return err }},
		&cli.StringFlag{Name: "split", Usage: "HuggingFace split (default validation, else test, else train)"},
		&cli.StringFlag{Name: "hf-config", Usage: "HuggingFace config (default the dataset's only one, or \"default\")"},
		&cli.StringFlag{Name: "revision", Usage: "HuggingFace revision (a commit sha or its prefix) to use from the cache; default the Hub's current one"},
		&cli.StringFlag{Name: "hf-via", Usage: "how to download a HuggingFace split: rows (datasets-server /rows), parquet (the Hub's parquet export) or auto",
			Value: "auto", Validator: oneOf("auto", "rows", "parquet")},
		&cli.BoolFlag{Name: "offline", Usage: "read HuggingFace datasets only from the cache", Sources: cli.EnvVars("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")},
		&cli.StringFlag{Name: "cache-dir", Usage: "tracker's cache directory (datasets are under DIR/datasets)", Sources: cli.EnvVars("TRACKER_CACHE")},
		&cli.IntFlag{Name: "input-tokens", Usage: "synthetic prompts: input length in tokens, exact with the run's tokenizer",
			Validator: nonNegative("input-tokens")},
		&cli.IntFlag{Name: "output-tokens", Usage: "fixed output length: every prompt's max_tokens, sent with ignore_eos (0 = --max-tokens)",
			Validator: nonNegative("output-tokens")},
		&cli.FloatFlag{Name: "spread", Usage: "synthetic prompts: draw each input and output length uniformly within ±this fraction of the target (0..1)",
			Validator: func(f float64) error {
				if f < 0 || f >= 1 {
					return fmt.Errorf("--spread %v: want a fraction in [0, 1)", f)
				}
				return nil
			}},
		&cli.StringFlag{Name: "context-tokens", Usage: "long-context prompts: pack other paragraphs around each question's own up to these lengths, e.g. 1k,8k,32k,128k (k = 1000)",
			Validator: func(s string) error { _, err := dataset.ParseTokenCounts(s); return err }},
	}
}

func oneOf(values ...string) func(string) error {
	return func(s string) error {
		for _, v := range values {
			if s == v {
				return nil
			}
		}
		return fmt.Errorf("%q: want one of %v", s, values)
	}
}

func nonNegative(name string) func(int) error {
	return func(n int) error {
		if n < 0 {
			return fmt.Errorf("--%s %d: want 0 or more", name, n)
		}
		return nil
	}
}

// datasetSpec reads datasetFlags into a dataset.Spec. The flags' validators have already
// rejected malformed --field and --context-tokens values. HF_TOKEN, HF_ENDPOINT and
// HF_DATASETS_SERVER are read by package dataset.
func datasetSpec(cmd *cli.Command) dataset.Spec {
	fields, _ := dataset.ParseFieldMap(cmd.StringSlice("field"))
	var contextTokens []int
	if s := cmd.String("context-tokens"); s != "" {
		contextTokens, _ = dataset.ParseTokenCounts(s)
	}
	via := cmd.String("hf-via")
	if via == "auto" {
		via = ""
	}
	return dataset.Spec{
		Name:          cmd.String("dataset"),
		Limit:         int(cmd.Int("limit")),
		Seed:          cmd.Int64("seed"),
		TemplateFile:  cmd.String("template"),
		System:        cmd.String("system"),
		Fields:        fields,
		Split:         cmd.String("split"),
		HFConfig:      cmd.String("hf-config"),
		Revision:      cmd.String("revision"),
		HFVia:         via,
		Offline:       cmd.Bool("offline"),
		CacheDir:      cmd.String("cache-dir"),
		InputTokens:   int(cmd.Int("input-tokens")),
		OutputTokens:  int(cmd.Int("output-tokens")),
		Spread:        cmd.Float("spread"),
		ContextTokens: contextTokens,
		Progress:      cmd.Root().ErrWriter,
	}
}

// datasetConfig is the dataset part of a run's stored configuration (a file path made
// absolute, so a resume from another directory reads the same file).
func datasetConfig(cmd *cli.Command) bench.DatasetConfig {
	spec := datasetSpec(cmd)
	name := spec.Name
	if _, err := os.Stat(name); err == nil {
		if abs, err := filepath.Abs(name); err == nil {
			name = abs
		}
	}
	tmpl := spec.TemplateFile
	if abs, err := filepath.Abs(tmpl); err == nil && tmpl != "" {
		tmpl = abs
	}
	f := spec.Fields
	fields := map[string]string{"id": f.ID, "title": f.Title, "context": f.Context, "question": f.Question,
		"answers": f.Answers, "prompt": f.Prompt}
	for k, v := range fields {
		if v == "" {
			delete(fields, k)
		}
	}
	return bench.DatasetConfig{Name: name, Limit: spec.Limit, Seed: spec.Seed, TemplateFile: tmpl, System: spec.System,
		Fields: fields, Split: spec.Split, HFConfig: spec.HFConfig, Revision: spec.Revision, HFVia: spec.HFVia,
		Offline: spec.Offline, CacheDir: spec.CacheDir, InputTokens: spec.InputTokens, OutputTokens: spec.OutputTokens,
		Spread: spec.Spread, ContextTokens: spec.ContextTokens}
}

// datasetSpecFrom is the dataset.Spec of a stored dataset configuration.
func datasetSpecFrom(c bench.DatasetConfig, progress io.Writer) dataset.Spec {
	f := c.Fields
	return dataset.Spec{Name: c.Name, Limit: c.Limit, Seed: c.Seed, TemplateFile: c.TemplateFile, System: c.System,
		Fields: dataset.FieldMap{ID: f["id"], Title: f["title"], Context: f["context"], Question: f["question"],
			Answers: f["answers"], Prompt: f["prompt"]},
		Split: c.Split, HFConfig: c.HFConfig, Revision: c.Revision, HFVia: c.HFVia, Offline: c.Offline, CacheDir: c.CacheDir,
		InputTokens: c.InputTokens, OutputTokens: c.OutputTokens, Spread: c.Spread, ContextTokens: c.ContextTokens,
		Progress: progress}
}
