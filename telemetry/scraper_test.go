package telemetry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostile servers a metrics URL may point at.
func hostileHandlers() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"hangs": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"garbage": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("\x00\xff{{not metrics at all"))
		},
		"10MB": func(w http.ResponseWriter, r *http.Request) {
			line := []byte("vllm:num_requests_running 1\n")
			for range 10 << 20 / len(line) {
				if _, err := w.Write(line); err != nil {
					return
				}
			}
		},
		"html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>login</body></html>"))
		},
	}
}

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(m string) { w.mu.Lock(); w.msgs = append(w.msgs, m); w.mu.Unlock() }

func (w *warnings) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

// A metrics endpoint that hangs, sends garbage or 10 MB is skipped after MaxFailures tries
// with exactly one warning, and nothing reaches the sink.
func TestScraperSkipsHostileEndpoints(t *testing.T) {
	for name, h := range hostileHandlers() {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			var warn warnings
			sunk := 0
			s := &Scraper{Endpoint: "e", URL: srv.URL + "/metrics", Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond,
				Sink: func(Target, time.Time, []Sample) { sunk++ }, Warn: warn.add}
			s.Init()
			s.SetTarget(&Target{LevelID: 1, Origin: time.Now(), Phase: PhaseMeasure})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s.Run(ctx) // returns once it gives up
			if ctx.Err() != nil {
				t.Fatal("the scraper never gave up")
			}
			msgs := warn.list()
			if len(msgs) != 1 || !strings.Contains(msgs[0], "server metrics of e") || sunk != 0 {
				t.Errorf("warnings %q, %d scrapes sunk; want one warning, none sunk", msgs, sunk)
			}
			if _, failed := s.Counts(); failed != int64(s.MaxFailures) {
				t.Errorf("%d failures, want %d", failed, s.MaxFailures)
			}
		})
	}
}

// A good endpoint is scraped at once when a target is set and then every interval; samples
// carry the target.
func TestScraperScrapesTarget(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 3\n# TYPE other gauge\nother 1\n"))
	}))
	defer srv.Close()
	got := make(chan Target, 100)
	s := &Scraper{Endpoint: "e", URL: srv.URL, Interval: time.Hour, Selection: Selection{Allow: NewAllowList()},
		Sink: func(t Target, _ time.Time, ss []Sample) {
			if len(ss) == 1 && ss[0].Value == 3 {
				got <- t
			}
		}}
	s.Init()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	s.SetTarget(&Target{LevelID: 7, Phase: PhaseMeasure})
	if tg := <-got; tg.LevelID != 7 || tg.Phase != PhaseMeasure {
		t.Errorf("target %+v", tg)
	}
	s.SetTarget(&Target{LevelID: 7, Phase: PhasePause}) // the hour-long interval: only the kick scrapes
	for tg := <-got; tg.Phase != PhasePause; tg = <-got {
		// a scrape that started before the pause keeps its measured phase
	}
	s.Settle()
	cancel()
	<-done
	if ok, _ := s.Counts(); ok < 2 || ok > 3 {
		t.Errorf("%d scrapes, want 2 or 3 (one per target, and one at the start)", ok)
	}
}

func TestDiscover(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing 0\n"))
	})
	good := httptest.NewServer(mux)
	defer good.Close()
	ctx := context.Background()
	hc := NewHTTPClient()
	if u := Discover(ctx, hc, good.URL+"/v1", time.Second); u != good.URL+"/metrics" {
		t.Errorf("Discover = %q, want %s/metrics", u, good.URL)
	}
	for name, h := range hostileHandlers() {
		srv := httptest.NewServer(h)
		if u := Discover(ctx, hc, srv.URL+"/api/v1", 300*time.Millisecond); u != "" {
			t.Errorf("%s: Discover = %q, want none", name, u)
		}
		srv.Close()
	}
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	if u := Discover(ctx, hc, notFound.URL+"/v1", time.Second); u != "" {
		t.Errorf("404: Discover = %q, want none", u)
	}
}
