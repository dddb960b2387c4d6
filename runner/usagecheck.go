package runner

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/trackerbench/tracker/bench"
)

// notesKey is the object in server_json where the client notes what it did with what the
// server sent: rejected usage counts, the full size of a text cut to its stored prefix.
const notesKey = "tracker"

// plausibleCount reports whether a usage count can be real: a whole number from 0 to
// maxPlausibleTokens. -5, 2^63-1, 1e20 and 3.5 are not.
func plausibleCount(v float64) bool {
	return v >= 0 && v <= maxPlausibleTokens && v == math.Trunc(v)
}

// rejectImpossibleUsage clears the counts of u that cannot be real, so that the tokenizer
// counts instead, and notes each one rejected (as the server sent it) in m's notes.
func (m *measurement) rejectImpossibleUsage(u *usage) {
	check := func(name string, p **float64) {
		if *p != nil && !plausibleCount(**p) {
			m.note("usage_rejected", name+"="+strconv.FormatFloat(**p, 'g', -1, 64))
			*p = nil
		}
	}
	check("prompt_tokens", &u.PromptTokens)
	check("completion_tokens", &u.CompletionTokens)
	if d := u.CompletionTokensDetails; d != nil {
		check("reasoning_tokens", &d.ReasoningTokens)
		if d.ReasoningTokens != nil && u.CompletionTokens != nil && *d.ReasoningTokens > *u.CompletionTokens {
			m.note("usage_rejected", fmt.Sprintf("reasoning_tokens=%g > completion_tokens=%g", *d.ReasoningTokens, *u.CompletionTokens))
			d.ReasoningTokens = nil
		}
	}
}

// note adds a note (several under one name are joined with "; ").
func (m *measurement) note(name, text string) {
	if m.notes == nil {
		m.notes = map[string]any{}
	}
	if old, ok := m.notes[name].(string); ok {
		text = old + "; " + text
	}
	m.notes[name] = text
}

// noteTextSizes records the full sizes of the answer when the stored text is a prefix, and
// that a tokenizer count is the prefix's (a lower bound) when the server sent no usage.
func (m *measurement) noteTextSizes(rec *bench.Measurement, content, reasoning *boundedText) {
	if content.truncated() || reasoning.truncated() {
		m.notes = notesWith(m.notes, "text_truncated_to_bytes", maxStoredText)
		m.notes["response_bytes"] = content.Len()
		m.notes["reasoning_bytes"] = reasoning.Len()
		if rec.OutputTokensSource == bench.SourceTokenizer {
			m.notes["output_tokens_of_prefix"] = true
		}
	}
}

func notesWith(n map[string]any, k string, v any) map[string]any {
	if n == nil {
		n = map[string]any{}
	}
	n[k] = v
	return n
}

// applyNotes adds m's notes to the record's server_json under notesKey.
func (m *measurement) applyNotes(rec *bench.Measurement) {
	if len(m.notes) == 0 {
		return
	}
	obj := map[string]any{}
	if rec.ServerJSON != "" {
		_ = json.Unmarshal([]byte(rec.ServerJSON), &obj)
	}
	obj[notesKey] = m.notes
	if b, err := json.Marshal(obj); err == nil {
		rec.ServerJSON = string(b)
	}
}

// plausibleNumber reports whether a server-sent timing is a finite number from 0 to 1e12
// (no rate or duration is larger): anything else stays out of server_json, whose numbers
// the views read.
func plausibleNumber(raw json.RawMessage) bool {
	var f float64
	return json.Unmarshal(raw, &f) == nil && f >= 0 && f <= 1e12 && !math.IsInf(f, 0)
}
