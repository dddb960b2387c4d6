package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
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

func runFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "endpoints YAML file"},
		&cli.GenericFlag{Name: "endpoint", Value: &repeated{}, Usage: "an endpoint without a file: NAME=URL,model=M[,key_env=VAR][,key_cmd=CMD][,preset=P][,max_rps=R][,hardware=H] (repeatable)"},
		&cli.StringFlag{Name: "label", Usage: "a label to find this run by later"},
		// Load levels.
		&cli.StringFlag{Name: "concurrency", Usage: "closed-loop levels: requests in flight, e.g. 1,8,64 (default 1)"},
		&cli.StringFlag{Name: "rate", Usage: "open-loop levels: requests/s, e.g. 2,4,8 (Poisson arrivals unless --burstiness)"},
		&cli.StringFlag{Name: "burstiness", Usage: "gamma shape B of open-loop inter-arrival times: 1 = Poisson, <1 burstier, inf = constant spacing", Value: "1"},
		&cli.IntFlag{Name: "max-concurrency", Usage: "cap on requests in flight for open-loop levels (0 = none)"},
		&cli.IntFlag{Name: "requests", Usage: "requests per level, cycling through the prompts (default: one pass over the prompts)"},
		&cli.DurationFlag{Name: "duration", Usage: "how long each level sends requests (prompts cycle)"},
		&cli.IntFlag{Name: "warmup", Usage: "requests per endpoint sent first, recorded but excluded from statistics"},
		&cli.DurationFlag{Name: "warmup-duration", Usage: "warm each endpoint up for this long (with or after --warmup)"},
		&cli.IntFlag{Name: "repeat", Usage: "run every level this many times (trials)", Value: 1},
		&cli.StringFlag{Name: "order", Usage: "order across endpoints: interleaved, sequential or concurrent", Value: runner.OrderInterleaved},
		&cli.StringFlag{Name: "sweep", Usage: "search the load instead of fixed levels: concurrency (double until throughput stops rising) or rate"},
		&cli.FloatFlag{Name: "sweep-min-gain", Usage: "a concurrency sweep stops when output throughput rises by less than this fraction", Value: 0.05},
		&cli.IntFlag{Name: "sweep-max-concurrency", Usage: "highest concurrency a sweep tries (and the saturating level of a rate sweep)", Value: 256},
		&cli.IntFlag{Name: "sweep-steps", Usage: "rates a rate sweep runs between single-stream and saturated throughput", Value: 5},
		&cli.FloatFlag{Name: "max-error-rate", Usage: "stop a level (and a sweep) when its error rate passes this fraction (0 = never)"},
		&cli.StringFlag{Name: "slo", Usage: "latency targets for goodput, e.g. ttft=500ms,tpot=50ms,e2e=10s"},
		&cli.FloatFlag{Name: "slo-target", Usage: "a sweep stops at the first level whose SLO attainment is below this fraction", Value: 0.9},
		// Requests.
		&cli.IntFlag{Name: "max-tokens", Usage: "max_tokens of every request (0 = the server's default)", Value: 256},
		&cli.FloatFlag{Name: "temperature", Usage: "sampling temperature (0 is really sent)", Value: 0},
		&cli.BoolFlag{Name: "ignore-eos", Usage: "ask the server to ignore end-of-sequence (vLLM extension) so output length is max_tokens"},
		&cli.DurationFlag{Name: "timeout", Usage: "per-request timeout (0 = none)", Value: 10 * time.Minute},
		&cli.DurationFlag{Name: "stall-timeout", Usage: "end a request that receives no bytes for this long (0 = none)", Value: 2 * time.Minute},
		&cli.BoolFlag{Name: "no-preflight", Usage: "skip the check request sent to each endpoint before the run"},
		&cli.DurationFlag{Name: "wait-cold", Usage: "at preflight, wait up to this long for an endpoint whose model is still loading (503)"},
		&cli.BoolFlag{Name: "stream", Usage: "stream answers (--stream=false: E2E only, tokens from usage)", Value: true},
		&cli.IntFlag{Name: "retries", Usage: "send a request that failed with 408/429/5xx, an in-band error or a broken connection again, up to N times (every attempt recorded)"},
		&cli.DurationFlag{Name: "retry-backoff", Usage: "first wait before a retry, doubled each time (a server's Retry-After wins)", Value: time.Second},
		&cli.Int64Flag{Name: "resume", Usage: "finish interrupted run ID with its stored settings, sending only what did not complete"},
	}
	return append(flags, datasetFlags()...)
}

