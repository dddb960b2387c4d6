package runner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
)

// writeRecorder records each write that reaches it (what a connection would see).
type writeRecorder struct{ writes []string }

func (r *writeRecorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

// writeWith writes req through a 4 KiB buffer, as the lean transport does, with write,
// and returns the writes that reached the connection and the trace's events.
func writeWith(t *testing.T, req *http.Request, write func(*bufio.Writer, *http.Request) (bool, error)) (writes, events []string, ok bool) {
	t.Helper()
	rec := &writeRecorder{}
	bw := bufio.NewWriterSize(rec, h1WriteBuffer)
	trace := &httptrace.ClientTrace{
		WroteHeaders: func() { events = append(events, fmt.Sprintf("headers after %d buffered", bw.Buffered())) },
		WroteRequest: func(i httptrace.WroteRequestInfo) { events = append(events, fmt.Sprintf("request %v", i.Err)) },
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	ok, err := write(bw, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return rec.writes, events, ok
}

// writeLean writes what Request.Write writes, in the same writes to the connection, with
// the same trace events, for the runner's requests; and declines the requests it does not know.
func TestWriteLeanSameAsRequestWrite(t *testing.T) {
	const base = "http://127.0.0.1:8000/v1/chat/completions"
	cases := []struct {
		name     string
		url      string
		body     int
		header   map[string][]string
		mod      func(*http.Request)
		declined bool
	}{
		{name: "runner's request", url: base, body: 180},
		{name: "key and endpoint headers", url: base, body: 180, header: map[string][]string{
			"Authorization": {"Bearer sk-1"}, "X-Api-Key": {"  padded\t"}, "X-Multi": {"a", "b"}, "X-Empty": {}, "x-lower": {"v"}}},
		{name: "ipv6 host, query, escaped path", url: "http://[::1]:9/v1/a%20b/chat/completions?x=1&y=%2F", body: 40},
		{name: "no port, Host set", url: "http://example.com/v1/chat/completions", body: 40, mod: func(r *http.Request) { r.Host = "other.example:81" }},
		{name: "body fills the buffer", url: base, body: 4096 - 200},
		{name: "body over the buffer", url: base, body: 10000},
		{name: "body of 64 KiB", url: base, body: 64 << 10},
		{name: "own User-Agent", url: base, body: 40, header: map[string][]string{"User-Agent": {"me"}}, declined: true},
		{name: "Connection: close", url: base, body: 40, mod: func(r *http.Request) { r.Close = true }, declined: true},
		{name: "non-ASCII host", url: "http://bücher.example/v1", body: 40, declined: true},
		{name: "zone in host", url: "http://[fe80::1%25eth0]:8/v1", body: 40, declined: true},
		{name: "no body", url: base, body: 0, declined: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), tc.body)
			mk := func() *http.Request {
				req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, tc.url, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "text/event-stream")
				req.Header.Set("Cache-Control", "no-cache")
				for k, v := range tc.header {
					req.Header[k] = v
				}
				if tc.mod != nil {
					tc.mod(req)
				}
				return req
			}
			lean, leanEvents, ok := writeWith(t, mk(), func(w *bufio.Writer, r *http.Request) (bool, error) {
				return writeLean(w, r, body, httptrace.ContextClientTrace(r.Context()))
			})
			if ok == tc.declined {
				t.Fatalf("writeLean took it: %v, want %v", ok, !tc.declined)
			}
			if !ok {
				if len(lean) > 0 {
					t.Fatalf("declined, but wrote %q", lean)
				}
				return
			}
			std, stdEvents, _ := writeWith(t, mk(), func(w *bufio.Writer, r *http.Request) (bool, error) { return true, r.Write(w) })
			if strings.Join(lean, "|") != strings.Join(std, "|") {
				t.Errorf("writes differ:\nlean %q\nRequest.Write %q", lean, std)
			}
			if strings.Join(leanEvents, ";") != strings.Join(stdEvents, ";") {
				t.Errorf("trace: lean %q, Request.Write %q", leanEvents, stdEvents)
			}
		})
	}
}

// A body shorter than its Content-Length is not the exchange's: writeLean declines it.
func TestWriteLeanDeclinesAnotherBody(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/v1", io.NopCloser(strings.NewReader("ab")))
	req.ContentLength = 2
	if ok, _ := writeLean(bufio.NewWriter(io.Discard), req, []byte("abc"), nil); ok {
		t.Error("writeLean wrote a request whose length is not its body's")
	}
}
