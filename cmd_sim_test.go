package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trackerbench/tracker/internal/testenv"
)

// TestSimCommand runs two sims in one process, talks to both, stops them with a canceled
// context (what SIGINT does) and reads what they served.
func TestSimCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testenv.LockedBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"tracker", "sim", "--listen", "127.0.0.1:0", "--profile", "illustrative-fast",
			"--listen", "127.0.0.1:0", "--profile", "illustrative-scaling", "--fault", "server_error=1"}, &stdout, &stderr)
	}()
	re := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)/v1`)
	var urls [][]string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if urls = re.FindAllStringSubmatch(stdout.String(), -1); len(urls) == 2 && strings.Contains(stdout.String(), "serving") {
			break
		}
	}
	if len(urls) != 2 {
		t.Fatalf("sims did not start: %s %s", stdout.String(), stderr.String())
	}
	for _, u := range urls {
		resp, err := http.Get(u[1] + "/health")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("health of %s: %v", u[1], err)
		}
		resp.Body.Close()
		resp, err = http.Post(u[1]+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"illustrative-model","messages":[{"role":"user","content":"hi"}]}`))
		if err != nil || resp.StatusCode != 500 {
			t.Fatalf("--fault server_error=1 should fail every request: %v %v", resp.StatusCode, err)
		}
		resp.Body.Close()
	}
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Fatalf("exit %d: %s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop")
	}
	out := stdout.String()
	for _, want := range []string{"sim illustrative-fast on", "sim illustrative-scaling on", "2 requests", "status 200:1 500:1", "faults server_error:1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSimCommandUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--profile", "no-such-profile"},
		{"--listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--profile", "illustrative-fast", "--profile", "illustrative-fast", "--profile", "illustrative-fast"},
		{"--fault", "explode=0.1"},
	} {
		var stdout, stderr bytes.Buffer
		if c := run(context.Background(), append([]string{"tracker", "sim"}, args...), &stdout, &stderr); c != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, c, exitUsage, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if c := run(context.Background(), []string{"tracker", "sim", "--list-profiles"}, &stdout, &stderr); c != exitOK ||
		!strings.Contains(stdout.String(), "illustrative-scaling") || !strings.Contains(stdout.String(), "ILLUSTRATIVE") {
		t.Errorf("--list-profiles: exit %d, %s", c, stdout.String())
	}
}
