package bench

import (
	"context"
	"time"
)

// History is what the report reads of recorded runs: the selected runs, their levels, each
// level's measured requests and the endpoints' server metrics. The store implements it
// (SQLite, and the PostgreSQL store next); tests use an in-memory one (internal/memstore).
type History interface {
	// ReportRuns returns the selected runs, oldest first (by start, then id).
	ReportRuns(ctx context.Context, sel ReportSelection) ([]Run, error)
	// ReportLevels lists the levels of the given runs (of the named endpoints only, when
	// endpoints is not empty), ordered by run, endpoint name, concurrency, rate and trial.
	ReportLevels(ctx context.Context, runIDs []int64, endpoints []string) ([]ReportLevel, error)
	// NewRequestScanner starts reading levels' measured requests. Close it when done.
	NewRequestScanner(ctx context.Context) (RequestScanner, error)
	// ServerLevelSummary summarizes the runs' server metrics per level, limited to the
	// given families (none: every family).
	ServerLevelSummary(ctx context.Context, runIDs []int64, families []string) ([]ServerLevelRow, error)
	// ServerSeries returns the levels' samples over time of the given families.
	ServerSeries(ctx context.Context, levelIDs []int64, families []string) ([]ServerPoint, error)
}

// RequestScanner streams levels' measured requests (final attempts, no warm-ups, nothing
// canceled), in no particular order. One scanner is used by one goroutine at a time.
type RequestScanner interface {
	// Each calls fn for every measured request of the level. fn receives a value reused
	// for the next request, so it must copy what it keeps; an error from fn stops the scan.
	Each(ctx context.Context, levelID int64, fn func(*ReportRequest) error) error
	Close() error
}

// ReportSelection picks the runs a report covers. Empty fields select everything.
type ReportSelection struct {
	RunIDs    []int64   // only these runs
	Label     string    // only runs with this label
	Since     time.Time // only runs started at or after this time
	Endpoints []string  // only these endpoint names (levels of other endpoints are left out)
}

// ReportLevel is one load level of a selected run, with the endpoint it measured.
type ReportLevel struct {
	Level
	Endpoint           string
	Model              string
	Hardware           string
	EndpointConfigJSON string // without secrets
}

// ReportRequest is the part of one measured request the report reads. NULL numbers are NaN.
type ReportRequest struct {
	Status       RequestStatus
	ErrorClass   ErrorClass
	ErrorMessage string
	StartMS      float64
	ElapsedMS    float64
	TTFTMS       float64
	E2EMS        float64
	TPOTMS       float64
	ServerTTFTMS float64
	InputTokens  float64
	OutputTokens float64
	EM           float64
	F1           float64
	Relayed      bool    // the stream arrived in a relay's bursts (relay_flag)
	Cached       bool    // the server's prompt cache served part of the prompt (cached_tokens > 0)
	Seq          float64 // position in its level (NaN when unknown): pairs requests across endpoints
}
