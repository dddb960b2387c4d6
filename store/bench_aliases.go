package store

import "github.com/trackerbench/tracker/bench"

// Transitional aliases: the domain types moved to package bench (issue 15). They remain here
// so code written against store's names still compiles; new code uses bench's names. Remove
// them once no package refers to them.

// Domain types.
type (
	Run            = bench.Run
	SLO            = bench.SLO
	Endpoint       = bench.Endpoint
	Prompt         = bench.Prompt
	Level          = bench.Level
	Request        = bench.Request
	Measurement    = bench.Measurement
	Outcome        = bench.Outcome
	RunStatus      = bench.RunStatus
	LevelStatus    = bench.LevelStatus
	RequestStatus  = bench.RequestStatus
	ErrorClass     = bench.ErrorClass
	LoadMode       = bench.LoadMode
	TokenSource    = bench.TokenSource
	RunConfig      = bench.RunConfig
	ConnConfig     = bench.ConnConfig
	EndpointConfig = bench.EndpointConfig
	DatasetConfig  = bench.DatasetConfig
	LoadConfig     = bench.LoadConfig
	SweepConfig    = bench.SweepConfig
	SLOConfig      = bench.SLOConfig
	RequestConfig  = bench.RequestConfig

	Lease           = bench.Lease
	LevelState      = bench.LevelState
	SeqSet          = bench.SeqSet
	ServerSample    = bench.ServerSample
	ServerLevelRow  = bench.ServerLevelRow
	ServerPoint     = bench.ServerPoint
	ReportSelection = bench.ReportSelection
	ReportLevel     = bench.ReportLevel
	ReportRequest   = bench.ReportRequest
	RequestScanner  = bench.RequestScanner
)

// Statuses, error classes, outcomes and token sources.
const (
	RunRunning            = bench.RunRunning
	RunCompleted          = bench.RunCompleted
	RunInterrupted        = bench.RunInterrupted
	RunFailed             = bench.RunFailed
	StatusOK              = bench.StatusOK
	StatusError           = bench.StatusError
	StatusTimeout         = bench.StatusTimeout
	StatusCanceled        = bench.StatusCanceled
	StatusTruncated       = bench.StatusTruncated
	ClassClientResource   = bench.ClassClientResource
	OutcomeMeasured       = bench.OutcomeMeasured
	OutcomeCanceled       = bench.OutcomeCanceled
	OutcomeClientResource = bench.OutcomeClientResource
	SourceUsage           = bench.SourceUsage
	SourceTokenizer       = bench.SourceTokenizer
	RunConfigVersion      = bench.RunConfigVersion
	PhaseWarmup           = bench.PhaseWarmup
	PhaseMeasure          = bench.PhaseMeasure
	PhasePause            = bench.PhasePause
)

// ErrLegacyConfig is bench.ErrLegacyConfig.
var ErrLegacyConfig = bench.ErrLegacyConfig

// OutcomeOf is bench.OutcomeOf.
func OutcomeOf(status RequestStatus, errorClass ErrorClass) Outcome {
	return bench.OutcomeOf(status, errorClass)
}

// ParseRunConfig is bench.ParseRunConfig.
func ParseRunConfig(text string) (RunConfig, error) { return bench.ParseRunConfig(text) }
