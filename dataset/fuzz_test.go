package dataset

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzLoader checks one loader (chosen by the file's extension) on arbitrary bytes: it
// returns rows or an error, never both, never neither, and never panics. Seeds are the
// f.Add calls and testdata/fuzz/<target>.
func fuzzLoader(f *testing.F, ext string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "d"+ext)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Skip()
		}
		src, err := LoadFile(path)
		if (err == nil) == (src == nil) {
			t.Fatalf("LoadFile: source %v and error %v", src, err)
		}
		if err == nil && len(src.Rows) == 0 {
			t.Fatal("a source without rows and without an error")
		}
	})
}

func FuzzLoadJSONL(f *testing.F) {
	fuzzLoader(f, ".jsonl", `{"id":"1","context":"c","question":"q?","answers":{"text":["a"]}}`+"\n",
		`{"prompt":"p"}`+"\n"+`{"prompt":7}`, "{\n", `{"question":"q","answers":[1,{"x":2}]}`)
}

func FuzzLoadJSON(f *testing.F) {
	fuzzLoader(f, ".json", `[{"question":"q?","answers":{"text":["a"],"answer_start":[0]}}]`,
		`{"data":[{"title":"t","paragraphs":[{"context":"c","qas":[{"id":"1","question":"q?","answers":[{"text":"a"}]}]}]}]}`,
		`{"data":[{"paragraphs":[{"qas":[{}]}]}]}`, `[]`, `[1,2]`)
}

func FuzzLoadCSV(f *testing.F) {
	fuzzLoader(f, ".csv", "id,question,answers\n1,q?,a\n", "question\n\"unterminated\n", "a,b\n1\n", "\xff\xfe,q\n")
}

func FuzzLoadTSV(f *testing.F) {
	fuzzLoader(f, ".tsv", "id\tquestion\n1\tq?\n", "question\n\n\n")
}

func FuzzLoadParquet(f *testing.F) {
	fuzzLoader(f, ".parquet", "PAR1", "PAR1\x00\x00\x00\x00PAR1", "PAR1"+string(make([]byte, 64))+"PAR1")
}
