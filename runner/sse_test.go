package runner

import (
	"io"
	"reflect"
	"strings"
	"testing"
)

// The SSE reader's buffer is small (allocated for every stream, in the time to first
// token: it was 32 KiB, a large allocation cleared on every request), and a line longer
// than the buffer is still read whole.
func TestSSEReaderSmallBufferLongLine(t *testing.T) {
	long := strings.Repeat("x", 100<<10)
	r := newSSEReader(strings.NewReader("data: " + long + "\n\ndata: [DONE]\n\n"))
	if n := r.r.Size(); n > 4<<10 {
		t.Errorf("buffer of %d bytes, want at most 4 KiB", n)
	}
	got, err := r.next()
	if err != nil || string(got) != long {
		t.Fatalf("read %d bytes, %v: want the %d-byte line", len(got), err, len(long))
	}
	if _, err := r.next(); err != io.EOF {
		t.Errorf("after the line: %v, want io.EOF at [DONE]", err)
	}
}

// sseRead is everything a reader makes of a body: its payloads, the error that ended them,
// and its state after.
type sseRead struct {
	payloads []string
	err      error
	done     bool
	data     int
	other    string
	otherLen int64
	failure  *failure
}

func readAllSSE(s *sseReader) sseRead {
	var out sseRead
	for {
		b, err := s.next()
		if err != nil {
			out.err = err
			break
		}
		out.payloads = append(out.payloads, string(b))
	}
	out.done, out.data, out.other, out.otherLen = s.done, s.data, string(s.other), s.otherLen
	out.failure = s.endFailure("text/html")
	return out
}

// TestSSEReadersReuse: a reader taken from sseReaders after other streams (long lines, a
// page that is not SSE, a line over the bound, [DONE] with bytes after it) reads every body
// as a new reader does.
func TestSSEReadersReuse(t *testing.T) {
	bodies := []string{
		"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n",
		"data: " + strings.Repeat("y", 9000) + "\n\ndata: [DONE]\n\nafter",
		"<html>" + strings.Repeat("page ", 2000) + "\n</html>\n",
		": keep-alive\nevent: x\nid: 1\ndata: z\n\n",
		"data: " + strings.Repeat("z", maxSSELine+10) + "\n",
		"{\"error\":{\"message\":\"bad\"}}\n",
		"data: {\"c\":3}\n\ndata: last without newline",
		"",
	}
	var pool sseReaders
	for round := range 2 {
		for i, body := range bodies {
			want := readAllSSE(newSSEReader(strings.NewReader(body)))
			s := pool.get(strings.NewReader(body))
			got := readAllSSE(s)
			pool.put(s)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round %d body %d: pooled reader read\n%+v\nwant\n%+v", round, i, got, want)
			}
		}
	}
}
