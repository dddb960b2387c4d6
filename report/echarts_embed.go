//go:build embedecharts

package report

import _ "embed"

// embeddedECharts is npm's echarts@EChartsVersion dist/echarts.min.js, fetched by `make build`
// into report/assets/ (git-ignored) and verified against EChartsSRI there.
//
//go:embed assets/echarts.min.js
var embeddedECharts string
