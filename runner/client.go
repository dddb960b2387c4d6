package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/store"
	"github.com/trackerbench/tracker/tokens"
)

// Error classes recorded in requests.error_class. docs/metrics.md lists them.
const (
	ClassConnect       = "connect"            // the connection could not be made
	ClassTimeout       = "timeout"            // --timeout passed
	ClassStall         = "stall"              // no bytes for --stall-timeout
	ClassCanceled      = "canceled"           // the run was interrupted
	ClassInBand        = "inband_error"       // an error inside a 200 stream
	ClassMalformed     = "malformed_chunk"    // an SSE event that is not JSON
	ClassDropped       = "connection_dropped" // the stream broke off
	ClassEOFBeforeDone = "eof_before_done"    // the stream ended with no [DONE] and no finish_reason
	ClassMissingDone   = "missing_done"       // finished, but the stream had no [DONE] (a note; status ok)
	ClassNoFinish      = "no_finish_reason"   // [DONE] came with no finish_reason and no usage
	ClassEmpty         = "empty_response"     // the server finished without a single token
	ClassProtocol      = "protocol"           // another failure to read the stream
)

// httpClass is the error class of an HTTP status: http_429, http_503, ...
func httpClass(status int) string { return "http_" + strconv.Itoa(status) }

// RequestOptions are the generation settings of every request in a run.
type RequestOptions struct {
	MaxTokens    int
	Temperature  float64
	IgnoreEOS    bool
	Timeout      time.Duration // whole request; 0 = none
	StallTimeout time.Duration // no bytes for this long; 0 = none
}

// Client sends one endpoint's requests.
type Client struct {
	ep  Endpoint
	oa  *openai.Client
	tok *tokens.Counter
}

// NewClient builds an endpoint's client around a shared HTTP doer. key may be "".
func NewClient(ep Endpoint, key string, d *doer, tok *tokens.Counter) *Client {
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = ep.BaseURL
	cfg.HTTPClient = d
	cfg.EmptyMessagesLimit = 1 << 20 // keep-alive comments are not an error
	return &Client{ep: ep, oa: openai.NewClientWithConfig(cfg), tok: tok}
}

var errStall = errors.New("stream stalled")

// Send sends one prompt and returns the record of every attempt, the last one final.
func (c *Client) Send(ctx context.Context, p dataset.Prompt, o RequestOptions) []store.Request {
	return []store.Request{c.Do(ctx, p, o)}
}

// Do sends one prompt, streams the answer and returns its measured record (ids unset).
// parent canceled means the run was interrupted: the record says canceled.
func (c *Client) Do(parent context.Context, p dataset.Prompt, o RequestOptions) store.Request {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	if o.Timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, o.Timeout)
		defer stop()
	}
	maxTokens := o.MaxTokens
	extra := map[string]any{"temperature": o.Temperature}
	if p.MaxTokens > 0 {
		maxTokens = p.MaxTokens
		extra["ignore_eos"] = true
	}
	if o.IgnoreEOS {
		extra["ignore_eos"] = true
	}
	x := &exchange{extra: extra, headers: c.ep.Headers}
	if o.StallTimeout > 0 {
		timer := time.AfterFunc(o.StallTimeout, func() { cancel(errStall) })
		defer timer.Stop()
		x.onRead = func() { timer.Reset(o.StallTimeout) }
	}
	req := openai.ChatCompletionRequest{
		Model:         c.ep.Model,
		Messages:      toOpenAI(p.Messages),
		Stream:        true,
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	}
	if maxTokens > 0 {
		req.MaxTokens = maxTokens
	}
	wall := time.Now()
	rec := store.Request{PromptIdx: p.Idx, PromptID: p.ID, StartedAt: wall, Final: true, Attempt: 1}
	m := measurement{}

	stream, err := c.oa.CreateChatCompletionStream(withExchange(ctx, x), req)
	if !x.t0.IsZero() {
		rec.StartedAt = wall.Add(x.t0.Sub(wall))
	}
	if err != nil {
		m.end = time.Now()
		m.fail(c.classify(parent, ctx, x, err))
		return m.record(rec, x, p, c.tok)
	}
	defer stream.Close()
	for {
		raw, err := stream.RecvRaw()
		now := time.Now()
		if errors.Is(err, io.EOF) {
			m.end = now
			m.done = x.sawDone()
			break
		}
		if err != nil {
			m.end = now
			m.fail(c.classify(parent, ctx, x, err))
			break
		}
		var ch chunk
		if jerr := json.Unmarshal(raw, &ch); jerr != nil {
			m.end = now
			m.fail(failure{store.StatusError, ClassMalformed, fmt.Sprintf("chunk %d is not JSON: %.120q", m.chunksSeen+1, raw)})
			break
		}
		m.chunksSeen++
		if msg := ch.inBandError(); msg != "" {
			m.end = now
			m.fail(failure{store.StatusError, ClassInBand, msg})
			break
		}
		m.add(now, ch.delta())
		if len(ch.Usage) > 0 && string(ch.Usage) != "null" {
			m.usageRaw = ch.Usage
		}
	}
	return m.record(rec, x, p, c.tok)
}

func toOpenAI(msgs []dataset.Message) []openai.ChatCompletionMessage {
	out := make([]openai.ChatCompletionMessage, len(msgs))
	for i, m := range msgs {
		out[i] = openai.ChatCompletionMessage{Role: m.Role, Content: m.Content}
	}
	return out
}

type failure struct {
	status, class, message string
}

// classify turns a transport or protocol error into a status and class.
func (c *Client) classify(parent, ctx context.Context, x *exchange, err error) failure {
	switch {
	case parent.Err() != nil:
		return failure{store.StatusCanceled, ClassCanceled, "the run was interrupted"}
	case errors.Is(context.Cause(ctx), errStall):
		return failure{store.StatusTimeout, ClassStall, "no bytes received within the stall timeout"}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return failure{store.StatusTimeout, ClassTimeout, "the request timeout passed"}
	}
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	if x.status >= 400 {
		msg := err.Error()
		if errors.As(err, &apiErr) {
			msg = apiErr.Message
		} else if errors.As(err, &reqErr) && reqErr.Body != nil {
			msg = strings.TrimSpace(string(reqErr.Body))
		}
		if ra := x.header.Get("Retry-After"); ra != "" {
			msg += " (Retry-After: " + ra + ")"
		}
		return failure{store.StatusError, httpClass(x.status), truncate(msg, 500)}
	}
	if errors.As(err, &apiErr) { // {"error":...} inside a 200 stream
		return failure{store.StatusError, ClassInBand, truncate(apiErr.Message, 500)}
	}
	if x.t0.IsZero() || x.status == 0 {
		var opErr *net.OpError
		if errors.As(err, &opErr) || strings.Contains(err.Error(), "connection refused") {
			return failure{store.StatusError, ClassConnect, truncate(err.Error(), 500)}
		}
		return failure{store.StatusError, ClassConnect, truncate(err.Error(), 500)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "connection reset") ||
		strings.Contains(err.Error(), "unexpected EOF") {
		return failure{store.StatusError, ClassDropped, truncate(err.Error(), 500)}
	}
	return failure{store.StatusError, ClassProtocol, truncate(err.Error(), 500)}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
