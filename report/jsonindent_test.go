package report

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// encoderIndent is what indentJSON replaces: a json.Encoder with SetIndent("", "  ").
func encoderIndent(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// indentJSON writes what json.Encoder with SetIndent writes: for values with empty and nested
// objects and arrays, strings holding brackets, commas, colons, quotes, backslashes, escapes
// and HTML, and for the whole fixture report.
func TestIndentJSONIsEncoderIndent(t *testing.T) {
	type inner struct {
		A []int          `json:"a"`
		M map[string]any `json:"m"`
		S string         `json:"s"`
	}
	values := []any{
		0, "", []int{}, map[string]int{}, []any{[]any{}, map[string]any{}, []any{[]int{1}}},
		`{"a":[1,2],"b":{}}`, `\"`, `\\`, "a\\\"b", `"`, "\\", `",`, `a":{"b":[1,2]}`, `\",\\",`, "<a href=\"x\">&</a>", "tab\tnew\nline\u2028",
		inner{A: []int{1, 2, 3}, M: map[string]any{"x": []string{",", ":", "{", "}", "[", "]"}, "y": nil, "z": map[string]any{}}, S: "}]\\"},
		[]inner{{}, {A: []int{}}},
		map[string]Num{"nan": Num(math.NaN()), "one": 1},
	}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want := encoderIndent(t, v)
		if got := indentJSON(nil, append(b, '\n'), "  "); !bytes.Equal(got, want) {
			t.Errorf("%#v:\ngot  %q\nwant %q", v, got, want)
		}
	}
	res := fixtureReport(t)
	var got bytes.Buffer
	if err := res.WriteJSON(&got); err != nil {
		t.Fatal(err)
	}
	if want := encoderIndent(t, res); !bytes.Equal(got.Bytes(), want) {
		t.Errorf("report.json of the fixture differs from json.Encoder's (%d against %d bytes)", got.Len(), len(want))
	}
}