func runCommand(argv []string) *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "send a workload to endpoints and record every request",
		UsageText: "tracker run --config endpoints.yaml --dataset FILE [--limit N] [--concurrency 1,8 | --rate 2,4] [--label L]",
		Flags:     runFlags(),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if _, err := dbPath(cmd); err != nil {
				return err
			}
			if id := cmd.Int64("resume"); id > 0 {
				return resumeAction(ctx, cmd, id)
			}
			plan, tok, err := planFromFlags(ctx, cmd)
			if err != nil {
				return err
			}
			plan.Extra["args"] = runArgs(argv)
			return execute(ctx, cmd, plan, tok, 0)
		},
	}
}

// planFromFlags builds a run's plan from its flags: endpoints, prompts, loads, options.
func planFromFlags(ctx context.Context, cmd *cli.Command) (runner.Plan, *tokens.Counter, error) {
	var plan runner.Plan
	if err := checkRunFlags(cmd); err != nil {
		return plan, nil, err
	}
	var eps []runner.Endpoint
	baseline := ""
	if path := cmd.String("config"); path != "" {
		cfg, err := runner.LoadConfig(path)
		if err != nil {
			return plan, nil, usageError{err}
		}
		eps, baseline = cfg.Endpoints, cfg.Baseline
	}
	flagEndpoints, _ := cmd.Value("endpoint").([]string)
	for _, s := range flagEndpoints {
		e, err := runner.ParseEndpointFlag(s)
		if err != nil {
			return plan, nil, usageError{err}
		}
		eps = append(eps, e)
	}
	eps, err := runner.MergeEndpoints(nil, eps)
	if err != nil {
		return plan, nil, usageError{err}
	}
	keys, err := runner.ResolveKeys(eps, os.Getenv)
	if err != nil {
		return plan, nil, usageError{err}
	}
	loads, err := loadsFromFlags(cmd)
	if err != nil {
		return plan, nil, usageError{err}
	}
	burst, err := strconv.ParseFloat(cmd.String("burstiness"), 64)
	if err != nil || burst <= 0 || math.IsNaN(burst) {
		return plan, nil, usagef("--burstiness %q: want a positive number or inf", cmd.String("burstiness"))
	}
	slo, err := runner.ParseSLO(cmd.String("slo"))
	if err != nil {
		return plan, nil, usageError{err}
	}
	var sweep *runner.Sweep
	if k := cmd.String("sweep"); k != "" {
		sweep = &runner.Sweep{Kind: k, MinGain: cmd.Float("sweep-min-gain"), MaxConcurrency: cmd.Int("sweep-max-concurrency"),
			Steps: cmd.Int("sweep-steps"), SLOTarget: cmd.Float("slo-target")}
		if cmd.IsSet("concurrency") || cmd.IsSet("rate") {
			return plan, nil, usagef("--sweep chooses the levels itself: drop --concurrency and --rate")
		}
	}
	tok, err := tokens.New(eps[0].Model)
	if err != nil {
		return plan, nil, err
	}
	spec := datasetSpec(cmd)
	if spec.Name == "" {
		return plan, nil, usagef("--dataset is required (a file, squad, hf:owner/name or synthetic)")
	}
	prompts, err := dataset.Prepare(ctx, spec, tok)
	if err != nil {
		return plan, nil, usageError{err}
	}
	plan = runner.Plan{
		Label: cmd.String("label"), Endpoints: eps, Keys: keys, Baseline: baseline,
		Dataset: spec.Name, Prompts: prompts, Seed: spec.Seed,
		Loads: loads, Burstiness: burst, Requests: cmd.Int("requests"), Duration: cmd.Duration("duration"),
		Warmup: cmd.Int("warmup"), WarmupDuration: cmd.Duration("warmup-duration"), Repeat: cmd.Int("repeat"),
		Order: cmd.String("order"), Sweep: sweep, MaxErrorRate: cmd.Float("max-error-rate"), SLO: slo,
		Request: runner.RequestOptions{MaxTokens: cmd.Int("max-tokens"), Temperature: cmd.Float("temperature"),
			IgnoreEOS: cmd.Bool("ignore-eos"), Timeout: cmd.Duration("timeout"), StallTimeout: cmd.Duration("stall-timeout"),
			NoStream: !cmd.Bool("stream"), Retries: cmd.Int("retries"), RetryBackoff: cmd.Duration("retry-backoff")},
		Extra: map[string]any{"limit": spec.Limit, "template": spec.TemplateFile, "system": spec.System != "",
			"dataset_source": prompts.Source},
	}
	return plan, tok, nil
}

