package telemetry

import "strings"

// Kind is how a sample's values behave over time.
type Kind string

// Kinds, as Prometheus types them. A histogram's or summary's _bucket/_sum/_count samples
// carry the kind of their family.
const (
	KindGauge     Kind = "gauge"
	KindCounter   Kind = "counter"
	KindHistogram Kind = "histogram"
	KindSummary   Kind = "summary"
	KindUntyped   Kind = "untyped"
)

// Engine is the serving engine a family belongs to.
type Engine string

// Engines with an allow-list.
const (
	EngineVLLM     Engine = "vllm"
	EngineLlamaCpp Engine = "llama.cpp"
	EngineSGLang   Engine = "sglang"
	EngineTGI      Engine = "tgi"
)

// Role is what a family says about the server, whatever the engine calls it; the report
// reads the server through roles.
type Role string

// Roles. RoleNone: kept for SQL, not interpreted by the report.
const (
	RoleNone         Role = ""
	RoleRunning      Role = "running"       // requests in the running batch (gauge)
	RoleWaiting      Role = "waiting"       // requests queued for a batch slot (gauge)
	RoleKVUsage      Role = "kv_usage"      // KV-cache usage as a fraction 0..1 (gauge)
	RolePreemptions  Role = "preemptions"   // sequences preempted (counter)
	RoleServerTTFT   Role = "server_ttft"   // time to first token, seconds (histogram)
	RoleServerE2E    Role = "server_e2e"    // request latency, seconds (histogram)
	RolePromptTokens Role = "prompt_tokens" // prompt tokens processed (counter)
	RoleOutputTokens Role = "output_tokens" // tokens generated (counter)
)

// Family is one allow-listed metric family: its exposed name, the kind tracker treats it as
// (which overrides the exposed TYPE: llama.cpp types some averages as counters), its engine
// and its role.
type Family struct {
	Name   string
	Kind   Kind
	Engine Engine
	Role   Role
}

// Families is the allow-list kept by default (docs/telemetry.md lists it with sources).
// Everything else is dropped unless --server-metrics all.
func Families() []Family {
	return []Family{
		// vLLM (V1 engine; gpu_cache_usage_perc is the older name of kv_cache_usage_perc).
		{"vllm:num_requests_running", KindGauge, EngineVLLM, RoleRunning},
		{"vllm:num_requests_waiting", KindGauge, EngineVLLM, RoleWaiting},
		{"vllm:kv_cache_usage_perc", KindGauge, EngineVLLM, RoleKVUsage},
		{"vllm:gpu_cache_usage_perc", KindGauge, EngineVLLM, RoleKVUsage},
		{"vllm:num_preemptions_total", KindCounter, EngineVLLM, RolePreemptions},
		{"vllm:prompt_tokens_total", KindCounter, EngineVLLM, RolePromptTokens},
		{"vllm:generation_tokens_total", KindCounter, EngineVLLM, RoleOutputTokens},
		{"vllm:time_to_first_token_seconds", KindHistogram, EngineVLLM, RoleServerTTFT},
		{"vllm:e2e_request_latency_seconds", KindHistogram, EngineVLLM, RoleServerE2E},
		{"vllm:inter_token_latency_seconds", KindHistogram, EngineVLLM, RoleNone},
		{"vllm:request_queue_time_seconds", KindHistogram, EngineVLLM, RoleNone},
		// llama.cpp llama-server --metrics. n_busy_slots_per_decode is an average typed counter.
		{"llamacpp:requests_processing", KindGauge, EngineLlamaCpp, RoleRunning},
		{"llamacpp:requests_deferred", KindGauge, EngineLlamaCpp, RoleWaiting},
		{"llamacpp:kv_cache_usage_ratio", KindGauge, EngineLlamaCpp, RoleKVUsage},
		{"llamacpp:kv_cache_tokens", KindGauge, EngineLlamaCpp, RoleNone},
		{"llamacpp:n_busy_slots_per_decode", KindGauge, EngineLlamaCpp, RoleNone},
		{"llamacpp:prompt_tokens_total", KindCounter, EngineLlamaCpp, RolePromptTokens},
		{"llamacpp:tokens_predicted_total", KindCounter, EngineLlamaCpp, RoleOutputTokens},
		{"llamacpp:prompt_seconds_total", KindCounter, EngineLlamaCpp, RoleNone},
		{"llamacpp:tokens_predicted_seconds_total", KindCounter, EngineLlamaCpp, RoleNone},
		{"llamacpp:n_decode_total", KindCounter, EngineLlamaCpp, RoleNone},
		// SGLang.
		{"sglang:num_running_reqs", KindGauge, EngineSGLang, RoleRunning},
		{"sglang:num_queue_reqs", KindGauge, EngineSGLang, RoleWaiting},
		{"sglang:token_usage", KindGauge, EngineSGLang, RoleKVUsage},
		{"sglang:num_used_tokens", KindGauge, EngineSGLang, RoleNone},
		{"sglang:gen_throughput", KindGauge, EngineSGLang, RoleNone},
		{"sglang:cache_hit_rate", KindGauge, EngineSGLang, RoleNone},
		{"sglang:prompt_tokens_total", KindCounter, EngineSGLang, RolePromptTokens},
		{"sglang:generation_tokens_total", KindCounter, EngineSGLang, RoleOutputTokens},
		{"sglang:time_to_first_token_seconds", KindHistogram, EngineSGLang, RoleServerTTFT},
		{"sglang:e2e_request_latency_seconds", KindHistogram, EngineSGLang, RoleServerE2E},
		{"sglang:inter_token_latency_seconds", KindHistogram, EngineSGLang, RoleNone},
		// Hugging Face TGI (its router's metrics).
		{"tgi_batch_current_size", KindGauge, EngineTGI, RoleRunning},
		{"tgi_queue_size", KindGauge, EngineTGI, RoleWaiting},
		{"tgi_batch_current_max_tokens", KindGauge, EngineTGI, RoleNone},
		{"tgi_request_duration", KindHistogram, EngineTGI, RoleServerE2E},
		{"tgi_request_queue_duration", KindHistogram, EngineTGI, RoleNone},
		{"tgi_request_generated_tokens", KindHistogram, EngineTGI, RoleNone},
		{"tgi_request_success", KindCounter, EngineTGI, RoleNone},
	}
}

// AllowList is the default selection as a lookup by family name.
type AllowList map[string]Family

// NewAllowList indexes Families.
func NewAllowList() AllowList {
	m := AllowList{}
	for _, f := range Families() {
		m[f.Name] = f
	}
	return m
}

// RoleOf is the role of a family (or of one of a histogram's _bucket/_sum/_count samples).
func (a AllowList) RoleOf(name string) Role {
	if f, ok := a[name]; ok {
		return f.Role
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			return a[base].Role
		}
	}
	return RoleNone
}
