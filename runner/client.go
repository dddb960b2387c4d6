package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/tokens"
)

// Error classes recorded in requests.error_class. docs/metrics.md lists them.
const (
	ClassConnect       bench.ErrorClass = "connect"            // the connection could not be made
	ClassTimeout       bench.ErrorClass = "timeout"            // --timeout passed
	ClassStall         bench.ErrorClass = "stall"              // no bytes for --stall-timeout
	ClassCanceled      bench.ErrorClass = "canceled"           // the run was interrupted
	ClassInBand        bench.ErrorClass = "inband_error"       // an error inside a 200 stream
	ClassMalformed     bench.ErrorClass = "malformed_chunk"    // an SSE event that is not JSON
	ClassDropped       bench.ErrorClass = "connection_dropped" // the stream broke off
	ClassEOFBeforeDone bench.ErrorClass = "eof_before_done"    // the stream ended with no [DONE] and no finish_reason
	ClassMissingDone   bench.ErrorClass = "missing_done"       // finished, but the stream had no [DONE] (a note; status ok)
	ClassNoFinish      bench.ErrorClass = "no_finish_reason"   // [DONE] came with no finish_reason and no usage
	ClassEmpty         bench.ErrorClass = "empty_response"     // the server finished without a single token
	ClassProtocol      bench.ErrorClass = "protocol"           // another failure to read the stream
	ClassAuth          bench.ErrorClass = "auth"               // the key command failed, or a 401 survived its re-run
	// ClassQueueFull refines http_504 when the body says the server's queue is full
	// (SambaNova: "too many requests in process"); it keeps the http_NNN prefix.
	ClassQueueFull bench.ErrorClass = "http_504_queue_full"
)

// httpClass is the error class of an HTTP status: http_429, http_503, ...
func httpClass(status int) bench.ErrorClass { return bench.ErrorClass("http_" + strconv.Itoa(status)) }

// RequestOptions are the generation settings of every request in a run.
type RequestOptions struct {
	MaxTokens    int
	Temperature  float64
	IgnoreEOS    bool
	Timeout      time.Duration // whole request; 0 = none
	StallTimeout time.Duration // no bytes for this long; 0 = none
	// NoStream sends `stream: false` (--stream=false): E2E only, tokens from usage. The
	// zero value streams.
	NoStream bool
	// Retries is how many times a failed request is sent again (retry.go says which
	// failures); every attempt is recorded. RetryBackoff is the first wait, doubled each time,
	// unless the server sent Retry-After.
	Retries      int
	RetryBackoff time.Duration
	// CacheBust (--cache-bust) starts every request's first message with a short random
	// tag, so that no server's prompt or prefix cache can serve it (cache.go).
	CacheBust bool

	cachePrompt any // llama.cpp's cache_prompt for this endpoint; nil = not sent
}

// Client sends one endpoint's requests. One client serves an endpoint for a whole run:
// it holds the endpoint's key and its rate limiter.
type Client struct {
	ep      Endpoint
	d       *doer
	tok     *tokens.Counter
	keys    *keySource
	limit   *limiter
	fatal   func(error) // stops the run (an auth failure); nil = record and go on
	secrets *secretBook // what every record is cleaned of (redact.go)
	reqs    *streamRequests
	// sseReaders are the SSE readers of ended streams (sse.go).
	sseReaders sseReaders
}

// NewClient builds an endpoint's client around a shared HTTP doer. key may be "" (no key,
// or the endpoint's api_key_command runs on first use).
func NewClient(ep Endpoint, key string, d *doer, tok *tokens.Counter) *Client {
	// Streams are read by the bounded SSE reader (sse.go); go-openai provides the request types.
	c := &Client{ep: ep, d: d, tok: tok,
		keys: newKeySource(ep, key), limit: newLimiter(ep.rateLimit()),
		reqs: newStreamRequests(ep.BaseURL, ep.Model)}
	c.secrets = newSecretBook(c.keys, ep.Headers)
	return c
}

var errStall = errors.New("stream stalled")

// Do sends one prompt once, with the client's current key and without waiting for the
// rate limiter, and returns its measured record (ids unset).
func (c *Client) Do(ctx context.Context, p dataset.Prompt, o RequestOptions) bench.Measurement {
	key, _, err := c.keys.current(ctx)
	if err != nil {
		return failedBeforeSend(p, failure{bench.StatusError, ClassAuth, err.Error()})
	}
	rec, _ := c.attempt(ctx, p, o, key)
	return rec
}

