package runner

import (
	"fmt"
	"strings"

	"github.com/trackerbench/tracker/textsafe"
)

// endpointFlagShown is an --endpoint value as an error message may print it: a key
// command (which may carry a key inline) replaced whole, a URL's user:password and
// key-like query parameters redacted (RedactURL), the value of an unknown option (a
// misspelt key_cmd, an api_key=...) and any piece that is not key=value (the tail of a
// key command cut at a comma) replaced, control characters made visible.
func endpointFlagShown(s string) string {
	parts := strings.Split(s, ",")
	for i, part := range parts {
		parts[i] = endpointOptionShown(i, part)
	}
	return textsafe.Terminal(strings.Join(parts, ","))
}

func endpointOptionShown(i int, part string) string {
	k, v, ok := strings.Cut(part, "=")
	if !ok {
		return urlRedacted
	}
	key := strings.TrimSpace(k)
	switch key {
	case "key_cmd", "api_key_command":
		return k + "=" + urlRedacted
	case "url", "base_url", "metrics", "metrics_url":
		return k + "=" + RedactURL(strings.TrimSpace(v))
	case "name", "model", "key_env", "api_key_env", "hardware", "preset", "max_rps":
		return part
	}
	if i == 0 && looksLikeURL(strings.TrimSpace(v)) {
		return k + "=" + RedactURL(strings.TrimSpace(v))
	}
	return optionNameShown(key) + "=" + urlRedacted
}

// optionNameShown is an option's name if it looks like one (lower-case letters and
// underscores, at most 32), else a placeholder: a name can be a pasted key too.
func optionNameShown(k string) string {
	if len(k) == 0 || len(k) > 32 || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return "(unknown option)"
	}
	return k
}

// endpointFlagError is an --endpoint error that names the problem and shows the value
// only as endpointFlagShown prints it.
func endpointFlagError(s, format string, args ...any) error {
	return fmt.Errorf("%w: --endpoint %q: %s", ErrConfig, endpointFlagShown(s), fmt.Sprintf(format, args...))
}
