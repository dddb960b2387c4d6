package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RunConfigVersion is the version of RunConfig that this tracker writes.
const RunConfigVersion = 1

// ErrLegacyConfig is returned for a run recorded before RunConfig (its config_json holds the
// raw command-line arguments): report can read its baseline, --resume refuses it.
var ErrLegacyConfig = errors.New("the run's configuration predates the typed run configuration")

// ErrNewerConfig is returned for a run configuration written by a newer tracker.
var ErrNewerConfig = errors.New("the run configuration is newer than this tracker")

// RunConfig is a run's resolved configuration as stored in runs.config_json: typed and
// versioned, written by `run`, read by `--resume` and `report`. It never holds a secret: no
// key, no header value, no key command, URLs redacted. Durations are nanoseconds.
type RunConfig struct {
	Version    int              `json:"version"`
	Label      string           `json:"label,omitempty"`
	ConfigFile string           `json:"config_file,omitempty"` // absolute path of --config, read again by --resume
	Endpoints  []EndpointConfig `json:"endpoints"`
	Baseline   string           `json:"baseline,omitempty"`
	Dataset    DatasetConfig    `json:"dataset"`
	Prompts    int              `json:"prompts"`

	Loads          []LoadConfig  `json:"loads"`
	Burstiness     string        `json:"burstiness"` // a number or "+Inf"
	Requests       int           `json:"requests"`
	Duration       time.Duration `json:"duration"`
	Warmup         int           `json:"warmup"`
	WarmupDuration time.Duration `json:"warmup_duration"`
	Repeat         int           `json:"repeat"`
	Order          Order         `json:"order"`
	Sweep          *SweepConfig  `json:"sweep,omitempty"`
	MaxErrorRate   float64       `json:"max_error_rate"`
	SLO            SLOConfig     `json:"slo"`
	Request        RequestConfig `json:"request"`
	Conn           ConnConfig    `json:"conn"`
}

// ConnConfig is how connections are made: --cold-connections and --http.
type ConnConfig struct {
	Cold bool   `json:"cold,omitempty"` // connection set-up inside TTFT, no warm-up
	HTTP string `json:"http,omitempty"` // "1.1" or "2"
}

// EndpointConfig is an endpoint as a run stores it.
type EndpointConfig struct {
	Name     string `json:"name"`
	Preset   string `json:"preset,omitempty"`
	BaseURL  string `json:"base_url"`               // redacted: no user:password, no key-like parameter values
	Redacted bool   `json:"url_redacted,omitempty"` // BaseURL differs from the URL used
	Model    string `json:"model"`
	// FromFlag: given with --endpoint (not in ConfigFile).
	FromFlag      bool     `json:"from_flag,omitempty"`
	APIKeyEnv     string   `json:"api_key_env,omitempty"`
	APIKeyCommand bool     `json:"api_key_command_set,omitempty"` // only that there is one
	HeaderNames   []string `json:"header_names,omitempty"`        // never the values
	MaxRPS        *float64 `json:"max_rps,omitempty"`
	Hardware      string   `json:"hardware,omitempty"`
	InputPrice    float64  `json:"input_price_per_mtok,omitempty"`
	OutputPrice   float64  `json:"output_price_per_mtok,omitempty"`
	PricePerHour  float64  `json:"price_per_hour,omitempty"`
	Nodes         int      `json:"nodes,omitempty"`
	// FollowRedirects is the endpoint's redirect policy (same_origin or cross_origin).
	FollowRedirects string `json:"follow_redirects,omitempty"`
	// CachePrompt is llama.cpp's cache_prompt as sent (nil = not sent).
	CachePrompt *bool `json:"cache_prompt,omitempty"`
}

// DatasetConfig is what --dataset and its flags asked for.
type DatasetConfig struct {
	Name          string            `json:"name"` // a path is stored absolute
	Source        string            `json:"source,omitempty"`
	Limit         int               `json:"limit"`
	Seed          int64             `json:"seed"`
	TemplateFile  string            `json:"template_file,omitempty"`
	System        string            `json:"system,omitempty"`
	Fields        map[string]string `json:"fields,omitempty"`
	Split         string            `json:"split,omitempty"`
	HFConfig      string            `json:"hf_config,omitempty"`
	Revision      string            `json:"revision,omitempty"`
	HFVia         string            `json:"hf_via,omitempty"`
	Offline       bool              `json:"offline,omitempty"`
	CacheDir      string            `json:"cache_dir,omitempty"`
	InputTokens   int               `json:"input_tokens,omitempty"`
	OutputTokens  int               `json:"output_tokens,omitempty"`
	Spread        float64           `json:"spread,omitempty"`
	ContextTokens []int             `json:"context_tokens,omitempty"`
}

// LoadConfig is one load level: closed loop (Rate 0) or open loop with an optional cap.
type LoadConfig struct {
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate"`
}

// SweepConfig is a sweep's settings.
type SweepConfig struct {
	Kind           SweepKind `json:"kind"`
	MinGain        float64   `json:"min_gain"`
	MaxConcurrency int       `json:"max_concurrency"`
	Steps          int       `json:"steps"`
	SLOTarget      float64   `json:"slo_target"`
}

// SLOConfig is the --slo targets (0 = none).
type SLOConfig struct {
	TTFT time.Duration `json:"ttft"`
	TPOT time.Duration `json:"tpot"`
	E2E  time.Duration `json:"e2e"`
}

// RequestConfig is how every request is sent.
type RequestConfig struct {
	MaxTokens    int           `json:"max_tokens"`
	Temperature  float64       `json:"temperature"`
	IgnoreEOS    bool          `json:"ignore_eos"`
	Timeout      time.Duration `json:"timeout"`
	StallTimeout time.Duration `json:"stall_timeout"`
	Stream       bool          `json:"stream"`
	Retries      int           `json:"retries"`
	RetryBackoff time.Duration `json:"retry_backoff"`
	CacheBust    bool          `json:"cache_bust,omitempty"` // a unique tag before every request's first message
}

// JSON encodes the configuration for runs.config_json.
func (c RunConfig) JSON() (string, error) {
	c.Version = RunConfigVersion
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding the run configuration: %w", err)
	}
	return string(b), nil
}

// ParseRunConfig reads runs.config_json. A run recorded before the typed configuration
// gives ErrLegacyConfig with what can still be read of it (its baseline); a newer version
// than this tracker knows is an error.
func ParseRunConfig(text string) (RunConfig, error) {
	var probe struct {
		Version  int    `json:"version"`
		Baseline string `json:"baseline"` // json matches "Baseline" too (old runs wrote both spellings)
	}
	if err := json.Unmarshal([]byte(text), &probe); err != nil {
		return RunConfig{}, fmt.Errorf("reading the run configuration: %w", err)
	}
	switch {
	case probe.Version == 0:
		return RunConfig{Baseline: probe.Baseline}, ErrLegacyConfig
	case probe.Version > RunConfigVersion:
		return RunConfig{}, fmt.Errorf("run configuration version %d, this tracker knows %d: %w", probe.Version, RunConfigVersion, ErrNewerConfig)
	}
	var c RunConfig
	if err := json.Unmarshal([]byte(text), &c); err != nil {
		return RunConfig{}, fmt.Errorf("reading the run configuration: %w", err)
	}
	return c, nil
}
