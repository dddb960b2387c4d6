package runner

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/internal/ctxtime"
)

// Retry limits.
const (
	maxBackoff    = time.Minute      // the doubling backoff stops growing here
	maxRetryAfter = 10 * time.Minute // a server's Retry-After is honoured up to this
)

// Send sends one prompt and returns the record of every attempt, the last one final.
//
// Each attempt first waits for the endpoint's rate limiter (queue time, before t0). A 401
// with an api_key_command re-runs the command once per run and endpoint and sends the
// request again; a 401 with the re-run key stops the run (the fatal hook). With
// o.Retries > 0, a retryable failure (see retryable) is sent again after a backoff:
// o.RetryBackoff doubled per retry, or the server's Retry-After when it sent one. Every
// attempt keeps its own timings: nothing is reset or merged.
func (c *Client) Send(ctx context.Context, p dataset.Prompt, o RequestOptions) []bench.Measurement {
	var out []bench.Measurement
	retries := 0
	for {
		_ = c.limit.wait(ctx) // canceled: the attempt below is recorded as canceled
		key, gen, err := c.keys.current(ctx)
		if err != nil {
			out = append(out, failedBeforeSend(p, failure{bench.StatusError, ClassAuth, err.Error()}))
			c.stop(err)
			return out
		}
		rec, retryAfter := c.attempt(ctx, p, o, key)
		out = append(out, rec)
		if rec.Status == bench.StatusOK || ctx.Err() != nil {
			return out
		}
		if rec.HTTPStatus == http.StatusUnauthorized && c.keys.refreshable() {
			if err := c.keys.refresh(ctx, gen, rec.ErrorMessage); err != nil {
				c.stop(err)
				return out
			}
			continue // the new key's attempt is not one of the --retries
		}
		if retries >= o.Retries || !retryable(rec) {
			return out
		}
		retries++
		if !ctxtime.Sleep(ctx, retryDelay(o.RetryBackoff, retries, retryAfter)) {
			return out
		}
	}
}

// stop reports a fatal error through the run's hook.
func (c *Client) stop(err error) {
	if c.fatal != nil {
		c.fatal(err)
	}
}

// retryable reports whether a failed attempt is worth sending again: the server was busy,
// cold or briefly broken (408, 429, 500, 502, 503, 504, an in-band error), or the
// connection failed. Timeouts, truncations and client errors (400, 404, ...) are not:
// they would fail the same way, or they are what the benchmark measures.
func retryable(r bench.Measurement) bool {
	if r.Status != bench.StatusError {
		return false
	}
	switch r.ErrorClass {
	case ClassConnect, ClassDropped, ClassInBand:
		return true
	}
	switch r.HTTPStatus {
	case 408, 429, 500, 502, 503, 504:
		return true
	}
	return false
}

// retryDelay is the wait before retry n (1, 2, ...): Retry-After when the server sent one,
// else base·2^(n-1), capped.
func retryDelay(base time.Duration, n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, maxRetryAfter)
	}
	d := base
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// parseRetryAfter reads a Retry-After header: seconds (integer or decimal) or an HTTP date.
// Missing or unreadable is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}
