package runner

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/internal/testenv"
)

// Each text the runner matches, why it must be text, and where it comes from: the real
// error where a test can provoke it, else the net/http source it is made in (so a Go
// release that rewords it fails here, not silently in a run's error classes).
func TestErrTexts(t *testing.T) {
	cases := []struct {
		t      errText
		source string           // the file of GOROOT/src/net/http that makes the error
		real   func() error     // provokes the error, when a test can
		class  func(error) bool // the classification it feeds, true for the real error
	}{
		{t: textHeadersTooLarge, source: "transport.go", real: headersTooLarge,
			class: func(err error) bool { f, ok := hostileFailure(err); return ok && f.class == ClassProtocol }},
		{t: textServerClosedIdle, source: "transport.go"},
		{t: textTrailerEOF, source: "transfer.go"},
	}
	if len(cases) != len(errTexts) {
		t.Fatalf("%d cases for %d texts: every text the runner matches is listed here", len(cases), len(errTexts))
	}
	src := netHTTPSource(t)
	for _, c := range cases {
		t.Run(c.t.text, func(t *testing.T) {
			if c.t.why == "" {
				t.Error("no reason given for matching this text")
			}
			if src != "" {
				b, err := os.ReadFile(filepath.Join(src, c.source))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), c.t.text) {
					t.Errorf("net/http/%s no longer says %q", c.source, c.t.text)
				}
			}
			if c.real == nil {
				return
			}
			err := c.real()
			if !c.t.in(err) {
				t.Errorf("the real error %v does not contain %q", err, c.t.text)
			}
			if !c.class(err) {
				t.Errorf("the real error %v is not classified as it should be", err)
			}
		})
	}
	if textServerClosedIdle.in(nil) || textHeadersTooLarge.in(errors.New("headers")) {
		t.Error("a nil error or another text matched")
	}
}

// headersTooLarge is the error of a client whose limit on response headers a server passes.
func headersTooLarge() error {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Junk", strings.Repeat("j", 8<<10))
	}))
	defer srv.Close()
	tr := &http.Transport{MaxResponseHeaderBytes: 1 << 10}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		return errors.New("no error for headers over the limit")
	}
	return err
}

// netHTTPSource is GOROOT/src/net/http, or "" (and the source checks are skipped) when
// this Go installation has no sources; under CI=true that is a failure.
func netHTTPSource(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	dir := filepath.Join(strings.TrimSpace(string(out)), "src", "net", "http")
	if _, serr := os.Stat(filepath.Join(dir, "transport.go")); err != nil || serr != nil {
		if testenv.InCI() {
			t.Fatalf("no net/http source to check the texts against (go env GOROOT: %v, %v)", err, serr)
		}
		t.Log("no net/http source: the texts are checked against real errors only")
		return ""
	}
	return dir
}
