package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/tokens"
)

// maxResponseBytes bounds a non-streamed answer read into memory: a longer one is an
// overrun (the stored text is bounded by maxStoredText, error bodies by maxErrorBody).
const maxResponseBytes = 16 << 20

// completion is a non-streamed chat completion, read tolerantly (created may be a float,
// choices may be missing), with its top level kept for the server's own fields.
type completion struct {
	Object  string          `json:"object"`
	Choices []chunkChoice   `json:"choices"`
	Usage   json.RawMessage `json:"usage"`
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    any             `json:"code"`
	Error   json.RawMessage `json:"error"`
}

// doOnce sends one prompt with `stream: false` and measures it: E2E is t0 to the end of
// the response body (there is no first token to time, so TTFT, ITL and TPOT are NULL);
// token counts come from usage (the tokenizer when there is none); the gateway's extra
// top-level fields (response_time, throughput_tokens_per_second) go to server_json.
func (c *Client) doOnce(parent context.Context, p dataset.Prompt, o RequestOptions, key string) (bench.Measurement, *exchange) {
	ctx, _, x, done := c.startRequest(parent, o, key)
	defer done()
	wall := time.Now()
	call := &nonStreamCall{x: x, wall: wall,
		rec: bench.Measurement{StartedAt: wall}}
	resp, raw, f, err := c.postNonStream(ctx, x, p, o)
	end := arrived(x.conn.rx, time.Now(), x.t0) // when the answer's last bytes came (rxstamp.go)
	if f != nil {
		return call.fail(*f)
	}
	if err != nil {
		return call.fail(c.classify(parent, ctx, x, err))
	}
	cm, top, f := decodeCompletion(resp, raw)
	if f != nil {
		return call.fail(*f)
	}
	return call.measure(cm, top, end, p, c.tok)
}

// nonStreamCall is one non-streamed request being recorded.
type nonStreamCall struct {
	x    *exchange
	wall time.Time // when the request was started, on the wall clock
	rec  bench.Measurement
}

// fail records the request as failed, its elapsed time ending now.
func (n *nonStreamCall) fail(f failure) (bench.Measurement, *exchange) {
	end := time.Now()
	t0 := n.x.t0
	if t0.IsZero() {
		t0 = end
	} else {
		n.rec.StartedAt = n.wall.Add(t0.Sub(n.wall))
	}
	n.rec.ElapsedMS = ms(end.Sub(t0))
	n.rec.HTTPStatus = n.x.status
	n.x.applyConn(&n.rec)
	n.rec.Status, n.rec.ErrorClass, n.rec.ErrorMessage = f.status, f.class, f.message
	return n.rec, n.x
}

// postNonStream sends the request and reads the whole answer (bounded). It returns a failure
// when the request could not be built, and the transport's error (to classify) when sending
// or reading failed.
func (c *Client) postNonStream(ctx context.Context, x *exchange, p dataset.Prompt, o RequestOptions) (
	*http.Response, []byte, *failure, error) {
	extra, maxTokens := generation(p, o)
	body := map[string]any{"model": c.ep.Model, "messages": toOpenAI(p.Messages), "stream": false}
	for k, v := range extra {
		body[k] = v
	}
	if maxTokens > 0 {
		body["max_tokens"] = maxTokens
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, nil, &failure{bench.StatusError, ClassProtocol, "encoding the request: " + err.Error()}, nil
	}
	req, err := http.NewRequestWithContext(withExchange(ctx, x), http.MethodPost, c.ep.BaseURL+"/chat/completions", bytes.NewReader(b))
	if err != nil {
		return nil, nil, &failure{bench.StatusError, ClassProtocol, err.Error()}, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.d.Do(req)
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := readAnswer(resp)
	return resp, raw, nil, err
}

// decodeCompletion reads the answer's JSON, or says why it is a failure: an HTTP error
// status, a body that is not JSON, or an error sent in-band with status 200.
func decodeCompletion(resp *http.Response, raw []byte) (completion, map[string]json.RawMessage, *failure) {
	var cm completion
	var top map[string]json.RawMessage
	if resp.StatusCode >= 400 {
		msg := errorMessage(raw)
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			msg += " (Retry-After: " + ra + ")"
		}
		return cm, nil, &failure{bench.StatusError, statusClass(resp.StatusCode, msg), truncate(msg, 500)}
	}
	if err := json.Unmarshal(raw, &cm); err != nil || json.Unmarshal(raw, &top) != nil {
		return cm, nil, &failure{bench.StatusError, ClassMalformed, fmt.Sprintf("the answer is not JSON (%s): %.120q", contentType(resp), raw)}
	}
	ch := chunk{Object: cm.Object, Message: cm.Message, Type: cm.Type, Code: cm.Code, Error: cm.Error}
	if msg := ch.inBandError(); msg != "" {
		return cm, nil, &failure{bench.StatusError, ClassInBand, truncate(msg, 500)}
	}
	return cm, top, nil
}

