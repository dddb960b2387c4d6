package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/report"
	"github.com/trackerbench/tracker/runner"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/tokens"
)

func runCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "endpoints YAML file"},
		&cli.GenericFlag{Name: "endpoint", Value: &repeated{}, Usage: "an endpoint without a file: NAME=URL,model=M[,key_env=VAR][,hardware=H] (repeatable)"},
		&cli.StringFlag{Name: "label", Usage: "a label to find this run by later"},
		&cli.IntSliceFlag{Name: "concurrency", Usage: "closed-loop levels: requests in flight, e.g. 1,8", Value: []int{1}},
		&cli.IntFlag{Name: "warmup", Usage: "requests per endpoint sent first, recorded but excluded from statistics"},
		&cli.IntFlag{Name: "max-tokens", Usage: "max_tokens of every request (0 = the server's default)", Value: 256},
		&cli.FloatFlag{Name: "temperature", Usage: "sampling temperature (0 is really sent)", Value: 0},
		&cli.BoolFlag{Name: "ignore-eos", Usage: "ask the server to ignore end-of-sequence (vLLM extension) so output length is max_tokens"},
		&cli.StringFlag{Name: "order", Usage: "order across endpoints: interleaved or sequential", Value: runner.OrderInterleaved},
		&cli.DurationFlag{Name: "timeout", Usage: "per-request timeout (0 = none)", Value: 10 * time.Minute},
		&cli.DurationFlag{Name: "stall-timeout", Usage: "end a request that receives no bytes for this long (0 = none)", Value: 2 * time.Minute},
		&cli.BoolFlag{Name: "no-preflight", Usage: "skip the reachability check before the run"},
	}
	return &cli.Command{
		Name:      "run",
		Usage:     "send a workload to endpoints and record every request",
		UsageText: "tracker run --config endpoints.yaml --dataset FILE [--limit N] [--concurrency 1,8] [--label L]",
		Flags:     append(flags, datasetFlags()...),
		Action:    runAction,
	}
}

func runAction(ctx context.Context, cmd *cli.Command) error {
	var eps []runner.Endpoint
	baseline := ""
	if path := cmd.String("config"); path != "" {
		cfg, err := runner.LoadConfig(path)
		if err != nil {
			return usageError{err}
		}
		eps, baseline = cfg.Endpoints, cfg.Baseline
	}
	flagEndpoints, _ := cmd.Value("endpoint").([]string)
	for _, s := range flagEndpoints {
		e, err := runner.ParseEndpointFlag(s)
		if err != nil {
			return usageError{err}
		}
		eps = append(eps, e)
	}
	eps, err := runner.MergeEndpoints(nil, eps)
	if err != nil {
		return usageError{err}
	}
	keys, err := runner.ResolveKeys(eps, os.Getenv)
	if err != nil {
		return usageError{err}
	}
	tok, err := tokens.New(eps[0].Model)
	if err != nil {
		return err
	}
	spec := datasetSpec(cmd)
	prompts, err := dataset.Prepare(ctx, spec, tok)
	if err != nil {
		return usageError{err}
	}
	plan := runner.Plan{
		Label: cmd.String("label"), Endpoints: eps, Keys: keys, Baseline: baseline,
		Dataset: spec.Name, Prompts: prompts, Seed: spec.Seed,
		Concurrency: cmd.IntSlice("concurrency"), Warmup: cmd.Int("warmup"), Order: cmd.String("order"),
		Request: runner.RequestOptions{MaxTokens: cmd.Int("max-tokens"), Temperature: cmd.Float("temperature"),
			IgnoreEOS: cmd.Bool("ignore-eos"), Timeout: cmd.Duration("timeout"), StallTimeout: cmd.Duration("stall-timeout")},
		Extra: map[string]any{"limit": spec.Limit, "template": spec.TemplateFile, "system": spec.System != ""},
	}
	if !cmd.Bool("no-preflight") {
		if err := runner.Reachable(ctx, eps, 10*time.Second); err != nil {
			return err
		}
	}
	db, err := store.Open(ctx, cmd.String("db"), schemaSQL)
	if err != nil {
		return err
	}
	defer db.Close()
	r := &runner.Runner{DB: db, Tokens: tok, Version: version, Progress: terminalOrNil(os.Stderr), Score: dataset.Score}
	out, runErr := r.Run(ctx, plan)
	if runErr != nil && errors.Is(runErr, runner.ErrPlan) {
		return usageError{runErr}
	}
	if out.RunID == 0 {
		return runErr
	}
	rows, err := db.Summary(context.Background(), out.RunID)
	if err != nil {
		return err
	}
	w := cmd.Root().Writer
	fmt.Fprintf(w, "Run %d (%s) in %s\n", out.RunID, out.Status, db.Path())
	if err := report.WriteRunSummary(w, rows); err != nil {
		return err
	}
	if out.Status == store.RunInterrupted {
		return fmt.Errorf("run %d interrupted: completed requests are recorded", out.RunID)
	}
	return runErr
}

// terminalOrNil returns f when it is a terminal (for the progress bar), else nil.
func terminalOrNil(f *os.File) io.Writer {
	if term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}

// repeated is a repeatable flag whose values may contain commas (urfave/cli splits slice
// flags on commas; an --endpoint value is itself a comma list).
type repeated struct{ values []string }

func (r *repeated) Set(s string) error { r.values = append(r.values, s); return nil }
func (r *repeated) String() string     { return strings.Join(r.values, " ") }
func (r *repeated) Get() any           { return r.values }
