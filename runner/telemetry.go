package runner

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/telemetry"
)

// ServerMetrics configures the scraping of each endpoint's Prometheus /metrics during a run
// (docs/telemetry.md).
// The zero value scrapes nothing: `tracker run` enables it unless --no-server-metrics.
type ServerMetrics struct {
	Enabled  bool          // scrape (tracker run: unless --no-server-metrics)
	Interval time.Duration // --metrics-interval; 0 = DefaultMetricsInterval
	All      bool          // --server-metrics all: keep every family, not only the allow-list
}

// DefaultMetricsInterval is how often /metrics is scraped unless --metrics-interval says.
const DefaultMetricsInterval = 500 * time.Millisecond

// minMetricsInterval keeps a typo (1ms) from turning the scraper into a load generator.
const minMetricsInterval = 50 * time.Millisecond

// discoverTimeout bounds the one try of origin + /metrics at the start of a run.
const discoverTimeout = 2 * time.Second

func (m *ServerMetrics) validate() error {
	switch {
	case m.Interval == 0:
		m.Interval = DefaultMetricsInterval
	case m.Interval < minMetricsInterval:
		return fmt.Errorf("%w: --metrics-interval %s: want %s or more", ErrPlan, m.Interval, minMetricsInterval)
	}
	return nil
}

// serverTelemetry is the run's scrapers: one goroutine per endpoint that has metrics, each
// attributing its samples to the level the endpoint is running (or has just run: a pause).
type serverTelemetry struct {
	scrapers []*telemetry.Scraper // by endpoint index; nil = no metrics
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// startTelemetry finds each endpoint's metrics URL (its metrics_url, else origin + /metrics
// if that answers in the Prometheus text format) and starts its scraper. Endpoints without
// metrics are left alone, silently. Call after the writer exists.
func (ex *executor) startTelemetry(ctx context.Context) {
	p := ex.plan
	ex.tel = &serverTelemetry{scrapers: make([]*telemetry.Scraper, len(p.Endpoints))}
	if !p.ServerMetrics.Enabled {
		return
	}
	hc := ex.ahead.metrics
	urls := ex.ahead.metricsURLs // found while the run was set up (StartAhead)
	if urls == nil {
		urls = metricsURLs(ctx, hc, p.Endpoints)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ex.tel.cancel = cancel
	sel := telemetry.Selection{All: p.ServerMetrics.All, Allow: telemetry.NewAllowList()}
	for i, u := range urls {
		if u == "" {
			continue
		}
		s := &telemetry.Scraper{Endpoint: p.Endpoints[i].Name, URL: u, Interval: p.ServerMetrics.Interval,
			Selection: sel, Client: hc, Sink: ex.serverSink(i), Warn: ex.warn}
		s.Init()
		ex.tel.scrapers[i] = s
		ex.tel.wg.Add(1)
		go func() {
			defer ex.tel.wg.Done()
			s.Run(sctx)
		}()
	}
}

// metricsURLs is each endpoint's metrics URL: its metrics_url, else origin + /metrics if
// that answers in the Prometheus text format, else "" (no metrics).
func metricsURLs(ctx context.Context, hc *http.Client, eps []Endpoint) []string {
	urls := make([]string, len(eps))
	var wg sync.WaitGroup
	for i, e := range eps {
		urls[i] = e.MetricsURL
		if urls[i] == "" {
			wg.Add(1)
			go func() {
				defer wg.Done()
				urls[i] = telemetry.Discover(ctx, hc, e.BaseURL, discoverTimeout)
			}()
		}
	}
	wg.Wait()
	return urls
}

// stopTelemetry stops every scraper and waits for them (before the writer closes).
func (ex *executor) stopTelemetry() {
	if ex.tel == nil || ex.tel.cancel == nil {
		return
	}
	for _, s := range ex.tel.scrapers {
		if s != nil {
			s.Settle() // the last level's closing sample (bounded by the scrape timeout)
		}
	}
	ex.tel.cancel()
	ex.tel.wg.Wait()
	if err := ex.w.ServerErr(); err != nil {
		ex.warn(fmt.Sprintf("server metrics stopped being recorded: %v", err))
	}
	if n := ex.w.DroppedServerScrapes(); n > 0 {
		ex.warn(fmt.Sprintf("server metrics: %d scrapes dropped because the database writer was behind", n))
	}
}

// serverSink turns endpoint ep's scrapes into store rows handed to the writer (never blocking).
func (ex *executor) serverSink(ep int) telemetry.Sink {
	epID := ex.epIDs[ep]
	return func(t telemetry.Target, at time.Time, samples []telemetry.Sample) {
		tms := at.Sub(t.Origin).Milliseconds()
		rows := make([]bench.ServerSample, len(samples))
		for i, s := range samples {
			rows[i] = bench.ServerSample{LevelID: t.LevelID, EndpointID: epID, TMS: tms, Phase: string(t.Phase),
				Family: s.Family, Name: s.Name, Labels: s.Labels, Kind: string(s.Kind), Value: s.Value}
		}
		ex.w.AddServerSamples(rows)
	}
}

// markPhase attributes endpoint ep's following samples to level l in phase ph.
func (l *level) markPhase(ph telemetry.Phase) {
	if l.ex.tel == nil {
		return
	}
	if s := l.ex.tel.scrapers[l.ep]; s != nil {
		s.SetTarget(&telemetry.Target{LevelID: l.id, Origin: l.start0, Phase: ph})
	}
}

// warn prints a warning where the run's notes go (nil: nowhere).
func (ex *executor) warn(msg string) {
	if ex.r.Log != nil {
		ex.warnMu.Lock()
		fmt.Fprintln(ex.r.Log, "warning: "+msg)
		ex.warnMu.Unlock()
	}
}

// serverNow is the endpoint's latest scrape as ", server batch N queue M" for the live view;
// "" when it has no metrics or no scrape yet.
func (l *level) serverNow() string {
	if l.ex.tel == nil || l.ex.tel.scrapers[l.ep] == nil {
		return ""
	}
	samples := l.ex.tel.scrapers[l.ep].Last()
	allow := telemetry.NewAllowList()
	var running, waiting float64
	seen := false
	for _, s := range samples {
		switch allow.RoleOf(s.Name) {
		case telemetry.RoleRunning:
			running, seen = running+s.Value, true
		case telemetry.RoleWaiting:
			waiting, seen = waiting+s.Value, true
		}
	}
	if !seen {
		return ""
	}
	return fmt.Sprintf(", server batch %.0f queue %.0f", running, waiting)
}
