package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/store"
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
func (c *Client) doOnce(parent context.Context, p dataset.Prompt, o RequestOptions, key string) (store.Request, *exchange) {
	ctx, cancel, done := requestContext(parent, o.Timeout)
	defer done()
	extra, maxTokens := generation(p, o)
	body := map[string]any{"model": c.ep.Model, "messages": toOpenAI(p.Messages), "stream": false}
	for k, v := range extra {
		body[k] = v
	}
	if maxTokens > 0 {
		body["max_tokens"] = maxTokens
	}
	x := &exchange{key: key, headers: c.ep.Headers, redirect: c.ep.FollowRedirects}
	if o.StallTimeout > 0 {
		// No bytes come until the answer is complete: the stall timeout covers the wait
		// for the headers and gaps while the body is read.
		timer := time.AfterFunc(o.StallTimeout, func() { cancel(errStall) })
		defer timer.Stop()
		x.onRead = func() { timer.Reset(o.StallTimeout) }
	}
	wall := time.Now()
	rec := store.Request{PromptIdx: p.Idx, PromptID: p.ID, StartedAt: wall, Final: true, Attempt: 1}
	fail := func(f failure) (store.Request, *exchange) {
		end := time.Now()
		t0 := x.t0
		if t0.IsZero() {
			t0 = end
		} else {
			rec.StartedAt = wall.Add(t0.Sub(wall))
		}
		rec.ElapsedMS = ms(end.Sub(t0))
		rec.HTTPStatus = x.status
		x.applyConn(&rec)
		rec.Status, rec.ErrorClass, rec.ErrorMessage = f.status, f.class, f.message
		return rec, x
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fail(failure{store.StatusError, ClassProtocol, "encoding the request: " + err.Error()})
	}
	req, err := http.NewRequestWithContext(withExchange(ctx, x), http.MethodPost, c.ep.BaseURL+"/chat/completions", bytes.NewReader(b))
	if err != nil {
		return fail(failure{store.StatusError, ClassProtocol, err.Error()})
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.d.Do(req)
	if err != nil {
		return fail(c.classify(parent, ctx, x, err))
	}
	raw, err := readAnswer(resp)
	end := time.Now()
	if err != nil {
		return fail(c.classify(parent, ctx, x, err))
	}
	if resp.StatusCode >= 400 {
		msg := errorMessage(raw)
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			msg += " (Retry-After: " + ra + ")"
		}
		return fail(failure{store.StatusError, statusClass(resp.StatusCode, msg), truncate(msg, 500)})
	}
	var cm completion
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cm); err != nil || json.Unmarshal(raw, &top) != nil {
		return fail(failure{store.StatusError, ClassMalformed, fmt.Sprintf("the answer is not JSON (%s): %.120q", contentType(resp), raw)})
	}
	ch := chunk{Object: cm.Object, Message: cm.Message, Type: cm.Type, Code: cm.Code, Error: cm.Error}
	if msg := ch.inBandError(); msg != "" {
		return fail(failure{store.StatusError, ClassInBand, truncate(msg, 500)})
	}

	rec.StartedAt = wall.Add(x.t0.Sub(wall))
	rec.HTTPStatus = x.status
	x.applyConn(&rec)
	rec.ElapsedMS = ms(end.Sub(x.t0))
	var content, reasoning boundedText // prefixes kept (bounds.go)
	for _, c := range cm.Choices {
		if c.Message != nil {
			content.WriteString(deref(c.Message.Content))
			r := deref(c.Message.Reasoning)
			if r == "" {
				r = deref(c.Message.ReasoningContent)
			}
			reasoning.WriteString(r)
		}
		content.WriteString(deref(c.Text))
		if c.FinishReason != nil && *c.FinishReason != "" {
			rec.FinishReason = *c.FinishReason
		}
	}
	if s := content.String(); strings.HasPrefix(strings.TrimLeft(s, "\n "), "[ERROR]") {
		return fail(failure{store.StatusError, ClassInBand, truncate(strings.TrimSpace(s), 500)})
	}
	rec.ResponseText, rec.ReasoningText = content.String(), reasoning.String()
	m := measurement{usageRaw: cm.Usage, timingsRaw: top["timings"]}
	if string(m.usageRaw) == "null" {
		m.usageRaw = nil
	}
	m.countTokens(&rec, p, c.tok)
	applyServerTimings(&rec, serverTimings(m.usageRaw, top))
	m.applyCache(&rec)
	m.noteTextSizes(&rec, &content, &reasoning)
	m.applyNotes(&rec)
	switch {
	case rec.ResponseText == "" && rec.ReasoningText == "":
		rec.Status, rec.ErrorClass = store.StatusError, ClassEmpty
		rec.ErrorMessage = "the server answered without generating a token"
	case rec.FinishReason == "" && len(m.usageRaw) == 0:
		rec.Status, rec.ErrorClass = store.StatusTruncated, ClassNoFinish
		rec.ErrorMessage = "the answer has no finish_reason and no usage"
	default:
		rec.Status = store.StatusOK
		rec.E2EMS = ptr(rec.ElapsedMS)
	}
	return rec, x
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
