package runner

import (
	"net/url"
	"strings"
)

// urlRedacted replaces a credential in a stored URL (plain letters: brackets would be
// percent-encoded there).
const urlRedacted = "REDACTED"

// secretParams are query parameter names (lower case, or parts of them) whose values are
// credentials: api_key, key, token, access_token, sig, signature, password, secret, auth.
var secretParams = []string{"key", "token", "sig", "password", "secret", "auth", "credential"}

// RedactURL is u as it may be stored or printed: no user:password, and the value of every
// query parameter whose name says it is a credential replaced by REDACTED. A URL that does
// not parse is replaced whole.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return urlRedacted
	}
	if p.User != nil {
		p.User = url.User(urlRedacted)
	}
	if p.RawQuery != "" {
		q := p.Query()
		for name := range q {
			if secretParam(name) {
				q[name] = []string{urlRedacted}
			}
		}
		p.RawQuery = q.Encode()
	}
	return p.String()
}

func secretParam(name string) bool {
	n := strings.ToLower(name)
	for _, s := range secretParams {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}
