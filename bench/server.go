package bench

// Phases of a server metrics sample (server_metrics.phase).
const (
	PhaseWarmup  = "warmup"
	PhaseMeasure = "measure"
	PhasePause   = "pause"
)

// ServerSample is one scraped value of one series of an endpoint's /metrics.
type ServerSample struct {
	LevelID    int64
	EndpointID int64
	TMS        int64  // ms after the level's start
	Phase      string // PhaseWarmup, PhaseMeasure, PhasePause
	Family     string
	Name       string
	Labels     string // canonical JSON object
	Kind       string // gauge, counter, histogram, summary, untyped
	Value      float64
}

// ServerLevelRow is one row of v_server_level: one level's summary of one family and label set.
type ServerLevelRow struct {
	RunID       int64
	Endpoint    string
	Concurrency int
	Rate        float64 // 0 for a closed loop
	Trial       int
	LevelID     int64
	Family      string
	Labels      string
	Kind        string
	Samples     int
	Mean        *float64 // gauges
	Max         *float64 // gauges
	Increase    *float64 // counters; histograms: observations
	P50, P99    *float64 // histograms, in the family's unit
}

// ServerPoint is one sample of a series over time, for charts.
type ServerPoint struct {
	LevelID int64
	Family  string
	Labels  string
	TMS     int64
	Phase   string
	Value   float64
}
