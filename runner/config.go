package runner

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/textsafe"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrConfig is returned for an invalid endpoint configuration (exit code 2).
	ErrConfig = errors.New("invalid endpoint configuration")
	// ErrUnreachable is returned when an endpoint cannot be reached before a run starts.
	ErrUnreachable = errors.New("endpoint unreachable")
	// ErrAuth is returned when an endpoint's key is missing or refused (after the one
	// re-run of its api_key_command); it stops a run.
	ErrAuth = errors.New("authentication failed")
)

// Endpoint is one OpenAI-compatible server to measure.
type Endpoint struct {
	Name    string `yaml:"name" json:"name"`
	Preset  string `yaml:"preset" json:"preset,omitempty"` // fills the fields left empty (presets.go)
	BaseURL string `yaml:"base_url" json:"base_url"`       // including /v1
	Model   string `yaml:"model" json:"model"`
	// The key comes from a variable or from a command's standard output (run once at the
	// start, re-run once on a 401). Keys stay in memory: never stored, logged or printed.
	APIKeyEnv     string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	APIKeyCommand string `yaml:"api_key_command" json:"api_key_command,omitempty"`
	// MaxRPS caps this endpoint's request rate (requests/s, all levels' workers together)
	// so a run does not measure the service's rate limiter. nil = the preset's; 0 = none.
	MaxRPS   *float64          `yaml:"max_rps" json:"max_rps,omitempty"`
	Hardware string            `yaml:"hardware" json:"hardware,omitempty"`
	Headers  map[string]string `yaml:"headers" json:"-"` // values may be secrets: never stored
	// FollowRedirects: same_origin (default) or cross_origin (redirect.go).
	FollowRedirects RedirectPolicy `yaml:"follow_redirects" json:"follow_redirects,omitempty"`
	// Prices in USD per million tokens, for the report's cost beside speed; 0 = unknown.
	InputPricePerMTok  float64 `yaml:"input_price_per_mtok" json:"input_price_per_mtok,omitempty"`
	OutputPricePerMTok float64 `yaml:"output_price_per_mtok" json:"output_price_per_mtok,omitempty"`
	// Self-hosted endpoints price hours: USD per hour of one node (a GPU node, an RDU
	// allocation) times the nodes the endpoint occupies (default 1); 0 = unknown.
	PricePerHour float64 `yaml:"price_per_hour" json:"price_per_hour,omitempty"`
	Nodes        int     `yaml:"nodes" json:"nodes,omitempty"`
	// CachePrompt is sent as llama.cpp's "cache_prompt" when set (false: the server does
	// not reuse its prompt cache); nil = not sent (with --cache-bust, a llamacpp preset sends false).
	CachePrompt *bool `yaml:"cache_prompt" json:"cache_prompt,omitempty"`
	// FromFlag: given with --endpoint rather than in a config file.
	FromFlag bool `yaml:"-" json:"-"`
	// MetricsURL is the server's Prometheus /metrics (docs/telemetry.md); empty = try the
	// base URL's origin + /metrics once at the start of the run.
	MetricsURL string `yaml:"metrics_url" json:"metrics_url,omitempty"`
}

// stored is the endpoint as a run's configuration keeps it (no secret).
func (e Endpoint) stored() bench.EndpointConfig {
	redacted := RedactURL(e.BaseURL)
	return bench.EndpointConfig{Name: e.Name, Preset: e.Preset, BaseURL: redacted, Redacted: redacted != e.BaseURL,
		Model: e.Model, FromFlag: e.FromFlag, APIKeyEnv: e.APIKeyEnv, APIKeyCommand: e.APIKeyCommand != "",
		HeaderNames: headerNames(e.Headers), MaxRPS: e.MaxRPS, Hardware: e.Hardware,
		InputPrice: e.InputPricePerMTok, OutputPrice: e.OutputPricePerMTok, PricePerHour: e.PricePerHour, Nodes: e.Nodes,
		FollowRedirects: string(e.FollowRedirects), CachePrompt: e.CachePrompt}
}

