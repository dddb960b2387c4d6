package sim

import (
	"encoding/json"
	"fmt"
	"time"
)

// A wire dialect turns what the server sends into bytes. The server decides what happens
// (tokens, finish, usage, errors); a dialect decides how it looks. vLLM's OpenAI server is
// below; SambaNova's and the ALCF gateway's are in dialect*.go (--wire).
type dialect interface {
	// chunk is the data of one SSE event for one step of the stream; nil sends nothing.
	chunk(c *call, ev event) []byte
	// usageChunk is the data of the last event when the client asked for usage.
	usageChunk(c *call, u usage) []byte
	// done is the data of the end-of-stream marker event; nil sends none.
	done() []byte
	// response is a non-streaming response's body. u is nil when usage is withheld.
	response(c *call, content, reasoning, finish string, u *usage) []byte
	// errorBody is an HTTP error response's body.
	errorBody(status int, typ, msg string) []byte
}

// call is one generation request as the wire sees it.
type call struct {
	id      string
	created int64
	model   string
	chat    bool // /v1/chat/completions (else /v1/completions)

	arrived         time.Time // the request's arrival, for dialects reporting server timings
	first           time.Time // when the first token was sent
	reasoningTokens int

	prefillStart time.Time // when the engine admitted it (llamacpp timings)
	cachedTokens int       // prompt tokens the prompt cache served (llamacpp)
}

// ender is a dialect whose last chunk carries the finish with usage and the server's
// timings (llamacpp), sent whether or not the client asked for usage.
type ender interface {
	endChunk(c *call, finish string, u usage) []byte
}

// Event kinds of a stream.
const (
	evRole      = iota // the first chunk: the assistant's role, no token
	evReasoning        // a reasoning token
	evContent          // a content token
)

type event struct {
	kind   int
	text   string
	finish string // set on the last token's chunk
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	TotalTokens      int `json:"total_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// vllm is the wire format of vLLM's OpenAI-compatible server.
type vllm struct{}

type vllmDelta struct {
	Role      string  `json:"role,omitempty"`
	Content   *string `json:"content,omitempty"`
	Reasoning *string `json:"reasoning,omitempty"`
}

type vllmChatChoice struct {
	Index        int       `json:"index"`
	Delta        vllmDelta `json:"delta"`
	Logprobs     any       `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

type vllmTextChoice struct {
	Index        int     `json:"index"`
	Text         string  `json:"text"`
	Logprobs     any     `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
	StopReason   any     `json:"stop_reason"`
}

// vllmEnvelope is what every vLLM answer is wrapped in: a stream's chunks and a whole
// (non-streamed) answer alike.
type vllmEnvelope struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices any    `json:"choices"`
	Usage   *usage `json:"usage,omitempty"`
}

func strp(s string) *string { return &s }

func finishPtr(f string) *string {
	if f == "" {
		return nil
	}
	return &f
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sim: encoding %T: %v", v, err)) // only fixed types are encoded
	}
	return b
}

func (vllm) chunk(c *call, ev event) []byte {
	out := vllmEnvelope{ID: c.id, Created: c.created, Model: c.model}
	if !c.chat {
		if ev.kind == evRole {
			return nil
		}
		out.Object = "text_completion"
		out.Choices = []vllmTextChoice{{Text: ev.text, FinishReason: finishPtr(ev.finish)}}
		return mustJSON(out)
	}
	out.Object = "chat.completion.chunk"
	var d vllmDelta
	switch ev.kind {
	case evRole:
		d = vllmDelta{Role: "assistant", Content: strp("")}
	case evReasoning:
		d.Reasoning = strp(ev.text)
	default:
		d.Content = strp(ev.text)
	}
	out.Choices = []vllmChatChoice{{Delta: d, FinishReason: finishPtr(ev.finish)}}
	return mustJSON(out)
}

func (vllm) usageChunk(c *call, u usage) []byte {
	obj := "chat.completion.chunk"
	if !c.chat {
		obj = "text_completion"
	}
	return mustJSON(vllmEnvelope{ID: c.id, Object: obj, Created: c.created, Model: c.model, Choices: []any{}, Usage: &u})
}

func (vllm) done() []byte { return []byte("[DONE]") }

func (vllm) response(c *call, content, reasoning, finish string, u *usage) []byte {
	type message struct {
		Role      string  `json:"role"`
		Content   string  `json:"content"`
		Reasoning *string `json:"reasoning,omitempty"`
		ToolCalls []any   `json:"tool_calls"`
	}
	type chatChoice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		Logprobs     any     `json:"logprobs"`
		FinishReason string  `json:"finish_reason"`
		StopReason   any     `json:"stop_reason"`
	}
	b := vllmEnvelope{ID: c.id, Created: c.created, Model: c.model, Usage: u}
	if c.chat {
		m := message{Role: "assistant", Content: content, ToolCalls: []any{}}
		if reasoning != "" {
			m.Reasoning = &reasoning
		}
		b.Object = "chat.completion"
		b.Choices = []chatChoice{{Message: m, FinishReason: finish}}
	} else {
		b.Object = "text_completion"
		b.Choices = []vllmTextChoice{{Text: content, FinishReason: &finish}}
	}
	return mustJSON(b)
}

func (vllm) errorBody(status int, typ, msg string) []byte {
	type detail struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Param   any    `json:"param"`
		Code    int    `json:"code"`
	}
	return mustJSON(struct {
		Error detail `json:"error"`
	}{detail{Message: msg, Type: typ, Code: status}})
}

// assistantMessage is a non-streamed answer's message; its reasoning, when there is any,
// under the dialect's key (reasoning, reasoning_content).
func assistantMessage(content, reasoningKey, reasoning string) map[string]any {
	msg := map[string]any{"role": "assistant", "content": content}
	if reasoning != "" {
		msg[reasoningKey] = reasoning
	}
	return msg
}
