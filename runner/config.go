// Package runner sends a workload to endpoints, streams and times every response, and
// hands each request's record to the store.
package runner

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrConfig is returned for an invalid endpoint configuration (exit code 2).
	ErrConfig = errors.New("invalid endpoint configuration")
	// ErrUnreachable is returned when an endpoint cannot be reached before a run starts.
	ErrUnreachable = errors.New("endpoint unreachable")
)

// Endpoint is one OpenAI-compatible server to measure.
type Endpoint struct {
	Name      string            `yaml:"name" json:"name"`
	BaseURL   string            `yaml:"base_url" json:"base_url"` // including /v1
	Model     string            `yaml:"model" json:"model"`
	APIKeyEnv string            `yaml:"api_key_env" json:"api_key_env,omitempty"` // the variable holding the key
	Hardware  string            `yaml:"hardware" json:"hardware,omitempty"`
	Headers   map[string]string `yaml:"headers" json:"-"` // values may be secrets: never stored
}

// Config is an endpoints.yaml file.
type Config struct {
	Endpoints []Endpoint `yaml:"endpoints"`
	Baseline  string     `yaml:"baseline"` // the endpoint reports compare against
}

// LoadConfig reads and validates an endpoints file. Unknown fields are errors that name
// the file, line and field.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading endpoint config: %w", err)
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

// ParseEndpointFlag reads `--endpoint NAME=URL,model=M[,key_env=VAR][,hardware=H]`
// (or `name=NAME,url=URL,model=M,...`).
func ParseEndpointFlag(s string) (Endpoint, error) {
	var e Endpoint
	parts := strings.Split(s, ",")
	for i, part := range parts {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return e, fmt.Errorf("%w: --endpoint %q: %q is not key=value", ErrConfig, s, part)
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
		default:
			if i == 0 && looksLikeURL(v) {
				e.Name, e.BaseURL = k, v
				continue
			}
			return e, fmt.Errorf("%w: --endpoint %q: unknown key %q (want NAME=URL, model, key_env, hardware)", ErrConfig, s, k)
		}
	}
	if err := e.validate(); err != nil {
		return e, fmt.Errorf("%w: --endpoint %q: %v", ErrConfig, s, err)
	}
	return e, nil
}

func looksLikeURL(v string) bool {
	return strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")
}

func (e *Endpoint) validate() error {
	switch {
	case e.Name == "":
		return errors.New("missing field \"name\"")
	case strings.ContainsAny(e.Name, ", \t"):
		return fmt.Errorf("name %q: no spaces or commas", e.Name)
	case e.BaseURL == "":
		return fmt.Errorf("endpoint %s: missing field \"base_url\"", e.Name)
	case e.Model == "":
		return fmt.Errorf("endpoint %s: missing field \"model\"", e.Name)
	}
	u, err := url.Parse(e.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %s: base_url %q is not an http(s) URL", e.Name, e.BaseURL)
	}
	e.BaseURL = strings.TrimRight(e.BaseURL, "/")
	return nil
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

// ResolveKeys reads every endpoint's key from its variable. A named variable that is unset
// or empty is an error naming the endpoint and the variable. Keys stay in memory only.
func ResolveKeys(eps []Endpoint, getenv func(string) string) (map[string]string, error) {
	keys := map[string]string{}
	for _, e := range eps {
		if e.APIKeyEnv == "" {
			continue
		}
		v := getenv(e.APIKeyEnv)
		if v == "" {
			return nil, fmt.Errorf("%w: endpoint %s: api_key_env %s is not set in the environment", ErrConfig, e.Name, e.APIKeyEnv)
		}
		keys[e.Name] = v
	}
	return keys, nil
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
