package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/trackerbench/tracker/textsafe"
)

// KeyCommandTimeout bounds one run of an api_key_command.
const KeyCommandTimeout = 2 * time.Minute

// ResolveKeys gets every endpoint's key before a run: from its variable (unset or empty is
// an error naming the endpoint and the variable) or by running its api_key_command once.
// Keys stay in memory only.
func ResolveKeys(eps []Endpoint, getenv func(string) string) (map[string]string, error) {
	return ResolveKeysContext(context.Background(), eps, getenv)
}

// ResolveKeysContext is ResolveKeys with a context for the key commands.
func ResolveKeysContext(ctx context.Context, eps []Endpoint, getenv func(string) string) (map[string]string, error) {
	keys := map[string]string{}
	for _, e := range eps {
		switch {
		case e.APIKeyCommand != "":
			k, err := runKeyCommand(ctx, e.Name, e.APIKeyCommand)
			if err != nil {
				return nil, err
			}
			keys[e.Name] = k
		case e.APIKeyEnv != "":
			v := getenv(e.APIKeyEnv)
			if v == "" {
				return nil, fmt.Errorf("%w: endpoint %s: api_key_env %s is not set in the environment", ErrConfig, e.Name, e.APIKeyEnv)
			}
			keys[e.Name] = v
		}
	}
	return keys, nil
}

// runKeyCommand runs a key command with the shell and returns its trimmed standard output.
// Errors name the endpoint and the exit status and carry the command's standard error (its
// diagnostics, redacted), never the command's text (a key may be written inline in it) nor
// its standard output (the key).
func runKeyCommand(ctx context.Context, endpoint, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, KeyCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		status := keyCommandStatus(ctx, err)
		msg := keyCommandDiagnostics(command, stdout.String(), stderr.String())
		return "", fmt.Errorf("%w: endpoint %s: api_key_command failed (%s)%s", ErrAuth, endpoint, status, msg)
	}
	key := strings.TrimSpace(stdout.String())
	if key == "" {
		msg := keyCommandDiagnostics(command, "", stderr.String())
		return "", fmt.Errorf("%w: endpoint %s: api_key_command exited 0 but printed no key%s", ErrAuth, endpoint, msg)
	}
	if strings.ContainsAny(key, "\r\n") {
		// Only the last line: helpers sometimes print a notice first.
		lines := strings.Split(key, "\n")
		key = strings.TrimSpace(lines[len(lines)-1])
	}
	return key, nil
}

// keyCommandStatus says how a key command ended: its exit status, or why it was stopped.
func keyCommandStatus(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return fmt.Sprintf("stopped: %v", ctx.Err())
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if code := exit.ExitCode(); code >= 0 {
			return fmt.Sprintf("exit status %d", code)
		}
		return exit.ProcessState.String() // killed by a signal
	}
	return "could not start: " + err.Error() // names /bin/sh, not the command
}

// keyLike reports whether a word of a key command could be a key written inline: long
// enough and mixing letters with digits or upper with lower case (API keys, tokens and
// JWTs do; the words of a diagnostic such as "expired" or "inference_auth_token.py" do not).
func keyLike(w string) bool {
	if len(w) < textsafe.MinSecretLen {
		return false
	}
	var digit, lower, upper bool
	for _, r := range w {
		digit = digit || unicode.IsDigit(r)
		lower = lower || unicode.IsLower(r)
		upper = upper || unicode.IsUpper(r)
	}
	return (digit && (lower || upper)) || (lower && upper)
}

// keyCommandDiagnostics is ": " and the command's standard error, bounded and safe to
// print: every word of the command that looks like a key (keyLike: a shell echoes the
// command in its errors) and every line of its standard output redacted, control
// characters made visible. Empty when stderr is.
func keyCommandDiagnostics(command, stdout, stderr string) string {
	msg := strings.TrimSpace(stderr)
	if msg == "" {
		return ""
	}
	var secrets []string
	for _, w := range strings.FieldsFunc(command, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(`'"=;|&()$`+"`", r)
	}) {
		if keyLike(w) {
			secrets = append(secrets, w)
		}
	}
	for _, line := range strings.Split(stdout, "\n") {
		secrets = append(secrets, strings.TrimSpace(line))
	}
	msg = textsafe.NewRedactor(secrets...).Redact(truncate(msg, 300))
	return ": " + textsafe.Terminal(msg)
}

// keySource is one endpoint's key for the duration of a run. With a command, a 401 re-runs
// the command once (exactly once per run and endpoint, whatever the concurrency); a 401
// with the re-run key is fatal.
type keySource struct {
	endpoint string
	command  string

	mu      sync.Mutex
	key     string
	old     []string // keys replaced by a re-run: still secrets (redact.go)
	fetched bool     // the key is known (given, or the command has run)
	gen     int      // bumped when the key changes
	reruns  int
}

func newKeySource(ep Endpoint, key string) *keySource {
	return &keySource{endpoint: ep.Name, command: ep.APIKeyCommand, key: key, fetched: key != "" || ep.APIKeyCommand == ""}
}

// current returns the key and its generation, running the command first if it never ran.
func (k *keySource) current(ctx context.Context) (string, int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.fetched {
		key, err := runKeyCommand(ctx, k.endpoint, k.command)
		if err != nil {
			return "", k.gen, err
		}
		k.key, k.fetched = key, true
	}
	return k.key, k.gen, nil
}

// appendKnown appends every key this source has held to dst.
func (k *keySource) appendKnown(dst []string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append(append(dst, k.old...), k.key)
}

// refreshable reports whether a 401 can be answered by re-running the key command.
func (k *keySource) refreshable() bool { return k.command != "" }

// refresh is called after a 401 with the key of generation gen. If another request already
// refreshed the key, it returns at once; otherwise it re-runs the command, once per run.
func (k *keySource) refresh(ctx context.Context, gen int, serverMsg string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.gen != gen {
		return nil // another request already got a new key
	}
	if k.reruns > 0 {
		return fmt.Errorf("%w: endpoint %s: HTTP 401 again after re-running api_key_command (%s); the run stops",
			ErrAuth, k.endpoint, serverMsg)
	}
	k.reruns++
	key, err := runKeyCommand(ctx, k.endpoint, k.command)
	if err != nil {
		return err
	}
	k.old = append(k.old, k.key)
	k.key = key
	k.gen++
	return nil
}