// measure records a decoded answer that ended at end: its text, token counts, server
// timings and status.
func (n *nonStreamCall) measure(cm completion, top map[string]json.RawMessage, end time.Time,
	p dataset.Prompt, tok *tokens.Counter) (bench.Measurement, *exchange) {
	rec := &n.rec
	rec.StartedAt = n.wall.Add(n.x.t0.Sub(n.wall))
	rec.HTTPStatus = n.x.status
	n.x.applyConn(rec)
	rec.ElapsedMS = ms(end.Sub(n.x.t0))
	var content, reasoning boundedText // prefixes kept (bounds.go)
	for _, ch := range cm.Choices {
		if ch.Message != nil {
			content.WriteString(deref(ch.Message.Content))
			reasoning.WriteString(reasoningOf(ch.Message.Reasoning, ch.Message.ReasoningContent))
		}
		content.WriteString(deref(ch.Text))
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			rec.FinishReason = *ch.FinishReason
		}
	}
	if msg := errorInContent(content.String()); msg != "" {
		return n.fail(failure{bench.StatusError, ClassInBand, truncate(msg, 500)})
	}
	rec.ResponseText, rec.ReasoningText = content.String(), reasoning.String()
	m := measurement{usageRaw: cm.Usage, timingsRaw: top["timings"]}
	if string(m.usageRaw) == "null" {
		m.usageRaw = nil
	}
	u, sent := m.parsedUsage()
	m.countTokens(rec, p, tok, u)
	applyServerTimings(rec, serverTimings(m.usageRaw, top))
	m.applyCache(rec, sent)
	m.noteTextSizes(rec, &content, &reasoning)
	m.applyNotes(rec)
	setNonStreamStatus(rec, len(m.usageRaw) > 0)
	return n.rec, n.x
}

// setNonStreamStatus decides a complete answer's status: an error when nothing was
// generated, truncated when neither a finish_reason nor usage says it ended, else ok.
func setNonStreamStatus(rec *bench.Measurement, hasUsage bool) {
	switch {
	case rec.ResponseText == "" && rec.ReasoningText == "":
		rec.Status, rec.ErrorClass = bench.StatusError, ClassEmpty
		rec.ErrorMessage = "the server answered without generating a token"
	case rec.FinishReason == "" && !hasUsage:
		rec.Status, rec.ErrorClass = bench.StatusTruncated, ClassNoFinish
		rec.ErrorMessage = "the answer has no finish_reason and no usage"
	default:
		rec.Status = bench.StatusOK
		rec.E2EMS = ptr(rec.ElapsedMS)
	}
}

// errorMessage is the server's own message from an error body: {"error":{"message"}},
// {"error":"..."}, {"message"}, {"detail"}; else the body itself.
func errorMessage(raw []byte) string {
	var b struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  any             `json:"detail"`
	}
	if json.Unmarshal(raw, &b) == nil {
		var e struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case len(b.Error) > 0 && json.Unmarshal(b.Error, &e) == nil && e.Message != "":
			return e.Message
		case len(b.Error) > 0 && json.Unmarshal(b.Error, &s) == nil && s != "":
			return s
		case b.Message != "":
			return b.Message
		case b.Detail != nil:
			return fmt.Sprint(b.Detail)
		}
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "(empty body)"
	}
	return s
}
