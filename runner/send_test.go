package runner

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// doer.send answers as net/http's Client.Do does: the same status, final URL, body and
// error text for answers, redirects it follows or refuses, a redirect without Location, a
// 307 whose body goes along, and a refused connection.
func TestSendSameAsClientDo(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "other "+r.Method+" "+r.URL.Path)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/keep-body":
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
		case "/cross":
			http.Redirect(w, r, other.URL+"/x", http.StatusTemporaryRedirect)
		case "/no-location":
			w.WriteHeader(http.StatusSeeOther)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusMovedPermanently)
		default:
			io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(body)+" auth="+r.Header.Get("Authorization"))
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name, url string
		policy    RedirectPolicy
	}{
		{"answer", srv.URL + "/ok", ""},
		{"same-origin redirect", srv.URL + "/same", ""},
		{"307 keeps the body", srv.URL + "/keep-body", ""},
		{"cross-origin refused", srv.URL + "/cross", ""},
		{"cross-origin allowed", srv.URL + "/cross", RedirectCrossOrigin},
		{"303 without Location", srv.URL + "/no-location", ""},
		{"redirect loop", srv.URL + "/loop", ""},
		{"refused", refused + "/ok", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			viaSend := sendOnce(t, func(d *doer, r *http.Request) (*http.Response, error) { return d.send(r) }, tc.url, tc.policy)
			viaDo := sendOnce(t, func(d *doer, r *http.Request) (*http.Response, error) { return d.hc.Do(r) }, tc.url, tc.policy)
			if viaSend != viaDo {
				t.Errorf("send:\n%s\nClient.Do:\n%s", viaSend, viaDo)
			}
			if tc.name == "answer" && !strings.Contains(viaSend, "POST /ok {}") {
				t.Errorf("send: %s", viaSend) // the comparison above would pass if both failed
			}
		})
	}
}

// sendOnce sends a POST with a body and a key through a new doer with do, and describes
// what came back.
func sendOnce(t *testing.T, do func(*doer, *http.Request) (*http.Response, error), u string, policy RedirectPolicy) string {
	t.Helper()
	d := newDoer(2, ConnOptions{})
	defer d.hc.CloseIdleConnections()
	ctx := withExchange(context.Background(), &exchange{key: "k", redirect: policy})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader([]byte("{}")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer k")
	resp, err := do(d, req)
	if err != nil {
		return "error: " + strings.ReplaceAll(err.Error(), u, "URL")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + resp.Request.Method + " " + resp.Request.URL.Path + ": " + string(body)
}

// bodyEnded: an answer over the lean transport is ended once read to its end (watched or
// not), not before; another transport's body is never known to be.
func TestBodyEnded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("data: [DONE]\n\n"))
	}))
	defer srv.Close()
	d := newDoer(2, ConnOptions{})
	defer d.hc.CloseIdleConnections()
	for _, tc := range []struct {
		name    string
		rt      http.RoundTripper
		read    bool
		watched bool
		want    bool
	}{
		{"lean, read to the end", d.hc.Transport, true, false, true},
		{"lean, watched, read to the end", d.hc.Transport, true, true, true},
		{"lean, unread", d.hc.Transport, false, true, false},
		{"net/http, read to the end", &http.Transport{}, true, true, false},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		resp, err := tc.rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.ReadCloser = resp.Body
		if tc.watched {
			body = &watchedBody{rc: body, x: &exchange{}}
		}
		if tc.read {
			io.ReadAll(body)
		}
		if got := bodyEnded(body); got != tc.want {
			t.Errorf("%s: ended %v, want %v", tc.name, got, tc.want)
		}
		body.Close()
	}
}
