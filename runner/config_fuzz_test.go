package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// billionLaughs is a 9-level alias bomb (9^9 strings once expanded) in about 600 bytes.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i <= 8; i++ {
		p := "*a" + string(rune('0'+i-1))
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" + strings.Repeat(p+",", 8) + p + "]\n")
	}
	b.WriteString("endpoints: *a8\n")
	return b.String()
}

func TestConfigAliasBombRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bomb.yaml")
	os.WriteFile(path, []byte(billionLaughs()), 0o644)
	if _, err := LoadConfig(path); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "alias") {
		t.Errorf("alias bomb: %v, want a refusal naming aliases", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	os.WriteFile(big, []byte("endpoints: []\n"+strings.Repeat("# padding\n", MaxConfigBytes/10+1)), 0o644)
	if _, err := LoadConfig(big); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized file: %v", err)
	}
	ok := filepath.Join(t.TempDir(), "ok.yaml")
	os.WriteFile(ok, []byte("endpoints:\n  - name: a\n    base_url: http://127.0.0.1:1/v1\n    model: m\n    headers: &h {X-A: b}\n"+
		"  - name: b\n    base_url: http://127.0.0.1:2/v1\n    model: m\n    headers: *h\n"), 0o644)
	if cfg, err := LoadConfig(ok); err != nil || cfg.Endpoints[1].Headers["X-A"] != "b" {
		t.Errorf("a small alias: %+v %v", cfg, err)
	}
}

// FuzzLoadConfig: any file gives a config or an ErrConfig-wrapped error, never a panic, and
// a config it accepts is valid. Seeds: testdata/fuzz/FuzzLoadConfig.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte("endpoints:\n  - name: a\n    base_url: http://h/v1\n    model: m\n"))
	f.Add([]byte(billionLaughs()))
	f.Add([]byte("endpoints:\n  - name: a\n    preset: vllm\n    model: m\n    max_rps: .nan\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "e.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Skip()
		}
		cfg, err := LoadConfig(path)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error not wrapped in ErrConfig: %v", err)
			}
			return
		}
		if len(cfg.Endpoints) == 0 {
			t.Fatal("accepted a config without endpoints")
		}
		for _, e := range cfg.Endpoints {
			if e.Name == "" || e.BaseURL == "" || e.Model == "" {
				t.Fatalf("accepted an incomplete endpoint %+v", e)
			}
		}
	})
}

// Endpoint names are identifiers: a name a markdown table, a page or a terminal would
// interpret is refused with the rule.
func TestEndpointNamesAreSafe(t *testing.T) {
	for _, name := range []string{"a|b", "<b>x</b>", "a b", "x\x1b[2J", "`x`", "ü"} {
		if _, err := ParseEndpointFlag("name=" + name + ",url=http://h/v1,model=m"); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "letters, digits") {
			t.Errorf("name %q: %v", name, err)
		}
	}
	for _, name := range []string{"vllm-h100", "sn_40L.v2", "team/model:8b", "a+b@eu"} {
		if _, err := ParseEndpointFlag("name=" + name + ",url=http://h/v1,model=m"); err != nil {
			t.Errorf("name %q: %v", name, err)
		}
	}
}
