package runner

import (
	"errors"
	"strings"
	"testing"
)

// An invalid --endpoint is named in its error without the secrets it may carry: a key
// command's text, a URL's user:password or api_key, an unknown option's value, the tail
// of a key command cut at a comma.
func TestEndpointFlagErrorHidesSecrets(t *testing.T) {
	const secret = "sk-live-0123456789"
	cases := []struct{ flag, want string }{
		{"key_cmd=echo " + secret, `missing field "name"`},
		{"name=a,url=http://user:" + secret + "@127.0.0.1/v1,model=m,key_cmd=echo " + secret + ",max_rps=x", `max_rps "x" is not a number`},
		{"name=a,url=http://127.0.0.1/v1?api_key=" + secret + ",model=m,bogus=1", `unknown option "bogus"`},
		{"a=http://127.0.0.1/v1?token=" + secret + ",model=m,api_key=" + secret, `unknown option "api_key"`},
		{"name=a,url=ftp://u:" + secret + "@h/v1,model=m", "is not an http(s) URL"},
		{"name=a,url=http://h/v1,model=m,metrics=ftp://u:" + secret + "@h/metrics", "metrics_url"},
		{"name=a,url=http://h/v1,model=m,key_cmd=printf %s," + secret, "option 5 is not key=value"},
		{"name=a,url=http://h/v1,model=m," + secret + "=x", `unknown option "(unknown option)"`},
		{"name=a,url=http://h/v1,model=m,key_env=K,key_cmd=echo " + secret, "not both"},
		{"name=a,url=http://h/v1,model=m,metrics=http://u:" + secret + "@h/metrics?token=" + secret + ",max_rps=-", `max_rps "-" is not a number`},
	}
	for _, c := range cases {
		_, err := ParseEndpointFlag(c.flag)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want ErrConfig and %q", c.flag, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "0123456789") {
			t.Errorf("%q: err = %v: the secret is printed", c.flag, err)
		}
	}
}
