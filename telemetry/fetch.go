package telemetry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"
)

// MaxBody bounds what one scrape reads: vLLM's /metrics with its histograms is ~100 KB.
const MaxBody = 2 << 20

// ErrTooLarge is returned for a /metrics body over MaxBody (the rest is not read).
var ErrTooLarge = errors.New("metrics body too large")

// NewHTTPClient is the scraper's own client: its own connection pool (never the requests'),
// short dial and header timeouts, one idle connection per host.
func NewHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		TLSHandshakeTimeout:   2 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second,
		MaxIdleConnsPerHost:   1,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{Transport: tr, CheckRedirect: sameOriginRedirect}
}

// sameOriginRedirect follows a redirect only within the origin it started from.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 || req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
		return http.ErrUseLastResponse
	}
	return nil
}

// Fetch GETs one /metrics body within timeout and parses it. Anything but a 200 response
// in a text format within MaxBody is an error.
func Fetch(ctx context.Context, hc *http.Client, metricsURL string, timeout time.Duration, sel Selection) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=0.9,*/*;q=0.1")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP %d", ErrNotPrometheus, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt == "text/html" || mt == "application/json" {
			return nil, fmt.Errorf("%w: Content-Type %s", ErrNotPrometheus, mt)
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading metrics body: %w", err)
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%w (over %d bytes)", ErrTooLarge, MaxBody)
	}
	return Parse(bytes.NewReader(body), sel)
}

// DefaultURL is where an engine usually serves its metrics: the base URL's origin + /metrics
// (vLLM, SGLang, TGI and llama.cpp serve it beside their API).
func DefaultURL(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("base URL %q has no host", baseURL)
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/metrics"}).String(), nil
}

// Discover tries the base URL's origin + /metrics once: it returns the URL when the answer
// is the Prometheus text format, "" when it is anything else (a 404, an HTML page, a
// gateway without metrics, no answer). Never an error: most endpoints have no metrics.
func Discover(ctx context.Context, hc *http.Client, baseURL string, timeout time.Duration) string {
	u, err := DefaultURL(baseURL)
	if err != nil {
		return ""
	}
	if _, err := Fetch(ctx, hc, u, timeout, Selection{All: true}); err != nil {
		return ""
	}
	return u
}
