package dataset

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

// LoadFile reads a local dataset file, detecting its format by content: the original SQuAD
// JSON ({"data":[{"paragraphs":[{"qas":[...]}]}]}) or JSON Lines (one object a line, in the
// HuggingFace row shape id,title,context,question,answers or with a prompt field).
func LoadFile(path string) (*Source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading dataset: %w", err)
	}
	sum := sha256.Sum256(b)
	src := &Source{Name: path, Hash: hex.EncodeToString(sum[:])}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("dataset %s: %w", path, ErrEmpty)
	}
	if isSquadJSON(trimmed) {
		src.Rows, err = parseSquadJSON(path, trimmed)
	} else if trimmed[0] == '{' {
		src.Rows, err = parseJSONL(path, b)
	} else {
		return nil, fmt.Errorf("dataset %s: %w: want SQuAD JSON or JSON Lines", path, ErrFormat)
	}
	if err != nil {
		return nil, err
	}
	if len(src.Rows) == 0 {
		return nil, fmt.Errorf("dataset %s: %w", path, ErrEmpty)
	}
	return src, nil
}

// isSquadJSON reports whether b is one JSON document with a top-level "data" array.
func isSquadJSON(b []byte) bool {
	if b[0] != '{' {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var probe struct {
		Data json.RawMessage `json:"data"`
	}
	if err := dec.Decode(&probe); err != nil || len(probe.Data) == 0 {
		return false
	}
	return !dec.More() // a single document, not the first line of JSONL
}

type squadFile struct {
	Data []struct {
		Title      string `json:"title"`
		Paragraphs []struct {
			Context string `json:"context"`
			QAs     []struct {
				ID       string `json:"id"`
				Question string `json:"question"`
				Answers  []struct {
					Text        string `json:"text"`
					AnswerStart int    `json:"answer_start"`
				} `json:"answers"`
			} `json:"qas"`
		} `json:"paragraphs"`
	} `json:"data"`
}

func parseSquadJSON(path string, b []byte) ([]Row, error) {
	var f squadFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("dataset %s: SQuAD JSON: %w", path, err)
	}
	var rows []Row
	for ai, art := range f.Data {
		for pi, para := range art.Paragraphs {
			for qi, qa := range para.QAs {
				if qa.Question == "" {
					return nil, fmt.Errorf("dataset %s: data[%d].paragraphs[%d].qas[%d]: missing field \"question\"", path, ai, pi, qi)
				}
				r := Row{ID: qa.ID, Index: len(rows), Title: art.Title, Context: para.Context, Question: qa.Question}
				texts := make([]string, 0, len(qa.Answers))
				starts := make([]int, 0, len(qa.Answers))
				for _, a := range qa.Answers {
					texts = append(texts, a.Text)
					starts = append(starts, a.AnswerStart)
				}
				r.Answers = texts
				if r.ID == "" {
					r.ID = strconv.Itoa(r.Index)
				}
				r.Fields = map[string]any{"id": r.ID, "title": r.Title, "context": r.Context,
					"question": r.Question, "answers": map[string]any{"text": texts, "answer_start": starts}}
				rows = append(rows, r)
			}
		}
	}
	return rows, nil
}

func parseJSONL(path string, b []byte) ([]Row, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	var rows []Row
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(text, &fields); err != nil {
			return nil, fmt.Errorf("dataset %s line %d: invalid JSON: %v", path, line, err)
		}
		r, err := RowFromFields(fields, len(rows), FieldMap{})
		if err != nil {
			return nil, fmt.Errorf("dataset %s line %d: %w", path, line, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dataset %s line %d: %w", path, line+1, err)
	}
	return rows, nil
}

// FieldMap names the columns that hold each part of a row, for sources whose columns are
// not context/question/answers. Empty entries take the default names.
type FieldMap struct {
	ID, Title, Context, Question, Answers, Prompt string
}

func (m FieldMap) or(name, def string) string {
	if name != "" {
		return name
	}
	return def
}

// RowFromFields builds a Row from one decoded record (a JSONL line, a datasets-server row, a
// CSV or parquet row). A row needs a question (with an optional context) or a prompt.
func RowFromFields(fields map[string]any, index int, m FieldMap) (Row, error) {
	r := Row{Index: index, Fields: fields}
	r.ID = asString(fields[m.or(m.ID, "id")])
	if r.ID == "" {
		r.ID = strconv.Itoa(index)
	}
	r.Title = asString(fields[m.or(m.Title, "title")])
	r.Context = asString(fields[m.or(m.Context, "context")])
	r.Question = asString(fields[m.or(m.Question, "question")])
	r.Prompt = asString(fields[m.or(m.Prompt, "prompt")])
	r.Answers = answerTexts(fields[m.or(m.Answers, "answers")])
	if r.Question == "" && r.Prompt == "" {
		if m.Question != "" || m.Prompt != "" {
			return r, fmt.Errorf("missing field %q", m.or(m.Prompt, m.Question))
		}
		return r, fmt.Errorf("missing field \"question\" (or \"prompt\")")
	}
	return r, nil
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// answerTexts reads gold answers in the shapes datasets use: {"text":[...]} (HF SQuAD),
// [{"text":...}] (SQuAD JSON), ["..."], or a single string.
func answerTexts(v any) []string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case map[string]any:
		return answerTexts(x["text"])
	case []any:
		var out []string
		for _, e := range x {
			switch y := e.(type) {
			case string:
				out = append(out, y)
			case map[string]any:
				if s, ok := y["text"].(string); ok {
					out = append(out, s)
				}
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}
