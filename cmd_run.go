package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/trackerbench/tracker/bench"
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
		&cli.StringFlag{Name: "order", Usage: "order across endpoints: interleaved, sequential or concurrent", Value: string(bench.OrderInterleaved)},
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
		&cli.BoolFlag{Name: "cold-connections", Usage: "open connections inside the measured requests (set-up in TTFT, as vLLM's benchmark) instead of warming them before each level"},
		&cli.StringFlag{Name: "http", Usage: "HTTP version: 1.1 (what vLLM's benchmark and the first study speak) or 2 (TLS by ALPN, http:// by prior knowledge)", Value: runner.HTTP11},
		&cli.BoolFlag{Name: "cache-bust", Usage: "start every request's first message with a short random tag so no prompt/prefix cache can serve it (llamacpp preset: also cache_prompt false)"},
		&cli.DurationFlag{Name: "metrics-interval", Usage: "scrape each endpoint's Prometheus /metrics this often during the run (docs/telemetry.md)", Value: runner.DefaultMetricsInterval},
		&cli.BoolFlag{Name: "no-server-metrics", Usage: "do not scrape the endpoints' /metrics"},
		&cli.StringFlag{Name: "server-metrics", Usage: "which metric families to keep: default (the per-engine allow-list) or all", Value: "default"},
		&cli.Int64Flag{Name: "resume", Usage: "finish interrupted run ID with its stored settings, sending only what did not complete"},
		&cli.BoolFlag{Name: "force", Usage: "with --resume: resume even though an endpoint's URL or model changed since the run"},
	}
	return append(flags, datasetFlags()...)
}

func runCommand() *cli.Command {
	return command("run", "send a workload to endpoints and record every request",
		"tracker run --config endpoints.yaml --dataset FILE [--limit N] [--concurrency 1,8 | --rate 2,4] [--label L]",
		runFlags(), func(ctx context.Context, cmd *cli.Command) error {
			if _, err := dbPath(cmd); err != nil {
				return err
			}
			collected := tuneGCForRun(ctx, os.Getenv) // gc.go
			if id := cmd.Int64("resume"); id > 0 {
				return resumeAction(ctx, cmd, id, collected)
			}
			plan, spec, err := planFromFlags(cmd)
			if err != nil {
				return err
			}
			var ahead *runner.Ahead
			if cmd.Bool("no-preflight") {
				// The first level's connections open while the prompts are prepared; after a
				// preflight otherwise (execute), so that a failing endpoint is told by it.
				if ahead, err = runner.StartAhead(ctx, plan); err != nil {
					return planError(err)
				}
			}
			db := store.OpenInBackground(ctx, cmd.String("db"), schemaSQL)
			tok, err := preparePrompts(ctx, &plan, spec)
			if err != nil {
				db.Discard()
				ahead.Wait()
				return err
			}
			return execute(ctx, cmd, plan, tok, db, runStart{ahead: ahead, collected: collected})
		})
}

// planError is a usage error when the runner refused the plan.
func planError(err error) error {
	if errors.Is(err, runner.ErrPlan) {
		return usageError{err}
	}
	return err
}

// runStart is what execute runs: a new run, with the connections opened ahead if they were
// (nil: execute opens them after the preflight), or the resume of run resumeID; collected
// is tuneGCForRun's, for the runner to call after each level's collection.
type runStart struct {
	ahead     *runner.Ahead
	resumeID  int64
	collected func()
}

// planFromFlags builds a run's plan from its flags: its typed configuration (what is
// stored), then the plan (endpoints with their keys) from that, and the dataset's spec,
// whose prompts preparePrompts adds.
func planFromFlags(cmd *cli.Command) (runner.Plan, dataset.Spec, error) {
	if err := checkRunFlags(cmd); err != nil {
		return runner.Plan{}, dataset.Spec{}, err
	}
	eps, baseline, cfgFile, err := endpointsFromFlags(cmd)
	if err != nil {
		return runner.Plan{}, dataset.Spec{}, err
	}
	if len(eps) == 0 {
		_, err := runner.MergeEndpoints(nil, nil)
		return runner.Plan{}, dataset.Spec{}, usageError{err}
	}
	cfg, err := configFromFlags(cmd)
	if err != nil {
		return runner.Plan{}, dataset.Spec{}, err
	}
	cfg.ConfigFile, cfg.Baseline = cfgFile, baseline
	return planFromConfig(cmd, cfg, eps)
}

