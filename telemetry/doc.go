// Package telemetry scrapes a serving engine's Prometheus /metrics during a run: it finds the
// metrics URL, parses the text format with github.com/prometheus/common/expfmt, keeps the
// families that explain load behaviour (an allow-list per engine) and hands samples to a sink
// off the request path. It knows nothing of SQL; the runner turns samples into store rows.
//
// It does not own storage (package store) or the report's telemetry section (package report).
package telemetry
