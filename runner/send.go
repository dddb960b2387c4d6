package runner

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// send is d.hc.Do(req) without net/http.Client's work for each request where the answer
// is not a redirect: over the lean transport, a client with no cookie jar and no timeout,
// and a URL with no user info (Client.Do would add a Basic Authorization header), Do
// clones the request's headers (for a redirect that may come), calls the transport and
// returns its answer, or its error wrapped in a *url.Error. send calls the transport
// itself and wraps an error as Do does; an answer that is a redirect goes to a copy of the
// client whose transport hands it this answer for req (firstAnswer), so that Do follows it
// exactly as it would have (checkRedirect, header copying, 303 to GET, Location missing).
// Without it, Client.Do's header copy cost ~1.7 µs of the client's CPU per request
// against a zero-delay server (README, "Scale").
func (d *doer) send(req *http.Request) (*http.Response, error) {
	t, ok := d.hc.Transport.(*h1Transport)
	if !ok || d.hc.Jar != nil || d.hc.Timeout != 0 || req.URL == nil || req.URL.User != nil ||
		req.Header == nil || req.RequestURI != "" {
		return d.hc.Do(req)
	}
	resp, err := t.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: urlErrorOp(req.Method), URL: req.URL.String(), Err: err}
	}
	if !isRedirect(resp.StatusCode) {
		return resp, nil
	}
	c := *d.hc
	c.Transport = &firstAnswer{req: req, resp: resp, next: t}
	return c.Do(req)
}

// isRedirect: a status that net/http's Client may follow (its redirectBehavior).
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// urlErrorOp is net/http's *url.Error Op for a method: "Post" for POST; a method with a
// byte outside ASCII as it is.
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	for i := 0; i < len(method); i++ {
		if method[i] >= utf8.RuneSelf {
			return method
		}
	}
	return method[:1] + strings.ToLower(method[1:])
}

// firstAnswer is a transport that answers req, once, with the answer it already has, and
// sends every other request (the redirect's) through next.
type firstAnswer struct {
	req  *http.Request
	resp *http.Response
	next http.RoundTripper
}

func (f *firstAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == f.req && f.resp != nil {
		resp := f.resp
		f.resp = nil
		return resp, nil
	}
	return f.next.RoundTrip(req)
}
