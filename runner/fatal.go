package runner

import (
	"context"
	"errors"
)

// withFatal gives every client a hook that stops the whole run on an error no retry can
// mend (a key refused after its re-run). It returns the run's context, canceled by the
// hook, the hook itself (for other fatal failures: a write the database refused), and a
// function that, at the run's end, replaces the run's error by the fatal one (so the run is
// recorded as failed with that message, not as interrupted).
func withFatal(ctx context.Context, clients []*Client) (context.Context, func(error), func(error) error) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := func(err error) { cancel(&fatalError{err}) }
	for _, c := range clients {
		c.fatal = stop
	}
	return ctx, stop, func(err error) error {
		var fe *fatalError
		if errors.As(context.Cause(ctx), &fe) {
			err = fe.err
		}
		cancel(nil)
		return err
	}
}

type fatalError struct{ err error }

func (f *fatalError) Error() string { return f.err.Error() }
func (f *fatalError) Unwrap() error { return f.err }