// endpointsFromFlags reads --config (returned with its absolute path) and --endpoint.
func endpointsFromFlags(cmd *cli.Command) (eps []runner.Endpoint, baseline, cfgFile string, err error) {
	if path := cmd.String("config"); path != "" {
		cfg, err := runner.LoadConfig(path)
		if err != nil {
			return nil, "", "", usageError{err}
		}
		eps, baseline = cfg.Endpoints, cfg.Baseline
		if cfgFile, err = filepath.Abs(path); err != nil {
			return nil, "", "", usageError{err}
		}
	}
	flagEndpoints, _ := cmd.Value("endpoint").([]string)
	for _, s := range flagEndpoints {
		e, err := runner.ParseEndpointFlag(s)
		if err != nil {
			return nil, "", "", usageError{err}
		}
		eps = append(eps, e)
	}
	if len(eps) > 0 {
		if eps, err = runner.MergeEndpoints(nil, eps); err != nil {
			return nil, "", "", usageError{err}
		}
	}
	return eps, baseline, cfgFile, nil
}

// configFromFlags reads every setting but the endpoints into the run's typed configuration.
func configFromFlags(cmd *cli.Command) (bench.RunConfig, error) {
	loads, err := loadsFromFlags(cmd)
	if err != nil {
		return bench.RunConfig{}, usageError{err}
	}
	slo, err := runner.ParseSLO(cmd.String("slo"))
	if err != nil {
		return bench.RunConfig{}, usageError{err}
	}
	cfg := bench.RunConfig{Label: cmd.String("label"), Dataset: datasetConfig(cmd), Burstiness: cmd.String("burstiness"),
		Requests: cmd.Int("requests"), Duration: cmd.Duration("duration"), Warmup: cmd.Int("warmup"),
		WarmupDuration: cmd.Duration("warmup-duration"), Repeat: cmd.Int("repeat"), Order: bench.Order(cmd.String("order")),
		MaxErrorRate: cmd.Float("max-error-rate"), SLO: bench.SLOConfig{TTFT: slo.TTFT, TPOT: slo.TPOT, E2E: slo.E2E},
		Request: bench.RequestConfig{MaxTokens: cmd.Int("max-tokens"), Temperature: cmd.Float("temperature"),
			IgnoreEOS: cmd.Bool("ignore-eos"), Timeout: cmd.Duration("timeout"), StallTimeout: cmd.Duration("stall-timeout"),
			Stream: cmd.Bool("stream"), Retries: cmd.Int("retries"), RetryBackoff: cmd.Duration("retry-backoff"),
			CacheBust: cmd.Bool("cache-bust")},
		Conn: bench.ConnConfig{Cold: cmd.Bool("cold-connections"), HTTP: cmd.String("http")}}
	for _, l := range loads {
		cfg.Loads = append(cfg.Loads, bench.LoadConfig{Concurrency: l.Concurrency, Rate: l.Rate})
	}
	if k := cmd.String("sweep"); k != "" {
		if cmd.IsSet("concurrency") || cmd.IsSet("rate") {
			return cfg, usagef("--sweep chooses the levels itself: drop --concurrency and --rate")
		}
		cfg.Loads = nil
		cfg.Sweep = &bench.SweepConfig{Kind: bench.SweepKind(k), MinGain: cmd.Float("sweep-min-gain"), MaxConcurrency: cmd.Int("sweep-max-concurrency"),
			Steps: cmd.Int("sweep-steps"), SLOTarget: cmd.Float("slo-target")}
	}
	return cfg, nil
}

