package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/trackerbench/tracker/bench"
)

var (
	_ bench.Recorder = (*Store)(nil)
	_ bench.Resumer  = (*Store)(nil)
	_ bench.History  = (*Store)(nil)
)

// Store holds runs in memory. It is safe for concurrent use. The zero value is not usable:
// call New.
type Store struct {
	mu        sync.Mutex
	runs      []bench.Run // index id-1
	leases    map[int64]bench.Lease
	endpoints []bench.Endpoint // index id-1
	prompts   map[int64][]bench.Prompt
	levels    []bench.Level   // index id-1
	requests  []bench.Request // in the order they were added
	samples   []bench.ServerSample
	failAt    int   // FailRequestsAfter: requests recorded before writes fail
	failErr   error // nil: writes never fail
}

// New returns an empty store.
func New() *Store {
	return &Store{leases: map[int64]bench.Lease{}, prompts: map[int64][]bench.Prompt{}}
}

// stored is t as a database returns it: UTC, no monotonic clock reading.
func stored(t time.Time) time.Time { return t.Round(0).UTC() }

func (s *Store) run(id int64) (*bench.Run, error) {
	if id < 1 || id > int64(len(s.runs)) {
		return nil, fmt.Errorf("run %d: %w", id, bench.ErrNotFound)
	}
	return &s.runs[id-1], nil
}

func (s *Store) level(id int64) (*bench.Level, error) {
	if id < 1 || id > int64(len(s.levels)) {
		return nil, fmt.Errorf("level %d: %w", id, bench.ErrNotFound)
	}
	return &s.levels[id-1], nil
}

// CreateRun records a run, with the store's defaults (running, closed loop, interleaved, a
// random UUID).
func (s *Store) CreateRun(_ context.Context, r bench.Run) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r = r.WithDefaults()
	r.ID, r.StartedAt, r.EndedAt = int64(len(s.runs)+1), stored(r.StartedAt), time.Time{}
	s.runs = append(s.runs, r)
	return r.ID, nil
}

// FinishRun sets the run's status, end and error, and releases its lease.
func (s *Store) FinishRun(_ context.Context, runID int64, status bench.RunStatus, ended time.Time, errText string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.run(runID)
	if err != nil {
		return fmt.Errorf("finishing run: %w", err)
	}
	r.Status, r.EndedAt, r.Error = status, stored(ended), errText
	l := s.leases[runID]
	l.Until = time.Time{}
	s.leases[runID] = l
	return nil
}

// RenewLease sets the run's lease.
func (s *Store) RenewLease(_ context.Context, runID int64, l bench.Lease) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.run(runID); err != nil {
		return fmt.Errorf("renewing the lease: %w", err)
	}
	l.Until = stored(l.Until)
	s.leases[runID] = l
	return nil
}

// AddEndpoint records an endpoint of an existing run.
func (s *Store) AddEndpoint(_ context.Context, e bench.Endpoint) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.run(e.RunID); err != nil {
		return 0, fmt.Errorf("recording endpoint %s: %w", e.Name, err)
	}
	if e.ConfigJSON == "" {
		e.ConfigJSON = "{}"
	}
	e.ID = int64(len(s.endpoints) + 1)
	s.endpoints = append(s.endpoints, e)
	return e.ID, nil
}

// AddPrompts records a run's prompt set.
func (s *Store) AddPrompts(_ context.Context, runID int64, prompts []bench.Prompt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.run(runID); err != nil {
		return fmt.Errorf("recording prompts: %w", err)
	}
	s.prompts[runID] = append(s.prompts[runID], prompts...)
	return nil
}

// StartLevel records a level's start, with the store's defaults (running, trial 1).
func (s *Store) StartLevel(_ context.Context, l bench.Level) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.run(l.RunID); err != nil {
		return 0, fmt.Errorf("recording level: %w", err)
	}
	if l.EndpointID < 1 || l.EndpointID > int64(len(s.endpoints)) {
		return 0, fmt.Errorf("recording level: endpoint %d: %w", l.EndpointID, bench.ErrNotFound)
	}
	if l.Status == "" {
		l.Status = bench.LevelRunning
	}
	if l.Trial == 0 {
		l.Trial = 1
	}
	l.ID, l.StartedAt, l.EndedAt = int64(len(s.levels)+1), stored(l.StartedAt), time.Time{}
	l.LagFlag, l.StopReason = false, ""
	s.levels = append(s.levels, l)
	return l.ID, nil
}

// FinishLevel sets the level's status, end, note, lag flag and stop reason.
func (s *Store) FinishLevel(_ context.Context, l bench.Level) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lv, err := s.level(l.ID)
	if err != nil {
		return fmt.Errorf("finishing level: %w", err)
	}
	lv.Status, lv.EndedAt, lv.Note, lv.LagFlag, lv.StopReason = l.Status, stored(l.EndedAt), l.Note, l.LagFlag, l.StopReason
	return nil
}

// EndOpenLevels ends the run's levels still running with status.
func (s *Store) EndOpenLevels(_ context.Context, runID int64, status bench.LevelStatus, ended time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.levels {
		if lv := &s.levels[i]; lv.RunID == runID && lv.Status == bench.LevelRunning {
			lv.Status, lv.EndedAt = status, stored(ended)
		}
	}
	return nil
}

// ReopenLevel marks a level running again.
func (s *Store) ReopenLevel(_ context.Context, levelID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lv, err := s.level(levelID)
	if err != nil {
		return fmt.Errorf("reopening level: %w", err)
	}
	lv.Status, lv.EndedAt = bench.LevelRunning, time.Time{}
	return nil
}

// SetStopReason records why a sweep or an early stop ended at a level.
func (s *Store) SetStopReason(_ context.Context, levelID int64, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lv, err := s.level(levelID)
	if err != nil {
		return fmt.Errorf("recording stop reason: %w", err)
	}
	lv.StopReason = reason
	return nil
}

// addLocked records a request as the store's writer does (attempt 0 is 1, times stored).
func (s *Store) addLocked(r bench.Request) {
	if r.Attempt == 0 {
		r.Attempt = 1
	}
	r.StartedAt = stored(r.StartedAt)
	s.requests = append(s.requests, r)
}

// Requests returns a copy of every request recorded, in the order they were added.
func (s *Store) Requests() []bench.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Levels returns a copy of every level recorded, by id.
func (s *Store) Levels() []bench.Level {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.levels)
}

// Prompts returns a copy of a run's prompts.
func (s *Store) Prompts(runID int64) []bench.Prompt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.prompts[runID])
}

// ServerSamples returns a copy of every server sample recorded.
func (s *Store) ServerSamples() []bench.ServerSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.samples)
}