// attempt sends one prompt once and returns its record and, when it failed, the server's
// Retry-After.
func (c *Client) attempt(ctx context.Context, p dataset.Prompt, o RequestOptions, key string) (bench.Measurement, time.Duration) {
	var rec bench.Measurement
	var x *exchange
	if o.CacheBust {
		p = bustCache(p, c.tok)
	}
	o.cachePrompt = c.ep.cachePromptField(o.CacheBust)
	if o.NoStream {
		rec, x = c.doOnce(ctx, p, o, key)
	} else {
		rec, x = c.streamOnce(ctx, p, o, key)
	}
	rec = c.clean(rec) // redact.go
	var ra time.Duration
	if rec.Status != bench.StatusOK && x.header != nil { // Send waits for it before a retry only
		ra = parseRetryAfter(x.header.Get("Retry-After"), time.Now())
	}
	return rec, ra
}

// generation is the request body shared by both modes: the fields go-openai cannot send
// (temperature 0, ignore_eos) and the max_tokens in force.
func generation(p dataset.Prompt, o RequestOptions) (extra map[string]any, maxTokens int) {
	extra = map[string]any{"temperature": o.Temperature}
	if p.MaxTokens > 0 {
		extra["ignore_eos"] = true
	}
	if o.IgnoreEOS {
		extra["ignore_eos"] = true
	}
	if o.cachePrompt != nil {
		extra["cache_prompt"] = o.cachePrompt
	}
	return extra, maxTokensOf(p, o)
}

// maxTokensOf is a request's max_tokens: the prompt's own when it has one, else the run's.
func maxTokensOf(p dataset.Prompt, o RequestOptions) int {
	if p.MaxTokens > 0 {
		return p.MaxTokens
	}
	return o.MaxTokens
}

// startRequest bounds one request by its timeout (0 = none) and the run's context, and makes
// its exchange; with a stall timeout, a request that receives nothing for that long (every
// read of the answer counts) ends as stalled (for a non-streamed answer that covers the
// wait for the headers and gaps while the body is read: no bytes come until it is
// complete). Both deadlines share one timer (requestDeadlines). cancel(cause) ends the
// request early; done releases them all.
func (c *Client) startRequest(parent context.Context, o RequestOptions, key string) (ctx context.Context, cancel context.CancelCauseFunc, x *exchange, done func()) {
	st := &requestState{x: exchange{key: key, headers: c.ep.Headers, redirect: c.ep.FollowRedirects}}
	ctx, cancel = context.WithCancelCause(parent)
	st.d = requestDeadlines{cancel: cancel, start: time.Now(), timeout: max(o.Timeout, 0), stall: max(o.StallTimeout, 0)}
	if st.d.stall > 0 {
		st.x.onRead = st.d.read
	}
	st.d.arm()
	return ctx, cancel, &st.x, st.done
}

// requestState is what startRequest makes for one request, in one allocation.
type requestState struct {
	x exchange
	d requestDeadlines
}

// done stops the request's timer and releases its context.
func (st *requestState) done() {
	st.d.stop()
	st.d.cancel(nil)
}

