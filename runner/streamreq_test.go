package runner

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/dataset"
	"github.com/trackerbench/tracker/tokens/tokenstest"
)

// rawRequests is a TCP server that keeps the bytes of every HTTP request it reads (request
// line, headers, body) and answers each with a two-event stream.
type rawRequests struct {
	got  chan []byte
	base string
}

func startRawRequests(t *testing.T) *rawRequests {
	t.Helper()
	s := &rawRequests{got: make(chan []byte, 64)}
	s.base = acceptEach(t, s.serve)
	return s
}

func (s *rawRequests) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	const answer = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
	for {
		var raw bytes.Buffer
		n := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			raw.WriteString(line)
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				n, _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if line == "\r\n" {
				break
			}
		}
		if _, err := io.CopyN(&raw, r, int64(n)); err != nil {
			return
		}
		s.got <- raw.Bytes()
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n%s", len(answer), answer)
	}
}

// legacyStreamRequest is a streaming request as openStream built it before streamreq.go:
// the body encoded for every request, the URL parsed by http.NewRequestWithContext, the
// headers set one by one.
func legacyStreamRequest(t *testing.T, ctx context.Context, c *Client, p dataset.Prompt, o RequestOptions) *http.Request {
	t.Helper()
	b, err := encodeStreamBody(c.ep.Model, p, o, maxTokensOf(p, o))
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ep.BaseURL+"/chat/completions", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	hreq.Header.Set("Cache-Control", "no-cache")
	return hreq
}

// TestStreamRequestBytesUnchanged: the bytes on the wire of a streaming request built by
// streamRequests (parsed URL, cached body: the first request of a prompt and a repeat) are
// those of the request built as before, with a key, endpoint headers and every option
// encodeStreamBody writes.
func TestStreamRequestBytesUnchanged(t *testing.T) {
	srv := startRawRequests(t)
	user := func(s string) []dataset.Message { return []dataset.Message{{Role: "user", Content: s}} }
	long := dataset.Prompt{Messages: user(strings.Repeat("word ", 3000))}
	tests := []struct {
		name    string
		key     string
		headers map[string]string
		p       dataset.Prompt
		o       RequestOptions
	}{
		{"plain", "", nil, dataset.Prompt{Messages: user("hello")}, RequestOptions{MaxTokens: 4}},
		{"key and headers", "sk-1", map[string]string{"X-Team": "a", "Accept": "*/*"}, dataset.Prompt{Messages: user("hi")}, RequestOptions{MaxTokens: 8, Temperature: 0.5}},
		{"prompt max_tokens", "", nil, dataset.Prompt{Messages: user("x"), MaxTokens: 16}, RequestOptions{MaxTokens: 4}},
		{"cache_prompt false", "", nil, dataset.Prompt{Messages: user("x")}, RequestOptions{cachePrompt: false, IgnoreEOS: true}},
		{"cache_prompt true", "", nil, dataset.Prompt{Messages: user("x")}, RequestOptions{cachePrompt: true}},
		{"cache bust", "", nil, dataset.Prompt{Messages: user("x")}, RequestOptions{CacheBust: true}},
		{"no messages", "", nil, dataset.Prompt{}, RequestOptions{}},
		{"long", "", nil, long, RequestOptions{MaxTokens: 4}},
		{"hostile", "", nil, dataset.Prompt{Messages: user("<&>\u2028 \xff \"q\"")}, RequestOptions{MaxTokens: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ep("e", srv.base)
			e.Model, e.Headers = "org/m-7b", tt.headers
			c := NewClient(e, tt.key, newDoer(1, ConnOptions{}), tokenstest.Counter(t))
			send := func(build func(ctx context.Context) (*http.Request, error)) []byte {
				x := &exchange{key: tt.key, headers: c.ep.Headers}
				req, err := build(withExchange(context.Background(), x))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := c.d.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return <-srv.got
			}
			want := send(func(ctx context.Context) (*http.Request, error) {
				return legacyStreamRequest(t, ctx, c, tt.p, tt.o), nil
			})
			for i := range 2 { // the first encodes the body, the second finds it cached
				got := send(func(ctx context.Context) (*http.Request, error) {
					b, err := c.reqs.body(tt.p, tt.o, maxTokensOf(tt.p, tt.o))
					if err != nil {
						return nil, err
					}
					return c.reqs.request(ctx, b)
				})
				if !bytes.Equal(got, want) {
					t.Errorf("request %d changed:\n got %q\nwant %q", i+1, got, want)
				}
			}
		})
	}
}

// TestStreamBodyCacheBounded: bodies are kept up to maxCachedBodyBytes, none with
// --cache-bust, and a kept body is the one encodeStreamBody makes for the options asked
// (two option sets of one prompt are two bodies).
func TestStreamBodyCacheBounded(t *testing.T) {
	s := newStreamRequests("http://h/v1", "m")
	big := strings.Repeat("x", maxCachedBodyBytes/4)
	prompts := make([]dataset.Prompt, 6)
	for i := range prompts {
		prompts[i] = dataset.Prompt{Messages: []dataset.Message{{Role: "user", Content: big}}}
	}
	for _, p := range prompts {
		if _, err := s.body(p, RequestOptions{}, 4); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.cachedSize.Load(); n > maxCachedBodyBytes || n < maxCachedBodyBytes/2 {
		t.Errorf("cached %d bytes, want at most %d and some", n, maxCachedBodyBytes)
	}
	small := dataset.Prompt{Messages: []dataset.Message{{Role: "user", Content: "q"}}}
	s = newStreamRequests("http://h/v1", "m")
	for _, o := range []RequestOptions{{}, {Temperature: 1}, {cachePrompt: true}, {cachePrompt: false}, {IgnoreEOS: true}} {
		for range 2 {
			got, err := s.body(small, o, 4)
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := encodeStreamBody("m", small, o, 4); !bytes.Equal(got, want) {
				t.Errorf("%+v: got %s, want %s", o, got, want)
			}
		}
	}
	if _, err := s.body(small, RequestOptions{CacheBust: true}, 4); err != nil {
		t.Fatal(err)
	}
	n := 0
	s.bodies.Range(func(any, any) bool { n++; return true })
	if n != 5 {
		t.Errorf("%d bodies kept, want 5 (one per option set, none for --cache-bust)", n)
	}
}

// BenchmarkStreamRequest is the building of one streaming request (a 32-token prompt, the
// scale benchmark's): as before streamreq.go, and with the parsed URL and the cached body.
func BenchmarkStreamRequest(b *testing.B) {
	p := dataset.Prompt{Messages: []dataset.Message{{Role: "user", Content: "the quick brown fox jumps over the lazy dog and then some more words to make thirty two tokens of prompt text"}}}
	o := RequestOptions{MaxTokens: 4}
	c := NewClient(ep("e", "http://127.0.0.1:8000/v1"), "", nil, nil)
	ctx := context.Background()
	b.Run("before", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, _ := encodeStreamBody(c.ep.Model, p, o, 4)
			hreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.ep.BaseURL+"/chat/completions", bytes.NewReader(body))
			hreq.Header.Set("Content-Type", "application/json")
			hreq.Header.Set("Accept", "text/event-stream")
			hreq.Header.Set("Cache-Control", "no-cache")
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, _ := c.reqs.body(p, o, 4)
			if _, err := c.reqs.request(ctx, body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
