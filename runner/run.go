package runner

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/telemetry"
	"github.com/trackerbench/tracker/tokens"
)

// Store is what the runner records into: a new run (bench.Recorder) and, for --resume, the
// recorded run it continues (bench.Resumer). The store's DB implements it; the runner's tests
// use an in-memory one where they do not test the database.
type Store interface {
	bench.Recorder
	bench.Resumer
}

// Runner executes plans and records them in a database.
type Runner struct {
	DB       Store
	Tokens   *tokens.Counter
	Version  string
	Progress io.Writer // where the live view goes; nil = none
	Log      io.Writer // warnings during the run (a failing metrics endpoint); nil = none
	// Score rates an answer against gold answers (EM 0/1, F1 0..1); nil = no scoring.
	Score func(response string, gold []string) (em, f1 float64)
	// WriteRetryBudget is how long a write is retried while another process holds the
	// database's lock before the run stops as failed (0 = store.DefaultRetryBudget).
	WriteRetryBudget time.Duration
	// Collected, when set, is called after each level's garbage collection, before its clock
	// starts (tracker run: the run's collector setting takes over from start-up's there).
	Collected func()
}

// Outcome is what a finished (or interrupted) run reports.
type Outcome struct {
	RunID  int64
	Status bench.RunStatus
}

// Run executes the plan as a new run. Every request is recorded as it completes; when ctx
// is canceled, in-flight requests are recorded as canceled, the run is marked interrupted,
// and Run returns the outcome with ctx's error.
func (r *Runner) Run(ctx context.Context, p Plan) (Outcome, error) { return r.RunAhead(ctx, p, nil) }

// RunAhead is Run with the clients StartAhead made for p and the connections it opened; nil:
// Run makes its own, opening the first level's connections while it records the run's set-up.
func (r *Runner) RunAhead(ctx context.Context, p Plan, a *Ahead) (Outcome, error) {
	if err := p.validate(); err != nil {
		a.Wait()
		return Outcome{}, err
	}
	if a == nil {
		var err error
		if a, err = StartAhead(ctx, p); err != nil {
			return Outcome{}, err
		}
	}
	defer a.Wait()
	cfg, err := p.config().JSON()
	if err != nil {
		return Outcome{}, err
	}
	host, _ := os.Hostname()
	temp := p.Request.Temperature
	mode := bench.LoadClosed
	if p.openLoop() {
		mode = bench.LoadOpen
	}
	runID, err := r.DB.CreateRun(ctx, bench.Run{
		Label: p.Label, StartedAt: time.Now(), ToolVersion: r.Version, Host: host,
		ConfigJSON: cfg, Dataset: p.Dataset, DatasetHash: p.Prompts.Hash,
		PromptSetHash: dataset.SetHash(p.Prompts.Prompts), Seed: p.Seed, MaxTokens: p.Request.MaxTokens,
		Temperature: &temp, Stream: !p.Request.NoStream, LoadMode: mode, Order: p.Order, SLO: p.SLO.store(),
	})
	if err != nil {
		return Outcome{}, err
	}
	if err := r.DB.RenewLease(ctx, runID, newLease()); err != nil {
		return r.finish(ctx, runID, err)
	}
	stopLease := r.holdLease(ctx, runID)
	ex := &executor{r: r, plan: &p, runID: runID, ahead: a}
	err = ex.execute(ctx)
	stopLease()
	return r.finish(ctx, runID, err)
}

func (r *Runner) finish(ctx context.Context, runID int64, err error) (Outcome, error) {
	out := Outcome{RunID: runID, Status: bench.RunFailed}
	switch {
	case err == nil:
		out.Status = bench.RunCompleted
	case ctx.Err() != nil:
		out.Status = bench.RunInterrupted
	}
	errText := ""
	if err != nil && out.Status == bench.RunFailed {
		errText = err.Error()
	}
	// A fresh context: the run's end is recorded even when ctx was canceled. A level left
	// running (a failure, or a resume that did not reach it) ends with the run.
	if ferr := r.DB.EndOpenLevels(context.Background(), runID, bench.LevelStatus(out.Status), time.Now()); ferr != nil && err == nil {
		err = ferr
	}
	if ferr := r.DB.FinishRun(context.Background(), runID, out.Status, time.Now(), errText); ferr != nil && err == nil {
		err = ferr
	}
	return out, err
}

// executor runs one plan's levels in the plan's order.
type executor struct {
	r       *Runner
	plan    *Plan
	runID   int64
	epIDs   []int64
	clients []*Client
	ahead   *Ahead // the clients, made before the run, and the connections opened ahead
	w       bench.RequestSink
	live    *liveView
	warmMu  sync.Mutex
	warmed  map[int]bool
	// connsWarmed: levels whose connections were opened before their group started.
	connsWarmed map[levelRun]bool
	resume      map[levelKey]*bench.LevelState // levels recorded before a resume
	tel         *serverTelemetry               // scrapers of the endpoints' /metrics (telemetry.go)
	warnMu      sync.Mutex
}

