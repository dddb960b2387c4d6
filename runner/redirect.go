package runner

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/trackerbench/tracker/bench"
)

// RedirectPolicy says which redirects an endpoint's requests follow (follow_redirects in
// endpoints.yaml). Go's client drops only Authorization on a redirect to another host: the
// endpoint's own headers (X-Api-Key, ...) would go along. So by default a redirect to
// another origin (scheme, host or port) is refused and the request fails with
// ClassCrossOriginRedirect; same-origin redirects are followed.
type RedirectPolicy string

const (
	// RedirectSameOrigin (the default, also when unset) follows redirects within the
	// endpoint's origin only.
	RedirectSameOrigin RedirectPolicy = "same_origin"
	// RedirectCrossOrigin follows redirects anywhere and sends the endpoint's headers and
	// key along: for an endpoint whose gateway really moves requests to another host.
	RedirectCrossOrigin RedirectPolicy = "cross_origin"
)

// ClassCrossOriginRedirect is the error class of a refused cross-origin redirect.
const ClassCrossOriginRedirect bench.ErrorClass = "cross_origin_redirect"

// maxRedirects is how many redirects one request follows (Go's own default).
const maxRedirects = 10

var errCrossOriginRedirect = errors.New("refused a redirect to another origin")

// validRedirectPolicy checks a follow_redirects value.
func validRedirectPolicy(p RedirectPolicy) error {
	switch p {
	case "", RedirectSameOrigin, RedirectCrossOrigin:
		return nil
	}
	return fmt.Errorf("follow_redirects %q: want %s (the default) or %s", p, RedirectSameOrigin, RedirectCrossOrigin)
}

// checkRedirect is the HTTP client's CheckRedirect: it refuses a redirect to another
// origin unless the request's endpoint opted in, and then sends the key along (Go drops
// Authorization across hosts; the opted-in endpoint asked for it).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	from := via[0].URL
	if origin(from) == origin(req.URL) {
		return nil
	}
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if x == nil || x.redirect != RedirectCrossOrigin {
		return fmt.Errorf("%w: %s redirected to %s; the endpoint's key and headers are not sent to another origin "+
			"(follow_redirects: cross_origin in the endpoint's config allows it)", errCrossOriginRedirect, origin(from), origin(req.URL))
	}
	if x.key != "" {
		req.Header.Set("Authorization", "Bearer "+x.key)
	}
	for k, v := range x.headers {
		req.Header.Set(k, v)
	}
	return nil
}

// origin is scheme://host:port with the default port made explicit.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + u.Hostname() + ":" + port
}
