package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/tokens"
)

// Runner executes plans and records them in a database.
type Runner struct {
	DB       *store.DB
	Tokens   *tokens.Counter
	Version  string
	Progress io.Writer // where the progress bar goes; nil = none
	// Score rates an answer against gold answers (EM 0/1, F1 0..1); nil = no scoring.
	Score func(response string, gold []string) (em, f1 float64)
}

// Outcome is what a finished (or interrupted) run reports.
type Outcome struct {
	RunID  int64
	Status string // completed, interrupted, failed
}

// Run executes the plan. Every request is recorded as it completes; when ctx is canceled,
// in-flight requests are recorded as canceled, the run is marked interrupted, and Run
// returns the outcome with ctx's error.
func (r *Runner) Run(ctx context.Context, p Plan) (Outcome, error) {
	if err := p.validate(); err != nil {
		return Outcome{}, err
	}
	cfg, err := json.Marshal(p.config())
	if err != nil {
		return Outcome{}, fmt.Errorf("encoding run config: %w", err)
	}
	host, _ := os.Hostname()
	temp := p.Request.Temperature
	runID, err := r.DB.CreateRun(ctx, store.Run{
		Label: p.Label, StartedAt: time.Now(), ToolVersion: r.Version, Host: host,
		ConfigJSON: string(cfg), Dataset: p.Dataset, DatasetHash: p.Prompts.Hash,
		PromptSetHash: dataset.SetHash(p.Prompts.Prompts), Seed: p.Seed, MaxTokens: p.Request.MaxTokens,
		Temperature: &temp, Stream: true, LoadMode: "closed", Order: p.Order,
	})
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{RunID: runID, Status: store.RunFailed}
	err = r.execute(ctx, runID, &p)
	switch {
	case err == nil:
		out.Status = store.RunCompleted
	case ctx.Err() != nil:
		out.Status = store.RunInterrupted
	}
	errText := ""
	if err != nil && out.Status == store.RunFailed {
		errText = err.Error()
	}
	// A fresh context: the run's end is recorded even when ctx was canceled.
	if ferr := r.DB.FinishRun(context.Background(), runID, out.Status, time.Now(), errText); ferr != nil && err == nil {
		err = ferr
	}
	return out, err
}

func (r *Runner) execute(ctx context.Context, runID int64, p *Plan) error {
	maxConc := 1
	for _, c := range p.Concurrency {
		maxConc = max(maxConc, c)
	}
	d := &doer{hc: newHTTPClient(maxConc)}
	epIDs := make([]int64, len(p.Endpoints))
	clients := make([]*Client, len(p.Endpoints))
	for i, e := range p.Endpoints {
		id, err := r.DB.AddEndpoint(ctx, store.Endpoint{RunID: runID, Name: e.Name, BaseURL: e.BaseURL,
			Model: e.Model, Hardware: e.Hardware, ConfigJSON: endpointJSON(e)})
		if err != nil {
			return err
		}
		epIDs[i] = id
		clients[i] = NewClient(e, p.Keys[e.Name], d, r.Tokens)
	}
	if err := r.DB.AddPrompts(ctx, runID, storePrompts(p.Prompts.Prompts)); err != nil {
		return err
	}
	w := r.DB.NewWriter(store.WriterOptions{})
	jobs := p.schedule()
	bar := newProgress(r.Progress, len(jobs)*len(p.Prompts.Prompts)+p.Warmup*len(p.Endpoints))
	warmed := make([]bool, len(p.Endpoints))
	var runErr error
	for _, job := range jobs {
		if ctx.Err() != nil {
			runErr = ctx.Err()
			break
		}
		lv := &level{r: r, w: w, bar: bar, client: clients[job.ep], runID: runID, epID: epIDs[job.ep],
			plan: p, concurrency: job.concurrency}
		if err := lv.start(ctx); err != nil {
			runErr = err
			break
		}
		if !warmed[job.ep] && p.Warmup > 0 {
			lv.warmup(ctx, p.Warmup)
			warmed[job.ep] = true
		}
		err := lv.run(ctx)
		if err != nil {
			runErr = err
			break
		}
	}
	bar.finish()
	if err := w.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("recording requests: %w", err)
	}
	return runErr
}

