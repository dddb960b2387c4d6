package runner

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// --cache-bust: every request's first message starts with its own tag; a llamacpp preset
// also sends cache_prompt false, and an endpoint's cache_prompt setting is sent as set.
func TestCacheBust(t *testing.T) {
	f := &fakeServer{tokens: words(2)}
	srv := f.start(t)
	r, _ := newRunner(t)
	e := ep("llama", srv.URL)
	e.Preset = llamaCppPreset
	p := plan(1, []int{1}, e)
	p.Requests = 3
	p.Request.CacheBust = true
	if _, err := r.Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	tag := regexp.MustCompile(`^\[[0-9a-f]{12}\] Question`)
	seen := map[string]bool{}
	f.mu.Lock()
	bodies := f.bodies
	f.mu.Unlock()
	if len(bodies) != 3 {
		t.Fatalf("%d requests served", len(bodies))
	}
	for _, b := range bodies {
		first := b["messages"].([]any)[0].(map[string]any)["content"].(string)
		if !tag.MatchString(first) || seen[first] {
			t.Errorf("first message %q: want a tag of its own before the prompt", first)
		}
		seen[first] = true
		if b["cache_prompt"] != false {
			t.Errorf("cache_prompt %v, want false for llama.cpp with --cache-bust", b["cache_prompt"])
		}
	}

	f2 := &fakeServer{tokens: words(2)}
	srv2 := f2.start(t)
	e2 := ep("plain", srv2.URL)
	p2 := plan(1, []int{1}, e2)
	if _, err := r.Run(context.Background(), p2); err != nil {
		t.Fatal(err)
	}
	no := false
	e2.CachePrompt = &no
	if _, err := r.Run(context.Background(), plan(1, []int{1}, e2)); err != nil {
		t.Fatal(err)
	}
	f2.mu.Lock()
	defer f2.mu.Unlock()
	if _, sent := f2.bodies[0]["cache_prompt"]; sent || f2.bodies[1]["cache_prompt"] != false {
		t.Errorf("cache_prompt %v then %v: want unsent by default, false when the endpoint says so", f2.bodies[0]["cache_prompt"], f2.bodies[1]["cache_prompt"])
	}
	if c := f2.bodies[0]["messages"].([]any)[0].(map[string]any)["content"].(string); strings.HasPrefix(c, "[") {
		t.Errorf("no --cache-bust, yet the prompt is tagged: %q", c)
	}
}

// A plan that sends a prompt twice says so; --cache-bust or a single pass says nothing.
func TestRepeatedPromptsWarning(t *testing.T) {
	cases := []struct {
		edit func(*Plan)
		want string
	}{
		{func(p *Plan) {}, ""},
		{func(p *Plan) { p.Requests = 5 }, "more requests than the 4 prompts"},
		{func(p *Plan) { p.Loads = append(p.Loads, Load{Concurrency: 8}) }, "every level sends the same prompts"},
		{func(p *Plan) { p.Repeat = 2 }, "--repeat 2"},
		{func(p *Plan) { p.Warmup = 1 }, "warm-up"},
		{func(p *Plan) { p.Duration = time.Second }, "more requests"},
		{func(p *Plan) { p.Repeat, p.Request.CacheBust = 2, true }, ""},
	}
	for _, tc := range cases {
		p := plan(4, []int{1}, ep("a", "http://127.0.0.1:1"))
		tc.edit(&p)
		got := p.RepeatedPrompts()
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("got %q, want it to mention %q", got, tc.want)
		}
	}
}
