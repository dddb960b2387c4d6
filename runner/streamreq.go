package runner

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/trackerbench/tracker/dataset"
)

// streamRequests builds a client's streaming requests. What is the same for every request
// of an endpoint is made once: the URL is parsed once (http.NewRequestWithContext parsed
// it for every request), and the body of each prompt is encoded once per set of options
// and kept, up to maxCachedBodyBytes in all. The bytes sent are those NewRequestWithContext
// and encodeStreamBody sent (TestStreamRequestBytesUnchanged).
type streamRequests struct {
	model  string
	url    *url.URL // nil when base_url + "/chat/completions" does not parse: urlErr
	urlErr error
	host   string // url.Host without an empty port, as NewRequestWithContext sets it

	bodies     sync.Map // bodyKey -> []byte
	cachedSize atomic.Int64

	// The headers every streaming request carries; each request gets its own map (the
	// doer adds to it), pointing at these one-element slices (nothing appends to them:
	// Header.Set replaces a slice, Add on a full slice copies it).
	contentType, accept, cacheControl []string
}

// maxCachedBodyBytes bounds the bodies a client keeps: a prompt set larger than this (a
// long-context dataset of thousands of prompts) has the rest encoded for every request.
const maxCachedBodyBytes = 32 << 20

// bodyKey is what a streaming body is made of besides the endpoint's model: the prompt's
// messages (by identity: a prepared prompt set is never changed) and the options that
// encodeStreamBody writes.
type bodyKey struct {
	first       *dataset.Message
	n           int
	maxTokens   int
	ignoreEOS   bool
	temperature float64
	cachePrompt cachePromptValue
}

// cachePromptValue is RequestOptions.cachePrompt, which is nil, true or false, as a
// comparable value.
type cachePromptValue int8

const (
	cachePromptUnset cachePromptValue = iota
	cachePromptFalse
	cachePromptTrue
)

func newStreamRequests(baseURL, model string) *streamRequests {
	s := &streamRequests{model: model, contentType: []string{"application/json"},
		accept: []string{"text/event-stream"}, cacheControl: []string{"no-cache"}}
	s.url, s.urlErr = url.Parse(baseURL + "/chat/completions")
	if s.urlErr == nil {
		s.host = removeEmptyPort(s.url.Host)
	}
	return s
}

// removeEmptyPort strips a trailing ':' from a host, as net/http does for a request's Host.
func removeEmptyPort(host string) string {
	if strings.LastIndexByte(host, ':') > strings.LastIndexByte(host, ']') {
		return strings.TrimSuffix(host, ":")
	}
	return host
}

// body is the JSON body of a streaming request of p with o.
func (s *streamRequests) body(p dataset.Prompt, o RequestOptions, maxTokens int) ([]byte, error) {
	key, ok := bodyKeyOf(p, o, maxTokens)
	if ok {
		if b, found := s.bodies.Load(key); found {
			return b.([]byte), nil
		}
	}
	b, err := encodeStreamBody(s.model, p, o, maxTokens)
	if err != nil || !ok {
		return b, err
	}
	if s.cachedSize.Add(int64(len(b))) <= maxCachedBodyBytes {
		s.bodies.Store(key, b)
	} else {
		s.cachedSize.Add(-int64(len(b)))
	}
	return b, nil
}

// bodyKeyOf is the cache key of a body; false when it is not cached: no messages, a
// cache_prompt that is not a bool, or --cache-bust (every request's messages are new).
func bodyKeyOf(p dataset.Prompt, o RequestOptions, maxTokens int) (bodyKey, bool) {
	if len(p.Messages) == 0 || o.CacheBust {
		return bodyKey{}, false
	}
	k := bodyKey{first: &p.Messages[0], n: len(p.Messages), maxTokens: maxTokens,
		ignoreEOS: p.MaxTokens > 0 || o.IgnoreEOS, temperature: o.Temperature}
	switch v := o.cachePrompt.(type) {
	case nil:
	case bool:
		k.cachePrompt = cachePromptFalse
		if v {
			k.cachePrompt = cachePromptTrue
		}
	default:
		return bodyKey{}, false
	}
	return k, true
}

// request is the POST of body to the endpoint's chat completions, as
// http.NewRequestWithContext makes it, with the streaming headers set.
func (s *streamRequests) request(ctx context.Context, body []byte) (*http.Request, error) {
	if s.urlErr != nil {
		return nil, s.urlErr
	}
	// NewRequestWithContext's request, made on the stack and copied once with its context
	// (NewRequestWithContext parsed an empty URL only for it to be replaced).
	r := http.Request{Method: http.MethodPost, URL: s.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header), Host: s.host}
	req := r.WithContext(ctx)
	req.Header["Content-Type"], req.Header["Accept"], req.Header["Cache-Control"] = s.contentType, s.accept, s.cacheControl
	req.ContentLength = int64(len(body))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if len(body) == 0 {
		req.Body, req.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
	}
	return req, nil
}
