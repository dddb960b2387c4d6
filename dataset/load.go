package dataset

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// LoadFile reads a local dataset file with the default column names. See LoadFileWith.
func LoadFile(path string) (*Source, error) {
	return LoadFileWith(path, FieldMap{})
}

// LoadFileWith reads a local dataset file, detecting its format by content and extension:
//   - parquet: the file starts with the magic "PAR1" (the extension .parquet or .pq demands it);
//   - the original SQuAD JSON ({"data":[{"paragraphs":[{"qas":[...]}]}]});
//   - a JSON array of objects, or JSON Lines (one object a line, in the HuggingFace row
//     shape id,title,context,question,answers, or with a prompt field);
//   - CSV with a header row (.csv; .tsv is tab-separated; other extensions are sniffed).
//
// m renames the columns that hold each part of a row; SQuAD JSON has fixed names and
// ignores it.
func LoadFileWith(path string, m FieldMap) (*Source, error) {
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
	ext := strings.ToLower(filepath.Ext(path))
	isParquet := bytes.HasPrefix(b, parquetMagic)
	switch {
	case isParquet:
		src.Rows, err = parseParquet(path, b, m)
	case ext == ".parquet" || ext == ".pq":
		return nil, fmt.Errorf("dataset %s: %w: the extension says parquet but the file does not start with %q", path, ErrFormat, parquetMagic)
	case ext == ".csv":
		src.Rows, err = parseCSV(path, b, ',', m)
	case ext == ".tsv":
		src.Rows, err = parseCSV(path, b, '\t', m)
	case isSquadJSON(trimmed):
		src.Rows, err = parseSquadJSON(path, trimmed)
	case trimmed[0] == '[':
		src.Rows, err = parseJSONArray(path, trimmed, m)
	case trimmed[0] == '{':
		src.Rows, err = parseJSONL(path, b, m)
	case ext == ".json" || ext == ".jsonl":
		return nil, fmt.Errorf("dataset %s: %w: the extension says JSON but the content does not start with { or [", path, ErrFormat)
	case looksLikeCSV(b):
		src.Rows, err = parseCSV(path, b, ',', m)
	default:
		return nil, fmt.Errorf("dataset %s: %w: want SQuAD JSON, JSON Lines, a JSON array, CSV or parquet", path, ErrFormat)
	}
	if err != nil {
		return nil, err
	}
	if len(src.Rows) == 0 {
		return nil, fmt.Errorf("dataset %s: %w", path, ErrEmpty)
	}
	return src, nil
}

// looksLikeCSV: a first line with a comma and no NUL bytes in what was read.
func looksLikeCSV(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	return bytes.IndexByte(first, ',') >= 0
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

func parseJSONL(path string, b []byte, m FieldMap) ([]Row, error) {
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
		r, err := rowFromJSON(text, len(rows), m)
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

// rowFromJSON reads one record, a JSON object (a JSONL line, an element of a JSON array),
// as row idx.
func rowFromJSON(raw []byte, idx int, m FieldMap) (Row, error) {
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Row{}, fmt.Errorf("invalid JSON (want an object): %v", err)
	}
	return RowFromFields(fields, idx, m)
}

func parseJSONArray(path string, b []byte, m FieldMap) ([]Row, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("dataset %s: JSON array: %w", path, err)
	}
	return rowsFrom(path, "element", items, m, func(it json.RawMessage, idx int, m FieldMap) (Row, error) {
		return rowFromJSON(it, idx, m)
	})
}

// rowsFrom makes row i of items[i] (a JSON array's elements, a parquet file's records);
// what names an item in the error of one that is not a row.
func rowsFrom[T any](path, what string, items []T, m FieldMap, row func(T, int, FieldMap) (Row, error)) ([]Row, error) {
	rows := make([]Row, 0, len(items))
	for i, it := range items {
		r, err := row(it, i, m)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %s %d: %w", path, what, i, err)
		}
		rows = append(rows, r)
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
// CSV or parquet row). A row needs a question (with an optional context) or a prompt. A
// column named in m must exist in the record.
func RowFromFields(fields map[string]any, index int, m FieldMap) (Row, error) {
	r := Row{Index: index, Fields: fields}
	for _, f := range m.named() {
		if _, ok := fields[f[1]]; !ok {
			return r, fmt.Errorf("missing field %q (mapped with --field %s=%s); the row has: %s",
				f[1], f[0], f[1], strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		}
	}
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
			return r, fmt.Errorf("empty field %q", m.or(m.Prompt, m.Question))
		}
		return r, fmt.Errorf("missing field \"question\" (or \"prompt\"; map other columns with --field question=NAME or --field prompt=NAME); the row has: %s",
			strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
	}
	return r, nil
}

// FieldKeys are the parts of a row a FieldMap can rename, as --field takes them.
var FieldKeys = []string{"id", "title", "context", "question", "answers", "prompt"}

// columns are m's entries in the order of FieldKeys: the one place a key meets its field.
func (m *FieldMap) columns() [6]*string {
	return [...]*string{&m.ID, &m.Title, &m.Context, &m.Question, &m.Answers, &m.Prompt}
}

// named lists the explicitly mapped parts as {key, column} pairs.
func (m FieldMap) named() [][2]string {
	var out [][2]string
	for i, v := range m.columns() {
		if *v != "" {
			out = append(out, [2]string{FieldKeys[i], *v})
		}
	}
	return out
}

// ParseFieldMap reads --field mappings "key=column" (key one of FieldKeys), for example
// "prompt=text" for a dataset whose prompts are in a column named text.
func ParseFieldMap(specs []string) (FieldMap, error) {
	var m FieldMap
	for _, s := range specs {
		k, v, ok := strings.Cut(s, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			return m, fmt.Errorf("--field %q: want key=column, key one of %s", s, strings.Join(FieldKeys, ", "))
		}
		if k == "answer" {
			k = "answers"
		}
		i := slices.Index(FieldKeys, k)
		if i < 0 {
			return m, fmt.Errorf("--field %q: unknown key %q, want one of %s", s, k, strings.Join(FieldKeys, ", "))
		}
		*m.columns()[i] = v
	}
	return m, nil
}

func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, bool:
		return fmt.Sprint(x)
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
		if t := strings.TrimSpace(x); strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") {
			// a CSV cell holding JSON: ["a","b"] or {"text":[...]}
			var v any
			if json.Unmarshal([]byte(t), &v) == nil {
				if out := answerTexts(v); out != nil {
					return out
				}
			}
		}
		return []string{x}
	case []byte:
		return answerTexts(string(x))
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
			case []byte:
				out = append(out, string(y))
			}
		}
		return out
	case []string:
		return x
	}
	return nil
}