// planFromConfig builds the plan of a run from its typed configuration and its endpoints
// (keys from the environment or key commands), and the spec of its dataset, whose prompts
// preparePrompts prepares again. `run` and `--resume` both come through here.
func planFromConfig(cmd *cli.Command, cfg bench.RunConfig, eps []runner.Endpoint) (runner.Plan, dataset.Spec, error) {
	var plan runner.Plan
	keys, err := runner.ResolveKeys(eps, os.Getenv)
	if err != nil {
		return plan, dataset.Spec{}, usageError{err}
	}
	burst, err := strconv.ParseFloat(cfg.Burstiness, 64)
	if err != nil || burst <= 0 || math.IsNaN(burst) {
		return plan, dataset.Spec{}, usagef("--burstiness %q: want a positive number or inf", cfg.Burstiness)
	}
	var sweep *runner.Sweep
	if s := cfg.Sweep; s != nil {
		sweep = &runner.Sweep{Kind: s.Kind, MinGain: s.MinGain, MaxConcurrency: s.MaxConcurrency, Steps: s.Steps, SLOTarget: s.SLOTarget}
	}
	var loads []runner.Load
	for _, l := range cfg.Loads {
		loads = append(loads, runner.Load{Concurrency: l.Concurrency, Rate: l.Rate})
	}
	serverMetrics, err := serverMetricsFromFlags(cmd)
	if err != nil {
		return plan, dataset.Spec{}, err
	}
	spec := datasetSpecFrom(cfg.Dataset, cmd.Root().ErrWriter)
	if spec.Name == "" {
		return plan, spec, usagef("--dataset is required (a file, squad, hf:owner/name or synthetic)")
	}
	r := cfg.Request
	plan = runner.Plan{
		Label: cfg.Label, Endpoints: eps, Keys: keys, Baseline: cfg.Baseline, ConfigFile: cfg.ConfigFile,
		Dataset: cfg.Dataset.Name, DatasetConfig: cfg.Dataset, Seed: spec.Seed,
		Loads: loads, Burstiness: burst, Requests: cfg.Requests, Duration: cfg.Duration,
		Warmup: cfg.Warmup, WarmupDuration: cfg.WarmupDuration, Repeat: cfg.Repeat,
		Order: cfg.Order, Sweep: sweep, MaxErrorRate: cfg.MaxErrorRate,
		SLO: runner.SLO{TTFT: cfg.SLO.TTFT, TPOT: cfg.SLO.TPOT, E2E: cfg.SLO.E2E},
		Request: runner.RequestOptions{MaxTokens: r.MaxTokens, Temperature: r.Temperature, IgnoreEOS: r.IgnoreEOS,
			Timeout: r.Timeout, StallTimeout: r.StallTimeout, NoStream: !r.Stream, Retries: r.Retries, RetryBackoff: r.RetryBackoff,
			CacheBust: r.CacheBust},
		Conn:          runner.ConnOptions{Cold: cfg.Conn.Cold, HTTP: cfg.Conn.HTTP},
		ServerMetrics: serverMetrics,
	}
	return plan, spec, nil
}

