package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trackerbench/tracker/internal/defaults"
)

// Defaults of the HuggingFace services, each overridable by Spec or environment.
const (
	DefaultHFEndpoint     = "https://huggingface.co"                 // env HF_ENDPOINT
	DefaultDatasetsServer = "https://datasets-server.huggingface.co" // env HF_DATASETS_SERVER
	rowsPageLength        = 100                                      // the datasets-server's maximum page
)

// ErrNotFound is returned when a dataset, config, split or cached copy does not exist.
var ErrNotFound = errors.New("not found")

// Retry bounds the retries of a request answered 429 or 5xx (or failing in transit).
type Retry struct {
	Attempts int           // tries in all, including the first; 0 = 6
	Backoff  time.Duration // the wait before the first retry, doubling after; 0 = 1s
	MaxWait  time.Duration // a cap on one wait, Retry-After included; 0 = 60s
}

func (r Retry) withDefaults() Retry {
	defaults.Positive(&r.Attempts, 6)
	defaults.Positive(&r.Backoff, time.Second)
	defaults.Positive(&r.MaxWait, time.Minute)
	return r
}

// hubClient talks to the HuggingFace Hub and datasets-server.
type hubClient struct {
	endpoint, server string
	token            string
	http             *http.Client
	retry            Retry
	progress         io.Writer
}

func newHubClient(spec Spec) *hubClient {
	c := &hubClient{
		endpoint: firstNonEmpty(spec.HFEndpoint, os.Getenv("HF_ENDPOINT"), DefaultHFEndpoint),
		server:   firstNonEmpty(spec.DatasetsServer, os.Getenv("HF_DATASETS_SERVER"), DefaultDatasetsServer),
		token:    firstNonEmpty(spec.Token, os.Getenv("HF_TOKEN")),
		http:     spec.HTTPClient,
		retry:    spec.Retry.withDefaults(),
		progress: spec.Progress,
	}
	c.endpoint = strings.TrimRight(c.endpoint, "/")
	c.server = strings.TrimRight(c.server, "/")
	if c.http == nil {
		c.http = &http.Client{Timeout: 10 * time.Minute}
	}
	return c
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// apiError is a non-2xx answer: the status, the X-Error-Code header and the body's
// "error" message when it has one.
type apiError struct {
	URL    string
	Status int
	Code   string
	Msg    string
}

func (e *apiError) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		msg = e.Code + ": " + msg
	}
	return fmt.Sprintf("%s: HTTP %d: %s", redactURL(e.URL), e.Status, msg)
}

func (e *apiError) Unwrap() error {
	if e.Status == http.StatusNotFound {
		return ErrNotFound
	}
	return nil
}