// checkRunFlags refuses numeric flags out of their range, naming the flag, before anything
// is read or sent.
func checkRunFlags(cmd *cli.Command) error {
	for _, f := range []struct {
		name string
		min  int
		want string
	}{
		{"limit", 0, "0 (all) or more"}, {"repeat", 1, "1 or more"}, {"retries", 0, "0 (none) or more"},
		{"max-tokens", 0, "0 (the server's default) or more"}, {"requests", 0, "0 (one pass) or more"},
		{"warmup", 0, "0 or more"}, {"max-concurrency", 0, "0 (no cap) or more"},
		{"sweep-max-concurrency", 1, "1 or more"}, {"sweep-steps", 1, "1 or more"},
	} {
		if v := cmd.Int(f.name); v < f.min {
			return usagef("--%s %d: want %s", f.name, v, f.want)
		}
	}
	for _, f := range []struct {
		name     string
		min, max float64
	}{{"temperature", 0, 100}, {"max-error-rate", 0, 1}, {"slo-target", 0, 1}, {"sweep-min-gain", 0, 100}} {
		if v := cmd.Float(f.name); !(v >= f.min && v <= f.max) {
			return usagef("--%s %v: want a number from %g to %g", f.name, v, f.min, f.max)
		}
	}
	for _, name := range []string{"duration", "warmup-duration", "timeout", "stall-timeout", "retry-backoff", "wait-cold"} {
		if d := cmd.Duration(name); d < 0 {
			return usagef("--%s %s: want 0 or more", name, d)
		}
	}
	return nil
}

// loadsFromFlags reads --concurrency (closed loop) or --rate with --max-concurrency (open loop).
func loadsFromFlags(cmd *cli.Command) ([]runner.Load, error) {
	if r := cmd.String("rate"); r != "" {
		if cmd.IsSet("concurrency") {
			return nil, fmt.Errorf("--rate and --concurrency: an open loop is capped with --max-concurrency")
		}
		rates, err := runner.ParseRates(r)
		if err != nil {
			return nil, err
		}
		if cmd.Int("max-concurrency") < 0 {
			return nil, fmt.Errorf("--max-concurrency %d: want 0 (no cap) or more", cmd.Int("max-concurrency"))
		}
		return runner.OpenLoads(rates, cmd.Int("max-concurrency")), nil
	}
	c := cmd.String("concurrency")
	if c == "" {
		c = "1"
	}
	levels, err := runner.ParseInts("concurrency", c)
	if err != nil {
		return nil, err
	}
	return runner.ClosedLoads(levels), nil
}