func endpointJSON(e Endpoint) string {
	b, _ := json.Marshal(map[string]any{"name": e.Name, "base_url": e.BaseURL, "model": e.Model,
		"api_key_env": e.APIKeyEnv, "hardware": e.Hardware, "header_names": headerNames(e.Headers)})
	return string(b)
}

func storePrompts(ps []dataset.Prompt) []store.Prompt {
	out := make([]store.Prompt, len(ps))
	for i, p := range ps {
		gold := "[]"
		if len(p.Gold) > 0 {
			b, _ := json.Marshal(p.Gold)
			gold = string(b)
		}
		out[i] = store.Prompt{Idx: p.Idx, PromptID: p.ID, SourceRow: p.SourceRow, TextHash: p.Hash,
			InputTokens: p.InputTokens, GoldJSON: gold}
	}
	return out
}

// level runs one endpoint at one concurrency.
type level struct {
	r           *Runner
	w           *store.Writer
	bar         *progress
	client      *Client
	runID, epID int64
	id          int64
	plan        *Plan
	concurrency int
	start0      time.Time // monotonic origin of start_ms
}

func (l *level) start(ctx context.Context) error {
	l.start0 = time.Now()
	id, err := l.r.DB.StartLevel(ctx, store.Level{RunID: l.runID, EndpointID: l.epID,
		Concurrency: l.concurrency, StartedAt: l.start0})
	l.id = id
	return err
}

// warmup sends n requests one at a time (prompts from the start of the set, cycling),
// recorded with warmup = 1.
func (l *level) warmup(ctx context.Context, n int) {
	ps := l.plan.Prompts.Prompts
	for i := 0; i < n && ctx.Err() == nil; i++ {
		l.send(ctx, ps[i%len(ps)], time.Now(), true)
	}
}

// run sends every prompt in order with `concurrency` requests in flight (a closed loop:
// each worker sends its next prompt as soon as its previous answer ends).
func (l *level) run(ctx context.Context) error {
	ps := l.plan.Prompts.Prompts
	next := make(chan dataset.Prompt)
	var wg sync.WaitGroup
	for range min(l.concurrency, len(ps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				l.send(ctx, p, time.Now(), false)
			}
		}()
	}
	interrupted := false
feed:
	for _, p := range ps {
		select {
		case next <- p:
		case <-ctx.Done():
			interrupted = true
			break feed
		}
	}
	close(next)
	wg.Wait()
	status, note := store.RunCompleted, ""
	if interrupted || ctx.Err() != nil {
		status, note = store.RunInterrupted, "interrupted"
	}
	if err := l.r.DB.EndLevel(context.Background(), l.id, status, time.Now(), note); err != nil {
		return err
	}
	if status == store.RunInterrupted {
		return ctx.Err()
	}
	return nil
}

// send measures one request (every attempt of it, when the client retries) and queues
// the records. due is when the request was ready to go; the wait from due to the first
// attempt's t0 is its queue time.
func (l *level) send(ctx context.Context, p dataset.Prompt, due time.Time, warmup bool) {
	attempts := l.client.Send(ctx, p, l.plan.Request)
	for i := range attempts {
		rec := &attempts[i]
		t0 := rec.StartedAt // wall clock with the monotonic reading of t0
		rec.RunID, rec.LevelID, rec.EndpointID, rec.Warmup = l.runID, l.id, l.epID, warmup
		rec.StartMS = ms(t0.Sub(l.start0))
		if i == 0 {
			rec.QueueMS = max(0, ms(t0.Sub(due)))
		}
		rec.Attempt, rec.Final = i+1, i == len(attempts)-1
		if rec.Status == store.StatusOK && l.r.Score != nil && len(p.Gold) > 0 {
			em, f1 := l.r.Score(rec.ResponseText, p.Gold)
			rec.EM, rec.F1 = &em, &f1
		}
		l.w.Add(*rec)
	}
	l.bar.add(attempts[len(attempts)-1].Status != store.StatusOK)
}

// IsInterrupted reports whether err means the run was canceled (Ctrl-C).
func IsInterrupted(err error) bool {
	return errors.Is(err, context.Canceled)
}