// redactURL drops a query string's credentials if a URL ever carried any (it should not).
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	p.User = nil
	return p.String()
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// get fetches a URL with the token, retrying 429, 5xx and transport failures with
// exponential backoff (honouring Retry-After), and returns the open response on 2xx.
func (c *hubClient) get(ctx context.Context, u string) (*http.Response, error) {
	var lastErr error
	wait := c.retry.Backoff
	for attempt := 1; attempt <= c.retry.Attempts; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", "tracker (github.com/trackerbench/tracker)")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := c.http.Do(req)
		var after time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = fmt.Errorf("GET %s: %w", redactURL(u), err)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return resp, nil
		default:
			ae := readAPIError(u, resp)
			if !retryable(resp.StatusCode) {
				return nil, ae
			}
			lastErr = ae
			after = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		if attempt == c.retry.Attempts {
			break
		}
		d := wait
		if after > 0 || resp != nil && resp.Header.Get("Retry-After") != "" {
			d = after
		}
		d = min(d, c.retry.MaxWait)
		if c.progress != nil {
			fmt.Fprintf(c.progress, "retrying in %v (attempt %d of %d): %v\n", d, attempt+1, c.retry.Attempts, lastErr)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
	return nil, fmt.Errorf("giving up after %d attempts: %w", c.retry.Attempts, lastErr)
}

func readAPIError(u string, resp *http.Response) *apiError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	ae := &apiError{URL: u, Status: resp.StatusCode, Code: resp.Header.Get("X-Error-Code")}
	var e struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != nil {
		ae.Msg = asString(e.Error)
	} else if s := strings.TrimSpace(string(body)); s != "" && len(s) < 300 {
		ae.Msg = s
	}
	return ae
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. 0 when absent or past.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(h, 64); err == nil && n > 0 {
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// getJSON fetches and decodes a JSON answer.
func (c *hubClient) getJSON(ctx context.Context, u string, out any) error {
	resp, err := c.get(ctx, u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", redactURL(u), err)
	}
	return nil
}

// hubInfo is the part of GET {endpoint}/api/datasets/{repo} tracker reads.
type hubInfo struct {
	ID  string `json:"id"`
	SHA string `json:"sha"`
}

func (c *hubClient) info(ctx context.Context, repo string) (hubInfo, error) {
	var info hubInfo
	err := c.getJSON(ctx, c.endpoint+"/api/datasets/"+repo, &info)
	return info, err
}

// splitsResponse is GET /splits?dataset=D.
type splitsResponse struct {
	Splits []struct {
		Dataset string `json:"dataset"`
		Config  string `json:"config"`
		Split   string `json:"split"`
	} `json:"splits"`
	Pending []any `json:"pending"`
	Failed  []any `json:"failed"`
}

func (c *hubClient) splits(ctx context.Context, repo string) (*splitsResponse, error) {
	var s splitsResponse
	q := url.Values{"dataset": {repo}}
	if err := c.getJSON(ctx, c.server+"/splits?"+q.Encode(), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// rowsResponse is GET /rows (one page).
type rowsResponse struct {
	Features []struct {
		Index int             `json:"feature_idx"`
		Name  string          `json:"name"`
		Type  json.RawMessage `json:"type"`
	} `json:"features"`
	Rows []struct {
		RowIdx         int             `json:"row_idx"`
		Row            json.RawMessage `json:"row"`
		TruncatedCells []string        `json:"truncated_cells"`
	} `json:"rows"`
	NumRowsTotal   int  `json:"num_rows_total"`
	NumRowsPerPage int  `json:"num_rows_per_page"`
	Partial        bool `json:"partial"`
}

// rows fetches every row of a split from the datasets-server, a page of 100 at a time,
// calling emit with each row's raw JSON in row_idx order.
func (c *hubClient) rows(ctx context.Context, repo, config, split string, emit func(json.RawMessage) error) (int, error) {
	offset, total := 0, -1
	for total < 0 || offset < total {
		q := url.Values{"dataset": {repo}, "config": {config}, "split": {split},
			"offset": {strconv.Itoa(offset)}, "length": {strconv.Itoa(rowsPageLength)}}
		var page rowsResponse
		if err := c.getJSON(ctx, c.server+"/rows?"+q.Encode(), &page); err != nil {
			return offset, fmt.Errorf("rows at offset %d: %w", offset, err)
		}
		if page.Partial {
			return offset, fmt.Errorf("rows at offset %d: %w", offset, errPartial)
		}
		total = page.NumRowsTotal
		if len(page.Rows) == 0 && offset < total {
			return offset, fmt.Errorf("rows at offset %d: empty page before num_rows_total %d", offset, total)
		}
		for _, r := range page.Rows {
			if r.RowIdx != offset {
				return offset, fmt.Errorf("rows: row_idx %d where %d was expected", r.RowIdx, offset)
			}
			if len(r.TruncatedCells) > 0 {
				return offset, fmt.Errorf("row %d: the datasets-server truncated cells %v (use the parquet export)", r.RowIdx, r.TruncatedCells)
			}
			if err := emit(r.Row); err != nil {
				return offset, err
			}
			offset++
		}
		if c.progress != nil && (offset%(50*rowsPageLength) == 0 || offset >= total) {
			fmt.Fprintf(c.progress, "fetched %d of %d rows of %s/%s/%s\n", offset, total, repo, config, split)
		}
	}
	return offset, nil
}

var errPartial = errors.New("the datasets-server serves only part of this split")

// parquetURLs lists a split's parquet export: GET {endpoint}/api/datasets/{repo}/parquet
// answers {config: {split: [url, ...]}}.
func (c *hubClient) parquetURLs(ctx context.Context, repo, config, split string) ([]string, error) {
	var listing map[string]map[string][]string
	if err := c.getJSON(ctx, c.endpoint+"/api/datasets/"+repo+"/parquet", &listing); err != nil {
		return nil, fmt.Errorf("parquet listing: %w", err)
	}
	splits, ok := listing[config]
	if !ok {
		return nil, fmt.Errorf("parquet export of %s: config %q %w; it has configs: %s", repo, config, ErrNotFound, strings.Join(slices.Sorted(maps.Keys(listing)), ", "))
	}
	urls, ok := splits[split]
	if !ok || len(urls) == 0 {
		return nil, fmt.Errorf("parquet export of %s config %s: split %q %w; it has splits: %s", repo, config, split, ErrNotFound, strings.Join(slices.Sorted(maps.Keys(splits)), ", "))
	}
	return urls, nil
}

// download copies a URL's body into w.
func (c *hubClient) download(ctx context.Context, u string, w io.Writer) (int64, error) {
	resp, err := c.get(ctx, u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("downloading %s: %w", redactURL(u), err)
	}
	return n, nil
}
