package runner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"sync"

	"github.com/trackerbench/tracker/bench"
)

// sseReader reads a server-sent-events body one data line at a time, with every line
// bounded by maxSSELine. Each `data:` line is one message (as go-openai reads them: servers
// send one JSON object per line); `data: [DONE]` ends the stream. Comment lines
// (`: keep-alive`) and the event/id/retry fields are skipped and never counted. Any other
// line (an HTML page, a bare JSON error sent with status 200) is not SSE: the first
// maxNonSSEPrefix bytes of such lines are kept to say what came instead.
type sseReader struct {
	r        *bufio.Reader
	line     []byte
	done     bool   // [DONE] arrived
	data     int    // data lines returned
	other    []byte // prefix of the non-SSE lines
	otherLen int64  // bytes of non-SSE lines, kept or not
}

// sseBufferSize is the SSE reader's buffer: a line longer than it is read in parts.
const sseBufferSize = 4 << 10

func newSSEReader(body io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(body, sseBufferSize)}
}

// sseReaders keeps the readers of ended streams for the next ones: each holds a 4 KiB
// buffer, which was a third of the bytes a request allocated against a zero-delay server.
type sseReaders struct{ pool sync.Pool }

// get is a reader of body, as newSSEReader makes it.
func (p *sseReaders) get(body io.Reader) *sseReader {
	s, _ := p.pool.Get().(*sseReader)
	if s == nil {
		return newSSEReader(body)
	}
	s.r.Reset(body)
	return s
}

// put keeps s for a later stream; nothing may use it after. Its state is cleared, and a
// line buffer grown past the reader's buffer (a long line) is not kept.
func (p *sseReaders) put(s *sseReader) {
	s.r.Reset(nil)
	line := s.line[:0]
	if cap(line) > sseBufferSize {
		line = nil
	}
	*s = sseReader{r: s.r, line: line}
	p.pool.Put(s)
}

// next returns the payload of the next data line (valid until the next call); io.EOF after
// [DONE] or at the end of the body; errLineTooLong for a line longer than maxSSELine.
func (s *sseReader) next() ([]byte, error) {
	if s.done {
		return nil, io.EOF
	}
	for {
		line, err := s.readLine()
		if err != nil {
			return nil, err
		}
		t := bytes.TrimSpace(line)
		switch {
		case len(t) == 0 || t[0] == ':': // event boundary or comment
			continue
		case bytes.HasPrefix(t, []byte("data:")):
			payload := bytes.TrimSpace(t[len("data:"):])
			if len(payload) == 0 {
				continue
			}
			if string(payload) == "[DONE]" {
				s.done = true
				return nil, io.EOF
			}
			s.data++
			return payload, nil
		case sseField(t):
			continue
		default:
			s.keepOther(t)
		}
	}
}

// sseField reports whether a line is one of the SSE fields the client ignores.
func sseField(t []byte) bool {
	name, _, _ := bytes.Cut(t, []byte(":"))
	switch string(name) {
	case "event", "id", "retry":
		return true
	}
	return false
}

func (s *sseReader) keepOther(t []byte) {
	s.otherLen += int64(len(t)) + 1
	if room := maxNonSSEPrefix - len(s.other); room > 0 {
		s.other = append(s.other, t[:min(len(t), room)]...)
		if len(s.other) < maxNonSSEPrefix {
			s.other = append(s.other, '\n')
		}
	}
}

// readLine reads one line (its newline included, or the last unterminated bytes of the
// body) without ever holding more than maxSSELine bytes.
func (s *sseReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		frag, err := s.r.ReadSlice('\n')
		if len(s.line)+len(frag) > maxSSELine {
			return nil, errLineTooLong
		}
		s.line = append(s.line, frag...)
		switch {
		case err == nil:
			return s.line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(s.line) > 0:
			return s.line, nil
		default:
			return nil, err
		}
	}
}

// endFailure explains a stream that ended with no data line at all but with something
// else: a JSON error sent with status 200 (in-band), or a page that is not an event
// stream (an HTML login or error page behind a wrong base_url). nil when nothing needs
// explaining.
func (s *sseReader) endFailure(contentType string) *failure {
	if s.data > 0 || len(s.other) == 0 {
		return nil
	}
	if msg := inBandJSONError(s.other); msg != "" {
		return &failure{bench.StatusError, ClassInBand, truncate(msg, 500)}
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "" {
		mt = "no Content-Type"
	}
	return &failure{bench.StatusError, ClassNotSSE, fmt.Sprintf("not an SSE stream: got %s (%d bytes, beginning %.120q)",
		mt, s.otherLen, s.other)}
}

// inBandJSONError is the message of an OpenAI-style error object, or "".
func inBandJSONError(b []byte) string {
	var ch chunk
	if json.Unmarshal(bytes.TrimSpace(b), &ch) != nil {
		return ""
	}
	return ch.inBandError()
}
