package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackerbench/tracker/runner"
)

// tracker endpoints lists every preset with its defaults.
func TestEndpointsCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"tracker", "endpoints", "--verbose"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, p := range runner.Presets() {
		if !strings.Contains(out.String(), p.Name+"\n") || !strings.Contains(out.String(), p.BaseURL) {
			t.Errorf("preset %s missing from:\n%s", p.Name, out.String())
		}
	}
	for _, want := range []string{"python inference_auth_token.py get_access_token", "$SAMBANOVA_API_KEY", "10 req/s", "relayed in bursts"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// tracker init writes a commented file that loads as it is, and never overwrites one.
func TestInitCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "endpoints.yaml")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"tracker", "init", "--output", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	cfg, err := runner.LoadConfig(path)
	if err != nil {
		t.Fatalf("the starter file does not load: %v", err)
	}
	if len(cfg.Endpoints) != 2 || cfg.Endpoints[0].Preset != "alcf-metis" || cfg.Baseline != "metis" ||
		cfg.Endpoints[1].BaseURL != "https://inference-api.alcf.anl.gov/resource_server/sophia/vllm/v1" {
		t.Errorf("config %+v", cfg)
	}
	os.WriteFile(path, []byte("mine\n"), 0o644)
	errb.Reset()
	if code := run(context.Background(), []string{"tracker", "init", "--output", path}, &out, &errb); code != exitUsage ||
		!strings.Contains(errb.String(), "already exists") {
		t.Errorf("second init: exit %d, %q", code, errb.String())
	}
	if b, _ := os.ReadFile(path); string(b) != "mine\n" {
		t.Error("init overwrote an existing file")
	}
}
