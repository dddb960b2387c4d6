//go:build !embedecharts

package report

// embeddedECharts is empty in a plain `go build`: the report falls back to --assets, a cached
// copy or the CDN (ResolveECharts).
const embeddedECharts = ""
