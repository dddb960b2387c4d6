package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/trackerbench/tracker/bench"
)

// GetRun returns a recorded run.
func (s *Store) GetRun(_ context.Context, runID int64) (bench.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.run(runID)
	if err != nil {
		return bench.Run{}, err
	}
	return *r, nil
}

// Endpoints lists a run's endpoints, by id.
func (s *Store) Endpoints(_ context.Context, runID int64) ([]bench.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bench.Endpoint
	for _, e := range s.endpoints {
		if e.RunID == runID {
			out = append(out, e)
		}
	}
	return out, nil
}

// measured reports whether r counts in its level's statistics (and as done for --resume).
func measured(r *bench.Request) bool {
	return !r.Warmup && r.Final && r.Status != bench.StatusCanceled
}

// LevelStates lists a run's levels with the sequence numbers each completed.
func (s *Store) LevelStates(_ context.Context, runID int64) ([]bench.LevelState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bench.LevelState
	at := map[int64]int{} // level id -> index in out
	for _, l := range s.levels {
		if l.RunID == runID {
			at[l.ID] = len(out)
			out = append(out, bench.LevelState{Level: l, Endpoint: s.endpoints[l.EndpointID-1].Name})
		}
	}
	for i := range s.requests {
		r := &s.requests[i]
		j, ok := at[r.LevelID]
		if !ok {
			continue
		}
		if measured(r) && r.Seq != nil {
			out[j].Done.Add(*r.Seq)
		}
		out[j].LastEnd = max(out[j].LastEnd, r.StartMS+r.ElapsedMS)
	}
	return out, nil
}

// RunLease returns the run's status and lease.
func (s *Store) RunLease(_ context.Context, runID int64) (bench.RunStatus, bench.Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.run(runID)
	if err != nil {
		return "", bench.Lease{}, err
	}
	return r.Status, s.leases[runID], nil
}

// ReopenRun marks a run running again under lease l, unless a live process holds its lease;
// its canceled final requests stop being final.
func (s *Store) ReopenRun(_ context.Context, runID int64, l bench.Lease, dead func(owner string) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.run(runID)
	if err != nil {
		return err
	}
	held := s.leases[runID]
	if r.Status == bench.RunRunning && held.Held(time.Now(), l.Owner, dead) {
		return fmt.Errorf("run %d: %w (%s)", runID, bench.ErrLeased, held.Owner)
	}
	r.Status, r.EndedAt, r.Error = bench.RunRunning, time.Time{}, ""
	l.Until = stored(l.Until)
	s.leases[runID] = l
	for i := range s.requests {
		q := &s.requests[i]
		if q.RunID == runID && q.Status == bench.StatusCanceled && q.Final {
			q.Final = false
			// Its level's figures change: it is running again, as in the store.
			if lv, err := s.level(q.LevelID); err == nil {
				lv.Status = bench.LevelRunning
			}
		}
	}
	return nil
}
