package runner

import (
	"fmt"
	"sort"
	"strings"
)

// Preset is a known system's defaults. An endpoint naming a preset takes every field it
// leaves empty from it; every field can still be set in the endpoint. The values and their
// sources are in docs/endpoints.md (what the services document, gathered in the wire notes).
type Preset struct {
	Name          string
	Description   string
	BaseURL       string
	Model         string // "" = the endpoint must name one
	APIKeyEnv     string
	APIKeyCommand string
	MaxRPS        float64 // requests/s the service allows one user; 0 = no documented limit
	Hardware      string
	Notes         []string // the quirks that change the numbers
}

// alcfTokenCommand is the helper ALCF documents for getting a Globus access token.
const alcfTokenCommand = "python inference_auth_token.py get_access_token"

var presets = []Preset{
	{
		Name:          "alcf-metis",
		Description:   "ALCF Metis: SambaNova SN40L (SambaStack) behind the ALCF inference gateway",
		BaseURL:       "https://inference-api.alcf.anl.gov/resource_server/metis/api/v1",
		Model:         "gpt-oss-120b",
		APIKeyCommand: alcfTokenCommand,
		MaxRPS:        10,
		Hardware:      "SambaNova SN40L",
		Notes: []string{
			"no GET /v1/models: preflight sends one tiny chat request",
			"errors arrive inside HTTP 200 streams as [ERROR] content (id chatcmpl-api-error)",
			"SambaNova's usage carries server timings: time_to_first_token, total_latency",
			"a model that is not live answers 503; upstream timeout 120 s",
			"Globus tokens last 48 h: api_key_command is re-run once on a 401",
		},
	},
	{
		Name:          "alcf-sophia",
		Description:   "ALCF Sophia: vLLM on NVIDIA A100 behind the ALCF inference gateway",
		BaseURL:       "https://inference-api.alcf.anl.gov/resource_server/sophia/vllm/v1",
		Model:         "openai/gpt-oss-120b",
		APIKeyCommand: alcfTokenCommand,
		MaxRPS:        10,
		Hardware:      "NVIDIA A100 (vLLM)",
		Notes: []string{
			"no GET /v1/models: preflight sends one tiny chat request",
			"the stream is relayed in bursts (20 chunks or 0.5 s): ITL/TPOT describe the relay, not decoding",
			"5 s without a chunk ends the stream with [DONE] and no finish_reason: recorded as truncated",
			"errors arrive inside HTTP 200 streams as {\"object\":\"error\",...}",
			"cold models take 10-15 min to load (503): use --wait-cold",
			"non-streaming answers carry response_time (server E2E) and throughput_tokens_per_second",
			"streams are capped at 300 s; non-streaming requests time out after 5 min with 408",
		},
	},
	{
		Name:        "sambanova",
		Description: "SambaNova Cloud (SambaCloud)",
		BaseURL:     "https://api.sambanova.ai/v1",
		Model:       "gpt-oss-120b",
		APIKeyEnv:   "SAMBANOVA_API_KEY",
		Hardware:    "SambaNova SN40L",
		Notes: []string{
			"created may be a float; reasoning arrives as delta.reasoning",
			"usage carries server timings: time_to_first_token, total_latency, completion_tokens_after_first_per_sec",
			"504 means the queue is full (too many requests in process)",
		},
	},
	{
		Name:        "openai",
		Description: "OpenAI API",
		BaseURL:     "https://api.openai.com/v1",
		APIKeyEnv:   "OPENAI_API_KEY",
		Notes:       []string{"no default model: set model"},
	},
	{
		Name:        "vllm",
		Description: "a local vLLM OpenAI-compatible server (vllm serve)",
		BaseURL:     "http://127.0.0.1:8000/v1",
		Model:       "openai/gpt-oss-120b",
		Notes: []string{
			"reasoning arrives as reasoning_content (older) or reasoning (vLLM >= 0.17)",
			"set api_key_env if the server was started with --api-key",
		},
	},
	{
		Name:        "llamacpp",
		Description: "a local llama.cpp server (llama-server)",
		BaseURL:     "http://127.0.0.1:8080/v1",
		Model:       "gpt-oss-120b",
		Notes: []string{
			"serves one model whatever the request names (and echoes the name)",
			"closes the connection after every stream while promising keep-alive: the next request is replayed once on a new connection (conn_retries)",
			"timings in the last chunk: server_ttft_ms = prompt_ms, server_e2e_ms = prompt_ms + predicted_ms",
			"prompt cache on by default: repeated prompts show cached_tokens; --cache-bust also sends cache_prompt false",
		},
	},
	{
		Name:        "ollama",
		Description: "a local Ollama server (OpenAI-compatible API)",
		BaseURL:     "http://127.0.0.1:11434/v1",
		Model:       "gpt-oss:120b",
		Notes:       []string{"loads the model on the first request: use --warmup"},
	},
}

// Presets lists the known presets, sorted by name.
func Presets() []Preset {
	out := append([]Preset{}, presets...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupPreset finds a preset by name.
func LookupPreset(name string) (Preset, bool) {
	for _, p := range presets {
		if p.Name == name {
			return p, true
		}
	}
	return Preset{}, false
}

func presetNames() string {
	var names []string
	for _, p := range Presets() {
		names = append(names, p.Name)
	}
	return strings.Join(names, " | ")
}

// applyPreset fills the fields the endpoint left empty from its preset. A key source the
// endpoint sets (api_key_env or api_key_command) replaces the preset's, never adds to it;
// `api_key_env: none` sends no key.
func (e *Endpoint) applyPreset() error {
	if e.Preset == "" {
		return nil
	}
	p, ok := LookupPreset(e.Preset)
	if !ok {
		return fmt.Errorf("endpoint %s: unknown preset %q (want %s)", e.Name, e.Preset, presetNames())
	}
	if e.BaseURL == "" {
		e.BaseURL = p.BaseURL
	}
	if e.Model == "" {
		e.Model = p.Model
	}
	if e.Model == "" {
		return fmt.Errorf("endpoint %s: preset %s has no default model: set \"model\"", e.Name, p.Name)
	}
	if e.APIKeyEnv == "" && e.APIKeyCommand == "" {
		e.APIKeyEnv, e.APIKeyCommand = p.APIKeyEnv, p.APIKeyCommand
	}
	if e.APIKeyEnv == "none" { // no key at all, whatever the preset says
		e.APIKeyEnv = ""
	}
	if e.MaxRPS == nil && p.MaxRPS > 0 {
		e.MaxRPS = ptr(p.MaxRPS)
	}
	if e.Hardware == "" {
		e.Hardware = p.Hardware
	}
	return nil
}
