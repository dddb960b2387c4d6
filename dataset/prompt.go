package dataset

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"text/template"

	"github.com/trackerbench/tracker/tokens"
)

// DefaultTemplate puts the context and the question in one user message and asks for a
// short answer. Templates see every field of the row by its name ({{.question}}).
const DefaultTemplate = `{{if .context}}Answer the question using the context below. Reply with only the answer, as a short phrase taken from the context.

Context: {{.context}}

{{end}}Question: {{.question}}
Answer:`

// Template renders a row into the messages a request sends.
type Template struct {
	System string
	user   *template.Template
}

// NewTemplate parses a user-message template. An empty text takes DefaultTemplate.
func NewTemplate(text, system string) (*Template, error) {
	if text == "" {
		text = DefaultTemplate
	}
	t, err := template.New("prompt").Option("missingkey=zero").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("prompt template: %w", err)
	}
	return &Template{System: system, user: t}, nil
}

// LoadTemplate reads a template file (Go text/template over the row's fields).
func LoadTemplate(path, system string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading template: %w", err)
	}
	t, err := NewTemplate(string(b), system)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	return t, nil
}

// Render builds the messages for one row. A row with a ready prompt and no question is
// sent as is.
func (t *Template) Render(r Row) ([]Message, error) {
	var msgs []Message
	if t.System != "" {
		msgs = append(msgs, Message{Role: "system", Content: t.System})
	}
	if r.Question == "" && r.Prompt != "" {
		return append(msgs, Message{Role: "user", Content: r.Prompt}), nil
	}
	data := map[string]any{}
	for k, v := range r.Fields {
		data[k] = v
	}
	data["id"], data["title"], data["context"], data["question"] = r.ID, r.Title, r.Context, r.Question
	var buf bytes.Buffer
	if err := t.user.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("rendering prompt for row %s: %w", r.ID, err)
	}
	return append(msgs, Message{Role: "user", Content: buf.String()}), nil
}

// Sample picks n rows deterministically: a seeded shuffle of the rows, its first n, in
// shuffled order. n <= 0 or n >= len(rows) keeps every row, still shuffled.
func Sample(rows []Row, n int, seed int64) []Row {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x7472616b6572)) // "tracker"
	perm := rng.Perm(len(rows))
	if n <= 0 || n > len(rows) {
		n = len(rows)
	}
	out := make([]Row, n)
	for i := range out {
		out[i] = rows[perm[i]]
	}
	return out
}

// Build renders rows into the run's ordered prompt set and counts their input tokens.
func Build(rows []Row, t *Template, tok *tokens.Counter) ([]Prompt, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("building prompts: %w", ErrEmpty)
	}
	out := make([]Prompt, 0, len(rows))
	for i, r := range rows {
		msgs, err := t.Render(r)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, m := range msgs {
			n += tok.Count(m.Content)
		}
		out = append(out, Prompt{Idx: i, ID: r.ID, SourceRow: r.Index, Messages: msgs, Gold: r.Answers,
			Hash: HashMessages(msgs), InputTokens: n})
	}
	return out, nil
}
