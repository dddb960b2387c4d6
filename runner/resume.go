package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
)

// ErrResume is returned when a run cannot be resumed.
var ErrResume = errors.New("cannot resume")

// Resume finishes an interrupted (or crashed) run with the plan it was started with: it
// sends only the requests that did not complete — canceled ones are sent again — appends
// them to the same run and levels, and marks the run completed. Levels that completed are
// skipped. The prompts must be the same (by hash) as the run's.
func (r *Runner) Resume(ctx context.Context, runID int64, p Plan) (Outcome, error) {
	if err := p.validate(); err != nil {
		return Outcome{}, err
	}
	run, err := r.DB.GetRun(ctx, runID)
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: %w", ErrResume, err)
	}
	switch {
	case run.Status == bench.RunCompleted:
		return Outcome{}, fmt.Errorf("%w: run %d is already completed", ErrResume, runID)
	case p.Sweep != nil:
		return Outcome{}, fmt.Errorf("%w: run %d is a sweep, whose levels depend on what was measured; start a new run", ErrResume, runID)
	case p.Duration > 0:
		return Outcome{}, fmt.Errorf("%w: run %d's levels are bounded by --duration, not by a request count", ErrResume, runID)
	case dataset.SetHash(p.Prompts.Prompts) != run.PromptSetHash:
		return Outcome{}, fmt.Errorf("%w: run %d: the dataset no longer gives the same prompts (prompt set hash differs)", ErrResume, runID)
	}
	states, err := r.DB.LevelStates(ctx, runID)
	if err != nil {
		return Outcome{}, err
	}
	if err := r.DB.ReopenRun(ctx, runID, newLease(), ownerDead); err != nil {
		if errors.Is(err, bench.ErrLeased) {
			return Outcome{}, fmt.Errorf("%w: %w; wait for it to end, or stop it first", ErrResume, err)
		}
		return Outcome{}, err
	}
	stopLease := r.holdLease(ctx, runID)
	ex := &executor{r: r, plan: &p, runID: runID, resume: map[levelKey]*bench.LevelState{}, ahead: newAhead(&p)}
	for i := range states {
		st := &states[i]
		ex.resume[levelKey{st.Endpoint, Load{Concurrency: st.Concurrency, Rate: st.Rate}, st.Trial}] = st
	}
	err = ex.execute(ctx)
	stopLease()
	return r.finish(ctx, runID, err)
}

func resumeErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrResume, fmt.Sprintf(format, args...))
}
