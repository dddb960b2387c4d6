package runner

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/trackerbench/tracker/internal/testenv"
)

// captureChunks is every `data:` payload of the captures: the runner's (testdata/wire), a
// real llama-server's and the examples in the wire notes (../shared/wire), by file.
func captureChunks(t testing.TB) map[string][][]byte {
	t.Helper()
	var files []string
	for _, pat := range []string{"testdata/wire/*.sse", llamaCaptures + "/*.sse", "../../shared/wire/*.sse",
		"../../shared/wire/README.md", llamaCaptures + "/README.md"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	out := map[string][][]byte{}
	shared := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			p, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data:"))
			if p = bytes.TrimSpace(p); ok && len(p) > 0 && p[0] == '{' {
				out[f] = append(out[f], p)
				if strings.Contains(f, "shared") {
					shared++
				}
			}
		}
	}
	if shared == 0 {
		testenv.Missing(t, "no chunk in the captures of ../shared/wire")
	}
	return out
}

// sameAsJSON fails t unless decodeChunk gives what json.Unmarshal gives (value and
// whether it failed), and reports whether the fast path read raw itself.
func sameAsJSON(t *testing.T, raw []byte) bool {
	t.Helper()
	var want, got, fast chunk
	werr := json.Unmarshal(raw, &want)
	gerr := decodeChunk(raw, &got)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: encoding/json error %v, decodeChunk error %v", raw, werr, gerr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\ndecodeChunk  %#v\nencoding/json %#v", raw, got, want)
	}
	ok := decodeChunkFast(raw, &fast)
	if ok && (werr != nil || !reflect.DeepEqual(fast, want)) {
		t.Fatalf("%q: the fast path read %#v; encoding/json %#v (error %v)", raw, fast, want, werr)
	}
	return ok
}

// Every chunk of every capture decodes as encoding/json decodes it, and the fast path reads
// all those of a stream that answers (an error chunk may go to encoding/json).
func TestDecodeChunkCaptures(t *testing.T) {
	chunks := captureChunks(t)
	n := 0
	for f, list := range chunks {
		for _, raw := range list {
			fast := sameAsJSON(t, raw)
			var ch chunk
			json.Unmarshal(raw, &ch)
			if !fast && ch.inBandError() == "" {
				t.Errorf("%s: the fast path gave up on %q", f, raw)
			}
			n++
		}
	}
	for _, raw := range bytes.Split(zeroDelayChunks, []byte("\n")) {
		if len(raw) > 0 && !sameAsJSON(t, raw) {
			t.Errorf("the fast path gave up on %q", raw)
		}
	}
	t.Logf("%d captured chunks in %d files", n, len(chunks))
}

// zeroDelayChunks are the chunks of the scale benchmark's server (scale_bench_test.go).
var zeroDelayChunks = []byte(`{"id":"x","choices":[{"index":0,"delta":{"content":" tok"},"finish_reason":null}]}
{"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}}`)

