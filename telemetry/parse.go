package telemetry

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ErrNotPrometheus is returned when a body is not the Prometheus text format (an HTML page,
// JSON, garbage) or holds no metric at all.
var ErrNotPrometheus = errors.New("not the Prometheus text format")

// Sample is one value of one series at one scrape. Histograms and summaries are kept as their
// exposed samples: Name is the family's name plus _bucket (with an le label), _sum or _count,
// or the family's name with a quantile label.
type Sample struct {
	Family string
	Name   string
	Labels string // canonical JSON object: keys sorted, "{}" when none
	Kind   Kind
	Value  float64
}

// Selection says which families a parse keeps: the allow-list, or every family (All).
type Selection struct {
	All   bool
	Allow AllowList
}

// keep reports whether a family is kept and as which kind (the allow-list's kind wins over
// the exposed TYPE).
func (s Selection) keep(name string, exposed Kind) (Kind, bool) {
	if f, ok := s.Allow[name]; ok {
		return f.Kind, true
	}
	return exposed, s.All
}

// Parse reads one /metrics body in the Prometheus text format and returns the selected
// samples, sorted by name and labels. A body that does not parse, or parses to no family,
// is ErrNotPrometheus. NaN and infinite values are dropped (SQL has no place for them).
func Parse(r io.Reader, sel Selection) ([]Sample, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPrometheus, err)
	}
	if len(fams) == 0 {
		return nil, fmt.Errorf("%w: no metrics", ErrNotPrometheus)
	}
	var out []Sample
	for name, mf := range fams {
		kind, ok := sel.keep(name, exposedKind(mf.GetType()))
		if !ok {
			continue
		}
		for _, m := range mf.GetMetric() {
			out = appendMetric(out, name, kind, m)
		}
	}
	slices.SortFunc(out, func(a, b Sample) int {
		if a.Name != b.Name {
			return cmp.Compare(a.Name, b.Name)
		}
		return cmp.Compare(a.Labels, b.Labels)
	})
	return out, nil
}

func exposedKind(t dto.MetricType) Kind {
	switch t {
	case dto.MetricType_COUNTER:
		return KindCounter
	case dto.MetricType_GAUGE:
		return KindGauge
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		return KindHistogram
	case dto.MetricType_SUMMARY:
		return KindSummary
	}
	return KindUntyped
}

// appendMetric flattens one metric of a family into samples.
func appendMetric(out []Sample, family string, kind Kind, m *dto.Metric) []Sample {
	labels := map[string]string{}
	for _, lp := range m.GetLabel() {
		labels[lp.GetName()] = lp.GetValue()
	}
	add := func(name string, extra map[string]string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		out = append(out, Sample{Family: family, Name: name, Labels: canonicalLabels(labels, extra), Kind: kind, Value: v})
	}
	switch {
	case m.GetHistogram() != nil:
		h := m.GetHistogram()
		inf := false
		for _, b := range h.GetBucket() {
			inf = inf || math.IsInf(b.GetUpperBound(), 1)
			add(family+"_bucket", map[string]string{"le": formatLe(b.GetUpperBound())}, float64(b.GetCumulativeCount()))
		}
		if !inf {
			add(family+"_bucket", map[string]string{"le": "+Inf"}, float64(h.GetSampleCount()))
		}
		add(family+"_sum", nil, h.GetSampleSum())
		add(family+"_count", nil, float64(h.GetSampleCount()))
	case m.GetSummary() != nil:
		s := m.GetSummary()
		for _, q := range s.GetQuantile() {
			add(family, map[string]string{"quantile": strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)}, q.GetValue())
		}
		add(family+"_sum", nil, s.GetSampleSum())
		add(family+"_count", nil, float64(s.GetSampleCount()))
	case m.GetCounter() != nil:
		add(family, nil, m.GetCounter().GetValue())
	case m.GetGauge() != nil:
		add(family, nil, m.GetGauge().GetValue())
	case m.GetUntyped() != nil:
		add(family, nil, m.GetUntyped().GetValue())
	}
	return out
}

// formatLe writes a bucket bound as Prometheus does ("+Inf", "0.005").
func formatLe(ub float64) string {
	if math.IsInf(ub, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(ub, 'g', -1, 64)
}

// canonicalLabels is the labels (and extra) as a JSON object with sorted keys.
func canonicalLabels(labels, extra map[string]string) string {
	if len(labels)+len(extra) == 0 {
		return "{}"
	}
	all := make(map[string]string, len(labels)+len(extra))
	for k, v := range labels {
		all[k] = v
	}
	for k, v := range extra {
		all[k] = v
	}
	b, _ := json.Marshal(all) // encoding/json sorts map keys: one text per label set
	return string(b)
}
