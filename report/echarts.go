package report

import (
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The one ECharts build the report is written for. `make build` fetches exactly this version
// with npm and embeds it (build tag embedecharts); every other binary falls back to a cached
// copy, --assets, or this CDN URL with this subresource-integrity hash.
const (
	EChartsVersion = "5.6.0"
	// EChartsCDN serves npm's dist/echarts.min.js of EChartsVersion byte for byte.
	EChartsCDN = "https://cdn.jsdelivr.net/npm/echarts@" + EChartsVersion + "/dist/echarts.min.js"
	// EChartsSRI is the sha384 of that file (`openssl dgst -sha384 -binary | base64`).
	EChartsSRI = "sha384-pPi0zxBAoDu6+JXW/C68UZLvBUUtU+7zonhif43rqj7pxsGyqyqzcian2Rj37Rss"
)

// EChartsSource says where the page's ECharts comes from.
type EChartsSource string

const (
	EChartsFromAssets   EChartsSource = "--assets"
	EChartsFromEmbedded EChartsSource = "embedded in the binary"
	EChartsFromCache    EChartsSource = "cached copy"
	EChartsFromCDN      EChartsSource = "CDN"
)

// ErrEChartsMismatch is returned when a cached copy of ECharts is not the pinned version.
var ErrEChartsMismatch = errors.New("echarts.min.js is not the pinned ECharts build")

// EChartsCachePath is where a plain `go build` binary looks for a local ECharts:
// $XDG_CACHE_HOME/tracker/echarts-<version>.min.js (os.UserCacheDir). Empty when there is no cache dir.
func EChartsCachePath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "tracker", "echarts-"+EChartsVersion+".min.js")
}

// ResolveECharts picks the ECharts the page inlines: the file at assetsPath when given (any
// ECharts 5 the user chose), else the copy embedded by `make build`, else a cached copy whose
// hash matches EChartsSRI. It returns empty text and EChartsFromCDN when none is there: the
// page then loads EChartsCDN with the integrity hash.
func ResolveECharts(assetsPath, cachePath string) (string, EChartsSource, error) {
	if assetsPath != "" {
		js, err := os.ReadFile(assetsPath)
		if err != nil {
			return "", "", fmt.Errorf("reading --assets: %w", err)
		}
		return string(js), EChartsFromAssets, nil
	}
	if embeddedECharts != "" {
		return embeddedECharts, EChartsFromEmbedded, nil
	}
	if cachePath != "" {
		js, err := os.ReadFile(cachePath)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return "", "", fmt.Errorf("reading cached ECharts: %w", err)
		case sriOf(js) != EChartsSRI:
			return "", "", fmt.Errorf("%s: %w %s (remove it or replace it with npm echarts@%s dist/echarts.min.js)", cachePath, ErrEChartsMismatch, EChartsVersion, EChartsVersion)
		default:
			return string(js), EChartsFromCache, nil
		}
	}
	return "", EChartsFromCDN, nil
}

// sriOf is the subresource-integrity string (sha384) of b.
func sriOf(b []byte) string {
	sum := sha512.Sum384(b)
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}
