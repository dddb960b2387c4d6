package store

import "time"

// Run is one invocation of `tracker run`.
type Run struct {
	ID            int64
	Label         string
	Status        string // running, completed, interrupted, failed
	StartedAt     time.Time
	EndedAt       time.Time // zero while running
	ToolVersion   string
	Host          string
	ConfigJSON    string // resolved configuration without secrets
	Dataset       string
	DatasetHash   string
	PromptSetHash string
	Seed          int64
	MaxTokens     int // 0 = not set
	Temperature   *float64
	Stream        bool
	LoadMode      string // closed, open
	Order         string
	Error         string
	SLO           SLO
}

// SLO is a run's latency targets; nil = no target. A request is good when it succeeds and
// meets every target (latency counted from its scheduled time in open loop).
type SLO struct {
	TTFTMS *float64
	TPOTMS *float64
	E2EMS  *float64
}

// Run statuses.
const (
	RunRunning     = "running"
	RunCompleted   = "completed"
	RunInterrupted = "interrupted"
	RunFailed      = "failed"
)

// Endpoint is one endpoint as a run resolved it.
type Endpoint struct {
	ID         int64
	RunID      int64
	Name       string
	BaseURL    string
	Model      string
	Hardware   string
	Preset     string
	ConfigJSON string // without secrets
}

// Prompt is one prompt of a run's prompt set.
type Prompt struct {
	Idx         int
	PromptID    string
	SourceRow   int // -1 when unknown
	TextHash    string
	InputTokens int
	GoldJSON    string
}

// Level is one load level of one endpoint in a run.
type Level struct {
	ID          int64
	RunID       int64
	EndpointID  int64
	Concurrency int
	Rate        float64 // 0 = closed loop
	Trial       int
	Status      string
	StartedAt   time.Time
	EndedAt     time.Time
	Note        string
	LagFlag     bool   // the sender fell behind its schedule
	StopReason  string // why a sweep or early stop ended at this level
}

// Request statuses.
const (
	StatusOK        = "ok"
	StatusError     = "error"
	StatusTimeout   = "timeout"
	StatusCanceled  = "canceled"
	StatusTruncated = "truncated"
)

// ClassClientResource is the error class of a request that failed for want of a resource on
// the client (file descriptors, ephemeral ports, buffers): not an outcome of the endpoint.
const ClassClientResource = "client_resource"

// Outcome says what a final, measured request counts as in every statistic (v_summary,
// the report, the live view: docs/metrics.md, "Levels").
type Outcome int

const (
	OutcomeMeasured       Outcome = iota // a success or a failure of the endpoint: in n
	OutcomeCanceled                      // canceled by an interruption: in no statistic
	OutcomeClientResource                // failed for want of a client resource: in no statistic
)

// OutcomeOf classifies a request by its status and error class.
func OutcomeOf(status, errorClass string) Outcome {
	switch {
	case status == StatusCanceled:
		return OutcomeCanceled
	case status != StatusOK && errorClass == ClassClientResource:
		return OutcomeClientResource
	}
	return OutcomeMeasured
}

// Token count sources.
const (
	SourceUsage     = "usage"
	SourceTokenizer = "tokenizer"
)

// Request is one request's record. Pointer fields are NULL when nil.
type Request struct {
	RunID        int64
	LevelID      int64
	EndpointID   int64
	PromptIdx    int
	PromptID     string
	Seq          *int // position in the level's request sequence; nil for warm-ups
	Warmup       bool
	Attempt      int
	Final        bool
	Status       string
	HTTPStatus   int // 0 = none
	ErrorClass   string
	ErrorMessage string
	FinishReason string
	StartedAt    time.Time
	ScheduledMS  *float64
	StartMS      float64
	QueueMS      float64
	ElapsedMS    float64
	TTFTMS       *float64
	TTFCMS       *float64
	E2EMS        *float64
	TPOTMS       *float64
	ITLMS        []float64
	Chunks       int

	InputTokens        *int
	InputTokensSource  string
	OutputTokens       *int
	OutputTokensSource string
	ReasoningTokens    *int

	ResponseText  string
	ReasoningText string
	UsageJSON     string // "" = NULL
	ServerTTFTMS  *float64
	ServerE2EMS   *float64
	ServerJSON    string // "" = NULL
	EM            *float64
	F1            *float64
	RelayFlag     bool

	// Connection and cache (issue 10).
	ConnReused   *bool    // nil = the request never had a connection
	ConnectMS    *float64 // a new connection's DNS + TCP + TLS; nil when reused
	ConnRetries  int      // sends again on another connection after a stale one
	HTTPProto    string   // "" = NULL
	CachedTokens *int     // prompt tokens served from the server's prompt cache
}
