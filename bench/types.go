package bench

import (
	"time"

	"github.com/google/uuid"
)

// Run is one invocation of `tracker run`.
type Run struct {
	ID            int64
	UUID          string // stable across databases (runs.uuid); set by CreateRun when empty
	Label         string
	Status        RunStatus
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
	LoadMode      LoadMode
	Order         Order
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

// RunStatus is where a run is: runs.status.
type RunStatus string

// Run statuses.
const (
	RunRunning     RunStatus = "running"
	RunCompleted   RunStatus = "completed"
	RunInterrupted RunStatus = "interrupted"
	RunFailed      RunStatus = "failed"
)

// LoadMode is how a run sends its requests: runs.load_mode.
type LoadMode string

// Load modes.
const (
	LoadClosed LoadMode = "closed" // a fixed number of requests in flight
	LoadOpen   LoadMode = "open"   // requests sent on a schedule (a rate), in flight or not
)

// Order is how a run takes its endpoints in turn: runs.order and --order.
type Order string

// SweepKind is what a sweep varies: --sweep.
type SweepKind string

// Sweep kinds.
const (
	SweepConcurrency SweepKind = "concurrency" // closed-loop levels, doubling
	SweepRate        SweepKind = "rate"        // open-loop rates between single-stream and saturated throughput
)

// Orders across endpoints.
const (
	OrderInterleaved Order = "interleaved" // level by level, endpoints alternating
	OrderSequential  Order = "sequential"  // every level of one endpoint, then the next
	OrderConcurrent  Order = "concurrent"  // all endpoints at once, on the same arrival schedule
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
	Status      LevelStatus
	StartedAt   time.Time
	EndedAt     time.Time
	Note        string
	LagFlag     bool   // the sender fell behind its schedule
	StopReason  string // why a sweep or early stop ended at this level
}

// LevelStatus is where a level is: levels.status.
type LevelStatus string

// Level statuses.
const (
	LevelRunning     LevelStatus = "running"
	LevelCompleted   LevelStatus = "completed"
	LevelInterrupted LevelStatus = "interrupted"
	LevelFailed      LevelStatus = "failed"
	LevelStopped     LevelStatus = "stopped" // a sweep or an early stop ended here
)

// RequestStatus is how a request ended: requests.status.
type RequestStatus string

// Request statuses.
const (
	StatusOK        RequestStatus = "ok"
	StatusError     RequestStatus = "error"
	StatusTimeout   RequestStatus = "timeout"
	StatusCanceled  RequestStatus = "canceled"
	StatusTruncated RequestStatus = "truncated"
)

// ErrorClass says why a request failed (or, with status ok, a note on how it ended):
// requests.error_class. The runner defines the classes it detects.
type ErrorClass string

// ClassClientResource is the error class of a request that failed for want of a resource on
// the client (file descriptors, ephemeral ports, buffers): not an outcome of the endpoint.
const ClassClientResource ErrorClass = "client_resource"

// Outcome says what a final, measured request counts as in every statistic (v_summary,
// the report, the live view: docs/metrics.md, "Levels").
type Outcome int

const (
	OutcomeMeasured       Outcome = iota // a success or a failure of the endpoint: in n
	OutcomeCanceled                      // canceled by an interruption: in no statistic
	OutcomeClientResource                // failed for want of a client resource: in no statistic
)

// OutcomeOf classifies a request by its status and error class.
func OutcomeOf(status RequestStatus, errorClass ErrorClass) Outcome {
	switch {
	case status == StatusCanceled:
		return OutcomeCanceled
	case status != StatusOK && errorClass == ClassClientResource:
		return OutcomeClientResource
	}
	return OutcomeMeasured
}

// TokenSource says where a token count came from.
type TokenSource string

// Token count sources.
const (
	SourceUsage     TokenSource = "usage"     // the server's usage block
	SourceTokenizer TokenSource = "tokenizer" // counted by the client
)

// Request is one attempt's record: a Measurement placed in its run (which level, which
// prompt, which position in the level's sequence, which attempt) with its offsets from the
// level's start and its score. Pointer fields are NULL when nil. Its StartedAt is a wall-clock
// time only: the runner takes the offsets from the measurement's monotonic reading and drops it.
type Request struct {
	RunID       int64
	LevelID     int64
	EndpointID  int64
	PromptIdx   int
	PromptID    string
	Seq         *int // position in the level's request sequence; nil for warm-ups
	Warmup      bool
	Attempt     int // 1, 2, ... (retries and re-sent 401s); 0 is taken as 1
	Final       bool
	ScheduledMS *float64 // open loop: when it was due, ms after the level's start
	StartMS     float64  // when it was sent, ms after the level's start
	QueueMS     float64  // from ready to sent (the rate limiter, a free connection)
	EM          *float64
	F1          *float64
	Measurement
}

// Measurement is what the client measured of one attempt of one request: when it was sent,
// how it ended, its timings, token counts and text, what the server reported and how the
// connection was made. It knows nothing of the run: the runner places it (Request).
type Measurement struct {
	// StartedAt is when the request was sent. As the client returns it, it carries the
	// monotonic clock reading that the runner takes offsets from.
	StartedAt    time.Time
	Status       RequestStatus
	HTTPStatus   int // 0 = none
	ErrorClass   ErrorClass
	ErrorMessage string
	FinishReason string
	ElapsedMS    float64
	TTFTMS       *float64
	TTFCMS       *float64
	E2EMS        *float64
	TPOTMS       *float64
	ITLMS        []float64
	Chunks       int

	InputTokens        *int
	InputTokensSource  TokenSource
	OutputTokens       *int
	OutputTokensSource TokenSource
	ReasoningTokens    *int

	ResponseText  string
	ReasoningText string
	UsageJSON     string // "" = NULL
	ServerTTFTMS  *float64
	ServerE2EMS   *float64
	ServerJSON    string // "" = NULL
	RelayFlag     bool

	// Connection and cache (issue 10).
	ConnReused   *bool    // nil = the request never had a connection
	ConnectMS    *float64 // a new connection's DNS + TCP + TLS; nil when reused
	ConnRetries  int      // sends again on another connection after a stale one
	HTTPProto    string   // "" = NULL
	CachedTokens *int     // prompt tokens served from the server's prompt cache
}

// WithDefaults is r as a recorder creates it: running, closed loop, interleaved and with a
// fresh random (version 4) UUID, wherever r leaves these unset. Every Recorder applies it, so
// the store and its in-memory twin start runs alike.
func (r Run) WithDefaults() Run {
	if r.Status == "" {
		r.Status = RunRunning
	}
	if r.LoadMode == "" {
		r.LoadMode = LoadClosed
	}
	if r.Order == "" {
		r.Order = OrderInterleaved
	}
	if r.UUID == "" {
		r.UUID = uuid.NewString()
	}
	return r
}
