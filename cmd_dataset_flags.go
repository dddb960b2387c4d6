package main

import (
	"github.com/trackerbench/tracker/dataset"
	"github.com/urfave/cli/v3"
)

// datasetFlags are the flags that choose and shape a run's prompts.
func datasetFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "dataset", Usage: "prompt source: a SQuAD JSON or JSONL file", Required: true},
		&cli.IntFlag{Name: "limit", Usage: "how many prompts to sample (0 = all)", Value: 0},
		&cli.Int64Flag{Name: "seed", Usage: "sampling seed (the same seed gives the same prompts)", Value: 1},
		&cli.StringFlag{Name: "template", Usage: "a Go text/template file for the user message, over the row's fields"},
		&cli.StringFlag{Name: "system", Usage: "a system message sent before every prompt"},
	}
}

// datasetSpec reads datasetFlags into a dataset.Spec.
func datasetSpec(cmd *cli.Command) dataset.Spec {
	return dataset.Spec{
		Name:         cmd.String("dataset"),
		Limit:        int(cmd.Int("limit")),
		Seed:         cmd.Int64("seed"),
		TemplateFile: cmd.String("template"),
		System:       cmd.String("system"),
	}
}
