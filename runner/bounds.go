package runner

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/internal/defaults"
)

// Bounds on everything read from a server (docs/security.md, "Hostile servers"). A server
// decides how much it sends; these decide how much of it the client holds.
const (
	// maxSSELine is the longest SSE line read: a real chunk is a few hundred bytes, a
	// final usage chunk a few KB. A longer line fails the request (ClassLineTooLong).
	maxSSELine = 1 << 20
	// maxErrorBody is how much of an HTTP error body is read (its prefix is the message).
	maxErrorBody = 64 << 10
	// maxNonSSEPrefix is how much of a stream's non-SSE lines (an HTML page, a bare JSON
	// error) is kept to explain what came instead of events.
	maxNonSSEPrefix = 4 << 10
	// maxStoredText is the prefix of response_text and reasoning_text kept per request
	// (about 250k tokens of prose): full byte counts go to server_json when it is exceeded.
	maxStoredText = 1 << 20
	// unsetMaxTokensCeiling is the token budget assumed when a request sets no max_tokens:
	// more than any real model's output, far less than an endless stream.
	unsetMaxTokensCeiling = 1 << 18
	// maxPlausibleTokens bounds every count a usage object may report (larger than any
	// context window); beyond it, or negative, or not an integer, the count is rejected.
	maxPlausibleTokens = 1 << 24
	// maxResponseHeaders bounds an answer's headers (Go's default is 10 MiB).
	maxResponseHeaders = 256 << 10
)

// Errors of a hostile or broken stream.
var (
	errLineTooLong   = fmt.Errorf("an SSE line is longer than %d bytes", maxSSELine)
	errAnswerTooLong = fmt.Errorf("the answer is longer than %d bytes: not read further", maxResponseBytes)
)

// overrunLimit is how many token-bearing chunks a request may receive before it is stopped
// as an overrun: twice its max_tokens (the unset ceiling when it has none) plus slack for
// servers that split a token's bytes across chunks.
func overrunLimit(maxTokens int) int {
	defaults.Positive(&maxTokens, unsetMaxTokensCeiling)
	return 2*maxTokens + 64
}

// boundedText keeps the first maxStoredText bytes written to it (cut at a UTF-8 boundary)
// and counts every byte.
type boundedText struct {
	buf   []byte
	total int64
}

func (b *boundedText) WriteString(s string) {
	b.total += int64(len(s))
	if room := maxStoredText - len(b.buf); room > 0 {
		if len(s) > room {
			s = s[:utf8Cut(s, room)]
		}
		b.buf = append(b.buf, s...)
	}
}

func (b *boundedText) String() string { return string(b.buf) }

// Len is the number of bytes written, kept or not.
func (b *boundedText) Len() int64 { return b.total }

// truncated reports whether bytes were dropped.
func (b *boundedText) truncated() bool { return b.total > int64(len(b.buf)) }

// utf8Cut is the largest n' <= n that does not split a UTF-8 sequence of s.
func utf8Cut(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // a continuation byte: back up to its start
		n--
	}
	return n
}

// Error classes of a hostile or broken server, and of the client's own limits.
const (
	ClassOverrun     bench.ErrorClass = "overrun"       // far more tokens than max_tokens: stopped
	ClassLineTooLong bench.ErrorClass = "line_too_long" // an SSE line longer than maxSSELine
	ClassNotSSE      bench.ErrorClass = "not_sse"       // a 200 answer that is not an event stream (an HTML page)
)

// overrun stops a stream that has received far more than its max_tokens asked for: more
// token-bearing chunks than limit, more chunks of any kind than twice that, or more text
// than any tokenizer makes of limit tokens (256 bytes each).
func (m *measurement) overrun(limit, maxTokens int) *failure {
	text := m.content.Len() + m.reasoning.Len()
	if m.chunks <= limit && m.chunksSeen <= 2*limit && text <= int64(limit)*256 {
		return nil
	}
	return &failure{bench.StatusError, ClassOverrun, fmt.Sprintf(
		"stopped after %d token-bearing chunks (%d in all, %d bytes of text) for max_tokens %d: "+
			"the server generated far more than asked", m.chunks, m.chunksSeen, text, maxTokens)}
}

// hostileFailure classifies the errors of this file's bounds and of the client's own
// resources; ok is false for any other error.
func hostileFailure(err error) (failure, bool) {
	switch {
	case errors.Is(err, errLineTooLong):
		return failure{bench.StatusError, ClassLineTooLong, err.Error()}, true
	case errors.Is(err, errAnswerTooLong):
		return failure{bench.StatusError, ClassOverrun, err.Error()}, true
	case textHeadersTooLarge.in(err):
		return failure{bench.StatusError, ClassProtocol, truncate(err.Error(), 500)}, true
	case errors.Is(err, errCrossOriginRedirect):
		return failure{bench.StatusError, ClassCrossOriginRedirect, truncate(err.Error(), 500)}, true
	case isClientResourceError(err):
		return failure{bench.StatusError, ClassClientResource, truncate(
			"the client ran out of a resource (not the endpoint's fault): "+err.Error(), 500)}, true
	}
	return failure{}, false
}

// readAnswer reads a non-streamed answer's body: at most maxErrorBody of an error (its
// prefix is the message); an answer longer than maxResponseBytes is errAnswerTooLong.
func readAnswer(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return readPrefix(resp.Body, maxErrorBody)
	}
	raw, err := readPrefix(resp.Body, maxResponseBytes+1)
	if err == nil && len(raw) > maxResponseBytes {
		return nil, errAnswerTooLong
	}
	return raw, err
}

// contentType is a response's media type, for messages.
func contentType(resp *http.Response) string {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "" {
		return "no Content-Type"
	}
	return "got " + mt
}

// ErrNotOpenAI is returned by a preflight check answered with something that is not an
// OpenAI-compatible answer (an HTML page, a redirect elsewhere): the endpoint is reachable,
// but probably not at that base_url.
var ErrNotOpenAI = errors.New("not an OpenAI-compatible endpoint")

// hostileCheckError words a preflight failure of this file's classes accurately: the
// endpoint answered (it is not unreachable), or the client itself failed.
func hostileCheckError(where string, r bench.Measurement) error {
	switch r.ErrorClass {
	case ClassNotSSE:
		return fmt.Errorf("%w: %s answered, but not with an event stream (wrong base_url, or a login page?): %s", ErrNotOpenAI, where, r.ErrorMessage)
	case ClassMalformed:
		return fmt.Errorf("%w: %s answered, but not in the OpenAI format (wrong base_url?): %s", ErrNotOpenAI, where, r.ErrorMessage)
	case ClassCrossOriginRedirect:
		return fmt.Errorf("%w: %s: %s", ErrNotOpenAI, where, r.ErrorMessage)
	}
	return fmt.Errorf("%s: the check request failed on this machine (%s): %s", where, r.ErrorClass, r.ErrorMessage)
}