// Public is the endpoint as it may be stored with a run: no key, no header values, the URL
// redacted.
func (e Endpoint) Public() map[string]any {
	m := map[string]any{"name": e.Name, "base_url": RedactURL(e.BaseURL), "model": e.Model,
		"api_key_env": e.APIKeyEnv, "hardware": e.Hardware, "header_names": headerNames(e.Headers)}
	if e.Preset != "" {
		m["preset"] = e.Preset
	}
	if e.APIKeyCommand != "" {
		// Only that there is one: a command can carry a key inline (echo sk-...).
		m["api_key_command_set"] = true
	}
	if e.MaxRPS != nil {
		m["max_rps"] = *e.MaxRPS
	}
	if e.FollowRedirects != "" {
		m["follow_redirects"] = e.FollowRedirects
	}
	if e.CachePrompt != nil {
		m["cache_prompt"] = *e.CachePrompt
	}
	if e.InputPricePerMTok > 0 || e.OutputPricePerMTok > 0 {
		m["input_price_per_mtok"], m["output_price_per_mtok"] = e.InputPricePerMTok, e.OutputPricePerMTok
	}
	if e.PricePerHour > 0 {
		m["price_per_hour"], m["nodes"] = e.PricePerHour, max(e.Nodes, 1)
	}
	if e.MetricsURL != "" {
		m["metrics_url"] = publicURL(e.MetricsURL)
	}
	return m
}

// rateLimit is the endpoint's request-rate cap in requests/s (0 = none).
func (e Endpoint) rateLimit() float64 {
	if e.MaxRPS == nil {
		return 0
	}
	return *e.MaxRPS
}

// Config is an endpoints.yaml file.
type Config struct {
	Endpoints []Endpoint `yaml:"endpoints"`
	Baseline  string     `yaml:"baseline"` // the endpoint reports compare against
}

// LoadConfig reads and validates an endpoints file. Unknown fields are errors that name
// the file, line and field.
func LoadConfig(path string) (*Config, error) {
	b, err := readBounded(path, MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	if err := checkYAMLSize(b); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	var cfg Config
	if err := yaml.UnmarshalWithOptions(b, &cfg, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrConfig, path, yaml.FormatError(err, false, false))
	}
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("%w: %s: no endpoints listed", ErrConfig, path)
	}
	for i := range cfg.Endpoints {
		if err := cfg.Endpoints[i].validate(); err != nil {
			return nil, fmt.Errorf("%w: %s: endpoints[%d]: %v", ErrConfig, path, i, err)
		}
	}
	if err := checkUnique(cfg.Endpoints); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	if cfg.Baseline != "" && !hasEndpoint(cfg.Endpoints, cfg.Baseline) {
		return nil, fmt.Errorf("%w: %s: baseline %q is not one of the endpoints", ErrConfig, path, cfg.Baseline)
	}
	return &cfg, nil
}

// readBounded reads a file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading endpoint config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading endpoint config %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrConfig, path, limit)
	}
	return b, nil
}

// ParseEndpointFlag reads `--endpoint NAME=URL,model=M[,key_env=VAR][,hardware=H]`
// (or `name=NAME,url=URL,model=M,...`, or `name=NAME,preset=P[,model=M]...`). Options:
// preset, key_cmd (a command printing the key, without commas), max_rps.
func ParseEndpointFlag(s string) (Endpoint, error) {
	var e Endpoint
	parts := strings.Split(s, ",")
	for i, part := range parts {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return e, endpointFlagError(s, "option %d is not key=value", i+1)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "name":
			e.Name = v
		case "url", "base_url":
			e.BaseURL = v
		case "model":
			e.Model = v
		case "key_env", "api_key_env":
			e.APIKeyEnv = v
		case "hardware":
			e.Hardware = v
		case "preset":
			e.Preset = v
		case "key_cmd", "api_key_command":
			e.APIKeyCommand = v
		case "metrics", "metrics_url":
			e.MetricsURL = v
		case "max_rps":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return e, endpointFlagError(s, "max_rps %q is not a number", textsafe.Terminal(v))
			}
			e.MaxRPS = &f
		default:
			if i == 0 && looksLikeURL(v) {
				e.Name, e.BaseURL = k, v
				continue
			}
			return e, endpointFlagError(s, "unknown option %q (want NAME=URL, preset, model, key_env, key_cmd, max_rps, hardware, metrics)", optionNameShown(k))
		}
	}
	if err := e.validate(); err != nil {
		return e, endpointFlagError(s, "%v", err)
	}
	e.FromFlag = true
	return e, nil
}