// preparePrompts prepares the plan's prompts from its dataset with the tokenizer of its
// first endpoint's model, which it returns.
func preparePrompts(ctx context.Context, plan *runner.Plan, spec dataset.Spec) (*tokens.Counter, error) {
	tok, err := tokens.New(plan.Endpoints[0].Model)
	if err != nil {
		return nil, fmt.Errorf("loading the tokenizer: %w", err)
	}
	prompts, err := dataset.Prepare(ctx, spec, tok)
	if err != nil {
		return nil, usageError{err}
	}
	plan.Prompts = prompts
	plan.DatasetConfig.Source = prompts.Source
	return tok, nil
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

// serverMetricsFromFlags reads --no-server-metrics, --metrics-interval and --server-metrics.
func serverMetricsFromFlags(cmd *cli.Command) (runner.ServerMetrics, error) {
	m := runner.ServerMetrics{Enabled: !cmd.Bool("no-server-metrics"), Interval: cmd.Duration("metrics-interval")}
	switch cmd.String("server-metrics") {
	case "", "default":
	case "all":
		m.All = true
	default:
		return m, usagef("--server-metrics %q: want default or all", cmd.String("server-metrics"))
	}
	return m, nil
}

// writeServerLines prints, per level, the server's own batch and queue when it was scraped.
func writeServerLines(w io.Writer, db *store.DB, runID int64) error {
	rows, err := db.ServerLevelSummary(context.Background(), []int64{runID}, report.ServerRoleFamilies())
	if err != nil {
		return err
	}
	return report.WriteServerLevelLines(w, rows)
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

// execute checks the endpoints, runs (or resumes) the plan into the database being opened
// and prints the summary.
func execute(ctx context.Context, cmd *cli.Command, plan runner.Plan, tok *tokens.Counter, pending *store.Opening, start runStart) error {
	if !cmd.Bool("no-preflight") {
		if err := runner.Preflight(ctx, plan.Endpoints, plan.Keys, runner.PreflightOptions{WaitCold: cmd.Duration("wait-cold"),
			NoStream: plan.Request.NoStream, Tokens: tok, Log: cmd.Root().ErrWriter, Conn: plan.Conn}); err != nil {
			pending.Discard()
			return err
		}
	}
	if start.ahead == nil && start.resumeID == 0 {
		ahead, err := runner.StartAhead(ctx, plan) // the connections open while the database does
		if err != nil {
			pending.Discard()
			return planError(err)
		}
		start.ahead = ahead
	}
	db, err := pending.Wait()
	if err != nil {
		start.ahead.Wait()
		return err
	}
	defer db.Close()
	r := &runner.Runner{DB: db, Tokens: tok, Version: version, Progress: terminalOrNil(os.Stderr), Score: dataset.Score,
		Log: cmd.Root().ErrWriter, Collected: start.collected}
	if msg := plan.RepeatedPrompts(); msg != "" {
		fmt.Fprintln(cmd.Root().ErrWriter, "note:", msg)
	}
	var out runner.Outcome
	var runErr error
	if start.resumeID > 0 {
		out, runErr = r.Resume(ctx, start.resumeID, plan)
	} else {
		out, runErr = r.RunAhead(ctx, plan, start.ahead)
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
	if len(rows) == 0 {
		if err := writeNoSummary(w, db, out.RunID); err != nil {
			return err
		}
	} else if err := report.WriteRunSummary(w, rows, pairs); err != nil {
		return err
	}
	if err := writeServerLines(w, db, out.RunID); err != nil {
		return err
	}
	if out.Status == bench.RunInterrupted {
		return fmt.Errorf("run %d interrupted: completed requests are recorded; `tracker run --resume %d` finishes it", out.RunID, out.RunID)
	}
	return runErr
}

// writeNoSummary says why a run has no summary: nothing recorded, or only requests canceled
// by an interruption (recorded, and sent again by --resume) or failed for want of a client
// resource.
func writeNoSummary(w io.Writer, db *store.DB, runID int64) error {
	total, canceled, clientRes, err := db.RequestCounts(context.Background(), runID)
	if err != nil {
		return err
	}
	switch {
	case canceled > 0 && canceled == total:
		_, err = fmt.Fprintf(w, "No request completed: %d recorded as canceled by the interruption (--resume sends them again).\n", canceled)
		return err
	case clientRes > 0 && canceled+clientRes == total:
		_, err = fmt.Fprintf(w, "No request has an outcome: %d failed on this machine for want of a resource (open files, ports: "+
			"raise `ulimit -n` or lower the load), %d canceled by the interruption; neither counts against the endpoint.\n", clientRes, canceled)
		return err
	}
	_, err = fmt.Fprintln(w, "No requests were recorded.")
	return err
}

// resumeAction finishes an interrupted run with its stored configuration. Endpoints come
// from the resume's own --config/--endpoint if given, else from the run's config file read
// again, else from its stored --endpoint values when they held no secret. An endpoint whose
// URL or model differs from the stored one is refused unless --force.
func resumeAction(ctx context.Context, cmd *cli.Command, id int64, collected func()) error {
	cfg, stored, err := storedConfig(ctx, cmd.String("db"), id)
	if err != nil {
		return err
	}
	eps, err := resumeEndpoints(cmd, cfg)
	if err != nil {
		return err
	}
	if err := sameEndpoints(stored, eps); err != nil && !cmd.Bool("force") {
		return usageError{fmt.Errorf("resuming run %d: %w; give --force to resume anyway", id, err)}
	}
	plan, spec, err := planFromConfig(cmd, cfg, eps)
	if err != nil {
		return fmt.Errorf("resuming run %d with its stored configuration: %w", id, err)
	}
	db := store.OpenInBackground(ctx, cmd.String("db"), schemaSQL)
	tok, err := preparePrompts(ctx, &plan, spec)
	if err != nil {
		db.Discard()
		return fmt.Errorf("resuming run %d with its stored configuration: %w", id, err)
	}
	return execute(ctx, cmd, plan, tok, db, runStart{resumeID: id, collected: collected})
}

// storedConfig reads a run's typed configuration and recorded endpoints, refusing (before
// any endpoint is contacted) a run that is completed, held by another process, or recorded
// by a tracker that stored raw arguments.
func storedConfig(ctx context.Context, path string, id int64) (bench.RunConfig, []bench.Endpoint, error) {
	db, err := store.OpenReadOnly(ctx, path, schemaSQL)
	if err != nil {
		return bench.RunConfig{}, nil, err
	}
	defer db.Close()
	run, err := db.GetRun(ctx, id)
	if err != nil {
		return bench.RunConfig{}, nil, usageError{err}
	}
	if err := runner.CheckResumable(ctx, db, id); err != nil {
		return bench.RunConfig{}, nil, usageError{err}
	}
	cfg, err := bench.ParseRunConfig(run.ConfigJSON)
	if errors.Is(err, bench.ErrLegacyConfig) {
		return cfg, nil, usagef("run %d was recorded by an older tracker that stored its raw arguments, which are no longer replayed: start a new run", id)
	}
	if err != nil {
		return cfg, nil, err
	}
	eps, err := db.Endpoints(ctx, id)
	return cfg, eps, err
}

// resumeEndpoints finds the endpoints (with what their keys need) a resume sends to.
func resumeEndpoints(cmd *cli.Command, cfg bench.RunConfig) ([]runner.Endpoint, error) {
	eps, _, _, err := endpointsFromFlags(cmd)
	if err != nil || len(eps) > 0 {
		return eps, err
	}
	if cfg.ConfigFile != "" {
		file, err := runner.LoadConfig(cfg.ConfigFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("reading the run's endpoint file again: %w", err)}
		}
		eps = file.Endpoints
	}
	for _, e := range cfg.Endpoints {
		if !e.FromFlag {
			continue
		}
		if e.Redacted || e.APIKeyCommand || len(e.HeaderNames) > 0 {
			return nil, usagef("endpoint %s was given with --endpoint and a secret (credentials in its URL or a key command) that is never stored: give its --endpoint again with --resume", e.Name)
		}
		eps = append(eps, runner.Endpoint{Name: e.Name, Preset: e.Preset, BaseURL: e.BaseURL, Model: e.Model,
			APIKeyEnv: e.APIKeyEnv, MaxRPS: e.MaxRPS, Hardware: e.Hardware, FromFlag: true,
			InputPricePerMTok: e.InputPrice, OutputPricePerMTok: e.OutputPrice, PricePerHour: e.PricePerHour, Nodes: e.Nodes,
			FollowRedirects: runner.RedirectPolicy(e.FollowRedirects)})
	}
	return runner.MergeEndpoints(nil, eps)
}

// sameEndpoints checks that a resume sends to the endpoints the run recorded: the same
// names, and for each the same (redacted) URL and model.
func sameEndpoints(stored []bench.Endpoint, eps []runner.Endpoint) error {
	byName := map[string]bench.Endpoint{}
	for _, e := range stored {
		byName[e.Name] = e
	}
	for _, e := range eps {
		s, ok := byName[e.Name]
		switch {
		case !ok:
			return fmt.Errorf("endpoint %s is not one the run recorded", e.Name)
		case s.BaseURL != runner.RedactURL(e.BaseURL):
			return fmt.Errorf("endpoint %s: base_url is now %s, the run recorded %s", e.Name, runner.RedactURL(e.BaseURL), s.BaseURL)
		case s.Model != e.Model:
			return fmt.Errorf("endpoint %s: model is now %s, the run recorded %s", e.Name, e.Model, s.Model)
		}
	}
	return nil
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
