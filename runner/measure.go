package runner

import (
	"encoding/json"
	"time"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/tokens"
)

// measurement accumulates one response as its chunks arrive. Every time is monotonic
// (time.Now carries a monotonic reading, and Sub uses it).
type measurement struct {
	first, firstContent, last time.Time
	end                       time.Time
	gaps                      []float64
	chunks                    int         // token-bearing chunks
	chunksSeen                int         // every parsed chunk
	content, reasoning        boundedText // prefixes kept, full lengths counted (bounds.go)
	finish                    string
	usageRaw                  json.RawMessage
	timingsRaw                json.RawMessage // llama.cpp's timings (llamacpp.go)
	done                      bool            // the stream ended with [DONE]
	failed                    *failure
	notes                     map[string]any // the client's notes for server_json (usagecheck.go)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ptr[T any](v T) *T { return &v }

func (m *measurement) add(now time.Time, d delta) {
	if d.finish != "" {
		m.finish = d.finish
	}
	m.content.WriteString(d.content)
	m.reasoning.WriteString(d.reasoning)
	if !d.tokenBearing() {
		return
	}
	if m.chunks == 0 {
		m.first = now
	} else {
		m.gaps = append(m.gaps, ms(now.Sub(m.last)))
	}
	if d.content != "" && m.firstContent.IsZero() {
		m.firstContent = now
	}
	m.last = now
	m.chunks++
}

// floor is the earliest a chunk can be timed: after the previous token, else after t0.
func (m *measurement) floor(t0 time.Time) time.Time {
	if !m.last.IsZero() {
		return m.last
	}
	return t0
}

func (m *measurement) fail(f failure) {
	if m.failed == nil {
		m.failed = &f
	}
}

// record turns the measurement into the request's row (ids are the caller's).
func (m *measurement) record(rec bench.Measurement, x *exchange, p dataset.Prompt, tok *tokens.Counter) bench.Measurement {
	t0 := x.t0
	if t0.IsZero() { // never written: the failure happened before t0
		t0 = m.end
	}
	rec.ElapsedMS = ms(m.end.Sub(t0))
	rec.HTTPStatus = x.status
	x.applyConn(&rec)
	rec.Chunks = m.chunks
	rec.ResponseText = m.content.String()
	rec.ReasoningText = m.reasoning.String()
	rec.FinishReason = m.finish
	if m.chunks > 0 {
		rec.TTFTMS = ptr(ms(m.first.Sub(t0)))
		rec.E2EMS = ptr(ms(m.last.Sub(t0)))
		rec.ITLMS = m.gaps
		if !m.firstContent.IsZero() {
			rec.TTFCMS = ptr(ms(m.firstContent.Sub(t0)))
		}
	}
	u, sent := m.parsedUsage()
	m.countTokens(&rec, p, tok, u)
	m.applyCache(&rec, sent)
	rec.RelayFlag = relayed(m.gaps)

	switch {
	case m.failed != nil:
		rec.Status, rec.ErrorClass, rec.ErrorMessage = m.failed.status, m.failed.class, m.failed.message
	case !m.done && m.finish == "":
		rec.Status, rec.ErrorClass = bench.StatusTruncated, ClassEOFBeforeDone
		rec.ErrorMessage = "the stream ended without [DONE] and without a finish_reason"
	case m.done && m.finish == "" && len(m.usageRaw) == 0:
		rec.Status, rec.ErrorClass = bench.StatusTruncated, ClassNoFinish
		rec.ErrorMessage = "the stream ended with [DONE] but no finish_reason and no usage"
	case m.chunks == 0:
		rec.Status, rec.ErrorClass = bench.StatusError, ClassEmpty
		rec.ErrorMessage = "the server finished without generating a token"
	default:
		rec.Status = bench.StatusOK
		if !m.done {
			rec.ErrorClass = ClassMissingDone
			rec.ErrorMessage = "finished (finish_reason " + m.finish + ") but the stream had no [DONE]"
		}
	}
	if rec.Status == bench.StatusOK && rec.OutputTokens != nil && *rec.OutputTokens > 1 && rec.E2EMS != nil {
		rec.TPOTMS = ptr((*rec.E2EMS - *rec.TTFTMS) / float64(*rec.OutputTokens-1))
	}
	m.noteTextSizes(&rec, &m.content, &m.reasoning)
	m.applyNotes(&rec)
	return rec
}

// parsedUsage decodes the server's usage object once (nil, nil when there is none, or it is
// not one): u for countTokens, which clears the counts it rejects in it, and sent, a copy
// of u's top level as decoded, for applyCache.
func (m *measurement) parsedUsage() (u, sent *usage) {
	u, ok := parseUsage(m.usageRaw)
	if !ok {
		return nil, nil
	}
	c := *u
	return u, &c
}

// countTokens takes counts from the server's usage u (parsedUsage's) when it sent them, else
// from the tokenizer.
func (m *measurement) countTokens(rec *bench.Measurement, p dataset.Prompt, tok *tokens.Counter, u *usage) {
	ok := u != nil
	if ok {
		rec.UsageJSON = string(m.usageRaw)
		m.rejectImpossibleUsage(u)
	}
	if ok && u.PromptTokens != nil {
		rec.InputTokens, rec.InputTokensSource = ptr(int(*u.PromptTokens)), bench.SourceUsage
	} else {
		rec.InputTokens, rec.InputTokensSource = ptr(p.InputTokens), bench.SourceTokenizer
	}
	if ok && u.CompletionTokens != nil {
		rec.OutputTokens, rec.OutputTokensSource = ptr(int(*u.CompletionTokens)), bench.SourceUsage
		if u.CompletionTokensDetails != nil && u.CompletionTokensDetails.ReasoningTokens != nil {
			rec.ReasoningTokens = ptr(int(*u.CompletionTokensDetails.ReasoningTokens))
		}
	} else {
		r := countText(tok, rec.ReasoningText)
		rec.OutputTokens = ptr(countText(tok, rec.ResponseText) + r)
		rec.OutputTokensSource = bench.SourceTokenizer
		if rec.ReasoningText != "" {
			rec.ReasoningTokens = ptr(r)
		}
	}
	if ok {
		applyServerTimings(rec, serverTimings(m.usageRaw, nil))
	}
}

// applyCache stores llama.cpp's timings and the prompt tokens the server's cache served; u
// is the usage as the server sent it (parsedUsage's sent).
func (m *measurement) applyCache(rec *bench.Measurement, u *usage) {
	applyLlamaTimings(rec, m.timingsRaw)
	rec.CachedTokens = cachedTokens(u, m.timingsRaw)
}

// countText counts with the tokenizer; without one (a preflight check) it counts nothing.
func countText(tok *tokens.Counter, s string) int {
	if tok == nil {
		return 0
	}
	return tok.Count(s)
}