// execute checks the endpoints, runs (or resumes) the plan and prints the summary.
func execute(ctx context.Context, cmd *cli.Command, plan runner.Plan, tok *tokens.Counter, resumeID int64) error {
	if !cmd.Bool("no-preflight") {
		if err := runner.Preflight(ctx, plan.Endpoints, plan.Keys, runner.PreflightOptions{WaitCold: cmd.Duration("wait-cold"),
			NoStream: plan.Request.NoStream, Tokens: tok, Log: cmd.Root().ErrWriter}); err != nil {
			return err
		}
	}
	db, err := store.Open(ctx, cmd.String("db"), schemaSQL)
	if err != nil {
		return err
	}
	defer db.Close()
	r := &runner.Runner{DB: db, Tokens: tok, Version: version, Progress: terminalOrNil(os.Stderr), Score: dataset.Score}
	var out runner.Outcome
	var runErr error
	if resumeID > 0 {
		out, runErr = r.Resume(ctx, resumeID, plan)
	} else {
		out, runErr = r.Run(ctx, plan)
	}
	if runErr != nil && (errors.Is(runErr, runner.ErrPlan) || errors.Is(runErr, runner.ErrResume)) {
		return usageError{runErr}
	}
	if out.RunID == 0 {
		return runErr
	}
	rows, err := db.Summary(context.Background(), out.RunID)
	if err != nil {
		return err
	}
	pairs, err := db.PairCounts(context.Background(), out.RunID)
	if err != nil {
		return err
	}
	w := cmd.Root().Writer
	fmt.Fprintf(w, "Run %d (%s) in %s\n", out.RunID, out.Status, db.Path())
	if err := report.WriteRunSummary(w, rows, pairs); err != nil {
		return err
	}
	if out.Status == store.RunInterrupted {
		return fmt.Errorf("run %d interrupted: completed requests are recorded; `tracker run --resume %d` finishes it", out.RunID, out.RunID)
	}
	return runErr
}

// resumeAction finishes an interrupted run: its plan is rebuilt from the arguments it was
// started with (stored with the run; they hold no secrets: keys come from the environment).
func resumeAction(ctx context.Context, cmd *cli.Command, id int64) error {
	args, err := storedArgs(ctx, cmd.String("db"), id)
	if err != nil {
		return err
	}
	var plan runner.Plan
	var tok *tokens.Counter
	inner := &cli.Command{
		Name: "tracker", Writer: io.Discard, ErrWriter: io.Discard,
		Flags: []cli.Flag{&cli.StringFlag{Name: "db"}},
		Commands: []*cli.Command{{Name: "run", Flags: runFlags(), Action: func(ctx context.Context, c *cli.Command) error {
			plan, tok, err = planFromFlags(ctx, c)
			return err
		}}},
	}
	if rerr := inner.Run(ctx, append([]string{"tracker", "run"}, args...)); rerr != nil {
		return fmt.Errorf("resuming run %d with its stored arguments: %w", id, rerr)
	}
	plan.Extra["args"] = args
	return execute(ctx, cmd, plan, tok, id)
}

func storedArgs(ctx context.Context, path string, id int64) ([]string, error) {
	db, err := store.OpenReadOnly(ctx, path, schemaSQL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	run, err := db.GetRun(ctx, id)
	if err != nil {
		return nil, usageError{err}
	}
	// Refused before any endpoint is contacted: a completed run, or one another process runs.
	if err := runner.CheckResumable(ctx, db, id); err != nil {
		return nil, usageError{err}
	}
	var cfg struct {
		Args []string `json:"args"`
	}
	if err := json.Unmarshal([]byte(run.ConfigJSON), &cfg); err != nil || cfg.Args == nil {
		return nil, usagef("run %d has no stored arguments to resume with", id)
	}
	return cfg.Args, nil
}

// runArgs is the `run` subcommand's own arguments from the whole command line, without
// --resume and --db (a resume names its database itself).
func runArgs(argv []string) []string {
	i := 1
	for i < len(argv) && argv[i] != "run" {
		i++
	}
	var out []string
	for j := i + 1; j < len(argv); j++ {
		a := argv[j]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "resume" || name == "db") {
			if !hasValue {
				j++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// terminalOrNil returns f when it is a terminal (for the live view), else nil.
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
