package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/internal/ctxtime"
	"github.com/trackerbench/tracker/internal/defaults"
	"github.com/trackerbench/tracker/tokens"
)

// ErrCold is returned when an endpoint answers 503 (its model is not loaded) at preflight.
var ErrCold = errors.New("endpoint cold")

// PreflightOptions tunes Preflight.
type PreflightOptions struct {
	Timeout  time.Duration // one check request; 0 = 2 minutes
	WaitCold time.Duration // keep checking a cold (503) endpoint this long; 0 = fail at once
	Poll     time.Duration // between checks of a cold endpoint; 0 = 15 s
	NoStream bool          // check with stream: false, as the run will send
	Tokens   *tokens.Counter
	Log      io.Writer   // progress notes (waiting for a cold endpoint); nil = none
	Conn     ConnOptions // the run's protocol, so preflight speaks it too
}

// Preflight checks every endpoint with one tiny chat request (max_tokens 4), the same
// request path the run uses, so a wrong URL, key or model fails before the run with the
// endpoint's name and the server's own message. (Many gateways, ALCF's among them, have
// no GET /v1/models.) An endpoint answering 503 is cold: Preflight waits for it up to
// o.WaitCold, else fails with ErrCold. The request also warms the endpoint (connection,
// lazy model load); it is not recorded.
func Preflight(ctx context.Context, eps []Endpoint, keys map[string]string, o PreflightOptions) error {
	defaults.Positive(&o.Timeout, 2*time.Minute)
	defaults.Positive(&o.Poll, 15*time.Second)
	d := newDoer(len(eps), o.Conn)
	var errs []error
	clients := make([]*Client, len(eps))
	for i, e := range eps {
		clients[i] = NewClient(e, keys[e.Name], d, o.Tokens)
	}
	shareSecrets(clients) // a check's error message never shows a key (redact.go)
	for _, c := range clients {
		if err := preflightOne(ctx, c, o); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var preflightPrompt = dataset.Prompt{ID: "preflight", Messages: []dataset.Message{{Role: "user", Content: "Say OK."}}}

func preflightOne(ctx context.Context, c *Client, o PreflightOptions) error {
	e := c.ep
	deadline := time.Now().Add(o.WaitCold)
	ro := RequestOptions{MaxTokens: 4, Timeout: o.Timeout, NoStream: o.NoStream}
	for {
		rec := c.Do(ctx, preflightPrompt, ro)
		err := preflightError(e, rec)
		if err == nil || !errors.Is(err, ErrCold) || ctx.Err() != nil {
			return err
		}
		if time.Now().Add(o.Poll).After(deadline) {
			if o.WaitCold > 0 {
				return fmt.Errorf("%w (still cold after waiting %s)", err, o.WaitCold)
			}
			return fmt.Errorf("%w; --wait-cold DURATION waits for it to load", err)
		}
		if o.Log != nil {
			fmt.Fprintf(o.Log, "endpoint %s is cold (503): checking again in %s (waiting up to %s)\n",
				e.Name, o.Poll, time.Until(deadline).Round(time.Second))
		}
		if !ctxtime.Sleep(ctx, o.Poll) {
			return ctx.Err()
		}
	}
}

// preflightError turns a check request's record into an error naming the endpoint, what
// is probably wrong and the server's own message; nil when the endpoint answered.
func preflightError(e Endpoint, r bench.Measurement) error {
	where := fmt.Sprintf("endpoint %s (%s, model %s)", e.Name, e.BaseURL, e.Model)
	msg := r.ErrorMessage
	switch {
	case r.Status == bench.StatusOK || r.Status == bench.StatusTruncated && r.Chunks > 0:
		return nil // tokens came back (a 4-token answer may be cut short)
	case r.ErrorClass == ClassAuth:
		return fmt.Errorf("%s: %s", where, msg)
	case r.ErrorClass == ClassNotSSE || r.ErrorClass == ClassMalformed || r.ErrorClass == ClassCrossOriginRedirect ||
		r.ErrorClass == ClassClientResource:
		return hostileCheckError(where, r) // bounds.go
	case r.ErrorClass == ClassConnect:
		return fmt.Errorf("%w: %s: cannot connect (wrong base_url?): %s", ErrUnreachable, where, msg)
	case r.HTTPStatus == 401 || r.HTTPStatus == 403:
		return fmt.Errorf("%w: %s: the key was refused (HTTP %d): %s", ErrAuth, where, r.HTTPStatus, msg)
	case r.HTTPStatus == 404:
		return fmt.Errorf("%w: %s: not found (HTTP 404: wrong base_url or model?): %s", ErrUnreachable, where, msg)
	case r.HTTPStatus == 503:
		return fmt.Errorf("%w: %s: the model is not ready (HTTP 503): %s", ErrCold, where, msg)
	case r.HTTPStatus >= 400:
		return fmt.Errorf("%w: %s: HTTP %d (wrong model or request?): %s", ErrUnreachable, where, r.HTTPStatus, msg)
	case r.Status == bench.StatusCanceled:
		return fmt.Errorf("%s: check interrupted", where)
	default:
		return fmt.Errorf("%w: %s: the check request failed (%s): %s", ErrUnreachable, where, r.ErrorClass, msg)
	}
}