// streamOnce sends one prompt, streams the answer and returns its measured record (ids
// unset). parent canceled means the run was interrupted: the record says canceled.
func (c *Client) streamOnce(parent context.Context, p dataset.Prompt, o RequestOptions, key string) (bench.Measurement, *exchange) {
	ctx, cancel, x, done := c.startRequest(parent, o, key)
	defer done()
	maxTokens := maxTokensOf(p, o) // the body is encoded in one pass (body.go)
	wall := time.Now()
	rec := bench.Measurement{StartedAt: wall}
	m := measurement{}

	stream, err := c.openStream(withExchange(ctx, x), x, p, o, maxTokens)
	if !x.t0.IsZero() {
		rec.StartedAt = wall.Add(x.t0.Sub(wall))
	}
	if err != nil {
		m.end = time.Now()
		m.fail(c.classify(parent, ctx, x, err))
		return m.record(rec, x, p, c.tok), x
	}
	defer stream.finish(cancel)
	// The answer's headers and first chunk have been read off the socket with their kernel
	// receive stamp (by this goroutine over the lean HTTP/1.1 transport, by the connection's
	// reader goroutine over net/http's); this goroutine would parse them next. It yields
	// first, so that the goroutines whose answers arrived with this one read them off their
	// sockets before they wait behind its parsing: a socket read after the server's next
	// write has arrived times the first token at that write (docs/metrics.md, "Arrival
	// times"), and at 256 streams a burst of first tokens otherwise waits for 256 parses.
	runtime.Gosched()
	limit := overrunLimit(maxTokens)
	var ch chunk // one per request, each chunk decoded over the previous one (it escapes: a heap allocation)
	for {
		raw, err := stream.next()
		now := time.Now()
		at := arrived(x.conn.rx, now, m.floor(x.t0)) // when the bytes came (rxstamp.go)
		if errors.Is(err, io.EOF) {
			m.end = now
			m.done = stream.done
			if f := stream.endFailure(); f != nil {
				m.fail(*f)
			}
			break
		}
		if err != nil {
			m.end = now
			m.fail(c.classify(parent, ctx, x, err))
			break
		}
		if jerr := nextChunk(raw, &ch); jerr != nil {
			m.end = now
			m.fail(failure{bench.StatusError, ClassMalformed, fmt.Sprintf("chunk %d is not JSON: %.120q", m.chunksSeen+1, raw)})
			break
		}
		m.chunksSeen++
		if msg := ch.inBandError(); msg != "" {
			m.end = now
			m.fail(failure{bench.StatusError, ClassInBand, msg})
			break
		}
		m.add(at, ch.delta())
		if len(ch.Usage) > 0 && string(ch.Usage) != "null" {
			m.usageRaw = ch.Usage
		}
		if len(ch.Timings) > 0 && string(ch.Timings) != "null" {
			m.timingsRaw = ch.Timings
		}
		if f := m.overrun(limit, maxTokens); f != nil {
			m.end = now
			m.fail(*f)
			break
		}
	}
	return m.record(rec, x, p, c.tok), x
}

func toOpenAI(msgs []dataset.Message) []openai.ChatCompletionMessage {
	out := make([]openai.ChatCompletionMessage, len(msgs))
	for i, m := range msgs {
		out[i] = openai.ChatCompletionMessage{Role: m.Role, Content: m.Content}
	}
	return out
}

type failure struct {
	status  bench.RequestStatus
	class   bench.ErrorClass
	message string
}

// classify turns a transport or protocol error into a status and class.
func (c *Client) classify(parent, ctx context.Context, x *exchange, err error) failure {
	switch {
	case parent.Err() != nil:
		return failure{bench.StatusCanceled, ClassCanceled, "the run was interrupted"}
	case errors.Is(context.Cause(ctx), errStall):
		return failure{bench.StatusTimeout, ClassStall, "no bytes received within the stall timeout"}
	case errors.Is(context.Cause(ctx), errTimeout):
		return failure{bench.StatusTimeout, ClassTimeout, "the request timeout passed"}
	}
	if f, ok := hostileFailure(err); ok {
		return f
	}
	if x.status >= 400 {
		msg := err.Error()
		var se *httpStatusError
		if errors.As(err, &se) {
			msg = errorMessage(se.body)
		}
		if ra := x.header.Get("Retry-After"); ra != "" {
			msg += " (Retry-After: " + ra + ")"
		}
		return failure{bench.StatusError, statusClass(x.status, msg), truncate(msg, 500)}
	}
	if x.t0.IsZero() || x.status == 0 {
		return failure{bench.StatusError, ClassConnect, truncate(err.Error(), 500)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || textTrailerEOF.in(err) {
		return failure{bench.StatusError, ClassDropped, truncate(err.Error(), 500)}
	}
	return failure{bench.StatusError, ClassProtocol, truncate(err.Error(), 500)}
}

// statusClass is httpClass, refined for a 504 whose message says the queue is full.
func statusClass(status int, msg string) bench.ErrorClass {
	if status == 504 {
		m := strings.ToLower(msg)
		if strings.Contains(m, "queue") || strings.Contains(m, "too many requests in process") {
			return ClassQueueFull
		}
	}
	return httpClass(status)
}

// failedBeforeSend is the record of a request that failed before anything was sent.
func failedBeforeSend(p dataset.Prompt, f failure) bench.Measurement {
	return bench.Measurement{StartedAt: time.Now(),
		Status: f.status, ErrorClass: f.class, ErrorMessage: f.message, ITLMS: []float64{}}
}

// truncate cuts s to at most n bytes, on a rune boundary so that a multi-byte character is never
// split into invalid UTF-8, and marks the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
