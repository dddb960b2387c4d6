package runner

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trackerbench/tracker/bench"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

const fuzzKey = "sk-fuzz-secret-key-0123"

// bodyTransport answers every request with one fixed response: the fuzzers drive the
// whole client path (bounded SSE reader or JSON answer, measurement, record, cleaning)
// with no network.
type bodyTransport struct {
	status int
	ctype  string
	body   []byte
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: b.status, Header: http.Header{"Content-Type": {b.ctype}},
		Body: io.NopCloser(bytes.NewReader(b.body)), Request: r}, nil
}

func fuzzClient(t *testing.T, tr bodyTransport) *Client {
	e := Endpoint{Name: "f", BaseURL: "http://fuzz.invalid/v1", Model: "m", Headers: map[string]string{"X-Api-Key": "hdr-fuzz-secret"}}
	return NewClient(e, fuzzKey, &doer{hc: &http.Client{Transport: tr}}, tokenstest.Counter(t))
}

var fuzzPrompt = promptSet(1).Prompts[0]

// checkRecord holds for every record, whatever the server sent.
func checkRecord(t *testing.T, rec bench.Measurement) {
	t.Helper()
	switch rec.Status {
	case bench.StatusOK, bench.StatusError, bench.StatusTruncated, bench.StatusTimeout:
	default:
		t.Fatalf("status %q", rec.Status)
	}
	if len(rec.ResponseText) > maxStoredText || len(rec.ReasoningText) > maxStoredText {
		t.Fatalf("text of %d/%d bytes", len(rec.ResponseText), len(rec.ReasoningText))
	}
	if len(rec.ErrorMessage) > maxErrorMessage+8 {
		t.Fatalf("error message of %d bytes", len(rec.ErrorMessage))
	}
	if strings.ContainsAny(rec.ErrorMessage, "\x1b\r\x07\x00") || !utf8.ValidString(rec.ErrorMessage) {
		t.Fatalf("error message %q has control characters", rec.ErrorMessage)
	}
	for _, s := range []string{rec.ErrorMessage, rec.ResponseText, rec.UsageJSON, rec.ServerJSON} {
		if strings.Contains(s, fuzzKey) || strings.Contains(s, "hdr-fuzz-secret") {
			t.Fatalf("a secret survived: %q", s)
		}
	}
	for _, p := range []*float64{rec.TTFTMS, rec.E2EMS, rec.TPOTMS, rec.ServerTTFTMS, rec.ServerE2EMS} {
		if p != nil && (*p < 0 || math.IsInf(*p, 0) || math.IsNaN(*p)) {
			t.Fatalf("timing %v", *p)
		}
	}
	for _, n := range []*int{rec.InputTokens, rec.OutputTokens, rec.ReasoningTokens} {
		if n != nil && (*n < 0 || *n > maxPlausibleTokens) {
			t.Fatalf("count %d", *n)
		}
	}
}

// FuzzSSEStream sends any body as a 200 event stream.
func FuzzSSEStream(f *testing.F) {
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := fuzzClient(t, bodyTransport{status: 200, ctype: "text/event-stream", body: body})
		rec, _ := c.attempt(context.Background(), fuzzPrompt, RequestOptions{MaxTokens: 16, Timeout: 10 * time.Second}, fuzzKey)
		checkRecord(t, rec)
	})
}

// FuzzNonStream sends any body as a non-streamed answer, with status 200 or 500.
func FuzzNonStream(f *testing.F) {
	f.Add([]byte(`{"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}`), false)
	f.Fuzz(func(t *testing.T, body []byte, failed bool) {
		tr := bodyTransport{status: 200, ctype: "application/json", body: body}
		if failed {
			tr.status = 500
		}
		c := fuzzClient(t, tr)
		rec, _ := c.attempt(context.Background(), fuzzPrompt, RequestOptions{MaxTokens: 16, NoStream: true, Timeout: 10 * time.Second}, fuzzKey)
		checkRecord(t, rec)
	})
}

// FuzzSSEReader reads any body with the bounded reader: no payload is longer than a line
// may be, none is empty or [DONE], and reading ends.
func FuzzSSEReader(f *testing.F) {
	f.Add([]byte(": keepalive\n\ndata: {}\r\n\r\nevent: x\nid: 1\nretry: 5\ndata: [DONE]\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := newSSEReader(bytes.NewReader(body))
		for i := 0; ; i++ {
			p, err := s.next()
			if err != nil {
				break
			}
			if i > len(body) || len(p) == 0 || len(p) > maxSSELine || string(p) == "[DONE]" {
				t.Fatalf("payload %d %q", i, p)
			}
		}
		if f := s.endFailure("text/html"); f != nil && f.status != bench.StatusError {
			t.Fatalf("end failure %+v", f)
		}
	})
}