// hostileChunks are what a server may send that is unusual or invalid; each must decode (or
// fail) exactly as encoding/json decodes it.
var hostileChunks = []string{
	``, `null`, `[]`, `"x"`, `1`, `{}`, ` { } `, `{} {}`, `{}x`, `{`, `{"id":}`, `{"id":"a",}`, `{,}`, `{"id" "a"}`,
	`{"id":"a"}` + "\n", "{\t\"id\" :\r\n\"a\" }",
	// duplicate keys: encoding/json takes the last
	`{"id":"a","id":"b"}`, `{"choices":[{"delta":{"content":"a"}}],"choices":[{"delta":{"role":"r"}}]}`,
	`{"choices":[{"delta":{"content":"a","content":null}}]}`, `{"choices":[{"delta":{"content":"a"},"delta":{"reasoning":"b"}}]}`,
	`{"usage":{"a":1},"usage":null}`, `{"choices":[{"finish_reason":"stop","finish_reason":null}]}`,
	// case and Unicode folding: encoding/json matches names case-insensitively
	`{"ID":"a"}`, `{"Choices":[{"Delta":{"Content":"x"}}]}`, `{"choices":[{"delta":{"CONTENT":"x"}}]}`,
	"{\"\u212a\":1}", "{\"object\u017f\":1}", `{"id\u0041":"x"}`, `{"i\"d":"x"}`,
	// nulls and wrong types
	`{"id":null,"object":null,"choices":null,"usage":null,"timings":null,"error":null,"code":null}`,
	`{"choices":[null,{"delta":null,"text":null,"finish_reason":null}]}`, `{"choices":[]}`, `{"choices":{}}`,
	`{"choices":[1]}`, `{"choices":["x"]}`, `{"id":1}`, `{"id":true}`, `{"id":{}}`, `{"choices":[{"delta":[]}]}`,
	`{"choices":[{"delta":{"content":1}}]}`, `{"choices":[{"delta":{"content":{"a":1}}}]}`, `{"code":504}`,
	`{"code":"x"}`, `{"code":[1,{"a":null}]}`, `{"object":"error","message":"queue full","type":"t","code":504}`,
	`{"error":{"message":"bad","code":"too_many_requests"}}`, `{"error":"plain"}`, `{"choices":[{"message":{"content":"a"}}]}`,
	`{"choices":[{"text":"a"}]}`, `{"choices":[{"delta":{"tool_calls":[{"id":"c","function":{"name":"f"}}]}}]}`,
	`{"choices":[{"delta":{"tool_calls":null}}]}`, `{"choices":[{"delta":{"tool_calls":[]}}]}`,
	// numbers
	`{"created":1764022113.9}`, `{"created":-0}`, `{"created":1e400}`, `{"created":123456789012345678901234567890}`,
	`{"created":01}`, `{"created":1.}`, `{"created":.5}`, `{"created":-}`, `{"created":1e}`, `{"created":1e+}`,
	`{"created":+1}`, `{"created":0x10}`, `{"created":NaN}`, `{"created":Infinity}`, `{"created":1E-7}`,
	// strings: escapes, UTF-8, control characters
	`{"id":"a\nb"}`, `{"id":"a\"b\\c\/d\b\f\n\r\t"}`, `{"id":"\u00e9\u4e2d"}`, `{"id":"\ud83d\ude00"}`,
	`{"id":"\ud83d"}`, `{"id":"\ude00\ud83d"}`, `{"id":"\ud83dx"}`, `{"id":"\ud83d\u0041"}`, `{"id":"\ud83d\ud83d"}`,
	`{"id":"\u12"}`, `{"id":"\u12G4"}`, `{"id":"\x"}`, `{"id":"\'"}`, `{"id":"a\`, `{"id":"a`, `{"id":"\"}`,
	"{\"id\":\"a\x01b\"}", "{\"id\":\"a\x7fb\"}", "{\"id\":\"\xff\"}", "{\"id\":\"\xc3\"}", "{\"id\":\"\xed\xa0\x80\"}",
	"{\"x\":\"\xff\"}", "{\"usage\":{\"\xff\":\"\xfe\"}}", `{"id":"héllo wörld ✓ 😀"}`, "{\"id\":\"a\u2028b\"}",
	// literals and nesting
	`{"x":tru}`, `{"x":nul}`, `{"x":falsey}`, `{"x":[1,2,]}`, `{"x":[,]}`, `{"x":[[[[[]]]]]}`, `{"x":{"y":{"z":[{}]}}}`,
	`{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	`{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
	`{"usage":{"prompt_tokens":1e999,"completion_tokens":-1.5e-3,"x":[true,false,null,"s",{}]}}`,
	`{"timings":{"prompt_ms":4.687}, "choices":[{"delta":{"reasoning":"r","reasoning_content":"rc","channel":"analysis"}}]}`,
}

func TestDecodeChunkHostile(t *testing.T) {
	for _, raw := range hostileChunks {
		sameAsJSON(t, []byte(raw))
	}
}

// FuzzDecodeChunk: whatever the bytes, decodeChunk gives what encoding/json gives, and the
// fast path never reads a document differently (go test -fuzz FuzzDecodeChunk ./runner).
func FuzzDecodeChunk(f *testing.F) {
	for _, list := range captureChunks(f) {
		for _, raw := range list {
			f.Add(raw)
		}
	}
	for _, raw := range hostileChunks {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		sameAsJSON(t, raw)
	})
}

// BenchmarkDecodeChunk decodes the scale benchmark's chunks (its zero-delay server's two
// shapes; one op is both) with the fast path and with encoding/json.
func BenchmarkDecodeChunk(b *testing.B) {
	chunks := bytes.Split(zeroDelayChunks, []byte("\n"))
	for name, dec := range map[string]func([]byte, *chunk) error{
		"fast": decodeChunk, "encoding-json": func(raw []byte, ch *chunk) error { return json.Unmarshal(raw, ch) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, raw := range chunks {
					var ch chunk
					if err := dec(raw, &ch); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// nextChunk, decoding each chunk of a stream over the previous one, reads every chunk as
// encoding/json reads it into a zero chunk, for every capture's stream in order and for
// the hostile chunks each after every other (an id, choices or none before it); and it
// makes neither the id again nor the choices' array for the zero-delay server's stream.
func TestNextChunkSameAsJSON(t *testing.T) {
	check := func(name string, prev, raw []byte) {
		t.Helper()
		var ch chunk
		if prev != nil {
			nextChunk(prev, &ch)
		}
		err := nextChunk(raw, &ch)
		var want chunk
		werr := json.Unmarshal(raw, &want)
		if (err == nil) != (werr == nil) || (err == nil && !reflect.DeepEqual(ch, want)) {
			t.Fatalf("%s: after %q, %q read %#v (%v); encoding/json %#v (%v)", name, prev, raw, ch, err, want, werr)
		}
	}
	for f, list := range captureChunks(t) {
		var ch chunk
		for _, raw := range list {
			err := nextChunk(raw, &ch)
			var want chunk
			werr := json.Unmarshal(raw, &want)
			if (err == nil) != (werr == nil) || (err == nil && !reflect.DeepEqual(ch, want)) {
				t.Fatalf("%s: %q read %#v; encoding/json %#v", f, raw, ch, want)
			}
		}
	}
	prevs := [][]byte{nil, []byte(`{"id":"x","choices":[{"delta":{"content":"a"},"finish_reason":"stop"},{"text":"b"}]}`),
		[]byte(`{"id":"a\u0062"}`), []byte(`{"id":"","choices":[]}`)}
	prevs = append(prevs, bytes.Split(zeroDelayChunks, []byte("\n"))...)
	for _, prev := range prevs {
		for _, h := range hostileChunks {
			check("hostile", prev, []byte(h))
		}
		for _, raw := range bytes.Split(zeroDelayChunks, []byte("\n")) {
			check("zero-delay", prev, raw)
		}
		check("same id escaped", prev, []byte(`{"id":"\u0078","choices":[{"delta":{"content":"c"}}]}`))
	}
	first := bytes.Split(zeroDelayChunks, []byte("\n"))[0]
	var ch, zero chunk
	nextChunk(first, &ch)
	id, choices := unsafe.StringData(ch.ID), &ch.Choices[0]
	nextChunk(first, &ch)
	if unsafe.StringData(ch.ID) != id || &ch.Choices[0] != choices {
		t.Error("the next chunk of a stream made its id or its choices' array again")
	}
	fresh := testing.AllocsPerRun(100, func() { zero = chunk{}; nextChunk(first, &zero) })
	again := testing.AllocsPerRun(100, func() { nextChunk(first, &ch) })
	if again >= fresh {
		t.Errorf("the next chunk of a stream costs %.1f allocations, one over a zero chunk %.1f", again, fresh)
	}
}
