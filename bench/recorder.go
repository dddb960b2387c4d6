package bench

import (
	"context"
	"errors"
	"time"
)

// Errors of a Recorder, Resumer or History, whatever the backend.
var (
	// ErrNotFound is returned when a run or row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLeased is returned when a run is still held by the process running it.
	ErrLeased = errors.New("the run is still being run by another process")
)

// Recorder is what the runner records a run into: the run, its endpoints and prompts, each
// level's start and end, and every request through a RequestSink. The store implements it
// (SQLite, and the PostgreSQL store next); tests use an in-memory one (internal/memstore).
//
// Errors say what was being recorded. The runner records a run's end and a level's end with
// a fresh context, so that an interrupted run is still closed.
type Recorder interface {
	CreateRun(ctx context.Context, r Run) (int64, error)
	FinishRun(ctx context.Context, runID int64, status RunStatus, ended time.Time, errText string) error
	// RenewLease sets the run's lease (the running process renews it every few seconds).
	RenewLease(ctx context.Context, runID int64, l Lease) error
	AddEndpoint(ctx context.Context, e Endpoint) (int64, error)
	AddPrompts(ctx context.Context, runID int64, prompts []Prompt) error
	StartLevel(ctx context.Context, l Level) (int64, error)
	// FinishLevel records l.Status, EndedAt, Note, LagFlag and StopReason of level l.ID, and
	// the level's statistics computed from its recorded requests (all of them: Flush first).
	FinishLevel(ctx context.Context, l Level) error
	// EndOpenLevels ends the run's levels still running when the run ends (with status),
	// with their statistics.
	EndOpenLevels(ctx context.Context, runID int64, status LevelStatus, ended time.Time) error
	SetStopReason(ctx context.Context, levelID int64, reason string) error
	// RecordRequests starts a sink for the run's requests and server samples.
	RecordRequests(o SinkOptions) RequestSink
}

// RequestSink takes request records and server samples off the request path and writes
// them in the background. When a write finally fails, OnFail (SinkOptions) is called once
// and every later record is dropped, so the run stops rather than send what it cannot record.
type RequestSink interface {
	// Add queues one request record. It must not be called after Close.
	Add(r Request)
	// Flush returns once every record Added before it is written (or the sink has failed).
	Flush()
	// AddServerSamples queues scraped server metrics without blocking; false when they
	// were dropped because the sink is behind.
	AddServerSamples(samples []ServerSample) bool
	// DroppedServerScrapes is how many scrapes AddServerSamples dropped.
	DroppedServerScrapes() int
	// ServerErr is the error that stopped server samples being recorded, if any.
	ServerErr() error
	// Close writes everything queued and returns the first write error, if any.
	Close() error
}

// SinkOptions tune a RequestSink; zero values take the implementation's defaults.
type SinkOptions struct {
	// RetryBudget is how long a write is retried while the database is busy.
	RetryBudget time.Duration
	// OnFail is called once, from the sink's goroutine, when a write finally fails.
	OnFail func(error)
}

// Resumer is what `run --resume` reads of a recorded run, and how it takes the run over.
type Resumer interface {
	GetRun(ctx context.Context, runID int64) (Run, error)
	Endpoints(ctx context.Context, runID int64) ([]Endpoint, error)
	// LevelStates lists the run's levels with the sequence numbers each completed.
	LevelStates(ctx context.Context, runID int64) ([]LevelState, error)
	// RunLease reads the run's status and lease (Until is zero when none is held).
	RunLease(ctx context.Context, runID int64) (RunStatus, Lease, error)
	// ReopenRun marks an interrupted run running again under lease l, unless another live
	// process holds its lease (dead reports an owner on this host that no longer exists).
	// Its canceled requests stop being final: the resumed run sends them again.
	ReopenRun(ctx context.Context, runID int64, l Lease, dead func(owner string) bool) error
	// ReopenLevel marks a level the resume sends more requests to as running again: its
	// statistics are recorded anew when it ends.
	ReopenLevel(ctx context.Context, levelID int64) error
}

// Lease is a running process's claim on a run: Owner ("host/pid") renews Until while it runs.
type Lease struct {
	Owner string
	Until time.Time
}

// Held reports whether the lease still stands at now for anyone but me: it has not expired
// and its owner is not known to be dead (dead reports that, for an owner on this host).
func (l Lease) Held(now time.Time, me string, dead func(owner string) bool) bool {
	return l.Owner != "" && l.Owner != me && now.Before(l.Until) && !(dead != nil && dead(l.Owner))
}

// LevelState is what a resumed run needs to know of one recorded level.
type LevelState struct {
	Level
	Endpoint string
	Done     SeqSet  // seqs with a final record that is not canceled
	LastEnd  float64 // max(start_ms + elapsed_ms) of its requests, ms after its start
}
