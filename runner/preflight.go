package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Reachable checks, before a run starts, that every endpoint's server answers HTTP at all
// (any status will do: many gateways have no /models). It fails with the endpoint's name.
func Reachable(ctx context.Context, eps []Endpoint, timeout time.Duration) error {
	hc := &http.Client{Timeout: timeout}
	var errs []error
	for _, e := range eps {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.BaseURL+"/models", nil)
		if err != nil {
			errs = append(errs, fmt.Errorf("endpoint %s: %w", e.Name, err))
			continue
		}
		resp, err := hc.Do(req)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: endpoint %s (%s): %v", ErrUnreachable, e.Name, e.BaseURL, reason(err)))
			continue
		}
		resp.Body.Close()
	}
	return errors.Join(errs...)
}

func reason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Op + ": " + op.Err.Error()
	}
	return err.Error()
}