type levelKey struct {
	endpoint string
	load     Load
	trial    int
}

func (ex *executor) resumed(ep int, load Load, trial int) *bench.LevelState {
	if ex.resume == nil {
		return nil
	}
	return ex.resume[levelKey{ex.plan.Endpoints[ep].Name, load, trial}]
}

func (ex *executor) execute(ctx context.Context) error {
	p := ex.plan
	if err := ex.setupEndpoints(ctx); err != nil {
		return err
	}
	// A refused key or a write the database refused stops the run (fatal.go): no request is
	// sent that could not be recorded.
	ctx, stop, fatal := withFatal(ctx, ex.clients)
	if ex.resume == nil {
		if err := ex.r.DB.AddPrompts(ctx, ex.runID, storePrompts(p.Prompts.Prompts)); err != nil {
			return err
		}
	}
	ex.w = ex.r.DB.RecordRequests(bench.SinkOptions{RetryBudget: ex.r.WriteRetryBudget, OnFail: stop})
	ex.useAhead()
	ex.startTelemetry(ctx)
	ex.warmed = map[int]bool{}
	ex.live = newLiveView(ex.r.Progress)
	var err error
	switch {
	case p.Sweep != nil && p.Sweep.Kind == bench.SweepConcurrency:
		err = ex.sweepConcurrency(ctx, ex.runGroup)
	case p.Sweep != nil && p.Sweep.Kind == bench.SweepRate:
		err = ex.sweepRate(ctx)
	default:
		err = ex.fixed(ctx)
	}
	ex.live.close()
	ex.stopTelemetry()
	if werr := ex.w.Close(); werr != nil && err == nil {
		err = werr // it says "recording requests: ..." itself
	}
	return fatal(err)
}

// setupEndpoints records the run's endpoints (a new run) or finds them (a resume), and takes
// the clients the run's Ahead made.
func (ex *executor) setupEndpoints(ctx context.Context) error {
	p := ex.plan
	existing := map[string]int64{}
	if ex.resume != nil {
		eps, err := ex.r.DB.Endpoints(ctx, ex.runID)
		if err != nil {
			return err
		}
		for _, e := range eps {
			existing[e.Name] = e.ID
		}
	}
	ex.epIDs = make([]int64, len(p.Endpoints))
	ex.clients = ex.ahead.clients
	for i, e := range p.Endpoints {
		id, ok := existing[e.Name]
		if !ok {
			var err error
			id, err = ex.r.DB.AddEndpoint(ctx, bench.Endpoint{RunID: ex.runID, Name: e.Name, BaseURL: RedactURL(e.BaseURL),
				Model: e.Model, Hardware: e.Hardware, Preset: e.Preset, ConfigJSON: endpointJSON(e)})
			if err != nil {
				return err
			}
		}
		ex.epIDs[i] = id
		ex.clients[i].tok = ex.r.Tokens // made before the prompts, and with them the tokenizer
	}
	shareSecrets(ex.clients)
	return nil
}

func (ex *executor) score(rec *bench.Request, p dataset.Prompt) {
	if rec.Status == bench.StatusOK && ex.r.Score != nil && len(p.Gold) > 0 {
		em, f1 := ex.r.Score(rec.ResponseText, p.Gold)
		rec.EM, rec.F1 = &em, &f1
	}
}

// levelRun is one endpoint at one load in one trial.
type levelRun struct {
	ep          int
	load        Load
	trial       int
	minRequests int // sweeps: send at least this many, so the level reaches its concurrency
}

