package runner

import (
	"io"
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
