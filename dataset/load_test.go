package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileFormats(t *testing.T) {
	squadJSON := `{"version":"1.1","data":[{"title":"T","paragraphs":[{"context":"Paris is in France.","qas":[{"id":"q1","question":"Where is Paris?","answers":[{"text":"France","answer_start":12}]}]}]}]}`
	cases := []struct {
		name, file, content string
		m                   FieldMap
		wantQ, wantPrompt   string
		wantGold            []string
		rows                int
	}{
		{"squad json", "dev.json", squadJSON, FieldMap{}, "Where is Paris?", "", []string{"France"}, 1},
		{"squad json any extension", "dev.data", squadJSON, FieldMap{}, "Where is Paris?", "", []string{"France"}, 1},
		{"jsonl hf rows", "v.jsonl", `{"id":"a","context":"c","question":"q?","answers":{"text":["x","y"],"answer_start":[0,1]}}` + "\n\n" + `{"id":"b","question":"r?"}`, FieldMap{}, "q?", "", []string{"x", "y"}, 2},
		{"json array", "a.json", `[{"question":"q?","answers":["x"]},{"question":"r?"}]`, FieldMap{}, "q?", "", []string{"x"}, 2},
		{"jsonl prompt column", "p.jsonl", `{"text":"Write a poem."}`, FieldMap{Prompt: "text"}, "", "Write a poem.", nil, 1},
		{"csv", "q.csv", "id,question,context,answers\nr1,\"Who, then?\",ctx,\"[\"\"Ann\"\",\"\"Bo\"\"]\"\nr2,Why?,ctx2,because\n", FieldMap{}, "Who, then?", "", []string{"Ann", "Bo"}, 2},
		{"csv bom and mapping", "m.csv", "\xef\xbb\xbfinstruction,gold\nSay hi,hi\n", FieldMap{Prompt: "instruction", Answers: "gold"}, "", "Say hi", []string{"hi"}, 1},
		{"csv sniffed", "data.txt", "question,answers\nq?,a\n", FieldMap{}, "q?", "", []string{"a"}, 1},
		{"tsv", "d.tsv", "question\tanswers\nq, with comma?\ta\n", FieldMap{}, "q, with comma?", "", []string{"a"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := LoadFileWith(writeFile(t, c.file, c.content), c.m)
			if err != nil {
				t.Fatal(err)
			}
			if len(src.Rows) != c.rows {
				t.Fatalf("%d rows, want %d", len(src.Rows), c.rows)
			}
			r := src.Rows[0]
			if r.Question != c.wantQ || r.Prompt != c.wantPrompt || strings.Join(r.Answers, "|") != strings.Join(c.wantGold, "|") {
				t.Errorf("row %+v", r)
			}
			if len(src.Hash) != 64 {
				t.Errorf("hash %q", src.Hash)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	cases := []struct {
		name, file, content string
		m                   FieldMap
		wants               []string
		is                  error
	}{
		{"empty", "e.jsonl", "  \n", FieldMap{}, []string{"e.jsonl"}, ErrEmpty},
		{"binary", "x.bin", "\x00\x01\x02", FieldMap{}, []string{"x.bin"}, ErrFormat},
		{"parquet extension lies", "x.parquet", "id,question\n", FieldMap{}, []string{"PAR1"}, ErrFormat},
		{"bad jsonl line", "b.jsonl", "{\"question\":\"q\"}\n{oops\n", FieldMap{}, []string{"b.jsonl line 2", "invalid JSON"}, nil},
		{"no question", "n.jsonl", `{"text":"hello"}`, FieldMap{}, []string{"line 1", `missing field "question"`, "the row has: text", "--field"}, nil},
		{"mapped column missing", "m.csv", "a,b\n1,2\n", FieldMap{Prompt: "text"}, []string{"m.csv line 2", `missing field "text"`, "--field prompt=text", "a, b"}, nil},
		{"csv ragged", "r.csv", "question,answers\nq,a,extra\n", FieldMap{}, []string{"r.csv", "line 2"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadFileWith(writeFile(t, c.file, c.content), c.m)
			if err == nil {
				t.Fatal("no error")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestLoadParquetFile(t *testing.T) {
	rows := squadLikeRows(40)
	dir := t.TempDir()
	p := filepath.Join(dir, "squad.parquet")
	if err := parquet.WriteFile(p, toParquetRows(rows)); err != nil {
		t.Fatal(err)
	}
	src, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, src, rows)

	// a plain prompt column, an integer id, no extension: detected by content
	type promptRow struct {
		Key  int64  `parquet:"key"`
		Text string `parquet:"text"`
	}
	q := filepath.Join(dir, "prompts")
	if err := parquet.WriteFile(q, []promptRow{{7, "Tell me a story."}, {8, "Count to ten."}}); err != nil {
		t.Fatal(err)
	}
	src, err = LoadFileWith(q, FieldMap{ID: "key", Prompt: "text"})
	if err != nil {
		t.Fatal(err)
	}
	if len(src.Rows) != 2 || src.Rows[1].ID != "8" || src.Rows[1].Prompt != "Count to ten." {
		t.Errorf("rows %+v", src.Rows)
	}
}

func TestParseFieldMap(t *testing.T) {
	for _, c := range []struct {
		specs []string
		want  FieldMap
	}{
		{[]string{"prompt=text", "answers = gold", "id=key"}, FieldMap{Prompt: "text", Answers: "gold", ID: "key"}},
		{[]string{"title=t", "context=c", "question=q"}, FieldMap{Title: "t", Context: "c", Question: "q"}},
		{[]string{"answer=a"}, FieldMap{Answers: "a"}},
		{[]string{"id=x", "id=y"}, FieldMap{ID: "y"}},
		{nil, FieldMap{}},
	} {
		if m, err := ParseFieldMap(c.specs); err != nil || m != c.want {
			t.Errorf("ParseFieldMap(%q) = %+v, %v; want %+v", c.specs, m, err, c.want)
		}
	}
	all := FieldMap{ID: "i", Title: "t", Context: "c", Question: "q", Answers: "a", Prompt: "p"}
	want := [][2]string{{"id", "i"}, {"title", "t"}, {"context", "c"}, {"question", "q"}, {"answers", "a"}, {"prompt", "p"}}
	if got := all.named(); !slices.Equal(got, want) {
		t.Errorf("named() = %v, want %v", got, want)
	}
	for _, bad := range []string{"prompt", "colour=red", "question="} {
		if _, err := ParseFieldMap([]string{bad}); err == nil || !strings.Contains(err.Error(), "question") {
			t.Errorf("ParseFieldMap(%q) error %v", bad, err)
		}
	}
}