// runLevel warms the endpoint up if this is its first level, opens the level's connections
// (unless --cold-connections), then runs the level. A level whose every request is stored
// before a resume is skipped, whatever its status says: the stored rows, not the status, tell
// what is missing (a level may be marked completed while a batch of its rows failed to be written).
func (ex *executor) runLevel(ctx context.Context, lr levelRun) (levelResult, error) {
	if st := ex.resumed(lr.ep, lr.load, lr.trial); st != nil && ex.allStored(st) {
		return levelResult{id: st.ID}, nil
	}
	l := &level{ex: ex, ep: lr.ep, load: lr.load, trial: lr.trial, minRequests: lr.minRequests}
	if err := l.begin(ctx); err != nil {
		return levelResult{}, err
	}
	ex.warmMu.Lock()
	warm := !ex.warmed[lr.ep] && (ex.plan.Warmup > 0 || ex.plan.WarmupDuration > 0)
	ex.warmed[lr.ep] = true
	ex.warmMu.Unlock()
	if warm {
		l.markPhase(telemetry.PhaseWarmup)
		l.warmup(ctx, ex.plan.Warmup, ex.plan.WarmupDuration)
	}
	ex.warmMu.Lock()
	connsWarmed := ex.connsWarmed[lr]
	ex.warmMu.Unlock()
	if !ex.plan.Conn.Cold && !connsWarmed {
		l.client().warmConnections(ctx, lr.load.warmCount())
	}
	// The garbage of the warm-up, of the connections' set-up and of earlier levels is
	// collected now, before the level's clock starts, rather than by a collection that the
	// level's first wave would trigger: a collection takes a quarter of the client's cores and
	// slows its allocations while the first tokens arrive. Nothing is measured meanwhile.
	runtime.GC()
	if ex.r.Collected != nil {
		ex.r.Collected()
	}

	if !l.resumedLevel {
		l.start0 = time.Now() // measured requests start the level's clock
	}
	l.markPhase(telemetry.PhaseMeasure)
	return l.measure(ctx)
}

// allStored reports whether a recorded level has a final row for every request it sends.
func (ex *executor) allStored(st *bench.LevelState) bool {
	n := ex.plan.levelRequests()
	if n == 0 {
		return st.Status == bench.LevelCompleted // bounded by time: resume refuses these
	}
	for seq := range n {
		if !st.Done.Has(seq) {
			return false
		}
	}
	return true
}

// runGroup runs several levels: one after another, or all at once for --order concurrent.
func (ex *executor) runGroup(ctx context.Context, group []levelRun) ([]levelResult, error) {
	out := make([]levelResult, len(group))
	if ex.plan.Order != bench.OrderConcurrent {
		for i, lr := range group {
			res, err := ex.runLevel(ctx, lr)
			out[i] = res
			if err != nil {
				return out, err
			}
		}
		return out, nil
	}
	ex.warmGroup(ctx, group) // every level starts together, not after its own warm-up
	errs := make([]error, len(group))
	var wg sync.WaitGroup
	for i, lr := range group {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = ex.runLevel(ctx, lr)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// warmGroup opens the connections of levels that will run at once, all before any starts;
// levels whose connections are already open (warmAhead) are left as they are.
func (ex *executor) warmGroup(ctx context.Context, group []levelRun) {
	if ex.plan.Conn.Cold {
		return
	}
	ex.warmMu.Lock()
	group = slices.DeleteFunc(slices.Clone(group), func(lr levelRun) bool { return ex.connsWarmed[lr] })
	ex.warmMu.Unlock()
	var wg sync.WaitGroup
	for _, lr := range group {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex.clients[lr.ep].warmConnections(ctx, lr.load.warmCount())
		}()
	}
	wg.Wait()
	ex.warmMu.Lock()
	defer ex.warmMu.Unlock()
	if ex.connsWarmed == nil {
		ex.connsWarmed = map[levelRun]bool{}
	}
	for _, lr := range group {
		ex.connsWarmed[lr] = true
	}
}

// fixed runs the plan's loads in its order, Repeat times.
func (ex *executor) fixed(ctx context.Context) error {
	p := ex.plan
	if p.Order == bench.OrderSequential {
		for e := range p.Endpoints {
			for trial := 1; trial <= p.Repeat; trial++ {
				for _, load := range p.Loads {
					if _, err := ex.runGroup(ctx, []levelRun{{ep: e, load: load, trial: trial}}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	for trial := 1; trial <= p.Repeat; trial++ {
		for _, load := range p.Loads {
			group := make([]levelRun, len(p.Endpoints))
			for e := range p.Endpoints {
				group[e] = levelRun{ep: e, load: load, trial: trial}
			}
			if _, err := ex.runGroup(ctx, group); err != nil {
				return err
			}
		}
	}
	return nil
}

// endpointJSON is an endpoint's stored configuration (Endpoint.Public: no secrets).
func endpointJSON(e Endpoint) string {
	b, _ := json.Marshal(e.Public())
	return string(b)
}

func storePrompts(ps []dataset.Prompt) []bench.Prompt {
	out := make([]bench.Prompt, len(ps))
	for i, p := range ps {
		gold := "[]"
		if len(p.Gold) > 0 {
			b, _ := json.Marshal(p.Gold)
			gold = string(b)
		}
		out[i] = bench.Prompt{Idx: p.Idx, PromptID: p.ID, SourceRow: p.SourceRow, TextHash: p.Hash,
			InputTokens: p.InputTokens, GoldJSON: gold}
	}
	return out
}

// IsInterrupted reports whether err means the run was canceled (Ctrl-C).
func IsInterrupted(err error) bool {
	return errors.Is(err, context.Canceled)
}