func looksLikeURL(v string) bool {
	return strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")
}

func (e *Endpoint) validate() error {
	switch {
	case e.InputPricePerMTok < 0 || e.OutputPricePerMTok < 0 || e.PricePerHour < 0:
		return fmt.Errorf("endpoint %s: prices must not be negative", e.Name)
	case e.Nodes < 0:
		return fmt.Errorf("endpoint %s: nodes must not be negative", e.Name)
	case e.Nodes > 0 && e.PricePerHour == 0:
		return fmt.Errorf("endpoint %s: nodes is set without price_per_hour (nodes multiplies the hourly price)", e.Name)
	case e.Name == "":
		return errors.New("missing field \"name\"")
	case !safeName(e.Name):
		return fmt.Errorf("name %q: use letters, digits and . _ - : + @ / only (names appear in tables, reports and flags)", e.Name)
	}
	if err := e.applyPreset(); err != nil {
		return err
	}
	switch {
	case e.APIKeyEnv != "" && e.APIKeyCommand != "":
		return fmt.Errorf("endpoint %s: set api_key_env or api_key_command, not both", e.Name)
	case e.MaxRPS != nil && (*e.MaxRPS < 0 || math.IsNaN(*e.MaxRPS) || math.IsInf(*e.MaxRPS, 0)):
		return fmt.Errorf("endpoint %s: max_rps %v: want a rate >= 0 (0 = no cap)", e.Name, *e.MaxRPS)
	case e.BaseURL == "":
		return fmt.Errorf("endpoint %s: missing field \"base_url\"", e.Name)
	case e.Model == "":
		return fmt.Errorf("endpoint %s: missing field \"model\"", e.Name)
	}
	if err := validRedirectPolicy(e.FollowRedirects); err != nil {
		return fmt.Errorf("endpoint %s: %w", e.Name, err)
	}
	u, err := url.Parse(e.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %s: base_url %q is not an http(s) URL", e.Name, textsafe.Terminal(RedactURL(e.BaseURL)))
	}
	e.BaseURL = strings.TrimRight(e.BaseURL, "/")
	if e.MetricsURL != "" {
		m, err := url.Parse(e.MetricsURL)
		if err != nil || (m.Scheme != "http" && m.Scheme != "https") || m.Host == "" {
			return fmt.Errorf("endpoint %s: metrics_url %q is not an http(s) URL", e.Name, textsafe.Terminal(RedactURL(e.MetricsURL)))
		}
	}
	return nil
}

// safeName: an endpoint name is an identifier, shown raw in markdown and terminal tables, so
// it holds nothing a table, a page or a terminal would interpret (no '|', '<', spaces,
// commas, quotes or control characters).
func safeName(name string) bool {
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-:+@/", c)
		if !ok {
			return false
		}
	}
	return name != ""
}

// publicURL is a URL as it may be stored: no user info, no query (either may hold a secret).
func publicURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

func checkUnique(eps []Endpoint) error {
	seen := map[string]bool{}
	for _, e := range eps {
		if seen[e.Name] {
			return fmt.Errorf("endpoint name %q is used twice", e.Name)
		}
		seen[e.Name] = true
	}
	return nil
}

func hasEndpoint(eps []Endpoint, name string) bool {
	for _, e := range eps {
		if e.Name == name {
			return true
		}
	}
	return false
}

// MergeEndpoints joins config-file and flag endpoints, checking names are unique.
func MergeEndpoints(a, b []Endpoint) ([]Endpoint, error) {
	all := append(append([]Endpoint{}, a...), b...)
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: no endpoints: give --config FILE or --endpoint NAME=URL,model=M", ErrConfig)
	}
	if err := checkUnique(all); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return all, nil
}

// headerNames lists a header map's names (never its values), sorted.
func headerNames(h map[string]string) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
