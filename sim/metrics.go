package sim

import (
	"bytes"
	"math"
	"net/http"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// The simulator serves GET /metrics in the Prometheus text format from its engine model, in
// the metric names of the engine its wire imitates: vLLM's by default, llama.cpp's (with
// llama-server --metrics) for the llama.cpp wire. tracker's scraper reads either
// (docs/telemetry.md), so the whole telemetry path runs offline.

// metricNames is which engine's metric names /metrics uses.
type metricNames int

const (
	namesVLLM metricNames = iota
	namesLlamaCpp
)

// metricNamesFor picks the names /metrics uses for a wire dialect.
func metricNamesFor(wire string) metricNames {
	if wire == WireLlamaCpp {
		return namesLlamaCpp
	}
	return namesVLLM
}

// vLLM's histogram buckets (vllm/v1/metrics/loggers.py), in seconds.
var (
	ttftBuckets = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560}
	e2eBuckets  = []float64{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680}
)

// histogram is a cumulative Prometheus histogram.
type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

func newHistogram(bounds []float64) histogram {
	return histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
}

func (h *histogram) observe(v float64) {
	for i, b := range h.bounds {
		if v <= b {
			h.counts[i]++
			break
		}
	}
	h.count++
	h.sum += v
}

func (h *histogram) family(name, help string, labels []*dto.LabelPair) *dto.MetricFamily {
	hist := &dto.Histogram{SampleCount: proto.Uint64(h.count), SampleSum: proto.Float64(h.sum)}
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i]
		hist.Bucket = append(hist.Bucket, &dto.Bucket{UpperBound: proto.Float64(b), CumulativeCount: proto.Uint64(cum)})
	}
	hist.Bucket = append(hist.Bucket, &dto.Bucket{UpperBound: proto.Float64(math.Inf(1)), CumulativeCount: proto.Uint64(h.count)})
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_HISTOGRAM.Enum(),
		Metric: []*dto.Metric{{Label: labels, Histogram: hist}}}
}

// latencies are the server's own request histograms.
type latencies struct {
	mu        sync.Mutex
	ttft, e2e histogram
}

func newLatencies() *latencies {
	return &latencies{ttft: newHistogram(ttftBuckets), e2e: newHistogram(e2eBuckets)}
}

// observe records a finished request: arrival to first token sent, arrival to now.
func (s *Server) observe(c *call, seq *sequence) {
	if int(seq.emitted.Load()) < seq.out || c.first.IsZero() {
		return // canceled or cut: vLLM observes finished requests only
	}
	now := time.Now()
	s.lat.mu.Lock()
	s.lat.ttft.observe(c.first.Sub(c.arrived).Seconds())
	s.lat.e2e.observe(now.Sub(c.arrived).Seconds())
	s.lat.mu.Unlock()
}

func gauge(name, help string, labels []*dto.LabelPair, v float64) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Label: labels, Gauge: &dto.Gauge{Value: proto.Float64(v)}}}}
}

func counter(name, help string, labels []*dto.LabelPair, v float64) *dto.MetricFamily {
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Label: labels, Counter: &dto.Counter{Value: proto.Float64(v)}}}}
}

// metricFamilies is the server's state now, in its engine's names.
func (s *Server) metricFamilies() []*dto.MetricFamily {
	st := s.Stats()
	running, waiting, kv := float64(s.eng.running.Load()), float64(s.eng.queued.Load()), float64(s.eng.kvUsed.Load())
	kvUse := kv / float64(max(s.p.KVCacheTokens, 1))
	if s.names == namesLlamaCpp { // llama-server --metrics: no labels, no latency histograms
		return []*dto.MetricFamily{
			counter("llamacpp:prompt_tokens_total", "Number of prompt tokens processed.", nil, float64(st.PromptTokens)),
			counter("llamacpp:tokens_predicted_total", "Number of generation tokens processed.", nil, float64(st.CompletionTokens)),
			counter("llamacpp:n_decode_total", "Total number of llama_decode() calls", nil, float64(st.Steps)),
			gauge("llamacpp:kv_cache_usage_ratio", "KV-cache usage. 1 means 100 percent usage.", nil, kvUse),
			gauge("llamacpp:kv_cache_tokens", "KV-cache tokens.", nil, kv),
			gauge("llamacpp:requests_processing", "Number of requests processing.", nil, running),
			gauge("llamacpp:requests_deferred", "Number of requests deferred.", nil, waiting),
		}
	}
	labels := []*dto.LabelPair{{Name: proto.String("engine"), Value: proto.String("0")},
		{Name: proto.String("model_name"), Value: proto.String(s.p.Model)}}
	s.lat.mu.Lock()
	ttft := s.lat.ttft.family("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", labels)
	e2e := s.lat.e2e.family("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", labels)
	s.lat.mu.Unlock()
	return []*dto.MetricFamily{
		gauge("vllm:num_requests_running", "Number of requests in model execution batches.", labels, running),
		gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", labels, waiting),
		gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", labels, kvUse),
		counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", labels, float64(st.PromptTokens)),
		counter("vllm:generation_tokens_total", "Number of generation tokens processed.", labels, float64(st.CompletionTokens)),
		ttft, e2e,
	}
}

// handleMetrics serves GET /metrics in the Prometheus text format (version 0.0.4).
// A gateway dialect has none (ALCF's gateway does not expose its backends' metrics).
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if _, gw := s.wire.(gateway); gw {
		s.fail(w, http.StatusNotFound, "NotFoundError", "no route GET /metrics")
		return
	}
	var buf bytes.Buffer
	for _, mf := range s.metricFamilies() {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			s.fail(w, http.StatusInternalServerError, "InternalServerError", "metrics: "+err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(buf.Bytes())
}
