package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/trackerbench/tracker/dataset"
)

// httpStatusError is an HTTP error answer: its status and the first maxErrorBody bytes of
// its body (the rest is never read).
type httpStatusError struct {
	status int
	body   []byte
}

func (e *httpStatusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, errorMessage(e.body))
}

// sseStream is an open streaming answer.
type sseStream struct {
	*sseReader
	body    io.ReadCloser
	header  http.Header // the answer's
	readers *sseReaders // where the reader goes when the stream is finished
}

// endFailure is the sseReader's, with the answer's Content-Type, which is read only when a
// failure needs it (a stream with no data line).
func (s *sseStream) endFailure() *failure {
	if s.data > 0 || len(s.other) == 0 {
		return nil
	}
	return s.sseReader.endFailure(s.header.Get("Content-Type"))
}

func (s *sseStream) Close() error { return s.body.Close() }

// After [DONE], what is left of a body is read before it is closed, at most maxDrain bytes
// and drainWait long (then the request is canceled): net/http closes the connection of a
// body closed before its end, and a server that ends its response after [DONE] in a write
// of its own (the chunked terminator: vLLM's uvicorn, llama.cpp, Go servers that flush
// every event) would otherwise cost the next request on that connection a new one, its
// warmed connection thrown away. The wait is after the measured end of the request.
const (
	maxDrain  = 64 << 10
	drainWait = 100 * time.Millisecond
)

var errDrain = errors.New("the body did not end after [DONE]")

// finish closes the answer, reading first to the body's end after [DONE] (see maxDrain).
// cancel cancels the request.
func (s *sseStream) finish(cancel context.CancelCauseFunc) {
	if s.done && !bodyEnded(s.body) { // ended: nothing to drain, no timer to set
		t := time.AfterFunc(drainWait, func() { cancel(errDrain) })
		io.CopyN(io.Discard, s.body, maxDrain)
		t.Stop()
	}
	s.body.Close()
	s.readers.put(s.sseReader)
	s.sseReader = nil
}

// bodyEnded reports whether body is known to have been read to its end already (the lean
// transport's, whose chunked reader sees the terminator when it arrived with the last
// chunk): reading it further returns EOF at once.
func bodyEnded(body io.Reader) bool {
	e, ok := body.(interface{ ended() bool })
	return ok && e.ended()
}

// openStream sends a streaming chat request through the client's doer (ctx carries the
// exchange x) and returns the answer's bounded SSE reader. An HTTP error status is an
// *httpStatusError holding a bounded prefix of the body.
func (c *Client) openStream(ctx context.Context, x *exchange, p dataset.Prompt, o RequestOptions, maxTokens int) (*sseStream, error) {
	b, err := c.reqs.body(p, o, maxTokens)
	if err != nil {
		return nil, err
	}
	x.body = b // what the request's body reads: the lean transport writes it (h1write.go)
	hreq, err := c.reqs.request(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	resp, err := c.d.Do(hreq)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		body, _ := readPrefix(resp.Body, maxErrorBody)
		resp.Body.Close()
		return nil, &httpStatusError{status: resp.StatusCode, body: body}
	}
	return &sseStream{sseReader: c.sseReaders.get(resp.Body), body: resp.Body,
		header: resp.Header, readers: &c.sseReaders}, nil
}

// readPrefix reads at most n bytes of r: an error body's prefix is its message, and a
// server that sends an endless body is not read further.
func readPrefix(r io.Reader, n int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, n))
}
