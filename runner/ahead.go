package runner

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/telemetry"
)

// Connections opened ahead ("Warm connections", docs/metrics.md): a run's first level opens
// its connections before its clock starts. They need neither the prompts nor the database,
// so StartAhead opens them while the caller prepares the prompts (the tokenizer's
// vocabulary: tens of milliseconds of CPU) and opens the database, on the machine's other
// core, instead of after both; the level then finds them open. Nothing else changes: the
// same requests (one GET {base_url}/models, then as many at once as the level will use),
// none recorded, and the level's clock still starts after them and a collection.

// aheadFresh bounds how long connections opened ahead count as the first level's own: when
// its clock would start later than this after they were opened (a slow dataset, a database
// locked by another process, a preflight that waited), the level opens them again itself,
// as it does without StartAhead: a server may have closed idle ones meanwhile.
const aheadFresh = time.Second

// Ahead is a run's HTTP side, made before the run: one client per endpoint over one
// connection pool, the connections of the run's first levels being opened, and the
// endpoints' metrics URLs being looked for (startTelemetry).
type Ahead struct {
	clients     []*Client
	levels      []levelRun    // whose connections are opened ahead
	metrics     *http.Client  // the scrapers' client
	metricsURLs []string      // by endpoint, "" = none; nil = not looked for
	done        chan struct{} // closed when the connections are open and the URLs known
	at          time.Time     // when the connections were open; set before done is closed
}

// StartAhead checks the plan's settings (not its prompts, which it need not have yet), makes
// its clients and starts opening its first levels' connections and looking for the
// endpoints' metrics URLs, in the background. Pass it
// to Runner.RunAhead with the same plan, its prompts added; a caller that stops before
// must Wait for it.
func StartAhead(ctx context.Context, p Plan) (*Ahead, error) {
	if err := p.validateSettings(); err != nil {
		return nil, err
	}
	a := newAhead(&p)
	a.done = make(chan struct{})
	a.levels = firstLevels(&p)
	var urls sync.WaitGroup
	if p.ServerMetrics.Enabled {
		urls.Go(func() { a.metricsURLs = metricsURLs(ctx, a.metrics, p.Endpoints) })
	}
	go func() {
		defer close(a.done)
		var wg sync.WaitGroup
		for _, lr := range a.levels {
			wg.Go(func() { a.clients[lr.ep].warmConnections(ctx, lr.load.warmCount()) })
		}
		wg.Wait()
		a.at = time.Now()
		urls.Wait()
	}()
	return a, nil
}

// newAhead makes the plan's clients, opening nothing (a resume's). The pool keeps as many
// idle connections per endpoint as any level warms (warmCount: an open loop without a cap
// warms up to its rate), else the warmed ones beyond the pool's limit are closed as soon as
// they are given back and the level dials them again. The clients get the run's tokenizer
// when the run starts (setupEndpoints).
func newAhead(p *Plan) *Ahead {
	maxConc := 1
	for _, l := range p.Loads {
		maxConc = max(maxConc, l.warmCount())
	}
	if p.Sweep != nil {
		maxConc = max(maxConc, p.Sweep.MaxConcurrency)
	}
	d := newDoer(maxConc*len(p.Endpoints), p.Conn)
	a := &Ahead{clients: make([]*Client, len(p.Endpoints)), metrics: telemetry.NewHTTPClient(), done: closedChan()}
	for i, e := range p.Endpoints {
		a.clients[i] = NewClient(e, p.Keys[e.Name], d, nil)
	}
	return a
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// Wait waits until the connections opened ahead are open (or failed to open); nil waits
// for nothing.
func (a *Ahead) Wait() {
	if a != nil {
		<-a.done
	}
}

// firstLevels is the levels a fixed run starts with: the first load's first trial of the
// first endpoint, or of every endpoint with --order concurrent (they start together). None
// when the connections are cold or the run sweeps (the sweep chooses its levels as it goes),
// or when a warm-up (--warmup) comes first: its requests go before a level's connections
// are opened.
func firstLevels(p *Plan) []levelRun {
	if p.Conn.Cold || p.Sweep != nil || p.Warmup > 0 || p.WarmupDuration > 0 || len(p.Loads) == 0 {
		return nil
	}
	n := 1
	if p.Order == bench.OrderConcurrent {
		n = len(p.Endpoints)
	}
	group := make([]levelRun, n)
	for e := range group {
		group[e] = levelRun{ep: e, load: p.Loads[0], trial: 1}
	}
	return group
}

// useAhead waits for the connections opened ahead and, when they are fresh (aheadFresh), lets
// their levels start with them instead of opening their own.
func (ex *executor) useAhead() {
	a := ex.ahead
	a.Wait()
	if len(a.levels) == 0 || time.Since(a.at) >= aheadFresh {
		return
	}
	ex.warmMu.Lock()
	defer ex.warmMu.Unlock()
	if ex.connsWarmed == nil {
		ex.connsWarmed = map[levelRun]bool{}
	}
	for _, lr := range a.levels {
		ex.connsWarmed[lr] = true
	}
}
