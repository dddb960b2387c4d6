package runner

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackerbench/tracker/telemetry"
)

func TestMetricsURLConfig(t *testing.T) {
	e, err := ParseEndpointFlag("local=http://127.0.0.1:8080/v1,model=m,metrics=http://u:secret@127.0.0.1:9090/metrics?token=abc")
	if err != nil {
		t.Fatal(err)
	}
	if e.MetricsURL != "http://u:secret@127.0.0.1:9090/metrics?token=abc" {
		t.Errorf("metrics URL %q", e.MetricsURL)
	}
	if got := e.Public()["metrics_url"]; got != "http://127.0.0.1:9090/metrics" {
		t.Errorf("stored metrics_url %v, want it without user info and query", got)
	}
	if _, err := ParseEndpointFlag("x=http://h/v1,model=m,metrics=ftp://h/metrics"); !errors.Is(err, ErrConfig) {
		t.Errorf("ftp metrics URL: err %v, want ErrConfig", err)
	}
	path := filepath.Join(t.TempDir(), "e.yaml")
	os.WriteFile(path, []byte("endpoints:\n  - name: a\n    base_url: http://h/v1\n    model: m\n    metrics_url: http://h:9000/metrics\n"), 0o600)
	cfg, err := LoadConfig(path)
	if err != nil || cfg.Endpoints[0].MetricsURL != "http://h:9000/metrics" {
		t.Errorf("yaml metrics_url: %+v, %v", cfg, err)
	}
}

func TestServerMetricsValidate(t *testing.T) {
	m := ServerMetrics{Enabled: true}
	if err := m.validate(); err != nil || m.Interval != DefaultMetricsInterval {
		t.Errorf("default interval %s, %v", m.Interval, err)
	}
	m = ServerMetrics{Enabled: true, Interval: time.Millisecond}
	if err := m.validate(); !errors.Is(err, ErrPlan) {
		t.Errorf("1ms interval: err %v, want ErrPlan", err)
	}
}

// The live view shows the endpoint's latest batch and queue from its /metrics.
func TestLiveServerNow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{engine=\"0\"} 5\n" +
			"# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{engine=\"0\"} 2\n"))
	}))
	defer srv.Close()
	s := &telemetry.Scraper{Endpoint: "e", URL: srv.URL, Interval: time.Hour, Selection: telemetry.Selection{Allow: telemetry.NewAllowList()},
		Sink: func(telemetry.Target, time.Time, []telemetry.Sample) {}}
	s.Init()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	l := &level{ex: &executor{tel: &serverTelemetry{scrapers: []*telemetry.Scraper{s}}}}
	if got := l.serverNow(); got != "" {
		t.Errorf("before any scrape: %q", got)
	}
	s.SetTarget(&telemetry.Target{LevelID: 1, Phase: telemetry.PhaseMeasure})
	s.Settle()
	if got := l.serverNow(); got != ", server batch 5 queue 2" {
		t.Errorf("live: %q", got)
	}
}
